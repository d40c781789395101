"""The JSON documents of the OGC API – Features service, built from the layer declarations: the
landing page, the conformance classes, the collections, a layer's queryables and its feature
schema, and the links between them. Framework-free: each takes the service's base URL (``.../ogc``)
and the language of the titles.
"""

from __future__ import annotations

from urllib.parse import urlencode

from gisapp.catalog.schema import Layer
from gisapp.i18n import t
from gisapp.queries.ogc_crs import CRS84, crs_uris, storage_crs
from gisapp.queries.ogc_items import FieldType

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
JSON_SCHEMA = "application/schema+json"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]


def url(base: str, path: str = "", **query: object) -> str:
    """``base + path`` with the query parameters that are not None (in the given order)."""
    params = {k: v for k, v in query.items() if v is not None}
    return f"{base}{path}" + (f"?{urlencode(params)}" if params else "")


def link(href: str, rel: str, kind: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": kind, "title": title}


def self_links(base: str, path: str, lang: str, kind: str = JSON, **query: object) -> list[dict]:
    """``self`` in ``kind`` and the ``alternate`` in the other of JSON and HTML."""
    as_json = url(base, path, f="json", lang=lang, **query)
    as_html = url(base, path, f="html", lang=lang, **query)
    html_first = kind == HTML
    return [link(as_html if html_first else as_json, "self", kind, t("ogc.link.self", lang)),
            link(as_json if html_first else as_html, "alternate", JSON if html_first else HTML,
                 t("ogc.link.as_json" if html_first else "ogc.link.as_html", lang))]


def landing_page(base: str, lang: str, kind: str = JSON) -> dict:
    return {
        "title": t("ogc.title", lang),
        "description": t("ogc.description", lang),
        "links": [
            *self_links(base, "", lang, kind),
            link(url(base, "/api"), "service-desc", OPENAPI, t("ogc.link.api", lang)),
            link(url(base, "/api", f="html", lang=lang), "service-doc", HTML, t("ogc.link.api_doc", lang)),
            link(url(base, "/conformance", f="json"), "conformance", JSON, t("ogc.link.conformance", lang)),
            link(url(base, "/collections", f="json", lang=lang), "data", JSON, t("ogc.link.collections", lang)),
        ],
    }


def conformance(base: str, lang: str, kind: str = JSON) -> dict:
    return {"conformsTo": CONFORMANCE, "links": self_links(base, "/conformance", lang, kind)}


def collection(base: str, layer: Layer, lang: str, extent: list[float] | None, kind: str = JSON) -> dict:
    """One layer as a collection: its titles, extent (CRS84), CRSs and links."""
    path = f"/collections/{layer.id}"
    doc = {
        "id": layer.id,
        "title": layer.title.get(lang),
        "description": layer.description.get(lang) if layer.description else layer.title.get(lang),
        "links": [
            *self_links(base, path, lang, kind),
            link(url(base, f"{path}/items", f="json", lang=lang), "items", GEOJSON, t("ogc.link.items", lang)),
            link(url(base, f"{path}/items", f="html", lang=lang), "items", HTML, t("ogc.link.items_html", lang)),
            link(url(base, f"{path}/queryables", f="json", lang=lang), "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 JSON_SCHEMA, t("ogc.link.queryables", lang)),
            # "describedby": the feature schema GDAL's OAPIF driver reads the field types from (else
            # it guesses them from the first page: 1200000.0 written as 1200000 becomes an integer).
            # GDAL 3.6 (Debian 12's) looks for "describedBy" only, spelled so; relation types compare
            # without case (RFC 8288), so this is the same link for every other client.
            *(link(url(base, f"{path}/schema", f="json", lang=lang), rel, JSON_SCHEMA, t("ogc.link.schema", lang))
              for rel in ("describedby", "describedBy")),
        ],
        "itemType": "feature",
        "crs": crs_uris(),
        "storageCrs": storage_crs().uri,
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return doc


def collections(base: str, layers: list[tuple[Layer, list[float] | None]], lang: str, kind: str = JSON) -> dict:
    return {"links": self_links(base, "/collections", lang, kind),
            "collections": [collection(base, layer, lang, extent) for layer, extent in layers],
            "crs": crs_uris()}


def _property_schema(layer: Layer, name: str, kind: FieldType, lang: str) -> dict:
    out: dict = {"title": layer.label(name, lang), "type": kind.json}
    if kind.format:
        out["format"] = kind.format
    return out


def queryables(base: str, layer: Layer, types: dict[str, FieldType], lang: str) -> dict:
    """The declared fields as Part 3 queryables (each one a ``field=value`` query parameter)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(base, f"/collections/{layer.id}/queryables"),
        "type": "object",
        "title": layer.title.get(lang),
        "properties": {name: _property_schema(layer, name, kind, lang) for name, kind in types.items()},
        "additionalProperties": False,
    }


def feature_schema(base: str, layer: Layer, types: dict[str, FieldType], id_kind: FieldType, lang: str) -> dict:
    """A JSON Schema of the layer's GeoJSON features: the id's and each field's type. Every type
    is a single name (no ``["number", "null"]``): GDAL 3.6 reads the field types from the schema's
    example and gives up on a list."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(base, f"/collections/{layer.id}/schema"),
        "title": layer.title.get(lang),
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": id_kind.json},
            "geometry": {"type": "object", "description": "GeoJSON geometry"},
            "properties": {
                "type": "object",
                "properties": {name: _property_schema(layer, name, kind, lang) for name, kind in types.items()},
            },
        },
    }
