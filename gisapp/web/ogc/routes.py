"""The OGC API – Features routes under ``/ogc``: adapters that parse the request, call
gisapp.queries.ogc_items and gisapp.web.ogc.documents, and answer JSON (GeoJSON for features) or
HTML. Every read runs as the signed-in user; every error is an OGC exception
(``{"code": ..., "description": ...}``) with its status, never a bare 500.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from gisapp.errors import InputError, NotFoundError
from gisapp.i18n import LANGUAGES, t
from gisapp.queries import ogc_items
from gisapp.queries.ogc_crs import parse_bbox, parse_crs
from gisapp.web.auth import current_actor
from gisapp.web.engine import web_engine
from gisapp.web.errors import RETRY_AFTER_SECONDS, database_unreachable, unusable_char
from gisapp.web.layer_access import readable_layer, readable_layers
from gisapp.web.ogc import documents as docs
from gisapp.web.ogc import html
from gisapp.web.ogc.openapi import openapi_document

logger = logging.getLogger("gisapp.web.ogc")

ogc = Blueprint("ogc", __name__, url_prefix="/ogc")

COMMON_PARAMS = frozenset({"f", "lang"})
ITEMS_PARAMS = COMMON_PARAMS | {"bbox", "bbox-crs", "crs", "datetime", "limit", "offset"}
ITEM_PARAMS = COMMON_PARAMS | {"crs", "datetime"}
NO_STORE = {"Cache-Control": "no-store"}


class OgcException(Exception):
    """An answer of the OGC exception kind: HTTP status, exception code, a sentence."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def exception_response(status: int, code: str, description: str, **headers: str) -> Response:
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json", headers={**NO_STORE, **headers})


@ogc.errorhandler(Exception)
def _error(exc: Exception) -> Response:
    lang = request.args.get("lang") if request.args.get("lang") in LANGUAGES else "zh"
    if isinstance(exc, OgcException):
        return exception_response(exc.status, exc.code, exc.description)
    if isinstance(exc, InputError):
        return exception_response(400, "InvalidParameterValue", str(exc))
    if isinstance(exc, NotFoundError):
        return exception_response(404, "NotFound", str(exc))
    if isinstance(exc, HTTPException):
        return exception_response(exc.code or 500, exc.name.replace(" ", ""), exc.description or exc.name)
    if database_unreachable(exc):
        logger.warning("database unreachable on %s %s", request.method, request.path)
        return exception_response(503, "ServiceUnavailable", t("error.db_down", lang),
                                  **{"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, sa.exc.DataError):  # a value the column cannot hold (checked before; a backstop)
        return exception_response(400, "InvalidParameterValue", t("error.db_value", lang, detail=str(exc.orig)[:200]))
    error_id = secrets.token_hex(4)
    logger.error("unexpected error %s on %s %s", error_id, request.method, request.path, exc_info=exc)
    return exception_response(500, "ServerError", t("error.unexpected", lang, error_id=error_id))


@ogc.before_request
def _check_characters():
    for name, value in request.args.items(multi=True):
        char = unusable_char(value) or unusable_char(name)
        if char:
            raise InputError(f"query parameter {name[:40]!r} holds the character {char}, which no text may hold")


# -- parsing ---------------------------------------------------------------------------------------


def _base() -> str:
    return request.url_root.rstrip("/") + "/ogc"


def _lang() -> str:
    lang = request.args.get("lang") or "zh"
    if lang not in LANGUAGES:
        raise InputError(f"lang {lang[:10]!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def _kind(json_kind: str = docs.JSON) -> str:
    """The answer's media type: ``f`` if given, else HTML for a browser, else ``json_kind``."""
    f = request.args.get("f")
    if f in ("json", "geojson"):
        return json_kind
    if f == "html":
        return docs.HTML
    if f:
        raise OgcException(400, "InvalidParameterValue", f"f {f[:20]!r} is not one of json, html")
    best = request.accept_mimetypes.best_match([json_kind, docs.JSON, docs.HTML])
    return docs.HTML if best == docs.HTML else json_kind


def _check_params(allowed: frozenset[str] | set[str]) -> None:
    """Refuse parameters the API definition does not name (and any given twice)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise InputError(f"unknown query parameter(s) {', '.join(unknown)[:120]}; this resource takes "
                         f"{', '.join(sorted(allowed))[:400]}")
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise InputError(f"query parameter(s) {', '.join(repeated)[:120]} given more than once")


def _actor():
    actor = current_actor()
    if actor is None:  # the sign-in guard stops such requests before they get here
        raise OgcException(401, "Unauthorized", t("auth.required", _lang()))
    return actor


def _json(doc: dict, kind: str = docs.JSON, **headers: str) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False), mimetype=kind, headers={**NO_STORE, **headers})


def _html(text: str) -> Response:
    return Response(text, mimetype=docs.HTML, headers=NO_STORE)


# -- the routes ------------------------------------------------------------------------------------


@ogc.get("", strict_slashes=False)
def landing():
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind()
    doc = docs.landing_page(_base(), lang, kind)
    return _html(html.landing_html(doc, lang, _base())) if kind == docs.HTML else _json(doc)


@ogc.get("/conformance")
def conformance():
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind()
    doc = docs.conformance(_base(), lang, kind)
    return _html(html.conformance_html(doc, lang, _base())) if kind == docs.HTML else _json(doc)


@ogc.get("/api")
def api_definition():
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind(docs.OPENAPI)
    engine = web_engine()
    doc = openapi_document(_base(), [(layer, ogc_items.field_types(engine, layer)) for layer in readable_layers()], lang)
    if kind == docs.HTML:
        links = docs.self_links(_base(), "/api", lang, docs.HTML)
        return _html(html.api_html(doc, lang, _base(), links))
    return _json(doc, docs.OPENAPI)


@ogc.get("/collections")
def collections():
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind()
    engine = web_engine()
    doc = docs.collections(_base(), [(layer, ogc_items.layer_extent(engine, layer)) for layer in readable_layers()], lang,
                           kind)
    return _html(html.collections_html(doc, lang, _base())) if kind == docs.HTML else _json(doc)


@ogc.get("/collections/<layer_id>")
def collection(layer_id: str):
    layer = readable_layer(layer_id)
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind()
    engine = web_engine()
    doc = docs.collection(_base(), layer, lang, ogc_items.layer_extent(engine, layer), kind)
    if kind == docs.HTML:
        queryables = docs.queryables(_base(), layer, ogc_items.field_types(engine, layer), lang)
        return _html(html.collection_html(doc, queryables, lang, _base()))
    return _json(doc)


@ogc.get("/collections/<layer_id>/queryables")
def queryables(layer_id: str):
    layer = readable_layer(layer_id)
    _check_params(COMMON_PARAMS)
    lang, kind = _lang(), _kind(docs.JSON_SCHEMA)
    doc = docs.queryables(_base(), layer, ogc_items.field_types(web_engine(), layer), lang)
    if kind == docs.HTML:
        links = docs.self_links(_base(), f"/collections/{layer.id}/queryables", lang, docs.HTML)
        return _html(html.queryables_html(doc, lang, _base(), links))
    return _json(doc, docs.JSON_SCHEMA)


@ogc.get("/collections/<layer_id>/schema")
def schema(layer_id: str):
    layer = readable_layer(layer_id)
    _check_params(COMMON_PARAMS)
    lang = _lang()
    engine = web_engine()
    doc = docs.feature_schema(_base(), layer, ogc_items.field_types(engine, layer), ogc_items.id_type(engine, layer),
                              lang)
    return _json(doc, docs.JSON_SCHEMA)


def _items_request(layer) -> ogc_items.ItemsRequest:
    types = ogc_items.field_types(web_engine(), layer)
    _check_params(ITEMS_PARAMS | set(types))
    crs = parse_crs(request.args.get("crs"), "crs")
    bbox_crs = parse_crs(request.args.get("bbox-crs"), "bbox-crs")
    if "bbox-crs" in request.args and "bbox" not in request.args:
        raise InputError("bbox-crs is given without bbox")
    return ogc_items.ItemsRequest(
        crs=crs,
        bbox=parse_bbox(request.args.get("bbox"), bbox_crs),
        limit=ogc_items.parse_limit(request.args.get("limit")),
        offset=ogc_items.parse_count(request.args.get("offset"), "offset", 0, 0),
        filters=ogc_items.parse_filters(request.args.to_dict(), types),
        as_of=ogc_items.parse_datetime(request.args.get("datetime")),
    )


def _page_url(path: str, f: str, **changes: object) -> str:
    args = {**request.args.to_dict(), "f": f, **{k: str(v) for k, v in changes.items()}}
    return docs.url(_base(), path, **args)


def _items_links(layer, req: ogc_items.ItemsRequest, page: ogc_items.ItemsPage, kind: str, lang: str) -> list[dict]:
    path = f"/collections/{layer.id}/items"
    this, other = (docs.HTML, docs.GEOJSON) if kind == docs.HTML else (docs.GEOJSON, docs.HTML)
    fmt = {docs.HTML: "html", docs.GEOJSON: "json"}
    links = [docs.link(_page_url(path, fmt[this]), "self", this, t("ogc.link.self", lang)),
             docs.link(_page_url(path, fmt[other]), "alternate", other,
                       t("ogc.link.as_html" if other == docs.HTML else "ogc.link.as_json", lang))]
    if page.more:
        links.append(docs.link(_page_url(path, fmt[this], offset=req.offset + req.limit), "next", this,
                               t("ogc.link.next", lang)))
    if req.offset > 0:
        links.append(docs.link(_page_url(path, fmt[this], offset=max(0, req.offset - req.limit)), "prev", this,
                               t("ogc.link.prev", lang)))
    links.append(docs.link(docs.url(_base(), f"/collections/{layer.id}", f="json", lang=lang), "collection",
                           docs.JSON, t("ogc.link.collection", lang)))
    return links


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@ogc.get("/collections/<layer_id>/items")
def items(layer_id: str):
    """A page of features: ``bbox``, ``bbox-crs``, ``crs``, ``datetime`` (as of a day), ``limit``,
    ``offset`` and ``<field>=<value>`` for the declared fields."""
    layer = readable_layer(layer_id)
    req = _items_request(layer)
    lang, kind = _lang(), _kind(docs.GEOJSON)
    page = ogc_items.items_page(web_engine(), _actor(), layer, req)
    links = _items_links(layer, req, page, kind, lang)
    headers = {"Content-Crs": req.crs.header}
    if kind == docs.HTML:
        doc = {"numberMatched": page.matched, "features": json.loads(f"[{page.features}]"), "links": links}
        item_url = lambda fid: docs.url(_base(), f"/collections/{layer.id}/items/{fid}", f="html", lang=lang)  # noqa: E731
        return Response(html.items_html(layer, doc, req.offset, lang, _base(), item_url), mimetype=docs.HTML,
                        headers={**NO_STORE, **headers})
    # the features come encoded from PostGIS: the collection is written around them, not re-parsed
    head = {"type": "FeatureCollection", "numberReturned": page.returned, "timeStamp": _timestamp(), "links": links}
    if page.matched is not None:  # optional in the standard: left out when counting took too long
        head["numberMatched"] = page.matched
    head = json.dumps(head, ensure_ascii=False)
    body = f'{head[:-1]},"features":[{page.features}]}}'
    return Response(body, mimetype=docs.GEOJSON, headers={**NO_STORE, **headers})


@ogc.get("/collections/<layer_id>/items/<feature_id>")
def item(layer_id: str, feature_id: str):
    layer = readable_layer(layer_id)
    _check_params(ITEM_PARAMS)
    lang, kind = _lang(), _kind(docs.GEOJSON)
    crs = parse_crs(request.args.get("crs"), "crs")
    as_of = ogc_items.parse_datetime(request.args.get("datetime"))
    try:
        text = ogc_items.one_item(web_engine(), _actor(), layer, feature_id, crs, as_of)
    except sa.exc.DataError:  # an id its column cannot hold: no such feature
        text = None
    if text is None:
        raise NotFoundError(f"collection {layer.id} has no feature {feature_id[:40]!r}")
    feature = json.loads(text)
    path = f"/collections/{layer.id}/items/{feature_id}"
    feature["links"] = [
        *docs.self_links(_base(), path, lang, docs.HTML if kind == docs.HTML else docs.GEOJSON),
        docs.link(docs.url(_base(), f"/collections/{layer.id}", f="json", lang=lang), "collection", docs.JSON,
                  t("ogc.link.collection", lang)),
    ]
    headers = {"Content-Crs": crs.header}
    if kind == docs.HTML:
        return Response(html.item_html(layer, feature, lang, _base()), mimetype=docs.HTML,
                        headers={**NO_STORE, **headers})
    return _json(feature, docs.GEOJSON, **headers)


@ogc.route("/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Anything else under /ogc: 405 where the path has a GET route, else 404 (never Dash's page)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        rule, _ = adapter.match(request.path, method="GET", return_rule=True)
        if rule.endpoint != request.url_rule.endpoint:
            raise OgcException(405, "MethodNotAllowed", f"{request.method} is not allowed here; this service only reads")
    except HTTPException:
        pass
    raise OgcException(404, "NotFound", f"there is no resource {request.path[:120]!r} in this service")
