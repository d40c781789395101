"""Mapbox vector tiles (``ST_AsMVT``) of the declared layers, for QGIS, MapLibre and other GIS
clients. Same declarations, same sources and the same low-zoom rule as the viewport endpoint:
below ``detail_min_zoom`` a tile carries the zone-level aggregates, never a city of polygons.

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> TileAddress.parse("14", "13713", "6693").bounds_degrees()[0] > 121
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.registry import get_layer
from gisapp.catalog.schema import Layer
from gisapp.errors import InputError
from gisapp.queries.features import _q, run_read, source_sql, statement
from gisapp.queries.quotas import check_yearly, set_reading_year

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    @classmethod
    def parse(cls, z: str | int, x: str | int, y: str | int) -> TileAddress:
        """Validate a z/x/y address (XYZ scheme, Web Mercator), or raise an InputError saying why."""
        try:
            zi, xi, yi = int(z), int(x), int(y)
        except (TypeError, ValueError):
            raise InputError(f"tile address {z}/{x}/{y} must be three whole numbers z/x/y") from None
        if not 0 <= zi <= MAX_ZOOM:
            raise InputError(f"tile zoom {zi} is out of range 0-{MAX_ZOOM}")
        n = 2**zi
        if not (0 <= xi < n and 0 <= yi < n):
            raise InputError(f"tile {zi}/{xi}/{yi} is out of range: at zoom {zi} x and y run from 0 to {n - 1}")
        return cls(zi, xi, yi)

    def bounds_degrees(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the tile in degrees."""
        n = 2**self.z

        def lat(y: int) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

        return self.x / n * 360 - 180, lat(self.y + 1), (self.x + 1) / n * 360 - 180, lat(self.y)


def check_zoom(layer: Layer, tile: TileAddress) -> None:
    if not layer.zoom.min <= tile.z <= layer.zoom.max:
        raise InputError(f"tile zoom {tile.z} is outside layer {layer.id}'s zoom range "
                         f"{layer.zoom.min}-{layer.zoom.max}")


#: the column a tile's feature ids come from (ST_AsMVT's feature_id_name: not written as a property)
FEATURE_ID = "gisapp_fid"


@dataclass(frozen=True)
class TileOptions:
    """What the tile query needs to know of the source's columns (gisapp.queries.layer_schema)."""

    #: fields of type numeric, cast to float8: ST_AsMVT writes numeric values as strings
    numeric: frozenset[str] = frozenset()
    #: the layer's id is an integer: it becomes the features' id
    feature_ids: bool = False
    #: the aggregate target's id is an integer: it becomes the zone summaries' id
    aggregate_ids: bool = False


def tile_options(engine: Engine, layer: Layer) -> TileOptions:
    """The :class:`TileOptions` of ``layer`` on ``engine``'s database (read once, then kept)."""
    from gisapp.queries.layer_schema import id_is_integer, numeric_fields

    target = get_layer(layer.aggregate.into) if layer.aggregate else None
    return TileOptions(numeric_fields(engine, layer), id_is_integer(engine, layer),
                       target is not None and id_is_integer(engine, target))


def tile_query(layer: Layer, tile: TileAddress, options: TileOptions = TileOptions()) -> tuple[sa.TextClause, dict]:
    """The ``ST_AsMVT`` statement for one tile of ``layer`` (one row, one bytea)."""
    check_zoom(layer, tile)
    geom = _q(layer.geometry)
    params = {"z": tile.z, "x": tile.x, "y": tile.y, "extent": EXTENT, "buffer": BUFFER,
              "name": layer.id, "lim": layer.max_features}
    # The index filter runs in the data's CRS (EPSG:4490); only the tile's rows are projected.
    bounds = """b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
                            ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => CAST(:buffer AS float8) / :extent),
                                         4490) AS env)"""
    if tile.z >= layer.detail_min_zoom or layer.aggregate is None:
        cols = ", ".join(f"CAST(s.{_q(f)} AS float8) AS {_q(f)}" if f in options.numeric else f"s.{_q(f)}"
                         for f in dict.fromkeys([layer.id_field, *layer.field_names]))
        if options.feature_ids:
            cols += f", s.{_q(layer.id_field)} AS {FEATURE_ID}"
        # below the detail zoom without an aggregate declaration the tile is empty (as the viewport's count)
        detail = "true" if tile.z >= layer.detail_min_zoom else "false"
        sql = statement(f"""
            WITH {bounds},
            t AS (
                SELECT {cols},
                       ST_AsMVTGeom(ST_Transform(s.{geom}, 3857), b.merc, :extent, :buffer, true) AS mvt_geom
                FROM {source_sql(layer)} s, b
                WHERE {detail} AND s.{geom} && b.env
                LIMIT :lim
            )
            SELECT ST_AsMVT(t, :name, :extent, 'mvt_geom'{fid(options.feature_ids)}) FROM t""")
        return sql, params
    agg = layer.aggregate
    target = get_layer(agg.into)
    style_field = layer.style.field
    target_id = f" tg.{_q(target.id_field)} AS {FEATURE_ID}," if options.aggregate_ids else ""
    value = f"s.{_q(style_field)}" if style_field else "NULL::text"
    sql = statement(f"""
        WITH {bounds},
        a AS (
            SELECT s.{_q(agg.key)} AS k, {value} AS v, count(*) AS n
            FROM {source_sql(layer)} s, b WHERE s.{geom} && b.env GROUP BY 1, 2
        ), zz AS (
            SELECT k, sum(n)::bigint AS count, (array_agg(v ORDER BY n DESC, v))[1]::text AS dominant
            FROM a GROUP BY k
        ), t AS (
            SELECT zz.k AS {_q(agg.key)}, zz.count, zz.dominant, true AS aggregate,{target_id}
                   ST_AsMVTGeom(ST_Transform(tg.{_q(target.geometry)}, 3857), b.merc, :extent, :buffer, true)
                       AS mvt_geom
            FROM zz JOIN {source_sql(target)} tg ON tg.{_q(agg.target_key)} = zz.k, b
        )
        SELECT ST_AsMVT(t, :name, :extent, 'mvt_geom'{fid(options.aggregate_ids)}) FROM t""")
    return sql, params


def fid(on: bool) -> str:
    """ST_AsMVT's feature_id_name argument (the rest of its call), when the ids are integers."""
    return f", '{FEATURE_ID}'" if on else ""


def tile(engine: Engine, layer: Layer, address: TileAddress, year: int | None = None) -> bytes:
    """The vector tile of ``layer`` at ``address`` (empty bytes when nothing is there); ``year``:
    a quota layer for that year (:mod:`gisapp.queries.quotas`), not the latest."""
    sql, params = tile_query(layer, address, tile_options(engine, layer))
    if year is not None:
        check_yearly(layer)
        with engine.connect() as conn, conn.begin():  # the setting lasts for its transaction
            set_reading_year(conn, year)
            data = conn.execute(sql, params).scalar_one()
        return bytes(data) if data is not None else b""
    data = run_read(engine, lambda conn: conn.execute(sql, params).scalar_one())
    return bytes(data) if data is not None else b""
