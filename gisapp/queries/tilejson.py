"""Documents that describe the vector tiles to GIS clients: TileJSON 3.0.0 per layer (MapLibre,
GDAL's MVT driver, QGIS) and the OGC WebMercatorQuad tile matrix set (OGC API - Tiles).

Everything comes from the layer declaration (layers/*.yml: title, zoom range, fields) and the
source view (the fields' types, gisapp.queries.layer_schema; the data's extent).

Example:
    >>> quad = web_mercator_quad()
    >>> quad["tileMatrices"][14]["matrixWidth"], round(quad["tileMatrices"][0]["cellSize"], 3)
    (16384, 156543.034)
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.registry import get_layer
from gisapp.catalog.schema import Layer
from gisapp.queries.data_version import data_version
from gisapp.queries.features import _q, source_sql
from gisapp.queries.layer_schema import field_types
from gisapp.queries.tiles import MAX_ZOOM

TILEJSON_VERSION = "3.0.0"
#: the fields of a zone summary drawn below a layer's detail zoom (gisapp.queries.tiles)
AGGREGATE_FIELDS = {"count": "Number", "dominant": "String", "aggregate": "Boolean"}
#: Web Mercator's half width (m) and the cell size of level 0 (m per pixel of a 256 px tile)
HALF_WORLD = 20037508.3427892
CELL_SIZE_0 = 2 * HALF_WORLD / 256
#: OGC's standardized rendering pixel: 0.28 mm
PIXEL_M = 0.00028

_lock = threading.Lock()
_bounds: dict[tuple[str, str], tuple[str, list[float] | None]] = {}


def layer_bounds(engine: Engine, layer: Layer) -> list[float] | None:
    """``[west, south, east, north]`` (degrees) of ``layer``'s features, None when it has none.

    A layer summarised into another (parcels into zones) lies inside that layer's features (the
    database keeps parcels inside their zone), whose few rows are read instead of a city of
    parcels. Kept until the data version changes.
    """
    source = get_layer(layer.aggregate.into) if layer.aggregate else layer
    key = (engine.url.render_as_string(hide_password=True), layer.id)
    version = data_version(engine)
    kept = _bounds.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(ST_Transform({_q(source.geometry)}, 4326)) AS e FROM {source_sql(source)}) x")).one()
    bounds = None if row[0] is None else [round(float(v), 6) for v in row]
    with _lock:
        _bounds[key] = (version, bounds)
    return bounds


def vector_layer_fields(engine: Engine, layer: Layer) -> dict[str, str]:
    """The fields a tile of ``layer`` may carry, each with its type (Number, String, Boolean)."""
    fields = field_types(engine, layer)
    if layer.aggregate is not None:
        fields = {**fields, **AGGREGATE_FIELDS}
    return fields


def tilejson(engine: Engine, layer: Layer, tiles_url: str, lang: str, attribution: str) -> dict:
    """The TileJSON 3.0.0 document of ``layer`` whose tiles are at ``tiles_url`` (``{z}/{x}/{y}``)."""
    bounds = layer_bounds(engine, layer) or [-180.0, -85.051129, 180.0, 85.051129]
    description = layer.description.get(lang) if layer.description else layer.title.get(lang)
    center_zoom = max(layer.zoom.min, min(layer.detail_min_zoom, layer.zoom.max))
    return {
        "tilejson": TILEJSON_VERSION,
        "name": layer.title.get(lang),
        "description": description,
        "version": "1.0.0",
        "attribution": attribution,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": layer.zoom.min,
        "maxzoom": min(layer.zoom.max, MAX_ZOOM),
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), center_zoom],
        "vector_layers": [{
            "id": layer.id,
            "description": description,
            "minzoom": layer.zoom.min,
            "maxzoom": min(layer.zoom.max, MAX_ZOOM),
            "fields": vector_layer_fields(engine, layer),
        }],
    }


def web_mercator_quad(max_zoom: int = MAX_ZOOM) -> dict:
    """The WebMercatorQuad tile matrix set (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    matrices = []
    for z in range(max_zoom + 1):
        cell = CELL_SIZE_0 / 2**z
        matrices.append({
            "id": str(z), "scaleDenominator": cell / PIXEL_M, "cellSize": cell, "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-HALF_WORLD, HALF_WORLD], "tileWidth": 256, "tileHeight": 256,
            "matrixWidth": 2**z, "matrixHeight": 2**z,
        })
    return {
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }
