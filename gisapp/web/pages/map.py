"""The map page: approved zone boundaries and parcels, fetched per viewport, with legend,
basemap switch, scale bar and a parcel detail panel."""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import Input, Output, State, callback, ctx, html, no_update

from gisapp.catalog.registry import all_layers
from gisapp.i18n import t
from gisapp.render.style import hideout, legend
from gisapp.settings import get_settings
from gisapp.web.components import header

dash.register_page(__name__, path="/", name="map")

SHANGHAI_CENTER = [31.15, 121.55]
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec" \
               "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="


def _features_url(layer_id: str, bounds, zoom) -> str:
    (south, west), (north, east) = bounds
    return f"/api/layers/{layer_id}/features?bbox={west:.6f},{south:.6f},{east:.6f},{north:.6f}&zoom={int(zoom)}"


def _basemaps(lang: str) -> list:
    layers = [dl.BaseLayer(dl.LayerGroup(), name=t("map.basemap.none", lang), checked=True),
              dl.BaseLayer(dl.TileLayer(url=OSM_URL, attribution="© OpenStreetMap"),
                           name=t("map.basemap.osm", lang), checked=False)]
    key = get_settings().tianditu_key
    if key:
        layers.append(dl.BaseLayer(dl.TileLayer(url=TIANDITU_URL + key, subdomains="01234567",
                                                attribution="© 天地图"),
                                   name=t("map.basemap.tianditu", lang), checked=False))
    return layers


def _overlays(lang: str) -> list:
    return [dl.Overlay(dl.GeoJSON(id=f"map-layer-{layer.id}", hideout=hideout(layer),
                                  style={"variable": "gisapp.style"}),
                       name=layer.title.get(lang), checked=layer.visible)
            for layer in all_layers()]


def _legend(lang: str) -> html.Div:
    blocks = [html.H3(t("map.legend", lang))]
    for layer in all_layers():
        blocks.append(html.H4(layer.title.get(lang)))
        blocks.append(html.Ul([html.Li([html.Span(className="swatch", style={"background": item.color}),
                                        item.label]) for item in legend(layer, lang)]))
    return html.Div(blocks, id="map-legend", className="legend")


def layout(**_query) -> html.Div:
    lang = get_settings().language
    return html.Div([
        html.Div(header(lang), id="map-header"),
        html.Div([
            dl.Map([dl.LayersControl(_basemaps(lang) + _overlays(lang), id="map-layers-control", collapsed=False),
                    dl.ScaleControl(position="bottomleft", imperial=False)],
                   id="map-map", center=SHANGHAI_CENTER, zoom=10,
                   style={"height": "100%", "width": "100%"}),
            html.Div([html.Div(id="map-hint", className="hint"), _legend(lang),
                      html.Div([html.H3(t("detail.title", lang)), html.P(t("detail.empty", lang))],
                               id="map-detail", className="detail")],
                     className="side-panel"),
        ], className="map-body"),
    ], className="page")


@callback(
    [Output(f"map-layer-{layer.id}", "url") for layer in all_layers()] + [Output("map-hint", "children")],
    Input("map-map", "bounds"), Input("map-map", "zoom"), State("app-lang", "data"),
)
def refresh_viewport(bounds, zoom, lang):
    """Fetch each layer for the current viewport (the endpoint bounds what it sends)."""
    if not bounds or zoom is None:
        return [no_update] * (len(all_layers()) + 1)
    urls = [_features_url(layer.id, bounds, zoom) for layer in all_layers()]
    hidden = [layer for layer in all_layers() if zoom < layer.detail_min_zoom]
    hint = t("map.zoom_in", lang or "zh", zoom=hidden[0].detail_min_zoom, count="…") if hidden else ""
    return urls + [hint]


@callback(
    Output("map-detail", "children"),
    [Input(f"map-layer-{layer.id}", "clickData") for layer in all_layers()],
    State("app-lang", "data"),
    prevent_initial_call=True,
)
def show_detail(*args):
    """The popup fields of the clicked feature, labelled from its declaration."""
    *clicks, lang = args
    lang = lang or "zh"
    layer_id = ctx.triggered_id.removeprefix("map-layer-") if ctx.triggered_id else None
    layers = {layer.id: layer for layer in all_layers()}
    feature = clicks[list(layers).index(layer_id)] if layer_id in layers else None
    if not feature:
        return no_update
    layer = layers[layer_id]
    props = feature.get("properties", {})
    rows = [html.Tr([html.Th(layer.label(f, lang)), html.Td(str(props.get(f, "")))]) for f in layer.popup]
    return [html.H3(f"{layer.title.get(lang)}: {props.get('code', '')}"),
            html.Table(rows, id="map-detail-table", className="detail-table")]
