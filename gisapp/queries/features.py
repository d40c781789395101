"""Features of a declared layer for one viewport: bbox filter, zoom-aware simplification,
a bounded count, GeoJSON assembled inside PostGIS."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.errors import InputError

# Shanghai lies well inside this; anything outside lon/lat range is a malformed bbox.
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


@dataclass(frozen=True)
class BBox:
    minx: float
    miny: float
    maxx: float
    maxy: float

    @classmethod
    def parse(cls, text: str | None) -> BBox:
        """Parse ``minx,miny,maxx,maxy`` (lon/lat), or raise an InputError saying what is wrong."""
        if not text:
            raise InputError("bbox is required as minx,miny,maxx,maxy in degrees (EPSG:4490)")
        parts = text.split(",")
        if len(parts) != 4:
            raise InputError(f"bbox {text[:60]!r} must have 4 comma-separated numbers: minx,miny,maxx,maxy")
        try:
            minx, miny, maxx, maxy = (float(p) for p in parts)
        except ValueError:
            raise InputError(f"bbox {text[:60]!r} holds something that is not a number") from None
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
            raise InputError("bbox values must be finite numbers")
        if not (LON_RANGE[0] <= minx < maxx <= LON_RANGE[1] and LAT_RANGE[0] <= miny < maxy <= LAT_RANGE[1]):
            raise InputError(f"bbox {text[:60]!r} is out of range or inverted (need minx<maxx, miny<maxy in degrees)")
        return cls(minx, miny, maxx, maxy)


def parse_zoom(text: str | int | None) -> int:
    try:
        zoom = int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"zoom {str(text)[:20]!r} must be a whole number from 0 to 22") from None
    if not 0 <= zoom <= 22:
        raise InputError(f"zoom {zoom} is out of range 0-22")
    return zoom


def simplify_tolerance(zoom: int) -> float:
    """Half a screen pixel in degrees at ``zoom`` (256-px tiles): invisible simplification."""
    return 360.0 / (256 * 2**zoom) / 2


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _source(layer: Layer) -> str:
    schema, view = layer.source.split(".")
    return f"{_q(schema)}.{_q(view)}"


def features_geojson(engine: Engine, layer: Layer, bbox: BBox, zoom: int, zone: str | None = None) -> str:
    """GeoJSON FeatureCollection text of ``layer`` inside ``bbox`` at ``zoom``, built by PostGIS.

    Below the layer's ``detail_min_zoom`` no features are sent, only how many there are, so a
    city-wide view never ships a million polygons. At most ``max_features`` are sent and the
    answer says when it was cut (``truncated``). Geometries are simplified by half a pixel.
    """
    geom = _q(layer.geometry)
    envelope = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490)"
    params: dict = {"minx": bbox.minx, "miny": bbox.miny, "maxx": bbox.maxx, "maxy": bbox.maxy}
    zone_filter = ""
    if zone is not None and "zone_code" in layer.field_names:
        zone_filter = " AND zone_code = :zone"
        params["zone"] = zone
    where = f"{geom} && {envelope}{zone_filter}"
    if zoom < layer.detail_min_zoom:
        sql = sa.text(f"""
            SELECT json_build_object('type', 'FeatureCollection', 'features', '[]'::json,
                                     'count', count(*), 'truncated', count(*) > 0,
                                     'detail_min_zoom', CAST(:dmz AS int))::text
            FROM {_source(layer)} WHERE {where}""")
        params["dmz"] = layer.detail_min_zoom
    else:
        params["tol"] = simplify_tolerance(zoom)
        params["lim"] = layer.max_features + 1
        params["max"] = layer.max_features
        props = ", ".join(f"'{f}', f.{_q(f)}" for f in layer.field_names)
        cols = ", ".join(_q(f) for f in dict.fromkeys([layer.id_field, *layer.field_names]))
        sql = sa.text(f"""
            WITH f AS (
                SELECT {cols}, {geom}, row_number() OVER () AS rn
                FROM (SELECT {cols}, {geom} FROM {_source(layer)} WHERE {where} LIMIT :lim) AS s
            )
            SELECT json_build_object(
                'type', 'FeatureCollection',
                'features', coalesce(json_agg(json_build_object(
                    'type', 'Feature',
                    'id', f.{_q(layer.id_field)},
                    'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(f.{geom}, :tol), 7, 0)::json,
                    'properties', json_build_object({props})
                )) FILTER (WHERE rn <= :max), '[]'::json),
                'count', count(*) FILTER (WHERE rn <= :max),
                'truncated', count(*) > :max)::text
            FROM f""")
    with engine.connect() as conn:
        return conn.execute(sql, params).scalar_one()
