"""The service's API definition (``/ogc/api``): an OpenAPI 3.0 document generated from the layer
declarations, one set of paths per layer with its fields as query parameters (GDAL's OAPIF driver
sends a ``-where`` condition on a field to the server only when the field is a parameter of the
layer's ``/collections/<id>/items`` path), and the response schemas of the standard
(:mod:`gisapp.web.ogc.schemas`).
"""

from __future__ import annotations

from gisapp.catalog.schema import Layer
from gisapp.i18n import t
from gisapp.queries.ogc_crs import crs_uris
from gisapp.queries.ogc_items import DEFAULT_LIMIT, MAX_LIMIT, FieldType
from gisapp.web.ogc.documents import GEOJSON, HTML, JSON, JSON_SCHEMA, OPENAPI
from gisapp.web.ogc.schemas import SCHEMAS

FORMATS = ["json", "html"]
LANGS = ["zh", "en"]


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _query(name: str, schema: dict, description: str, explode: bool = True) -> dict:
    out = {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
    if not explode:
        out |= {"style": "form", "explode": False}
    return out


PARAMETERS: dict[str, dict] = {
    "f": _query("f", {"type": "string", "enum": FORMATS},
                "The answer's format: json (GeoJSON for features) or html; default: from the Accept header."),
    "lang": _query("lang", {"type": "string", "enum": LANGS, "default": "zh"}, "The language of titles and labels."),
    "bbox": _query("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                   "Only features that intersect the box: lower corner, upper corner, in bbox-crs's axis order.",
                   explode=False),
    "bbox-crs": _query("bbox-crs", {"type": "string", "format": "uri", "enum": crs_uris()},
                       "The CRS of bbox (default CRS84)."),
    "crs": _query("crs", {"type": "string", "format": "uri", "enum": crs_uris()},
                  "The CRS of the answer's geometries (default CRS84), in its axis order."),
    "datetime": _query("datetime", {"type": "string"},
                       "The layer as it was at the end of this day (YYYY-MM-DD, or an instant: its day in "
                       "Shanghai); only for layers that keep their history. Intervals are not supported."),
    "limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                    "The most features one page holds."),
    "offset": _query("offset", {"type": "integer", "minimum": 0, "default": 0},
                     "How many matching features (in the order of their ids) to skip."),
    "collectionId": {"name": "collectionId", "in": "path", "required": True, "schema": {"type": "string"}},
    "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
}


def _content(schema: str | None, *kinds: str) -> dict:
    out = {}
    for kind in kinds:
        if kind == HTML:
            out[kind] = {"schema": {"type": "string"}}
        else:
            out[kind] = {"schema": _ref("schemas", schema) if schema else {"type": "object"}}
    return out


RESPONSES: dict[str, dict] = {
    "LandingPage": {"description": "The landing page", "content": _content("landingPage", JSON, HTML)},
    "ConformanceDeclaration": {"description": "The conformance classes", "content": _content("confClasses", JSON, HTML)},
    "Collections": {"description": "The collections", "content": _content("collections", JSON, HTML)},
    "Collection": {"description": "One collection", "content": _content("collection", JSON, HTML)},
    "Features": {"description": "A page of features", "content": _content("featureCollectionGeoJSON", GEOJSON, HTML),
                 "headers": {"Content-Crs": {"schema": {"type": "string"}}}},
    "Feature": {"description": "One feature", "content": _content("featureGeoJSON", GEOJSON, HTML),
                "headers": {"Content-Crs": {"schema": {"type": "string"}}}},
    "Queryables": {"description": "The queryables", "content": _content("queryables", JSON_SCHEMA, HTML)},
    "Schema": {"description": "The features' JSON Schema", "content": {JSON_SCHEMA: {"schema": {"type": "object"}}}},
    "API": {"description": "This document", "content": {OPENAPI: {"schema": {"type": "object"}}, HTML: {"schema": {"type": "string"}}}},
    "InvalidParameter": {"description": "A parameter is malformed or unknown", "content": _content("exception", JSON)},
    "NotFound": {"description": "No such resource", "content": _content("exception", JSON)},
    "NotAcceptable": {"description": "No such format", "content": _content("exception", JSON)},
    "ServerError": {"description": "A server error", "content": _content("exception", JSON)},
}


def _operation(op_id: str, summary: str, response: str, parameters: list[dict], tags: list[str]) -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "tags": tags, "parameters": parameters,
                    "responses": {"200": _ref("responses", response), "400": _ref("responses", "InvalidParameter"),
                                  "404": _ref("responses", "NotFound"), "406": _ref("responses", "NotAcceptable"),
                                  "500": _ref("responses", "ServerError")}}}


def _field_parameter(layer: Layer, name: str, kind: FieldType, lang: str) -> dict:
    schema = {"type": kind.json} | ({"format": kind.format} if kind.format else {})
    return _query(name, schema, f"{layer.label(name, lang)}: only features whose {name} equals this value.")


def _layer_paths(layer: Layer, types: dict[str, FieldType], lang: str) -> dict:
    common = [_ref("parameters", "f"), _ref("parameters", "lang")]
    items = [*common, *(_ref("parameters", p) for p in ("bbox", "bbox-crs", "crs", "datetime", "limit", "offset")),
             *(_field_parameter(layer, name, kind, lang) for name, kind in types.items())]
    tags = [layer.id]
    base = f"/collections/{layer.id}"
    return {
        base: _operation(f"describe_{layer.id}", layer.title.get(lang), "Collection", common, tags),
        f"{base}/items": _operation(f"items_{layer.id}", layer.title.get(lang), "Features", items, tags),
        f"{base}/items/{{featureId}}": _operation(
            f"item_{layer.id}", layer.title.get(lang), "Feature",
            [*common, _ref("parameters", "featureId"), _ref("parameters", "crs"), _ref("parameters", "datetime")], tags),
        f"{base}/queryables": _operation(f"queryables_{layer.id}", t("ogc.link.queryables", lang), "Queryables",
                                         common, tags),
        f"{base}/schema": _operation(f"schema_{layer.id}", t("ogc.link.schema", lang), "Schema", common, tags),
    }


def openapi_document(base: str, layers: list[tuple[Layer, dict[str, FieldType]]], lang: str) -> dict:
    """The OpenAPI 3.0 document of the service at ``base`` for the declared ``layers``."""
    common = [_ref("parameters", "f"), _ref("parameters", "lang")]
    paths = {
        "/": _operation("landing_page", t("ogc.link.landing", lang), "LandingPage", common, ["server"]),
        "/conformance": _operation("conformance", t("ogc.link.conformance", lang), "ConformanceDeclaration", common,
                                   ["server"]),
        "/api": _operation("api", t("ogc.link.api", lang), "API", common, ["server"]),
        "/collections": _operation("collections", t("ogc.link.collections", lang), "Collections", common,
                                   ["server"]),
    }
    for layer, types in layers:
        paths |= _layer_paths(layer, types, lang)
    return {
        "openapi": "3.0.3",
        "info": {"title": t("ogc.title", lang), "description": t("ogc.description", lang), "version": "1.0.0"},
        "servers": [{"url": base}],
        "tags": [{"name": "server"}, *({"name": layer.id, "description": layer.title.get(lang)} for layer, _ in layers)],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES},
    }
