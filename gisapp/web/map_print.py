"""Outputs of the map's current view (issue #18): the view printed as PNG or PDF, and the
parcels in the view exported as Excel or GeoPackage, from links beside the map.

- ``GET /map/print.png|pdf?bbox=minx,miny,maxx,maxy&layers=zones,parcels&lang=zh[&as_of=YYYY-MM-DD]
  [&year=YYYY][&zoom=Z]``: the ticked layers' features in the view, drawn with their declared
  styles and labels (:mod:`gisapp.render.map_print`); ``layers`` absent: the layers the map shows
  at start; ``year``: the quota layers' year; ``zoom``: the map's, from which labels are drawn
  as on the map (absent: the zoom that shows the view as wide as the page does).
- ``GET /map/parcels.xlsx|gpkg?bbox=...&layers=parcels,idle_land&lang=zh[&as_of=...]``: what the
  map shows of its parcels: each ticked parcel layer (``detail: parcel``) with its rows in the
  view, one sheet or GeoPackage layer each, every declared field, geometry in EPSG:4490
  (:func:`gisapp.io.writers.write_frame`); ``layers`` absent: the map's layers at start.

Both read the layers as the map's feature routes do (:mod:`gisapp.web.routes`): the declared
source view through the web engine, behind the sign-in guard (the request role under row-level
security: nobody gets more than their map shows them), with the same bbox test
(``&&`` + ``ST_Intersects``) and, for a past day, the same dated views; a layer that only shows
today is left out on a past day, as on the map. Bad input is a 400 page in the user's language.
The map page's links follow its viewport, ticked layers, day and quota year through
:func:`point_links` (``LINKS_CALLBACK``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

from dash import Input, Output, State, html, no_update
from flask import Blueprint, Response, request

from gisapp.catalog.registry import layer_ids
from gisapp.errors import InputError, NotFoundError
from gisapp.i18n import t
from gisapp.io.writers import write_frame
from gisapp.queries.as_of import dated_layer, is_dated, parse_day
from gisapp.queries.features import BBox, parse_zoom
from gisapp.queries.layer_frames import read_layer_frame
from gisapp.queries.meta import is_synthetic
from gisapp.queries.quotas import parse_year
from gisapp.render.map_print import FORMATS as PRINT_FORMATS
from gisapp.render.map_print import PrintLayer, map_figure
from gisapp.web.auth import request_lang
from gisapp.web.engine import web_engine
from gisapp.web.errors import error_page
from gisapp.web.layer_access import readable_layer, readable_layers

map_print = Blueprint("map_print", __name__)

EXPORT_FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "gpkg": "application/geopackage+sqlite3"}
#: parcels one export holds at most, all its layers together (a whole-city view asks the user to zoom in)
MAX_EXPORT_ROWS = 50000
NO_STORE = {"Cache-Control": "no-store"}


class _Refused(Exception):
    """A request a person must correct: the answer is a 400 page with ``message``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


@map_print.errorhandler(_Refused)
def _refused(exc: _Refused):
    return error_page(exc.status, exc.message, request_lang())


def _bbox(lang: str) -> BBox:
    text = request.args.get("bbox")
    try:
        return BBox.parse(text)
    except InputError:
        raise _Refused(t("map.print.bad_bbox", lang, bbox=(text or "—")[:80])) from None


def _day(lang: str):
    text = request.args.get("as_of")
    try:
        return parse_day(text)
    except InputError:
        raise _Refused(t("map.print.bad_as_of", lang, day=(text or "")[:20])) from None


def _year(lang: str) -> int | None:
    text = request.args.get("year")
    try:
        return parse_year(text)
    except InputError:
        raise _Refused(t("map.print.bad_year", lang, year=(text or "")[:20])) from None


def _zoom(lang: str) -> int | None:
    text = request.args.get("zoom")
    if text in (None, ""):
        return None
    try:
        return parse_zoom(text)
    except InputError:
        raise _Refused(t("map.print.bad_zoom", lang, zoom=text[:20])) from None


def _layers(lang: str) -> list:
    """The asked layers in the map's drawing order (``?layers=a,b``; absent: the map's defaults)."""
    text = request.args.get("layers")
    if text is None:
        return [layer for layer in readable_layers() if layer.visible]
    asked = [part.strip() for part in text.split(",") if part.strip()]
    for layer_id in asked:
        try:
            readable_layer(layer_id)
        except NotFoundError:
            raise _Refused(t("map.print.bad_layer", lang, layer=layer_id[:40], known=", ".join(layer_ids())),
                           404) from None
    return [layer for layer in readable_layers() if layer.id in asked]


