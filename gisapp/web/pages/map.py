"""The map page: every declared layer fetched per viewport (geobuf, zone-level aggregates at low
zoom), a layer control with basemaps (none offline by default, OpenStreetMap, Tianditu with a
key), scale bar, legend, search with zoom-to, and a detail panel for the clicked parcel.

URL: ``/?lang=en&lat=31.3&lon=121.6&zoom=15&parcel=WGQ-00001&as_of=2022-01-01&year=2025`` (all
optional). ``as_of``: the map as it stood at the end of that day (zone boundaries in force, parcels
with the status they had), read through the layers' dated views (gisapp.queries.as_of); layers
that show only today (the rule layers) are not fetched then. ``year``: the year of the quota
ledger the quota layers show (gisapp.queries.quotas; the latest by default), chosen beside the
map and kept in the address without a reload.
"""

from __future__ import annotations

import datetime as dt
import math

import dash
import dash_leaflet as dl
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from gisapp.casework.page_data import parcel_cases
from gisapp.catalog.registry import all_layers, get_layer
from gisapp.db.engine import get_engine
from gisapp.errors import InputError
from gisapp.i18n import TEXTS, t
from gisapp.queries.as_of import is_dated, parse_day
from gisapp.queries.boundaries import zone_boundaries
from gisapp.queries.dashboard import zones as zone_table
from gisapp.queries.features import feature_properties
from gisapp.queries.parcel import parcel_detail
from gisapp.queries.quotas import district_escalations, parse_year, quota_years
from gisapp.queries.search import search
from gisapp.render.style import hideout, legend
from gisapp.settings import get_settings
from gisapp.web.auth import current_actor
from gisapp.web.components import header, page_lang, page_url
from gisapp.web.feature_panel import feature_panel, quota_panel
from gisapp.web.map_print import LINKS_CALLBACK, point_links, print_links
from gisapp.web.parcel_panel import (
    aggregate_panel,
    freshness_stamp,
    not_found_panel,
    parcel_panel,
    zone_panel,
)

dash.register_page(__name__, path="/", name="map")

SHANGHAI_CENTER = (31.15, 121.55)
DEFAULT_ZOOM = 10
ZOOM_NUDGE = 0.001
PARCEL_ZOOM = 17
#: how often the detail panel asks whether a shown parcel's pending findings were made current
DETAIL_POLL_MS = 2000
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Tianditu (CGCS2000, national basemap): the vector map and its label layer, Web Mercator tiles
TIANDITU_URL = "https://t{{s}}.tianditu.gov.cn/{kind}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0" \
               "&LAYER={kind}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}" \
               "&TILECOL={{x}}&tk={key}"
HIGHLIGHT_STYLE = {"color": "#00bcd4", "weight": 4, "fillOpacity": 0.05}
PANE_Z = 410  # above Leaflet's overlay pane (400), below its markers and popups
# the server already simplified and rounded for this zoom: Leaflet need not clip or smooth again
PATH_OPTIONS = {"smoothFactor": 0, "noClip": True}


def features_url(layer_id: str, bounds, zoom: int, nonce: int = 0, as_of: str | None = None,
                 year: int | None = None) -> str:
    """The viewport request of one layer: compact geobuf with only what the map draws."""
    (south, west), (north, east) = bounds
    return (f"/api/layers/{layer_id}/features?bbox={west:.6f},{south:.6f},{east:.6f},{north:.6f}"
            f"&zoom={int(zoom)}&format=geobuf&properties=style&v={nonce}" + (f"&as_of={as_of}" if as_of else "")
            + (f"&year={int(year)}" if year else ""))


def map_year(value, years: list[int]) -> int | None:
    """The quota year the map shows: ``?year=`` when the ledger has it, else the latest (None
    when the ledger is empty); like ``as_of``, a year that is not one shows the default."""
    try:
        year = parse_year(value)
    except InputError:
        year = None
    return year if year in years else (years[-1] if years else None)


def _quota_year_picker(year: int | None, years: list[int], lang: str) -> html.Div:
    """The year the quota layers show (one choice for all of them)."""
    return html.Div([html.Label(t("map.quota_year", lang), htmlFor="map-quota-year"),
                     dcc.Dropdown(id="map-quota-year", options=[{"label": str(y), "value": y} for y in years],
                                  value=year, clearable=False, searchable=False, className="quota-year-dropdown")],
                    className="quota-year-picker", id="map-quota-year-picker")


