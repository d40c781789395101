"""The features of a declared layer as OGC API – Features serves them: one page of items (bbox in
any offered CRS, property filters on the declared fields, the layer as of a day, ``limit`` and
``offset``), one item by its id, the layer's extent and the JSON types of its fields.

Every read runs as the requesting user (:func:`gisapp.db.context.acting_as`: the request role
with the user's verified context), so the database's row-level rules decide what the service
returns exactly as they do for everything else the user reads. The page is encoded by PostGIS in
one statement (features, how many match, how many came back); :func:`items_statement` exposes it
so the benchmark can time the raw SQL against the route.

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> from gisapp.queries.ogc_crs import parse_crs
    >>> sql, params = items_statement(get_layer("zones"), ItemsRequest(crs=parse_crs(None)),
    ...                               {"approved_on": "date"})  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import weakref
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.db.context import Actor, acting_as
from gisapp.errors import InputError
from gisapp.queries.as_of import dated_layer, set_reading_day, supports_as_of
from gisapp.queries.features import _q, run_read, source_sql, statement
from gisapp.queries.ogc_crs import STORAGE_SRID, BBoxFilter, Crs
from gisapp.queries.quotas import set_reading_year

#: ``limit`` when none is given, and the most one page may hold (the standard's defaults)
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: json_build_object takes at most 100 arguments: 50 fields, then the object is built in parts
FIELDS_PER_OBJECT = 50
#: seconds a layer's extent is kept (it is a hint for clients; a full scan at city scale)
EXTENT_SECONDS = 300
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: PostgreSQL types as JSON Schema types (and formats)
_INTEGER = {"smallint", "integer", "bigint"}
_NUMBER = {"numeric", "double precision", "real"}


@dataclass(frozen=True)
class FieldType:
    """A declared field's JSON Schema type and format, from its column's SQL type."""

    sql: str
    json: str
    format: str | None = None


def field_type(sql_type: str) -> FieldType:
    """The JSON Schema type of values of ``sql_type`` as this service writes them.

    Example:
        >>> field_type("numeric").json, field_type("date").format
        ('number', 'date')
    """
    base = sql_type.split("(")[0].strip()
    if base in _INTEGER:
        return FieldType(sql_type, "integer")
    if base in _NUMBER:
        return FieldType(sql_type, "number")
    if base == "boolean":
        return FieldType(sql_type, "boolean")
    if base == "date":
        return FieldType(sql_type, "string", "date")
    if base.startswith("timestamp"):
        return FieldType(sql_type, "string", "date-time")
    return FieldType(sql_type, "string")


_types_cache: dict[tuple[str, str], dict[str, str]] = {}
_types_lock = threading.Lock()


def column_types(engine: Engine, layer: Layer) -> dict[str, str]:
    """SQL type of every column of the layer's source view (looked up once per database and view)."""
    key = (engine.url.render_as_string(hide_password=True), layer.source)
    found = _types_cache.get(key)
    if found is None:
        sql = sa.text("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                      "WHERE attrelid = CAST(:rel AS regclass) AND attnum > 0 AND NOT attisdropped")
        found = dict(run_read(engine, lambda conn: conn.execute(sql, {"rel": source_sql(layer)}).all()))
        with _types_lock:
            _types_cache[key] = found
    return found


def field_types(engine: Engine, layer: Layer) -> dict[str, FieldType]:
    """The declared fields' JSON types, in the declaration's order."""
    types = column_types(engine, layer)
    return {name: field_type(types.get(name, "text")) for name in layer.field_names}


def id_type(engine: Engine, layer: Layer) -> FieldType:
    return field_type(column_types(engine, layer).get(layer.id_field, "text"))


# -- the request ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsRequest:
    """One items request, parsed: every value checked, nothing of it yet in SQL."""

    crs: Crs
    bbox: BBoxFilter | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    #: declared field -> value (already checked against the field's type)
    filters: dict[str, object] = field(default_factory=dict)
    as_of: dt.date | None = None


def parse_count(text: str | None, name: str, default: int, lowest: int, highest: int | None = None) -> int:
    """A whole number query parameter (``limit``, ``offset``) in range, or an InputError."""
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise InputError(f"{name} {text[:20]!r} must be a whole number")
    value = int(text)
    if value < lowest or (highest is not None and value > highest):
        upper = f" to {highest}" if highest is not None else " or more"
        raise InputError(f"{name} {value} is out of range: {lowest}{upper}")
    return value


def parse_limit(text: str | None) -> int:
    return parse_count(text, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def parse_datetime(text: str | None) -> dt.date | None:
    """``datetime`` as the day the layer is read as of: a date, or an instant (its day in
    Shanghai). Intervals are refused: a layer is shown as it was on one day."""
    if text is None or text == "":
        return None
    if "/" in text:
        raise InputError(f"datetime {text[:40]!r} is an interval; this service reads a layer as of one day: "
                         "give a date (YYYY-MM-DD) or an instant (YYYY-MM-DDThh:mm:ssZ)")
    try:
        if "T" in text or "t" in text:
            instant = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
            if instant.tzinfo is None:
                raise ValueError
            return instant.astimezone(SHANGHAI).date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"datetime {text[:40]!r} is neither a date (YYYY-MM-DD) nor an instant with a time zone "
                         "(YYYY-MM-DDThh:mm:ssZ)") from None


def parse_filter_value(name: str, text: str, kind: FieldType) -> object:
    """A property filter's value as its field's type, or an InputError saying what it must be."""
    if kind.json == "integer":
        body = text[1:] if text[:1] in "+-" else text
        if not (body.isascii() and body.isdigit()) or len(body) > 18:
            raise InputError(f"{name} {text[:40]!r} must be a whole number")
        return int(text)
    if kind.json == "number":
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{name} {text[:40]!r} must be a number") from None
        if not math.isfinite(value):
            raise InputError(f"{name} {text[:40]!r} must be a finite number")
        return text.strip()  # compared as the column's own numeric type, not a rounded float
    if kind.json == "boolean":
        if text.lower() not in ("true", "false"):
            raise InputError(f"{name} {text[:40]!r} must be true or false")
        return text.lower() == "true"
    if kind.format == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{name} {text[:40]!r} must be a date (YYYY-MM-DD)") from None
    return text


def parse_filters(args: dict[str, str], types: dict[str, FieldType]) -> dict[str, object]:
    """The property filters among ``args`` (query parameters named after declared fields)."""
    return {name: parse_filter_value(name, args[name], kind) for name, kind in types.items() if name in args}


# -- the SQL -------------------------------------------------------------------------------------


def geometry_sql(expr: str, crs: Crs) -> str:
    """GeoJSON text of the storage geometry ``expr`` in ``crs``, in its axis order."""
    out = expr if crs.srid == STORAGE_SRID else f"ST_Transform({expr}, {int(crs.srid)})"
    if crs.north_first:
        out = f"ST_FlipCoordinates({out})"
    # options 0: no "crs" member in the geometry (GeoJSON has none; the CRS is in Content-Crs)
    return f"ST_AsGeoJSON({out}, {crs.digits}, 0)"


def _properties_sql(layer: Layer, alias: str) -> str:
    names = layer.field_names
    parts = []
    for start in range(0, len(names), FIELDS_PER_OBJECT):
        chunk = names[start:start + FIELDS_PER_OBJECT]
        parts.append("json_build_object(" + ", ".join(f"'{n}', {alias}.{_q(n)}" for n in chunk) + ")")
    if len(parts) == 1:
        return f"{parts[0]}::text"
    return "(" + " || ".join(f"{p}::jsonb" for p in parts) + ")::text"


def feature_sql(layer: Layer, crs: Crs, alias: str = "m") -> str:
    """One feature as GeoJSON text, built from the row ``alias``: id, geometry, declared fields."""
    geom = f"{alias}.{_q(layer.geometry)}"
    return (f"""'{{"type":"Feature","id":' || to_json({alias}.{_q(layer.id_field)})::text"""
            f""" || ',"geometry":' || coalesce({geometry_sql(geom, crs)}, 'null')"""
            f""" || ',"properties":' || {_properties_sql(layer, alias)} || '}}'""")


def where_sql(layer: Layer, req: ItemsRequest, types: dict[str, FieldType]) -> tuple[str, dict]:
    """The WHERE clause (on alias ``s``) of the request's bbox and property filters, and its values."""
    clauses, params = ["true"], {}
    if req.bbox is not None:
        geom = f"s.{_q(layer.geometry)}"
        boxes = []
        for i, (minx, miny, maxx, maxy) in enumerate(req.bbox.boxes):
            params |= {f"bx{i}": minx, f"by{i}": miny, f"bX{i}": maxx, f"bY{i}": maxy}
            env = f"ST_MakeEnvelope(:bx{i}, :by{i}, :bX{i}, :bY{i}, {int(req.bbox.srid)})"
            if not req.bbox.geographic:
                # densified first: a projected box's straight edges are curves in degrees
                env = f"ST_Segmentize({env}, ({_span(i)}) / 16)"
            if req.bbox.srid != STORAGE_SRID:
                env = f"ST_Transform({env}, {STORAGE_SRID})"
            boxes.append(f"ST_Intersects({geom}, {env})")
        clauses.append("(" + " OR ".join(boxes) + ")")
    for i, (name, value) in enumerate(req.filters.items()):
        params[f"p{i}"] = value
        kind = types[name]
        # text as text: a cast to the column's varchar(n) would cut a longer value down to a match
        cast = "text" if kind.json == "string" and kind.format is None else kind.sql
        clauses.append(f"s.{_q(name)} = CAST(:p{i} AS {cast})")
    return " AND ".join(clauses), params


def _span(i: int) -> str:
    return f"greatest(:bX{i} - :bx{i}, :bY{i} - :by{i}, 1e-9)"


def items_statement(layer: Layer, req: ItemsRequest, types: dict[str, FieldType]) -> tuple[sa.TextClause, dict]:
    """The statement of one page: one row ``(features, returned, more)``, ``features`` the page's
    GeoJSON features joined by commas in the order of the layer's id (stable pages), ``more``
    whether a next page holds any (one row more is read to know)."""
    where, params = where_sql(layer, req, types)
    cols = ", ".join(f"s.{_q(n)}" for n in dict.fromkeys([layer.id_field, *layer.field_names, layer.geometry]))
    order = f"s.{_q(layer.id_field)}"
    sql = statement(f"""
        WITH m AS (
            SELECT {cols}, row_number() OVER (ORDER BY {order}) AS rn FROM (
                SELECT {cols} FROM {source_sql(layer)} s WHERE {where} ORDER BY {order} LIMIT :limit + 1 OFFSET :offset
            ) s
        )
        SELECT coalesce(string_agg({feature_sql(layer, req.crs)}, ',' ORDER BY m.rn) FILTER (WHERE m.rn <= :limit), ''),
               count(*) FILTER (WHERE m.rn <= :limit),
               count(*) > :limit
        FROM m""")
    return sql, {**params, "limit": req.limit, "offset": req.offset}


def count_statement(layer: Layer, req: ItemsRequest, types: dict[str, FieldType]) -> tuple[sa.TextClause, dict]:
    """The statement counting every feature the request matches (``numberMatched``)."""
    where, params = where_sql(layer, req, types)
    return statement(f"SELECT count(*) FROM {source_sql(layer)} s WHERE {where}"), params


# -- running it as the user ----------------------------------------------------------------------


_user_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_user_engines_lock = threading.Lock()


def user_read_engine(engine: Engine) -> Engine:
    """The pool OGC reads run on: same database as ``engine``, made once, in transactions (the
    user's context lasts for one) and never preparing statements: PostgreSQL's generic plan for
    a prepared bbox query cannot see the box's size (gisapp.queries.features.read_engine)."""
    with _user_engines_lock:
        sibling = _user_engines.get(engine)
        if sibling is None:
            sibling = sa.create_engine(engine.url, pool_size=3, max_overflow=7, pool_pre_ping=True,
                                       connect_args={"prepare_threshold": None})
            _user_engines[engine] = sibling
        return sibling


def source_for(engine: Engine, layer: Layer, as_of: dt.date | None) -> Layer:
    """The declaration to read: the layer itself, or its dated view for a past day (a layer
    that shows only today is an InputError)."""
    if as_of is None:
        return layer
    dated = dated_layer(layer, engine)
    if not supports_as_of(engine, dated):
        raise InputError(f"layer {layer.id!r} shows the current state only; datetime (as of a day) is not "
                         "supported for it")
    return dated


@dataclass(frozen=True)
class ItemsPage:
    features: str   # GeoJSON features joined by commas
    returned: int
    more: bool      # a next page holds features
    matched: int | None  # None: counting took longer than COUNT_WAIT_MS


#: how long a page waits for numberMatched (optional in the standard): counting a rule layer's
#: 1M parcels (its view joins each parcel's finding) took 7-12 s, the page itself half a second
COUNT_WAIT_MS = 2000


def items_page(engine: Engine, actor: Actor, layer: Layer, req: ItemsRequest) -> ItemsPage:
    """One page of ``layer``'s features as ``actor`` sees them (see :func:`items_statement`), and
    how many match in all when that is known: from the page itself when it is the first and the
    last, else counted within :data:`COUNT_WAIT_MS`."""
    types = field_types(engine, layer)
    source = source_for(engine, layer, req.as_of)
    sql, params = items_statement(source, req, types)
    # a quota layer's view shows one year of the ledger (the latest unless the transaction names
    # another): a filter on its year reads that year, as the map's year choice does
    year = req.filters.get("year") if layer.quota is not None else None
    with acting_as(user_read_engine(engine), actor) as conn:
        if req.as_of is not None:
            set_reading_day(conn, req.as_of)
        if year is not None:
            set_reading_year(conn, int(year))
        body, returned, more = conn.execute(sql, params).one()
        matched = None if more or (req.offset and not returned) else req.offset + int(returned)
        if matched is None:
            matched = _count_within(conn, *count_statement(source, req, types))
    return ItemsPage(body, int(returned), bool(more), matched)


def _count_within(conn: sa.Connection, sql: sa.TextClause, params: dict) -> int | None:
    """The count, or None when it takes longer than COUNT_WAIT_MS (in a savepoint: the
    cancelled statement leaves the transaction usable; the time limit ends with it)."""
    try:
        with conn.begin_nested():
            conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(COUNT_WAIT_MS)})
            return int(conn.execute(sql, params).scalar_one())
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled: out of time
            return None
        raise


