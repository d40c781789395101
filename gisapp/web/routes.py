"""Flask routes: the layer catalogue, per-viewport features, vector tiles, search, parcel detail
and dashboard exports. Adapters only: parse, call ``queries``, shape the answer; bad input is a
4xx with a reason, never a query. A saved edit shows on the next request: nothing is cached
but tiles, which a client keeps and revalidates (their ETag moves with every edit,
gisapp.web.tile_http).
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from gisapp.errors import InputError, NotFoundError
from gisapp.i18n import LANGUAGES
from gisapp.queries import dashboard
from gisapp.queries.as_of import parse_day
from gisapp.queries.features import (
    BBox,
    feature_properties,
    features,
    parse_format,
    parse_properties,
    parse_zoom,
)
from gisapp.queries.parcel import parcel_detail
from gisapp.queries.quotas import check_yearly, parse_year
from gisapp.queries.search import search
from gisapp.queries.tiles import TileAddress
from gisapp.render.style import legend
from gisapp.web.engine import web_engine
from gisapp.web.errors import json_error
from gisapp.web.layer_access import readable_layer, readable_layers
from gisapp.web.tables import localized_frame
from gisapp.web.tile_http import tile_response

api = Blueprint("api", __name__, url_prefix="/api")
tiles = Blueprint("tiles", __name__, url_prefix="/tiles")

NO_STORE = {"Cache-Control": "no-store"}


def _not_found(exc: NotFoundError):
    return json_error(404, str(exc), getattr(exc, "field", None))


def _bad_input(exc: InputError):
    return json_error(400, str(exc), getattr(exc, "field", None))


def _about(exc: InputError | NotFoundError, field: str) -> InputError | NotFoundError:
    """``exc`` naming the request's parameter it is about (the answer's ``field``)."""
    exc.field = field
    return exc


for _bp in (api, tiles):
    _bp.register_error_handler(NotFoundError, _not_found)
    _bp.register_error_handler(InputError, _bad_input)


def _lang() -> str:
    lang = request.args.get("lang") or "zh"
    if lang not in LANGUAGES:
        raise InputError(f"lang {lang[:10]!r} is not one of {', '.join(LANGUAGES)}")
    return lang


@api.get("/layers")
def layers():
    lang = _lang()
    return jsonify([{"id": layer.id, "title": layer.title.model_dump(), "detail_min_zoom": layer.detail_min_zoom,
                     "zoom": layer.zoom.model_dump(), "tiles": f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.pbf",
                     "legend": [{"color": i.color, "label": i.label} for i in legend(layer, lang)]}
                    for layer in readable_layers()])


def _year(layer) -> int | None:
    """``?year=`` for a quota layer (gisapp.queries.quotas); a 400 naming ``year`` otherwise."""
    try:
        year = parse_year(request.args.get("year"))
        if year is not None:
            check_yearly(layer)
    except InputError as exc:
        raise _about(exc, "year") from None
    return year


@api.get("/layers/<layer_id>/features")
def layer_features(layer_id: str):
    """``?bbox=minx,miny,maxx,maxy&zoom=Z[&zone=CODE][&format=geojson|geobuf][&properties=all|style]
    [&as_of=YYYY-MM-DD][&year=YYYY]`` (``year``: the quota layers, that year of the ledger)."""
    layer = readable_layer(layer_id)
    bbox = BBox.parse(request.args.get("bbox"))
    zoom = parse_zoom(request.args.get("zoom"))
    fmt = parse_format(request.args.get("format"))
    props = parse_properties(request.args.get("properties"))
    zone = request.args.get("zone") or None
    year = _year(layer)
    try:
        as_of = parse_day(request.args.get("as_of"))
        answer = features(web_engine(), layer, bbox, zoom, zone=zone, fmt=fmt, properties=props, as_of=as_of,
                          year=year)
    except InputError as exc:  # not a date, or a layer that shows only today
        raise _about(exc, "as_of") from None
    headers = {**NO_STORE, "X-Feature-Count": str(answer.count), "X-Truncated": str(answer.truncated).lower(),
               "X-Mode": answer.mode}
    return Response(answer.body, mimetype=answer.media_type, headers=headers)


@api.get("/layers/<layer_id>/features/<feature_id>")
def layer_feature(layer_id: str, feature_id: str):
    """One feature's declared properties (``?year=YYYY``: a quota layer's feature of that year)."""
    layer = readable_layer(layer_id)
    year = _year(layer)
    try:
        props = feature_properties(web_engine(), layer, feature_id, year=year)
    except sa.exc.DataError:  # an id its column cannot hold (a 30-digit number): no such feature
        props = None
    if props is None:
        raise _about(NotFoundError(f"layer {layer_id} has no feature {feature_id[:40]!r}"), "feature_id")
    return jsonify(props), 200, NO_STORE


@tiles.get("/<layer_id>/<z>/<x>/<y>.pbf")
def vector_tile(layer_id: str, z: str, x: str, y: str):
    """Mapbox vector tile of a declared layer (XYZ, EPSG:3857); empty tile = 204; gzip when the
    client accepts it, with an ETag (304 when unchanged: gisapp.web.tile_http); ``?year=YYYY``:
    a quota layer for that year."""
    layer = readable_layer(layer_id)
    return tile_response(layer, TileAddress.parse(z, x, y), year=_year(layer))


@api.get("/search")
def search_route():
    """``?q=text[&limit=N]``: parcels by code or enterprise, zones by code or name."""
    text = request.args.get("limit") or "10"
    # isascii: str.isdigit() holds for "²" and "٣" too, which int() refuses or reads as 3
    if not (text.isascii() and text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 50):
        raise _about(InputError(f"limit {text[:10]!r} must be a whole number from 1 to 50"), "limit")
    hits = search(web_engine(), request.args.get("q"), limit=int(text))
    return jsonify([h.to_dict() for h in hits]), 200, NO_STORE


@api.get("/parcels/<code>")
def parcel(code: str):
    detail = parcel_detail(web_engine(), code)
    if detail is None:
        raise _about(NotFoundError(f"there is no parcel with the code {code[:40]!r}"), "code")
    return Response(detail.to_json(), mimetype="application/json", headers=NO_STORE)


@api.get("/dashboard/<name>.<ext>")
def dashboard_export(name: str, ext: str):
    """One dashboard table as CSV or Excel, with headers in the asked language (``?zone=&lang=``)."""
    if ext not in ("csv", "xlsx"):
        raise InputError(f"export format {ext[:10]!r} is not one of csv, xlsx")
    if name not in dashboard.DATASETS:
        raise NotFoundError(f"unknown dashboard table {name[:40]!r}; known: {', '.join(dashboard.DATASETS)}")
    zone = request.args.get("zone") or None
    engine = web_engine()
    dashboard.check_zone(engine, zone)
    frame = localized_frame(name, dashboard.dataset(engine, name, zone), _lang())
    filename = f"{name}_{zone or 'all'}.{ext}"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    if ext == "csv":
        # BOM: Excel opens UTF-8 CSV with Chinese text correctly only with it
        return Response(frame.to_csv(index=False).encode("utf-8-sig"), mimetype="text/csv", headers=headers)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name=name[:31])
    return Response(buffer.getvalue(), headers=headers,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@api.get("/health")
def health():
    return jsonify(status="ok")