def _read(engine, layer, bbox: BBox, day, limit: int, fields: list[str] | None = None, year: int | None = None):
    """``layer``'s rows in the view as the map's feature route reads them: on a past day through
    its dated view (a base layer as it is: the map fetches those without ``as_of``); a quota
    layer for ``year`` (the map's choice; None: the latest)."""
    year = year if layer.quota else None
    if day is None or layer.base:
        return read_layer_frame(engine, layer, bbox=bbox, fields=fields, limit=limit, year=year)
    return read_layer_frame(engine, dated_layer(layer, engine), bbox=bbox, as_of=day, fields=fields, limit=limit,
                            year=year)


def _shown_on(engine, layers: list, day, lang: str) -> tuple[list, list[str]]:
    """The layers the map draws on ``day`` and the titles of those it leaves out (today's state only)."""
    kept, skipped = [], []
    for layer in layers:
        if day is not None and not layer.base and not is_dated(engine, layer):
            skipped.append(layer.title.get(lang))
        else:
            kept.append(layer)
    return kept, skipped


def _note(engine, lang: str) -> str | None:
    return t("app.synthetic", lang) if is_synthetic(engine) else None


def _attachment(name: str) -> dict:
    return {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}


@map_print.get("/map/print.<ext>")
def print_view(ext: str):
    """The view as a printed page (PNG or PDF)."""
    lang = request_lang()
    if ext not in PRINT_FORMATS:
        raise _Refused(t("map.print.bad_format", lang, ext=ext[:10], known=", ".join(PRINT_FORMATS)), 404)
    bbox, day, layers, year, zoom = _bbox(lang), _day(lang), _layers(lang), _year(lang), _zoom(lang)
    engine = web_engine()
    drawn = []
    kept, skipped = _shown_on(engine, layers, day, lang)
    for layer in kept:
        # what is drawn: the style field, the names the map writes on the features, a quota year
        fields = [f for f in (layer.style.field, layer.labels.field(lang) if layer.labels else None,
                              "year" if layer.quota else None) if f]
        frame = _read(engine, layer, bbox, day, layer.max_features + 1, list(dict.fromkeys(fields)), year)
        truncated = len(frame) > layer.max_features
        drawn.append(PrintLayer(layer, frame.iloc[:layer.max_features] if truncated else frame, truncated))
    shown_year = year if year is not None else _latest_year(drawn)
    page = map_figure(drawn, bbox, lang, note=_note(engine, lang), as_of=day, skipped=skipped, zoom=zoom,
                      year=shown_year)
    name = f"map_{day.isoformat() if day else 'today'}.{ext}"
    return Response(page.to_bytes(ext), mimetype=PRINT_FORMATS[ext], headers=_attachment(name))


def _latest_year(drawn: list[PrintLayer]) -> int | None:
    """The year the quota layers drawn show when none was asked for (their features', the latest)."""
    years = [int(y) for item in drawn if item.layer.quota and "year" in item.frame.columns
             for y in item.frame["year"].dropna().unique()]
    return max(years) if years else None


def parcel_layers() -> list:
    """The layers whose features are parcels (``detail: parcel``): what the parcels export writes."""
    return [layer for layer in readable_layers() if layer.detail == "parcel"]