def one_item(engine: Engine, actor: Actor, layer: Layer, feature_id: str, crs: Crs,
             as_of: dt.date | None = None) -> str | None:
    """One feature's GeoJSON text by its id, None when there is none (or the id cannot be one)."""
    kind = id_type(engine, layer)
    if kind.json == "integer":
        body = feature_id[1:] if feature_id[:1] == "-" else feature_id
        if not (body.isascii() and body.isdigit()) or len(body) > 18:
            return None
    source = source_for(engine, layer, as_of)
    sql = statement(f"""
        SELECT {feature_sql(source, crs)} FROM (
            SELECT * FROM {source_sql(source)} s WHERE s.{_q(source.id_field)} = CAST(:id AS {kind.sql}) LIMIT 1) m""")
    with acting_as(user_read_engine(engine), actor) as conn:
        if as_of is not None:
            set_reading_day(conn, as_of)
        return conn.execute(sql, {"id": feature_id}).scalar()


# -- the extent ----------------------------------------------------------------------------------

#: how long a request waits for a layer's extent before answering without it (the extent is
#: optional in a collection); the scan then finishes in the background for the next requests.
#: At 1M parcels the parcels' extent takes ~0.4 s, a rule layer's (idle_land, per_mu: the view
#: joins the findings) 5-13 s.
EXTENT_WAIT_MS = 1000
_extents: dict[tuple[str, str], tuple[float, list[float] | None]] = {}
_extents_running: set[tuple[str, str]] = set()
_extents_lock = threading.Lock()


