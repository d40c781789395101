"""Features of a declared layer for one viewport: bbox filter, zoom-aware simplification and
precision, a bounded count, zone-level aggregates below the detail zoom, encoded in PostGIS as
GeoJSON or geobuf.

The SQL is built from the declaration (identifiers quoted, every user value bound), and
:func:`viewport_query` exposes the exact statement the endpoint runs, so the benchmark can time
the raw SQL against the endpoint in the same process.

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> query = viewport_query(get_layer("parcels"), BBox(121.55, 31.28, 121.65, 31.36), 14)
    >>> query.mode, query.media_type
    ('detail', 'application/geo+json')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.registry import get_layer
from gisapp.catalog.schema import Layer
from gisapp.errors import InputError
from gisapp.queries.as_of import dated_layer, set_reading_day, supports_as_of
from gisapp.queries.quotas import check_yearly, set_reading_year

# Shanghai lies well inside this; anything outside lon/lat range is a malformed bbox.
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)

Format = Literal["geojson", "geobuf"]
PropertySet = Literal["all", "style"]
FORMATS: dict[str, str] = {"geojson": "application/geo+json", "geobuf": "application/x-protobuf"}
PROPERTY_SETS = ("all", "style")
#: geometries with more vertices than this are simplified for display (zone boundaries, not parcels)
SIMPLIFY_MIN_POINTS = 64


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


def parse_format(text: str | None) -> Format:
    value = text or "geojson"
    if value not in FORMATS:
        raise InputError(f"format {value[:20]!r} is not one of {', '.join(FORMATS)}")
    return value  # type: ignore[return-value]


def parse_properties(text: str | None) -> PropertySet:
    value = text or "all"
    if value not in PROPERTY_SETS:
        raise InputError(f"properties {value[:20]!r} is not one of {', '.join(PROPERTY_SETS)}")
    return value  # type: ignore[return-value]


def pixel_degrees(zoom: int) -> float:
    """The width of one screen pixel in degrees at ``zoom`` (256-px tiles)."""
    return 360.0 / (256 * 2**zoom)


def simplify_tolerance(zoom: int) -> float:
    """Half a screen pixel in degrees at ``zoom``: invisible simplification."""
    return pixel_degrees(zoom) / 2


def coordinate_digits(zoom: int) -> int:
    """Decimals that keep a tenth of a pixel at ``zoom`` (5 at z13, 6 at z16, at most 7)."""
    return max(4, min(7, math.ceil(-math.log10(pixel_degrees(zoom) / 10))))


#: The statements differ only by layer, format and zoom band: parsing the same text into a TextClause
#: again on every request cost more than a tenth of a millisecond (a regex over the whole SQL).
statement = lru_cache(maxsize=512)(sa.text)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def source_sql(layer: Layer) -> str:
    """The layer's source view, quoted."""
    schema, view = layer.source.split(".")
    return f"{_q(schema)}.{_q(view)}"


def map_fields(layer: Layer) -> list[str]:
    """The properties the web map needs to draw and identify a feature: its id, style field and
    label fields (everything else is asked for when a feature is clicked; a code per feature would
    cost a quarter of the bytes and of the encoding time at city scale)."""
    labels = (layer.labels.zh, layer.labels.en) if layer.labels else ()
    return list(dict.fromkeys(f for f in (layer.id_field, layer.style.field, *labels) if f))


@dataclass(frozen=True)
class ViewportQuery:
    """One viewport request as SQL: run it, take the single row ``(body, count, truncated)``.

    ``fallback`` is the zone-level aggregate to send instead when a detail answer would be cut
    at ``max_features`` (a random part of a viewport's parcels would mislead).
    """

    layer_id: str
    mode: Literal["detail", "aggregate", "count"]
    fmt: Format
    sql: sa.TextClause
    params: dict = field(hash=False)
    fallback: ViewportQuery | None = None

    @property
    def media_type(self) -> str:
        return FORMATS["geojson"] if self.mode == "count" else FORMATS[self.fmt]


@dataclass(frozen=True)
class FeatureAnswer:
    """What the endpoint sends: the encoded body and what it holds."""

    body: bytes
    media_type: str
    count: int
    truncated: bool
    mode: str


def viewport_query(layer: Layer, bbox: BBox, zoom: int, *, zone: str | None = None, fmt: Format = "geojson",
                   properties: PropertySet = "all", current: bool = True) -> ViewportQuery:
    """The statement for ``layer`` in ``bbox`` at ``zoom``.

    At or above the layer's ``detail_min_zoom``: its features, simplified by half a pixel where
    that matters, coordinates rounded to a tenth of a pixel. Below it, or when the viewport holds
    more than ``max_features``: one feature per zone (the declaration's ``aggregate``) with the
    count of the layer's features there and their most common style value; without ``aggregate``
    the first ``max_features`` (the answer says it was cut) or, below the detail zoom, just the
    count. Low zooms thus never ship a city's worth of polygons. Each zone summary also carries
    ``total``, the layer's features in the whole zone (the count is of the part in view).

    ``current=False`` for a past day (:mod:`gisapp.queries.as_of`): the counts the database keeps
    are today's, so the zones are counted from the (dated) source.
    """
    geom = _q(layer.geometry)
    params: dict = {"minx": bbox.minx, "miny": bbox.miny, "maxx": bbox.maxx, "maxy": bbox.maxy,
                    "tol": simplify_tolerance(zoom), "digits": coordinate_digits(zoom),
                    "dmz": layer.detail_min_zoom}
    where = f"s.{geom} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490)"
    if zone is not None and "zone_code" in layer.field_names:
        where += " AND s.zone_code = :zone"
        params["zone"] = zone
    aggregate = _aggregate_query(layer, where, params, fmt, current) if layer.aggregate else None
    if zoom >= layer.detail_min_zoom:
        detail = _detail_query(layer, where, params, fmt, properties)
        return ViewportQuery(detail.layer_id, detail.mode, detail.fmt, detail.sql, detail.params, aggregate)
    if aggregate is not None:
        return aggregate
    sql = statement(f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', '[]'::json,
                                 'count', count(*), 'truncated', count(*) > 0, 'aggregated', false,
                                 'detail_min_zoom', CAST(:dmz AS int))::text,
               count(*), count(*) > 0
        FROM {source_sql(layer)} s WHERE {where}""")
    return ViewportQuery(layer.id, "count", "geojson", sql, params)


def _display_geometry(expr: str) -> str:
    """``expr`` simplified by half a pixel where that can matter: a parcel of a few vertices stays
    as it is (simplifying it costs more than drawing it), a zone boundary of thousands is thinned."""
    return (f"CASE WHEN ST_NPoints({expr}) > {SIMPLIFY_MIN_POINTS} "
            f"THEN ST_SimplifyPreserveTopology({expr}, :tol) ELSE {expr} END")


def _detail_query(layer: Layer, where: str, params: dict, fmt: Format, properties: PropertySet) -> ViewportQuery:
    geom = _q(layer.geometry)
    names = map_fields(layer) if properties == "style" else list(dict.fromkeys([layer.id_field, *layer.field_names]))
    cols = ", ".join(f"s.{_q(f)}" for f in names)
    params = {**params, "lim": layer.max_features + 1, "max": layer.max_features}
    if fmt == "geobuf":
        # Counted first (the index and the row headers only, LIMIT max + 1 tells whether the viewport
        # is cut), encoded only when it is not cut or nothing will replace it. Cheaper than reading
        # the rows once into a CTE: the count costs ~4 ms at the densest z14 view (11,600 parcels),
        # while the CTE's parallel plan made the rows cost 20-25 ms more than the encoding itself.
        limit = "" if layer.aggregate else " LIMIT :max"
        sql = statement(f"""
            SELECT CASE WHEN c.n > :max AND {"true" if layer.aggregate else "false"} THEN NULL ELSE (
                       SELECT ST_AsGeobuf(q, 'geom') FROM (
                           SELECT {cols}, {_display_geometry(f"s.{geom}")} AS geom
                           FROM {source_sql(layer)} s WHERE {where}{limit}) q)
                   END,
                   c.n, c.n > :max
            FROM (SELECT count(*) AS n FROM (SELECT FROM {source_sql(layer)} s WHERE {where} LIMIT :lim) x) c""")
        return ViewportQuery(layer.id, "detail", fmt, sql, params)
    # Text concatenation is markedly faster than nesting json_build_object per feature; every
    # value still goes through to_json / ST_AsGeoJSON, so the text is valid JSON.
    props = ", ".join(f"'{f}', f.{_q(f)}" for f in names)
    sql = statement(f"""
        WITH f AS (
            SELECT {cols}, s.{geom}, row_number() OVER () AS rn
            FROM (SELECT {cols}, s.{geom} FROM {source_sql(layer)} s WHERE {where} LIMIT :lim) AS s
        )
        SELECT '{{"type":"FeatureCollection","features":['
               || coalesce(string_agg('{{"type":"Feature","id":' || to_json(f.{_q(layer.id_field)})::text
                                      || ',"geometry":' || ST_AsGeoJSON({_display_geometry(f"f.{geom}")}, :digits, 0)
                                      || ',"properties":' || json_build_object({props})::text || '}}', ',')
                          FILTER (WHERE rn <= :max), '')
               || '],"count":' || count(*) FILTER (WHERE rn <= :max)
               || ',"truncated":' || CASE WHEN count(*) > :max THEN 'true' ELSE 'false' END
               || ',"aggregated"\\:false}}',
               count(*) FILTER (WHERE rn <= :max), count(*) > :max
        FROM f""")
    return ViewportQuery(layer.id, "detail", fmt, sql, params)


#: Layers whose counts per aggregate key and style value the database keeps current (a view with
#: the key and style field, ``n`` and the extent ``west, south, east, north`` of the features
#: counted): a summary per zone then counts only the zones that lie partly in the view.
#: sql/migrations/0600 and sql/views/0600 for the parcels.
KEPT_COUNTS: dict[str, str] = {"parcels": "layers.parcels_zone_summary"}


def _zone_counts(layer: Layer, where: str, value: str, by_zone: bool, current: bool = True) -> str:
    """The CTEs ``a(k, v, n)``: the layer's features in the viewport counted per aggregate key and
    style value, and ``tot(k, total)``: the layer's features in each of those zones, in view or not.

    With counts kept by the database (:data:`KEPT_COUNTS`), a zone whose features all lie in the
    viewport (by their kept extent) takes its counts from there, and only the zones partly in
    view are counted (a city-wide view at z10: ~0.9 M parcels in view, 0.6-1 s before, now only
    the ~500 kept rows). The kept counts change in the same transaction as the features, so a
    saved edit shows on the next request as before.
    """
    agg = layer.aggregate
    assert agg is not None
    key = f"s.{_q(agg.key)}"
    scan = f"""SELECT {key} AS k, {value} AS v, count(*) AS n
            FROM {source_sql(layer)} s WHERE {where}"""
    kept = KEPT_COUNTS.get(layer.id) if current else None
    if kept is None:
        return f"""a AS ({scan} GROUP BY 1, 2), tot AS (
            SELECT {key} AS k, count(*) AS total FROM {source_sql(layer)} s
            WHERE {key} = ANY (ARRAY(SELECT DISTINCT k FROM a)) GROUP BY 1
        )"""
    style = f"c.{_q(layer.style.field)}" if layer.style.field else "NULL::text"
    return f"""c AS (
            SELECT c.{_q(agg.key)} AS k, {style} AS v, c.n, c.west, c.south, c.east, c.north
            FROM {kept} c {f"WHERE c.{_q(agg.key)} = :zone" if by_zone else ""}
        ), e AS (
            SELECT k, bool_and(coalesce(west >= :minx AND south >= :miny AND east <= :maxx AND north <= :maxy,
                                        false)) AS inside,
                   bool_or(coalesce(west <= :maxx AND east >= :minx AND south <= :maxy AND north >= :miny,
                                    true)) AS touches
            FROM c GROUP BY k
        ), a AS (
            SELECT c.k, c.v, c.n FROM c JOIN e ON e.k = c.k WHERE e.inside
            UNION ALL
            {scan} AND {key} = ANY (ARRAY(SELECT k FROM e WHERE e.touches AND NOT e.inside))
            GROUP BY 1, 2
        ), tot AS (
            SELECT k, sum(n)::bigint AS total FROM c GROUP BY k
        )"""


def _aggregate_query(layer: Layer, where: str, params: dict, fmt: Format, current: bool = True) -> ViewportQuery:
    """One feature per zone: the zone's geometry, the count of the layer's features in the
    viewport there, their most common style value (ties: the smallest) and the breakdown."""
    agg = layer.aggregate
    assert agg is not None
    target = get_layer(agg.into)
    style_field = layer.style.field
    value = f"s.{_q(style_field)}" if style_field else "NULL::text"
    target_geom = f"ST_SimplifyPreserveTopology(t.{_q(target.geometry)}, :tol)"
    summary = f"""
        WITH {_zone_counts(layer, where, value, "zone" in params, current)}, z AS (
            SELECT a.k, sum(a.n)::bigint AS n, (array_agg(a.v ORDER BY a.n DESC, a.v))[1] AS dominant,
                   json_object_agg(coalesce(a.v::text, ''), a.n ORDER BY a.v) AS breakdown,
                   coalesce(max(tot.total), sum(a.n))::bigint AS total
            FROM a LEFT JOIN tot ON tot.k = a.k GROUP BY a.k
        )"""
    if fmt == "geobuf":
        # geobuf writes booleans as text ('t'): the flag is the number 1, truthy in JS and Python
        style_col = f"z.dominant AS {_q(style_field)}, " if style_field else ""
        sql = statement(f"""{summary}
            SELECT (SELECT ST_AsGeobuf(q, 'geom') FROM (
                        SELECT 1 AS aggregate, z.k AS {_q(agg.key)}, {style_col}z.n AS count, z.total,
                               z.breakdown::text AS breakdown, {target_geom} AS geom
                        FROM z JOIN {source_sql(target)} t ON t.{_q(agg.target_key)} = z.k ORDER BY z.k) q),
                   (SELECT coalesce(sum(n), 0) FROM z), false""")
        return ViewportQuery(layer.id, "aggregate", fmt, sql, params)
    style_prop = f"'{style_field}', z.dominant, " if style_field else ""
    sql = statement(f"""{summary}
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce(json_agg(json_build_object(
                'type', 'Feature',
                'id', z.k,
                'geometry', ST_AsGeoJSON({target_geom}, :digits, 0)::json,
                'properties', json_build_object('aggregate', true, '{agg.key}', z.k, {style_prop}
                                                'count', z.n, 'total', z.total, 'breakdown', z.breakdown)
            ) ORDER BY z.k), '[]'::json),
            'count', coalesce(sum(z.n), 0), 'truncated', false, 'aggregated', true,
            'detail_min_zoom', CAST(:dmz AS int))::text,
            coalesce(sum(z.n), 0), false
        FROM z JOIN {source_sql(target)} t ON t.{_q(agg.target_key)} = z.k""")
    return ViewportQuery(layer.id, "aggregate", fmt, sql, params)


def run_viewport_query(conn: sa.Connection, query: ViewportQuery) -> FeatureAnswer:
    """Execute ``query`` on ``conn`` and wrap its row; a detail answer that would be cut is
    replaced by the zone-level aggregate when the layer declares one."""
    body, count, truncated = conn.execute(query.sql, query.params).one()
    if truncated and query.fallback is not None:
        return run_viewport_query(conn, query.fallback)
    if query.fmt == "geobuf" and query.mode != "count":
        data = bytes(body) if body is not None else EMPTY_GEOBUF
    else:
        data = body.encode("utf-8")
    return FeatureAnswer(data, query.media_type, int(count), bool(truncated), query.mode)


#: a pool of its own per engine for the map's read-only statements (see :func:`read_engine`)
_read_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_read_engines_lock = threading.Lock()
READ_POOL_SIZE = 5
READ_POOL_OVERFLOW = 15
T = TypeVar("T")


def read_engine(engine: Engine) -> Engine:
    """The pool the viewport and tile statements run on: same database as ``engine``, made once.

    Its connections are in autocommit (no BEGIN / ROLLBACK round trips, a good part of a small
    viewport's or tile's time) and never prepare a statement: psycopg prepares one after its
    fifth run on a connection, and PostgreSQL then tends to a generic plan that cannot see how big
    the bbox is (a city-wide summary ran twice as slow that way at 1M parcels). Nor are they
    pinged before use (the app's engine does that: one more round trip, up to 1-2 ms when the
    machine is busy): a connection found dead is replaced and the statement, read-only, run
    again (:func:`run_read`).
    """
    with _read_engines_lock:
        sibling = _read_engines.get(engine)
        if sibling is None:
            sibling = sa.create_engine(engine.url, pool_size=READ_POOL_SIZE, max_overflow=READ_POOL_OVERFLOW,
                                       pool_pre_ping=False, isolation_level="AUTOCOMMIT",
                                       connect_args={"prepare_threshold": None})
            _read_engines[engine] = sibling
        return sibling


@contextmanager
def single_statement(engine: Engine) -> Iterator[sa.Connection]:
    """A connection of :func:`read_engine` for read-only viewport and tile statements."""
    with read_engine(engine).connect() as conn:
        yield conn


def run_read(engine: Engine, work: Callable[[sa.Connection], T]) -> T:
    """``work(conn)`` on a :func:`single_statement` connection, once more on a fresh connection
    when the first one turns out to be dead (the database restarted since it was last used)."""
    try:
        with single_statement(engine) as conn:
            return work(conn)
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with single_statement(engine) as conn:
        return work(conn)


def features(engine: Engine, layer: Layer, bbox: BBox, zoom: int, *, zone: str | None = None,
             fmt: Format = "geojson", properties: PropertySet = "all", as_of: dt.date | None = None,
             year: int | None = None) -> FeatureAnswer:
    """The encoded features of ``layer`` for one viewport (see :func:`viewport_query`); with
    ``as_of``, as they were at the end of that day (:mod:`gisapp.queries.as_of`: the layer's dated
    view, in a transaction reading that day; a layer that cannot be dated is an InputError); with
    ``year``, a quota layer for that year (:mod:`gisapp.queries.quotas`; another layer: an InputError)."""
    if year is not None:
        check_yearly(layer)
    if as_of is None:
        query = viewport_query(layer, bbox, zoom, zone=zone, fmt=fmt, properties=properties)
        if year is None:
            return run_read(engine, lambda conn: run_viewport_query(conn, query))
        # a transaction of the app's engine: the read pool autocommits, and the setting lasts
        # for the transaction it is made in (a few districts: no need of the read pool's speed)
        with engine.connect() as conn, conn.begin():
            set_reading_year(conn, year)
            return run_viewport_query(conn, query)
    dated = dated_layer(layer, engine)
    if not supports_as_of(engine, dated):
        raise InputError(f"layer {layer.id!r} shows the current state only; as_of is not supported for it")
    query = viewport_query(dated, bbox, zoom, zone=zone, fmt=fmt, properties=properties, current=False)
    with engine.connect() as conn, conn.begin():
        set_reading_day(conn, as_of)
        return run_viewport_query(conn, query)


def features_geojson(engine: Engine, layer: Layer, bbox: BBox, zoom: int, zone: str | None = None) -> str:
    """GeoJSON FeatureCollection text of ``layer`` inside ``bbox`` at ``zoom`` (all properties)."""
    return features(engine, layer, bbox, zoom, zone=zone).body.decode("utf-8")


def _id_type(conn: sa.Connection, layer: Layer) -> str:
    """The SQL type of the layer's id column (so a lookup by id can use the source's index)."""
    return conn.execute(sa.text(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = CAST(:rel AS regclass) AND attname = :col AND NOT attisdropped"),
        {"rel": source_sql(layer), "col": layer.id_field}).scalar_one()


def feature_properties(engine: Engine, layer: Layer, feature_id: str | int,
                       as_of: dt.date | None = None, year: int | None = None) -> dict | None:
    """All declared properties of one feature by its id, or None when there is none (or the id
    cannot be one: a malformed id finds nothing rather than raising); with ``as_of``, as that day
    (a layer that cannot be dated: as it is now); with ``year``, a quota layer's feature of that
    year (ignored for other layers, which have one state a year)."""
    if as_of is not None:
        layer = dated_layer(layer, engine)
    cols = ", ".join(_q(f) for f in dict.fromkeys([layer.id_field, *layer.field_names]))
    with engine.connect() as conn, conn.begin():
        if as_of is not None:
            set_reading_day(conn, as_of)
        if year is not None and layer.quota is not None:
            set_reading_year(conn, year)
        id_type = _id_type(conn, layer)
        if id_type in ("integer", "bigint", "smallint") and not str(feature_id).lstrip("-").isdigit():
            return None
        sql = sa.text(f"SELECT {cols} FROM {source_sql(layer)} WHERE {_q(layer.id_field)} = CAST(:id AS {id_type}) "
                      "LIMIT 1")
        row = conn.execute(sql, {"id": str(feature_id)}).mappings().first()
    return json.loads(json.dumps(dict(row), default=str)) if row else None


def _empty_geobuf() -> bytes:
    # A geobuf FeatureCollection with no features: data field 4 (feature_collection), empty.
    return bytes([0x22, 0x00])


EMPTY_GEOBUF = _empty_geobuf()
