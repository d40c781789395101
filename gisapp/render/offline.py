"""Folium maps that draw without internet: Leaflet inlined into the map's page.

folium's maps load Leaflet, jQuery, Bootstrap, Font Awesome and the awesome-markers plugin from
nine CDN links; without internet (the bureau's analysts' machines often have none) the page stays
blank. The maps of :func:`gisapp.api.explore` use only Leaflet (GeoJSON layers, popups, tooltips,
a legend of plain HTML), so Leaflet's script and stylesheet, vendored from the npm package (see
``vendor/leaflet/README.md``), go into the page itself and the CDN links are dropped. The images
the stylesheet names (the layer control's and the default marker's) become data URLs, so a map
saved as one HTML file still holds everything it shows.

Example:
    >>> import folium
    >>> m = offline_map(folium.Map(tiles=None))
    >>> "cdn.jsdelivr.net" in m.get_root().render()
    False
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

LEAFLET_VERSION = "1.9.4"
LEAFLET_DIR = Path(__file__).resolve().parent / "vendor" / "leaflet"
_CSS_URL = re.compile(r"url\((images/[A-Za-z0-9_.\-]+\.png)\)")


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images as data URLs."""
    def inline(match: re.Match) -> str:
        data = base64.b64encode((LEAFLET_DIR / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return _CSS_URL.sub(inline, (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    return (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")


def offline_map(m):
    """``m`` (a folium Map) with Leaflet inlined instead of the map's own CDN links (Leaflet,
    jQuery, Bootstrap, Font Awesome, awesome-markers: none of which but Leaflet the maps of
    gisapp use). A plugin added to the map keeps its links: it is the caller's choice."""
    from branca.element import Element

    # an instance attribute: folium's class-level lists stay as they are for other maps
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    header.add_child(Element(f"<style>{leaflet_css()}</style>"), name="gisapp_leaflet_css", index=0)
    header.add_child(Element(f"<script>{leaflet_js()}</script>"), name="gisapp_leaflet_js", index=1)
    return m