def map_day(value) -> dt.date | None:
    """The ``?as_of=`` of the map: a past day, or None for today (also for today itself, a
    later day or anything that is not a date: the map then shows the present)."""
    try:
        day = parse_day(value)
    except InputError:
        return None
    return day if day is not None and day < dt.date.today() else None


def _basemaps(lang: str) -> list:
    layers = [dl.BaseLayer(dl.LayerGroup(), name=t("map.basemap.none", lang), checked=True),
              dl.BaseLayer(dl.TileLayer(url=OSM_URL, attribution="© OpenStreetMap"),
                           name=t("map.basemap.osm", lang), checked=False)]
    key = get_settings().tianditu_key
    if key:
        tiles = [dl.TileLayer(url=TIANDITU_URL.format(kind=kind, key=key), subdomains="01234567",
                              attribution="© 天地图") for kind in ("vec", "cva")]
        layers.append(dl.BaseLayer(dl.LayerGroup(tiles), name=t("map.basemap.tianditu", lang), checked=False))
    return layers


def _panes() -> list:
    """One map pane per layer, stacked in declared order (zones under parcels under rule layers):
    without them a layer's features would cover the others' whenever its data arrived last, and
    a click on a parcel could open the zone around it."""
    panes = [dl.Pane(name=f"layer-{layer.id}", style={"zIndex": PANE_Z + k}) for k, layer in enumerate(all_layers())]
    return panes + [dl.Pane(name="highlight", style={"zIndex": PANE_Z + 100})]


def _canvas(layer_id: str) -> dict:
    """Where gisapp.js draws a layer: the layers shown by default (zones and parcels: thousands of
    features in a dense view) share one canvas in the pane of the topmost of them, the first
    declared kept behind the others; the rest are SVG in their own panes above."""
    base = [layer.id for layer in all_layers() if layer.visible and not layer.base]  # base layers: own SVG panes
    if layer_id not in base:
        return {}
    return {"canvas": f"layer-{base[-1]}", "behind": layer_id == base[0] and len(base) > 1}


def _overlays(lang: str) -> list:
    count_label = t("map.aggregate.count", lang)
    # the zone's real total next to the count of its part in view (gisapp.js label)
    total_label = {"totalLabel": t("detail.aggregate_total", lang, total="{total}")}
    return [dl.Overlay(dl.GeoJSON(id=f"map-layer-{layer.id}",
                                  hideout={**hideout(layer, count_label, lang=lang), **_canvas(layer.id),
                                           **total_label},
                                  style={"variable": "gisapp.style"}, onEachFeature={"variable": "gisapp.label"},
                                  format="geobuf", pane=f"layer-{layer.id}", options=PATH_OPTIONS),
                       name=layer.title.get(lang), checked=layer.visible)
            for layer in all_layers()]


def _checked_titles(lang: str) -> list[str]:
    """The overlays checked at start, given to the layers control as its ``overlays``: dash-leaflet
    1.1.3 reports a tick as its own ``overlays`` prop plus the new title, and the list it sets
    itself on mount never reaches that prop, so without a starting value the first tick reported
    that one layer alone and the callbacks dropped the others (no refetch, no legend)."""
    return [layer.title.get(lang) for layer in all_layers() if layer.visible]


def _year_note(year: int | None, lang: str) -> str:
    return f" · {t('map.quota_year_of', lang, year=year)}" if year else ""


def _legend(lang: str, year: int | None = None) -> html.Div:
    """Every layer's legend from its declaration; only the checked layers' are shown. A quota
    layer's title says the year it shows."""
    blocks = [html.H3(t("map.legend", lang))]
    for layer in all_layers():
        items = [html.Li([html.Span(className="swatch", style={"background": item.color}), item.label])
                 for item in legend(layer, lang)]
        title = [layer.title.get(lang)]
        if layer.quota:
            title.append(html.Span(_year_note(year, lang), id=f"map-legend-year-{layer.id}", className="legend-year"))
        blocks.append(html.Div([html.H4(title), html.Ul(items)], id=f"map-legend-{layer.id}",
                               style=None if layer.visible else {"display": "none"}))
    return html.Div(blocks, id="map-legend", className="legend")


