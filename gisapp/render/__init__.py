"""Styles and legends from a layer declaration, for the web map and for folium alike."""
