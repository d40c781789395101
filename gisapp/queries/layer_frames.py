"""A declared layer as a table: the rows of its source view with the declared fields, filtered by
bbox, zone and reading date, fetched fast enough for a million parcels (COPY, not row fetching).

Used by ``gisapp.api.read_layer`` and ``gisapp export``; identifiers come from the declaration
(quoted), user values are bound.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.errors import InputError
from gisapp.queries.as_of import set_reading_day, supports_as_of
from gisapp.queries.features import BBox
from gisapp.queries.quotas import check_yearly, set_reading_year

_GEOM_COL = "__wkb"
# PostgreSQL type OIDs -> how to turn COPY text into values
_INT = {20, 21, 23}
_FLOAT = {700, 701, 1700}
_BOOL = {16}
_DATE = {1082}
_TIMESTAMP = {1114, 1184}


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _source(layer: Layer) -> str:
    schema, view = layer.source.split(".")
    return f"{_q(schema)}.{_q(view)}"


def parse_bbox(bbox) -> BBox | None:
    """A BBox from ``"minx,miny,maxx,maxy"``, a 4-sequence, a BBox, or None."""
    if bbox is None or isinstance(bbox, BBox):
        return bbox
    if isinstance(bbox, str):
        return BBox.parse(bbox)
    values = list(bbox)
    if len(values) != 4:
        raise InputError(f"bbox needs 4 numbers minx, miny, maxx, maxy (got {len(values)})")
    return BBox.parse(",".join(str(float(v)) for v in values))


def select_fields(layer: Layer, fields: Sequence[str] | None) -> list[str]:
    """The id field plus the requested declared fields (all when None); unknown names refused."""
    names = layer.field_names
    if fields is None:
        chosen = names
    else:
        unknown = [f for f in fields if f not in names and f != layer.id_field]
        if unknown:
            raise InputError(f"layer {layer.id!r} has no field(s) {', '.join(map(repr, unknown))}; "
                             f"declared fields: {', '.join(names)}")
        chosen = list(fields)
    return list(dict.fromkeys([layer.id_field, *chosen]))


def layer_query(layer: Layer, bbox=None, zone: str | None = None, fields: Sequence[str] | None = None,
                limit: int | None = None) -> tuple[str, dict, list[str]]:
    """SQL text, bound parameters and output columns for a layer selection (geometry as WKB)."""
    cols = select_fields(layer, fields)
    geom = _q(layer.geometry)
    where, params = [], {}
    box = parse_bbox(bbox)
    if box is not None:
        where.append(f"{geom} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490) AND "
                     f"ST_Intersects({geom}, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490))")
        params.update(minx=box.minx, miny=box.miny, maxx=box.maxx, maxy=box.maxy)
    if zone is not None:
        if "zone_code" not in layer.field_names:
            raise InputError(f"layer {layer.id!r} has no zone_code field, so it cannot be filtered by zone")
        where.append(f"{_q('zone_code')} = :zone")
        params["zone"] = str(zone)
    sql = (f"SELECT {', '.join(_q(c) for c in cols)}, ST_AsBinary({geom}) AS {_GEOM_COL} FROM {_source(layer)}"
           + (f" WHERE {' AND '.join(where)}" if where else "") + f" ORDER BY {_q(layer.id_field)}")
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    return sql, params, cols


def read_layer_frame(engine: Engine, layer: Layer, bbox=None, zone: str | None = None,
                     as_of: dt.date | str | None = None, fields: Sequence[str] | None = None,
                     limit: int | None = None, year: int | None = None) -> gpd.GeoDataFrame:
    """The selection as a GeoDataFrame in EPSG:4490 (typed columns, index = the layer's id field);
    ``year``: a quota layer for that year (:mod:`gisapp.queries.quotas`), not the latest."""
    sql, params, cols = layer_query(layer, bbox, zone, fields, limit)
    if year is not None:
        check_yearly(layer)
    if as_of is not None:
        as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        if not supports_as_of(engine, layer):
            raise InputError(f"layer {layer.id!r} shows the current state only; as_of is not supported for it "
                             "(its view does not read gisapp_meta.as_of())")
    with engine.connect() as conn, conn.begin():
        if as_of is not None:
            set_reading_day(conn, as_of)
        if year is not None:
            set_reading_year(conn, year)
        # the OIDs of the output columns, to type the COPY text
        probe = conn.execute(sa.text(f"SELECT * FROM ({sql}) AS s LIMIT 0"), params)
        raw = conn.connection.driver_connection
        oids = [d.type_code for d in probe.cursor.description]
        probe.close()
        literal = _inline(conn, sql, params)
        buf = io.BytesIO()
        with raw.cursor() as cur, cur.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
    buf.seek(0)
    names = [*cols, _GEOM_COL]
    # every column read as text, typed below from the database's own types: no guessing (a code
    # such as 0802 must stay 0802); PostgreSQL writes NULL unquoted and '' quoted.
    if buf.getbuffer().nbytes == 0:
        frame = pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    else:
        table = pacsv.read_csv(buf, read_options=pacsv.ReadOptions(column_names=names),
                               convert_options=pacsv.ConvertOptions(
                                   column_types={n: pa.string() for n in names}, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=False))
        frame = table.to_pandas()
    for name, oid in zip(names, oids):
        frame[name] = _typed(frame[name], oid)
    wkb = frame.pop(_GEOM_COL)
    geoms = shapely.from_wkb(np.array([None if pd.isna(h) else bytes.fromhex(h[2:]) for h in wkb], dtype=object))
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4490")
    gdf.attrs["gisapp_layer"] = layer.id
    return gdf


def _inline(conn, sql: str, params: dict) -> str:
    """COPY takes no bind parameters: render them client-side with psycopg's own quoting."""
    if not params:
        return sql
    import psycopg

    raw = conn.connection.driver_connection
    # our SQL holds no '%' and no ':' other than the placeholders (identifiers are [a-z0-9_])
    pyformat = re.sub(r"(?<!:):([A-Za-z_]\w*)", r"%(\1)s", sql)
    return psycopg.ClientCursor(raw).mogrify(pyformat, params)


def _typed(col: pd.Series, oid: int) -> pd.Series:
    if oid in _INT:
        return pd.to_numeric(col).astype("Int64")
    if oid in _FLOAT:
        return pd.to_numeric(col).astype(float)
    if oid in _BOOL:
        return col.map({"t": True, "f": False}).astype("boolean")
    if oid in _DATE:
        parsed = pd.to_datetime(col, format="%Y-%m-%d", errors="coerce")
        return pd.Series([d.date() if not pd.isna(d) else None for d in parsed], index=col.index, dtype=object)
    if oid in _TIMESTAMP:
        return pd.to_datetime(col, utc=True, format="ISO8601")
    return col