def _extent_sql(layer: Layer) -> sa.TextClause:
    return sa.text(f"""
        SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
            SELECT ST_Transform(ST_SetSRID(CAST(ST_Extent(s.{_q(layer.geometry)}) AS geometry), {STORAGE_SRID}),
                                4326) AS b
            FROM {source_sql(layer)} s) e""")


def _scan_extent(engine: Engine, layer: Layer, key: tuple[str, str], wait_ms: int | None) -> bool:
    """Compute and keep the extent; False when ``wait_ms`` ran out first (statement_timeout)."""
    try:
        with engine.connect() as conn, conn.begin():
            if wait_ms is not None:
                conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(wait_ms)})
            row = conn.execute(_extent_sql(layer)).one()
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled: the wait ran out
            return False
        raise
    _extents[key] = (time.monotonic(), None if row[0] is None else [round(float(v), 7) for v in row])
    return True


def _scan_in_background(engine: Engine, layer: Layer, key: tuple[str, str]) -> None:
    with _extents_lock:
        if key in _extents_running:
            return
        _extents_running.add(key)

    def work() -> None:
        try:
            _scan_extent(engine, layer, key, None)
        except Exception:  # noqa: BLE001 (a hint only: the next request tries again)
            pass
        finally:
            with _extents_lock:
                _extents_running.discard(key)

    threading.Thread(target=work, name=f"ogc-extent-{layer.id}", daemon=True).start()


def layer_extent(engine: Engine, layer: Layer) -> list[float] | None:
    """The layer's bbox in CRS84 (``[west, south, east, north]``), None for an empty layer or one
    whose extent is still being computed: kept for :data:`EXTENT_SECONDS`, then computed anew in
    the background while the kept one is still given; a first scan that takes longer than
    :data:`EXTENT_WAIT_MS` finishes in the background."""
    key = (engine.url.render_as_string(hide_password=True), layer.id)
    kept = _extents.get(key)
    if kept is not None:
        if time.monotonic() - kept[0] >= EXTENT_SECONDS:
            _scan_in_background(engine, layer, key)
        return kept[1]
    if key not in _extents_running and _scan_extent(engine, layer, key, EXTENT_WAIT_MS):
        return _extents[key][1]
    _scan_in_background(engine, layer, key)
    return None
