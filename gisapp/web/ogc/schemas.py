"""The response schemas of OGC API – Features Part 1 (OGC 17-069r4, its OpenAPI components) and
Part 2 (OGC 18-058r1: ``storageCrs``, ``crs`` in the extent), with the GeoJSON geometry schemas they
reference, as OpenAPI 3.0 schema objects for the service's API definition (``/ogc/api``).

No package on the registries this project uses ships these files (pygeoapi refers to the copies
on the OGC's schema server, which this service cannot reach offline), so they are written out here
from the standard: the required members, the types and enumerations of each document. The tests
validate every answer of the service against them (tests/web/test_ogc_conformance.py).
"""

from __future__ import annotations

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _links() -> dict:
    return {"type": "array", "items": _ref("link")}


def _position() -> dict:
    return {"type": "array", "minItems": 2, "items": {"type": "number"}}


def _geometry(kind: str, coordinates: dict) -> dict:
    return {"type": "object", "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates}}


_LINE = {"type": "array", "minItems": 2, "items": _position()}
_RING = {"type": "array", "minItems": 4, "items": _position()}
_POLYGON = {"type": "array", "items": _RING}

SCHEMAS: dict[str, dict] = {
    "link": {
        "type": "object", "required": ["href"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                       "hreflang": {"type": "string"}, "title": {"type": "string"}, "length": {"type": "integer"}},
    },
    "landingPage": {
        "type": "object", "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": _links()},
    },
    "confClasses": {
        "type": "object", "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "extent": {
        "type": "object",
        "properties": {
            "spatial": {
                "type": "object",
                "properties": {
                    "bbox": {"type": "array", "minItems": 1,
                             "items": {"type": "array", "oneOf": [{"minItems": 4, "maxItems": 4},
                                                                   {"minItems": 6, "maxItems": 6}],
                                       "items": {"type": "number"}}},
                    # Part 2 lifts Part 1's enumeration (CRS84 only) to any CRS URI
                    "crs": {"type": "string", "default": CRS84},
                },
            },
            "temporal": {
                "type": "object",
                "properties": {
                    "interval": {"type": "array", "minItems": 1,
                                 "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                           "items": {"type": "string", "format": "date-time", "nullable": True}}},
                    "trs": {"type": "string", "default": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
                },
            },
        },
    },
    "collection": {
        "type": "object", "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "links": _links(), "extent": _ref("extent"),
            "itemType": {"type": "string", "default": "feature"},
            "crs": {"type": "array", "items": {"type": "string"}, "default": [CRS84]},
            "storageCrs": {"type": "string"},
            "storageCrsCoordinateEpoch": {"type": "number"},
        },
    },
    "collections": {
        "type": "object", "required": ["links", "collections"],
        "properties": {"links": _links(), "collections": {"type": "array", "items": _ref("collection")},
                       "crs": {"type": "array", "items": {"type": "string"}}},
    },
    "pointGeoJSON": _geometry("Point", _position()),
    "multipointGeoJSON": _geometry("MultiPoint", {"type": "array", "items": _position()}),
    "linestringGeoJSON": _geometry("LineString", _LINE),
    "multilinestringGeoJSON": _geometry("MultiLineString", {"type": "array", "items": _LINE}),
    "polygonGeoJSON": _geometry("Polygon", _POLYGON),
    "multipolygonGeoJSON": _geometry("MultiPolygon", {"type": "array", "items": _POLYGON}),
    "geometrycollectionGeoJSON": {
        "type": "object", "required": ["type", "geometries"],
        "properties": {"type": {"type": "string", "enum": ["GeometryCollection"]},
                       "geometries": {"type": "array", "items": _ref("geometryGeoJSON")}},
    },
    "geometryGeoJSON": {
        "nullable": True,
        "oneOf": [_ref(name) for name in ("pointGeoJSON", "multipointGeoJSON", "linestringGeoJSON",
                                           "multilinestringGeoJSON", "polygonGeoJSON", "multipolygonGeoJSON",
                                           "geometrycollectionGeoJSON")],
    },
    "featureGeoJSON": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": _ref("geometryGeoJSON"),
            "properties": {"type": "object", "nullable": True},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "links": _links(),
        },
    },
    "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("featureGeoJSON")},
            "links": _links(),
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "exception": {
        "type": "object", "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    # Part 3 (Filtering): the queryables are a JSON Schema of an object with one property each
    "queryables": {
        "type": "object", "required": ["type", "properties"],
        "properties": {"$schema": {"type": "string"}, "$id": {"type": "string"},
                       "type": {"type": "string", "enum": ["object"]}, "title": {"type": "string"},
                       "properties": {"type": "object", "additionalProperties": {"type": "object"}}},
    },
}