@map_print.get("/map/parcels.<ext>")
def export_parcels(ext: str):
    """The parcels the map shows in the view as Excel or GeoPackage: each ticked parcel layer, as
    filtered by it (idle land: the idle parcels), one sheet or layer each (every declared field,
    EPSG:4490)."""
    lang = request_lang()
    if ext not in EXPORT_FORMATS:
        raise _Refused(t("map.print.bad_format", lang, ext=ext[:10], known=", ".join(EXPORT_FORMATS)), 404)
    bbox, day, asked = _bbox(lang), _day(lang), _layers(lang)
    engine = web_engine()
    wanted = [layer for layer in asked if layer.detail == "parcel"]
    layers, _skipped = _shown_on(engine, wanted, day, lang)
    if not layers:
        sep = "、" if lang == "zh" else ", "
        raise _Refused(t("map.print.no_parcel_layer", lang, layers=sep.join(
            layer.title.get(lang) for layer in parcel_layers())))
    frames, left = [], MAX_EXPORT_ROWS
    for layer in layers:
        frame = _read(engine, layer, bbox, day, left + 1)
        if len(frame) > left:
            raise _Refused(t("map.print.too_many", lang, n=MAX_EXPORT_ROWS))
        left -= len(frame)
        frames.append((layer, frame))
    name = f"parcels_{day.isoformat() if day else 'today'}"
    with tempfile.TemporaryDirectory(prefix="gisapp-map-export-") as tmp:
        path = Path(tmp) / f"{name}.{ext}"
        for k, (layer, frame) in enumerate(frames):
            write_frame(frame, path, layer_name=layer.id, labels={f.name: (f.label.zh, f.label.en) for f in layer.fields},
                        note=_note(engine, lang), id_field=layer.id_field, append=k > 0)
        data = path.read_bytes()
    return Response(data, mimetype=EXPORT_FORMATS[ext], headers=_attachment(f"{name}.{ext}"))


# -- the map page's links ----------------------------------------------------------------------

LINKS = (("map-print-png", "/map/print.png", "map.print.png"), ("map-print-pdf", "/map/print.pdf", "map.print.pdf"),
         ("map-export-xlsx", "/map/parcels.xlsx", "map.print.xlsx"),
         ("map-export-gpkg", "/map/parcels.gpkg", "map.print.gpkg"))


def print_links(lang: str) -> html.Div:
    """The links under the map's tools; :func:`point_links` gives them the view's address."""
    def link(link_id: str, words: str) -> html.A:
        return html.A(t(words, lang), id=link_id, target="_blank", rel="noopener", className="map-output-link")

    return html.Div([html.H3(t("map.print.heading", lang)),
                     html.P([html.Span(t("map.print.link", lang) + "：" if lang == "zh" else
                                       t("map.print.link", lang) + ": "),
                             link(*LINKS[0][::2]), " · ", link(*LINKS[1][::2])], id="map-print"),
                     html.P([html.Span(t("map.print.parcels", lang) + ("：" if lang == "zh" else ": ")),
                             link(*LINKS[2][::2]), " · ", link(*LINKS[3][::2])], id="map-export")],
                    className="map-outputs")


def view_query(bounds, lang: str, shown: list[str] | None = None, as_of: str | None = None, **more) -> str:
    """The query string of a view: its bbox formatted as the map's feature requests do it, and
    the other non-empty values given (``year``, ``zoom``)."""
    (south, west), (north, east) = bounds
    args = {"bbox": f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}", "lang": lang}
    if shown is not None:
        args["layers"] = ",".join(shown)
    if as_of:
        args["as_of"] = as_of
    args.update({k: v for k, v in more.items() if v not in (None, "")})
    return urlencode(args, safe=",")


def _shown(overlays: list[str] | None, lang: str) -> list[str]:
    """Ids of the ticked overlays (the layers control reports their titles), in declared order."""
    if overlays is None:
        return [layer.id for layer in readable_layers() if layer.visible]
    return [layer.id for layer in readable_layers() if layer.title.get(lang) in overlays]


#: the arguments of ``dash.callback`` for :func:`point_links`: the map page registers it (Dash
#: runs a page's module anew for each app, so a callback of this imported-once module would
#: reach only the first app made in a process)
LINKS_CALLBACK = ([Output(link_id, "href") for link_id, _path, _words in LINKS],
                  Input("map-map", "bounds"), Input("map-layers-control", "overlays"),
                  State("map-lang", "data"), State("map-as-of", "data"), Input("map-quota-year", "value"),
                  State("map-map", "zoom"))


def point_links(bounds, overlays, lang, as_of, year=None, zoom=None):
    """The links follow the view: its bbox, the ticked layers, the language, the day and quota
    year shown; the print also the zoom (from which the map labels districts and zones)."""
    if not bounds:
        return [no_update] * len(LINKS)
    lang = lang or "zh"
    shown = _shown(overlays, lang)
    printed = view_query(bounds, lang, shown, as_of, year=year, zoom=int(zoom) if zoom is not None else None)
    parcels = [layer.id for layer in parcel_layers() if layer.id in shown]
    exported = view_query(bounds, lang, parcels, as_of)
    return [f"{path}?{printed if path.startswith('/map/print') else exported}" for _id, path, _w in LINKS]