def _number(value, low: float, high: float, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and low <= number <= high else default


def start_view(lat=None, lon=None, zoom=None) -> tuple[list[float], float]:
    """The initial center and zoom: Shanghai, or ``lat``/``lon`` at ``zoom`` from the URL.

    The zoom is nudged off the whole number: dash-leaflet reports its viewport when ready only
    if it differs from the one it was given, and Leaflet snaps the zoom, so the first fetch starts
    without waiting for the user to move the map.
    """
    center = [_number(lat, -85, 85, SHANGHAI_CENTER[0]), _number(lon, -180, 180, SHANGHAI_CENTER[1])]
    return center, int(_number(zoom, 3, 19, DEFAULT_ZOOM)) + ZOOM_NUDGE


def _as_of_banner(day: dt.date | None, lang: str) -> html.Div | None:
    """Under the header while the map shows a past day: which day, and the way back to today."""
    if day is None:
        return None
    return html.Div([html.Span(t("map.as_of_banner", lang, day=day.isoformat()), id="map-as-of-banner-text"),
                     html.A(t("map.as_of_today", lang), id="map-as-of-today", href=page_url("/", lang))],
                    id="map-as-of-banner", className="as-of-banner")


def _dated_layers(day: dt.date | None) -> list[str]:
    """The layers the map fetches as of ``day``: those with a dated view, and the base map (the
    districts do not change with the day)."""
    if day is None:
        return [layer.id for layer in all_layers()]
    engine = get_engine()
    return [layer.id for layer in all_layers() if layer.base or is_dated(engine, layer)]


def layout(lang: str | None = None, lat=None, lon=None, zoom=None, parcel: str | None = None,
           as_of: str | None = None, year: str | None = None, **query) -> html.Div:
    lang = page_lang({"lang": lang})
    center, start_zoom = start_view(lat, lon, zoom)
    day = map_day(as_of)
    years = quota_years(get_engine())  # a handful of rows: the years of the ledger
    shown_year = map_year(year, years)
    chosen_year = shown_year if year and shown_year != (years[-1] if years else None) else None
    keep = {k: v for k, v in {"lat": lat, "lon": lon, "zoom": zoom, "parcel": parcel,
                              "as_of": day.isoformat() if day else None, "year": chosen_year}.items() if v}
    return html.Div([
        dcc.Location(id="map-location", refresh=True),
        dcc.Store(id="map-as-of", data=day.isoformat() if day else None),
        dcc.Store(id="map-dated-layers", data=_dated_layers(day)),
        dcc.Store(id="map-lang", data=lang),
        dcc.Store(id="map-nonce", data=0),
        # while a shown parcel's findings are pending, the panel follows the worker (follow_detail)
        dcc.Interval(id="map-detail-poll", interval=DETAIL_POLL_MS, disabled=True),
        dcc.Store(id="map-search-hits", data=[]),
        dcc.Store(id="map-initial-parcel", data=parcel),
        dcc.Store(id="map-latest-year", data=years[-1] if years else None),
        html.Div([header(lang, "/", keep), _as_of_banner(day, lang)], id="map-header"),
        html.Div([
            dl.Map([*_panes(),
                    dl.LayersControl(_basemaps(lang) + _overlays(lang), id="map-layers-control", collapsed=False,
                                     overlays=_checked_titles(lang)),
                    dl.GeoJSON(id="map-highlight", style=HIGHLIGHT_STYLE, interactive=False, pane="highlight"),
                    dl.ScaleControl(position="bottomleft", imperial=False)],
                   id="map-map", center=center, zoom=start_zoom, preferCanvas=False,
                   style={"height": "100%", "width": "100%"}),
            html.Div([
                html.Div([dcc.Input(id="map-search-input", type="search", debounce=False,
                                    placeholder=t("map.search.placeholder", lang)),
                          html.Button(t("map.search.button", lang), id="map-search-button", n_clicks=0)],
                         className="search-box"),
                html.Div(id="map-search-results"),
                html.Div([html.Label(t("map.as_of", lang), htmlFor="map-as-of-picker"),
                          dcc.DatePickerSingle(id="map-as-of-picker", date=day.isoformat() if day else None,
                                               max_date_allowed=dt.date.today().isoformat(), clearable=True,
                                               display_format="YYYY-MM-DD", placeholder="YYYY-MM-DD")],
                         className="as-of-picker"),
                _quota_year_picker(shown_year, years, lang),
                html.Div([html.Div(id="map-hint", className="hint"),
                          html.Button(t("map.refresh", lang), id="map-refresh", n_clicks=0)], className="map-tools"),
                print_links(lang),
                html.Div([html.H3(t("detail.title", lang)), html.P(t("detail.empty", lang))],
                         id="map-detail", className="detail"),
                _legend(lang, shown_year),
            ], className="side-panel"),
        ], className="map-body"),
    ], className="page")


def _visible(overlays: list[str] | None, lang: str) -> set[str]:
    """Ids of the checked overlays (the control reports their titles)."""
    if overlays is None:
        return {layer.id for layer in all_layers() if layer.visible}
    return {layer.id for layer in all_layers() if layer.title.get(lang) in overlays}


callback(*LINKS_CALLBACK)(point_links)  # the print/export links follow the view


@callback(Output("map-nonce", "data"), Input("map-refresh", "n_clicks"), State("map-nonce", "data"),
          prevent_initial_call=True)
def bump_nonce(_clicks, nonce):
    """Refetch every visible layer (the data endpoint never caches, so this shows saved edits)."""
    return (nonce or 0) + 1


@callback(
    [Output(f"map-layer-{layer.id}", "url") for layer in all_layers()] + [Output("map-hint", "children")],
    Input("map-map", "bounds"), Input("map-map", "zoom"), Input("map-layers-control", "overlays"),
    Input("map-nonce", "data"), State("map-lang", "data"), State("map-as-of", "data"),
    State("map-dated-layers", "data"), Input("map-quota-year", "value"),
)
def refresh_viewport(bounds, zoom, overlays, nonce, lang, as_of=None, dated=None, year=None):
    """Point each visible layer at the current viewport (hidden layers fetch nothing); on a past
    day the dated layers as of that day, the base map as it is, the others not at all; the quota
    layers for the chosen year (the other layers' addresses stay as they were: no refetch)."""
    layers = all_layers()
    if not bounds or zoom is None:
        return [no_update] * (len(layers) + 1)
    zoom = int(zoom)
    shown = _visible(overlays, lang)
    fetched = shown & set(dated or []) if as_of else shown
    urls = [features_url(layer.id, bounds, zoom, nonce or 0, None if layer.base else as_of,
                         year if layer.quota else None)
            if layer.id in fetched else no_update for layer in layers]
    coarse = [layer.detail_min_zoom for layer in layers if layer.id in fetched and zoom < layer.detail_min_zoom]
    hint = t("map.aggregate.hint", lang, zoom=min(coarse)) if coarse else ""
    skipped = [layer.title.get(lang) for layer in layers if layer.id in shown - fetched]
    if skipped:
        hint = " ".join(filter(None, [hint, t("map.as_of_skipped", lang, layers="、".join(skipped)
                                                if lang == "zh" else ", ".join(skipped))]))
    return urls + [hint]


@callback(Output("map-location", "href"), Input("map-as-of-picker", "date"), State("map-as-of", "data"),
          State("map-lang", "data"), State("map-map", "bounds"), State("map-map", "zoom"),
          State("map-quota-year", "value"), State("map-latest-year", "data"), prevent_initial_call=True)
def pick_day(date, shown_day, lang, bounds, zoom, year=None, latest=None):
    """A day picked (or cleared): the page again for that day (or today), at the same view and
    quota year, so the address can be shared and the header says which day the map shows."""
    day = map_day(date)
    new = day.isoformat() if day else None
    if new == shown_day:
        return no_update
    view: dict = {}
    if bounds and zoom is not None:
        (south, west), (north, east) = bounds
        view = {"lat": f"{(south + north) / 2:.5f}", "lon": f"{(west + east) / 2:.5f}", "zoom": int(zoom)}
    return page_url("/", lang, **view, as_of=new, year=year if year != latest else None)


# the chosen quota year goes into the address (?year=) and the language switch, without a reload
# (a reload would untick the layers ticked so far); gisapp/web/assets/gisapp.js
clientside_callback(ClientsideFunction(namespace="gisappMap", function_name="keepYear"),
                    Output("app-lang-switch", "href", allow_duplicate=True), Input("map-quota-year", "value"),
                    State("map-latest-year", "data"), State("map-lang", "data"), prevent_initial_call=True)


@callback([Output(f"map-legend-year-{layer.id}", "children") for layer in all_layers() if layer.quota],
          Input("map-quota-year", "value"), State("map-lang", "data"), prevent_initial_call=True)
def show_year_in_legends(year, lang):
    """The quota layers' legends say which year the map shows."""
    return [_year_note(year, lang) for layer in all_layers() if layer.quota]


@callback([Output(f"map-legend-{layer.id}", "style") for layer in all_layers()],
          Input("map-layers-control", "overlays"), State("map-lang", "data"), prevent_initial_call=True)
def show_legends(overlays, lang):
    shown = _visible(overlays, lang)
    return [None if layer.id in shown else {"display": "none"} for layer in all_layers()]


def _parcel_selection(code: str, lang: str, zoom_to: bool):
    """Detail panel, highlight and (optionally) a viewport for the parcel ``code``."""
    detail = parcel_detail(get_engine(), code)
    if detail is None:
        return not_found_panel(code, lang), None, no_update
    highlight = {"type": "FeatureCollection",
                 "features": [{"type": "Feature", "geometry": detail.geometry, "properties": {"code": code}}]}
    viewport = no_update
    if zoom_to and detail.center:
        lon, lat = detail.center
        viewport = {"center": [lat, lon], "zoom": PARCEL_ZOOM, "transition": "flyTo"}
    # the parcel's open case, as the signed-in user may read it (a zone editor: its zones')
    cases = parcel_cases(get_engine(), current_actor(), code)
    return parcel_panel(detail, lang, cases), highlight, viewport


def _bounds_of(geometry: dict | None) -> list | None:
    coords: list = []

    def walk(node):
        if node and isinstance(node[0], (int, float)):
            coords.append(node)
        else:
            for child in node or []:
                walk(child)

    walk((geometry or {}).get("coordinates"))
    if not coords:
        return None
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


@callback(
    Output("map-detail", "children"), Output("map-highlight", "data"), Output("map-map", "viewport"),
    [Input(f"map-layer-{layer.id}", "clickData") for layer in all_layers()],
    State("map-lang", "data"), State("map-as-of", "data"), State("map-quota-year", "value"),
    prevent_initial_call=True,
)
def show_detail(*args):
    """What the clicked feature is about: a parcel's detail, a zone, a zone-level summary, or a
    feature's own fields (a quota layer's district: for the year shown, with its escalations)."""
    *_clicks, lang, as_of, year = args
    day = map_day(as_of)
    layer_id = ctx.triggered_id.removeprefix("map-layer-") if isinstance(ctx.triggered_id, str) else None
    feature = ctx.triggered[0]["value"] if ctx.triggered else None
    if not layer_id or not feature:
        return no_update, no_update, no_update
    layer = get_layer(layer_id)
    props = feature.get("properties") or {}
    if props.get("aggregate"):
        key = layer.aggregate.key if layer.aggregate else "zone_code"
        zones = zone_table(get_engine()).set_index("code")
        zone_code = props.get(key)
        name = zones[f"name_{lang}"].get(zone_code, zone_code) if zone_code in zones.index else zone_code
        bounds = _bounds_of(feature.get("geometry"))
        viewport = {"bounds": bounds, "transition": "flyToBounds"} if bounds else no_update
        return aggregate_panel(layer, props, name, lang), None, viewport
    full = feature_properties(get_engine(), layer, props.get(layer.id_field, feature.get("id")), as_of=day,
                              year=year) or props
    if layer.detail == "parcel" and full.get("code"):
        panel, highlight, _ = _parcel_selection(str(full["code"]), lang, zoom_to=False)
        if day is not None and isinstance(panel, list):  # the record is today's: say so
            panel.insert(1, html.P(t("detail.as_of_note", lang, day=day.isoformat()), className="hint",
                                   id="map-detail-as-of-note"))
        return panel, highlight, no_update
    if layer.quota is not None and full.get("year") is not None:
        escalations = district_escalations(get_engine(), str(full.get("code")), int(full["year"]),
                                           layer.quota.resources)
        return quota_panel(layer, full, escalations, lang), None, no_update
    if layer.detail == "feature":
        return feature_panel(layer, full, lang), None, no_update
    return zone_panel(layer, full, lang, zone_boundaries(get_engine(), full.get("code"), day)), None, no_update


@callback(Output("map-detail-poll", "disabled"), Input("map-detail-freshness", "data"), prevent_initial_call=True)
def poll_while_pending(shown):
    """Poll only while the parcel shown has findings waiting for the worker."""
    return not (shown or {}).get("pending")


@callback(
    Output("map-detail", "children", allow_duplicate=True),
    Input("map-detail-poll", "n_intervals"),
    State("map-detail-freshness", "data"), State("map-lang", "data"), State("map-as-of", "data"),
    prevent_initial_call=True,
)
def follow_detail(_n, shown, lang, as_of):
    """The parcel's panel again once its findings changed (made current, or no longer pending),
    as the parcel page does: an edit's finding shows up without a click."""
    if not shown or not shown.get("code"):
        return no_update
    detail = parcel_detail(get_engine(), shown["code"])
    if detail is None or freshness_stamp(shown["code"], detail.findings_status)["stamp"] == shown.get("stamp"):
        return no_update
    panel, _, _ = _parcel_selection(shown["code"], lang or "zh", zoom_to=False)
    day = map_day(as_of)
    if day is not None and isinstance(panel, list):
        panel.insert(1, html.P(t("detail.as_of_note", lang, day=day.isoformat()), className="hint",
                               id="map-detail-as-of-note"))
    return panel


def _hit_button(k: int, hit: dict, lang: str) -> html.Li:
    key = f"map.search.hit.{hit['layer']}"
    kind = t(key, lang) if key in TEXTS else get_layer(hit["layer"]).title.get(lang)
    label = hit["value"] if hit["value"] == hit.get("code") or not hit.get("code") else f"{hit['code']} · {hit['value']}"
    return html.Li(html.Button([html.Span(kind, className="search-hit-kind"), label],
                               id={"type": "map-search-hit", "index": k}, n_clicks=0))


def _go_to(hit: dict, lang: str):
    """Detail, highlight and viewport for a search hit: a parcel opens, a zone is framed."""
    layer = get_layer(hit["layer"])
    if layer.detail == "parcel" and hit.get("code"):
        return _parcel_selection(hit["code"], lang, zoom_to=True)
    minx, miny, maxx, maxy = hit["bbox"]
    viewport = {"bounds": [[miny, minx], [maxy, maxx]], "transition": "flyToBounds"}
    props = feature_properties(get_engine(), layer, hit["id"]) or {}
    return zone_panel(layer, props, lang, zone_boundaries(get_engine(), props.get("code"))), None, viewport


@callback(
    Output("map-search-results", "children"), Output("map-search-hits", "data"),
    Output("map-detail", "children", allow_duplicate=True), Output("map-highlight", "data", allow_duplicate=True),
    Output("map-map", "viewport", allow_duplicate=True),
    Input("map-search-button", "n_clicks"), Input("map-search-input", "n_submit"),
    State("map-search-input", "value"), State("map-lang", "data"),
    prevent_initial_call=True,
)
def run_search(_clicks, _submit, text, lang):
    """Search the declared layers; the best hit is shown at once, the others listed."""
    try:
        hits = [h.to_dict() for h in search(get_engine(), text, limit=8)]
    except InputError:
        return html.P(t("map.search.too_short", lang), className="muted"), [], no_update, no_update, no_update
    if not hits:
        return html.P(t("map.search.none", lang, text=text), className="muted"), [], no_update, no_update, no_update
    listing = html.Ul([_hit_button(k, h, lang) for k, h in enumerate(hits)], className="search-hits",
                      id="map-search-list")
    return (listing, hits, *_go_to(hits[0], lang))


@callback(
    Output("map-detail", "children", allow_duplicate=True), Output("map-highlight", "data", allow_duplicate=True),
    Output("map-map", "viewport", allow_duplicate=True),
    Input({"type": "map-search-hit", "index": ALL}, "n_clicks"),
    State("map-search-hits", "data"), State("map-lang", "data"),
    prevent_initial_call=True,
)
def pick_hit(clicks, hits, lang):
    if not ctx.triggered_id or not any(clicks):
        return no_update, no_update, no_update
    index = ctx.triggered_id["index"]
    if not hits or index >= len(hits):
        return no_update, no_update, no_update
    return _go_to(hits[index], lang)


@callback(
    Output("map-detail", "children", allow_duplicate=True), Output("map-highlight", "data", allow_duplicate=True),
    Output("map-map", "viewport", allow_duplicate=True),
    Input("map-initial-parcel", "data"), State("map-lang", "data"),
    prevent_initial_call="initial_duplicate",
)
def open_initial_parcel(code, lang):
    """``?parcel=CODE`` in the URL: open that parcel's detail and go there."""
    if not code:
        return no_update, no_update, no_update
    return _parcel_selection(str(code), lang, zoom_to=True)
