"""The frames the rules read, loaded by name: one SQL per frame, each read once per assessment.

Frames are read with ``COPY (SELECT ...) TO STDOUT`` and typed from the query's column types,
which is several times faster than row fetching for a million parcels: in a snapshot (the
assessment, :func:`load_inputs` on an engine) by ADBC in binary, decoded into Arrow in C++; in
a caller's transaction (:func:`load_inputs` on a connection) as CSV parsed by Arrow. Both give
the same frames (tests/db/test_rule_inputs.py). Dates come back as
``datetime64[ns]``, integers as ``int64`` (nullable ``Int64`` when the column has NULLs),
numerics as ``float64``, booleans as
``bool`` (nullable ``boolean`` when the column has NULLs), geometry as shapely objects.

Every SQL may use ``:zone_ids`` (an int array, or NULL for all zones) to restrict the rows to
the zones asked for, and ``:as_of``. ``:metric_years`` (NULL: all years) restricts
``enterprise_metrics`` to the years a run evaluates (a rule module's ``input_params``). Rules
part 2 adds its frames to :data:`FRAME_SQL` (one entry per name).

Example:
    >>> frames = load_inputs(engine, ["parcels", "land_grants"], zone_codes=["yangshan"])  # doctest: +SKIP
    >>> frames["parcels"].columns[:3].tolist()  # doctest: +SKIP
    ['id', 'code', 'zone_id']
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.adbc_connections import adbc_connection
from gisapp.errors import GisappError, InputError

# `:zone_ids` is NULL for "all zones"; the planner folds the test away for bound values.
_ZONE = "(CAST(:zone_ids AS integer[]) IS NULL OR {col} = ANY(CAST(:zone_ids AS integer[])))"


def _z(col: str) -> str:
    return _ZONE.format(col=col)


# Rows of a parcel (or a grant) in the zones asked for, as a filter that the planner drops
# when all zones are asked for: a join to land.parcels only for the filter cost a city-wide
# run seconds (grant_requirements: 2.3 s -> 0.55 s of server time). For some zones the ids are
# gathered first (= ANY(ARRAY(...))), so that the child table is read through its parcel or
# grant index: an IN (subquery) under the OR was a hashed scan of the whole table, which made a
# one-zone run (the live worker's) read a city's rows.
def _parcel_in_zones(col: str) -> str:
    return (f"(CAST(:zone_ids AS integer[]) IS NULL OR {col} = ANY(ARRAY("
            f"SELECT p.id FROM land.parcels p WHERE {_z('p.zone_id')})))")


# `:parcel_ids` (NULL: every parcel) restricts the frames of the parcel-local rules to the
# parcels a change touched (gisapp.rules.parcel_jobs): their findings for those parcels are the
# same, and reading a few parcels' rows costs a fraction of reading their zones'.
_PARCELS = "(CAST(:parcel_ids AS bigint[]) IS NULL OR {col} = ANY(CAST(:parcel_ids AS bigint[])))"


def _p(col: str) -> str:
    return _PARCELS.format(col=col)


def _grant_of_parcels(col: str) -> str:
    return (f"(CAST(:parcel_ids AS bigint[]) IS NULL OR {col} = ANY(ARRAY(SELECT g.id FROM land.land_grants g "
            f"WHERE g.parcel_id = ANY(CAST(:parcel_ids AS bigint[])))))")


def _grant_in_zones(col: str) -> str:
    return (f"(CAST(:zone_ids AS integer[]) IS NULL OR {col} = ANY(ARRAY(SELECT g.id FROM land.land_grants g "
            f"JOIN land.parcels p ON p.id = g.parcel_id WHERE {_z('p.zone_id')})))")


#: frame name -> SQL (the only place these inputs are selected)
FRAME_SQL: dict[str, str] = {
    "parcels": f"""
        SELECT p.id, p.code, p.zone_id, p.area_m2, p.land_use_code, lu.category AS land_use_category,
               lu.is_green, p.status, p.status_since, p.enterprise_id,
               CAST(p.plot_ratio_min AS float8) AS plot_ratio_min, CAST(p.plot_ratio_max AS float8) AS plot_ratio_max,
               p.floor_area_m2, p.building_footprint_m2, p.office_living_area_m2
        FROM land.parcels p JOIN land.land_use_codes lu ON lu.code = p.land_use_code
        WHERE {_z('p.zone_id')} AND {_p('p.id')}""",
    "parcels_geom": f"""
        SELECT p.id, p.code, p.zone_id, p.area_m2, p.land_use_code, p.status, p.geom
        FROM land.parcels p WHERE {_z('p.zone_id')}""",
    "zones": f"""
        SELECT z.id, z.code, z.name_zh, z.name_en, z.district_id, d.code AS district_code, z.kind,
               z.approved_on, z.approved_area_m2, z.approved_area_is_demo, z.region, z.is_synthetic
        FROM land.zones z JOIN land.districts d ON d.id = z.district_id
        WHERE {_z('z.id')} ORDER BY z.id""",
    # reference data, whole for any zones: the districts' boundaries (boundary QA takes a zone's
    # district from its geometry)
    "districts": """
        SELECT d.id, d.code, d.name_zh, d.name_en, d.geom
        FROM land.districts d WHERE d.geom IS NOT NULL ORDER BY d.id""",
    # the boundary in force on the as-of date (`:as_of`)
    "zone_boundaries": f"""
        SELECT b.id, b.zone_id, b.valid_from, b.valid_to, b.approval_ref, b.area_m2, b.geom
        FROM land.zone_boundaries b
        WHERE b.valid_from <= CAST(:as_of AS date)
          AND (b.valid_to IS NULL OR b.valid_to > CAST(:as_of AS date))
          AND {_z('b.zone_id')} ORDER BY b.zone_id""",
    "land_grants": f"""
        SELECT g.id, g.parcel_id, p.zone_id, g.enterprise_id, g.contract_no, g.supply_method, g.announced_on,
               g.granted_on, g.delivery_due_on, g.delivered_on, g.agreed_start_on, g.agreed_completion_on,
               g.term_years, CAST(g.price_wan AS float8) AS price_wan,
               CAST(g.total_investment_wan AS float8) AS total_investment_wan,
               g.is_standardized, g.is_major_project,
               g.industry
        FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id
        WHERE {_z('p.zone_id')} AND {_p('g.parcel_id')}""",
    "grant_requirements": f"""
        SELECT r.id, r.grant_id, r.indicator, r.review_stage, CAST(r.min_value AS float8) AS min_value,
               CAST(r.max_value AS float8) AS max_value,
               pi.name_zh AS indicator_zh, pi.name_en AS indicator_en, pi.unit
        FROM land.grant_requirements r
        JOIN land.performance_indicators pi ON pi.code = r.indicator
        WHERE {_grant_in_zones('r.grant_id')} AND {_grant_of_parcels('r.grant_id')}""",
    "grant_reviews": f"""
        SELECT v.id, v.grant_id, v.review_stage, v.reviewed_on, v.indicator,
               CAST(v.actual_value AS float8) AS actual_value
        FROM land.grant_reviews v
        WHERE {_grant_in_zones('v.grant_id')} AND {_grant_of_parcels('v.grant_id')}""",
    "construction_progress": f"""
        SELECT c.id, c.parcel_id, c.reported_on, c.started_on, c.should_develop_area_m2, c.developed_area_m2,
               CAST(c.invested_wan AS float8) AS invested_wan,
               CAST(c.total_investment_wan AS float8) AS total_investment_wan,
               c.completed_on, c.accepted_on
        FROM land.construction_progress c
        WHERE {_parcel_in_zones('c.parcel_id')} AND {_p('c.parcel_id')}""",
    "construction_suspensions": f"""
        SELECT s.id, s.parcel_id, s.suspended_from, s.resumed_on
        FROM land.construction_suspensions s
        WHERE {_parcel_in_zones('s.parcel_id')} AND {_p('s.parcel_id')}""",
    "idle_exemptions": f"""
        SELECT e.id, e.parcel_id, e.reason_code, r.name_zh AS reason_zh, r.name_en AS reason_en,
               e.from_on, e.to_on
        FROM land.idle_exemptions e
        JOIN land.idle_exemption_reasons r ON r.code = e.reason_code
        WHERE {_parcel_in_zones('e.parcel_id')} AND {_p('e.parcel_id')}""",
    # What the casework decided that the idle rule reads (issue #20; gisapp.rules.idle_cases).
    # The extensions of the start period agreed in a case: the grant holds the new agreed start
    # (written by the database); these say when it was agreed and which date it replaced.
    "case_extensions": f"""
        SELECT e.id, e.case_id, c.code AS case_code, c.parcel_id, e.grant_id, e.agreed_on, e.previous_start_on,
               e.new_start_on
        FROM land.case_extensions e JOIN land.cases c ON c.id = e.case_id
        WHERE c.parcel_id IS NOT NULL AND {_parcel_in_zones('c.parcel_id')} AND {_p('c.parcel_id')}""",
    # The idle-land fees decided in cases, what was paid by when, and the decision's revocation on
    # reconsideration or by a court: the first step of either that recorded the result revoked.
    "idle_fee_decisions": f"""
        SELECT m.id, m.case_id, c.code AS case_code, c.parcel_id, c.grant_id,
               CAST(m.amount_wan AS float8) AS amount_wan, CAST(m.paid_wan AS float8) AS paid_wan,
               m.decided_on, m.served_on, m.due_on, m.paid_on, r.done_on AS revoked_on, r.step AS revoked_by
        FROM land.case_money m JOIN land.cases c ON c.id = m.case_id
        LEFT JOIN LATERAL (
            SELECT s.done_on, s.step FROM land.case_steps s
            WHERE s.case_id = m.case_id AND s.step IN ('reconsideration', 'lawsuit') AND s.result = 'revoked'
            ORDER BY s.done_on, s.id LIMIT 1) r ON true
        WHERE m.purpose = 'idle_fee' AND c.parcel_id IS NOT NULL
          AND {_parcel_in_zones('c.parcel_id')} AND {_p('c.parcel_id')}""",
    "enterprises": f"""
        SELECT e.id, e.credit_code, e.name_zh, e.name_en, e.industry, e.size_class, e.established_on
        FROM land.enterprises e
        WHERE CAST(:zone_ids AS integer[]) IS NULL
           OR e.id = ANY(ARRAY(SELECT p.enterprise_id FROM land.parcels p WHERE {_z('p.zone_id')}))""",
    "enterprise_metrics": f"""
        SELECT m.id, m.parcel_id, p.zone_id, m.enterprise_id, m.year, m.grading_category,
               CAST(m.revenue_wan AS float8) AS revenue_wan, CAST(m.tax_wan AS float8) AS tax_wan,
               CAST(m.value_added_wan AS float8) AS value_added_wan, CAST(m.energy_tce AS float8) AS energy_tce,
               CAST(m.electricity_kwh AS float8) AS electricity_kwh, CAST(m.emissions_t AS float8) AS emissions_t,
               m.employees,
               CAST(m.rd_spend_wan AS float8) AS rd_spend_wan
        FROM land.enterprise_metrics m JOIN land.parcels p ON p.id = m.parcel_id
        WHERE {_z('p.zone_id')}
          AND (CAST(:metric_years AS integer[]) IS NULL OR m.year = ANY(CAST(:metric_years AS integer[])))""",
    # the parcels with metrics of any year: per_mu's subjects when it reads one year's metrics
    "metric_parcels": f"""
        SELECT DISTINCT m.parcel_id FROM land.enterprise_metrics m WHERE {_parcel_in_zones('m.parcel_id')}
        ORDER BY m.parcel_id""",
    # (in order: read along the (parcel, enterprise, year) index, not hashed: server CPU 1.15 -> 0.33 s
    # for the city)
    "mixed_use_components": f"""
        SELECT c.id, c.parcel_id, c.land_use_code, lu.category AS land_use_category,
               CAST(c.floor_share_pct AS float8) AS floor_share_pct,
               c.floor_area_m2
        FROM land.mixed_use_components c
        JOIN land.land_use_codes lu ON lu.code = c.land_use_code
        WHERE {_parcel_in_zones('c.parcel_id')} AND {_p('c.parcel_id')}""",
    "mixed_use_pilots": f"""
        SELECT m.id, m.parcel_id, m.approved_on, m.pilot_ref
        FROM land.mixed_use_pilots m
        WHERE {_parcel_in_zones('m.parcel_id')} AND {_p('m.parcel_id')}""",
    "green_areas": f"""
        SELECT g.id, g.parcel_id, g.measured_on, g.green_area_m2
        FROM land.green_areas g
        WHERE {_parcel_in_zones('g.parcel_id')}""",
    "quota_accounts": f"""
        SELECT a.id, a.year, a.resource, a.level, a.parent_id, a.district_id, a.zone_id, a.grant_id, a.name
        FROM land.quota_accounts a
        WHERE CAST(:zone_ids AS integer[]) IS NULL OR a.level IN ('city', 'district') OR {_z('a.zone_id')}
           OR a.grant_id IN (SELECT g.id FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id
                             WHERE {_z('p.zone_id')})
        ORDER BY a.id""",
    # the grants that quota accounts are for (their zone and parcel): not every grant of the city
    "quota_grants": f"""
        SELECT g.id, g.parcel_id, p.zone_id
        FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id
        WHERE g.id IN (SELECT a.grant_id FROM land.quota_accounts a WHERE a.grant_id IS NOT NULL)
          AND {_z('p.zone_id')}
        ORDER BY g.id""",
    "quota_ledger": """
        SELECT l.id, l.year, l.resource, l.entry_type, l.from_account_id, l.to_account_id,
               CAST(l.amount AS float8) AS amount,
               l.recorded_on, l.reference
        FROM land.quota_ledger l ORDER BY l.id""",
    "quota_requests": """
        SELECT q.id, q.year, q.resource, q.account_id, CAST(q.amount AS float8) AS amount, q.requested_on, q.status,
               q.decided_on
        FROM land.quota_requests q ORDER BY q.id""",
    "zone_assessments": f"""
        SELECT a.id, a.zone_id, a.kind, a.document_ref, a.approved_on, a.valid_from, a.valid_to
        FROM land.zone_assessments a WHERE {_z('a.zone_id')} ORDER BY a.zone_id, a.kind, a.valid_from""",
    "zone_indicator_values": f"""
        SELECT v.id, v.zone_id, v.year, v.category, v.indicator, v.value, v.unit, v.source
        FROM land.zone_indicator_values v WHERE {_z('v.zone_id')} ORDER BY v.zone_id, v.year, v.indicator""",
    # rules part 2. Zone performance ranks every zone, so its frames ignore the zone filter
    # (`gisapp assess --zone` still reports only the zones asked for).
    "performance_zones": """
        SELECT z.id, z.code, z.name_zh, z.name_en, z.kind, z.region, z.approved_area_m2
        FROM land.zones z ORDER BY z.id""",
    "performance_values": """
        SELECT v.zone_id, v.year, v.category, v.indicator, v.value
        FROM land.zone_indicator_values v ORDER BY v.zone_id, v.year, v.indicator""",
    # parcel area per zone whose construction started / whose completion was accepted, by the
    # year it happened (up to the as-of date); the rule sums the years up to each period end
    "performance_land": """
        WITH firsts AS (
            SELECT c.parcel_id, min(c.started_on) AS started_on, min(c.accepted_on) AS accepted_on
            FROM land.construction_progress c GROUP BY c.parcel_id),
        f AS (
            SELECT p.zone_id, p.area_m2, f.started_on, f.accepted_on
            FROM firsts f JOIN land.parcels p ON p.id = f.parcel_id)
        SELECT f.zone_id, 'accepted' AS event, CAST(date_part('year', f.accepted_on) AS integer) AS year,
               sum(f.area_m2) AS area_m2, count(*) AS parcels
        FROM f WHERE f.accepted_on <= CAST(:as_of AS date) GROUP BY 1, 2, 3
        UNION ALL
        SELECT f.zone_id, 'started', CAST(date_part('year', f.started_on) AS integer), sum(f.area_m2), count(*)
        FROM f WHERE f.started_on <= CAST(:as_of AS date) GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3""",
    # (two aggregates, not one over a LATERAL pair of events, and the year as date_part, not
    # EXTRACT's numeric: server CPU 2.7 -> 1.5 s at city scale)
    # every boundary version's area: the fenced area in force in past years
    "zone_boundary_history": """
        SELECT b.id, b.zone_id, b.valid_from, b.valid_to, b.area_m2
        FROM land.zone_boundaries b ORDER BY b.zone_id, b.valid_from""",
    "performance_methods": """
        SELECT m.code, m.name_zh, m.name_en, m.effective_from FROM land.performance_methods m
        ORDER BY m.effective_from""",
    # all overrides (city-wide ones apply to every zone); resolve_params picks the one in force
    "parameter_overrides": """
        SELECT o.id, o.rule, o.name, o.value::text AS value, o.zone_id, o.year, o.source, o.effective_from
        FROM rules.parameter_overrides o ORDER BY o.id""",
}

# The SQL above casts numeric columns to float8: the binary reader then receives doubles. Sent
# as numeric, the driver turned each into text for Arrow to parse: for a year of enterprise
# metrics 2.1-2.4 s of client and 1.7 s of server CPU, against 0.8 s and 2.2-2.5 s with the cast.

# PostgreSQL type OIDs -> how the CSV column is typed
_BOOL, _INT2, _INT4, _INT8, _FLOAT4, _FLOAT8, _NUMERIC = 16, 21, 23, 20, 700, 701, 1700
_DATE, _TIMESTAMP, _TIMESTAMPTZ = 1082, 1114, 1184
_INTS = {_INT2, _INT4, _INT8}
_FLOATS = {_FLOAT4, _FLOAT8, _NUMERIC}


def zone_ids_for(conn: Connection, zone_codes: Sequence[str] | None) -> list[int] | None:
    """Ids of ``zone_codes`` (None = all zones); an unknown code raises InputError naming it."""
    if not zone_codes:
        return None
    rows = conn.execute(sa.text("SELECT code, id FROM land.zones WHERE code = ANY(:codes)"),
                        {"codes": list(zone_codes)}).all()
    found = dict(rows)
    missing = [c for c in zone_codes if c not in found]
    if missing:
        raise InputError(f"unknown zone code(s): {', '.join(missing)} (see `SELECT code FROM land.zones`)")
    return [found[c] for c in zone_codes]


def _geometry_oid(conn: Connection) -> int | None:
    return conn.execute(sa.text("SELECT oid FROM pg_type WHERE typname = 'geometry'")).scalar()


def _inline(sql: str, params: dict) -> str:
    """COPY takes no bind parameters: inline the known ones, from trusted types only."""
    as_of = params.get("as_of")
    as_of_sql = "NULL" if as_of is None else f"'{dt.date.fromisoformat(str(as_of)[:10]).isoformat()}'"
    return (sql.replace(":zone_ids", _int_array(params.get("zone_ids")))
            .replace(":parcel_ids", _int_array(params.get("parcel_ids"), "bigint"))
            .replace(":metric_years", _int_array(params.get("metric_years")))
            .replace(":as_of", as_of_sql))


def _int_array(values: Iterable[int] | None, sql_type: str = "integer") -> str:
    return "NULL" if values is None else "ARRAY[" + ",".join(str(int(v)) for v in values) + f"]::{sql_type}[]"


def _read_frame(conn: Connection, sql: str, params: dict, geometry_oid: int | None) -> pd.DataFrame:
    """One frame in ``conn``'s transaction, typed from the query's own column types (COPY CSV
    parsed by Arrow). The assessment reads through :func:`_read_frame_binary` instead."""
    raw = conn.connection.driver_connection  # psycopg 3 connection, inside the same transaction
    literal = _inline(sql, params)
    with raw.cursor() as cur:
        cur.execute(f"SELECT * FROM ({literal}) q LIMIT 0")
        desc = [(d.name, d.type_code) for d in cur.description]
        buf = io.BytesIO()
        with cur.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
    names = [n for n, _ in desc]
    types = {name: _ARROW_TYPES.get(oid, pa.string()) for name, oid in desc}
    if buf.getbuffer().nbytes:
        # Arrow parses on all cores without the GIL, and its number parsing is exact, like
        # PostgreSQL's own. An empty text reads as NULL, as it always did for these frames.
        table = pa_csv.read_csv(
            pa.py_buffer(buf.getbuffer()),
            read_options=pa_csv.ReadOptions(column_names=names),
            convert_options=pa_csv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=True, true_values=["t"], false_values=["f"]),
        )
    else:
        table = pa.table({n: pa.array([], types[n]) for n in names})
    kinds = {name: _KIND_OF_OID.get(oid, "geometry" if oid == geometry_oid else "other") for name, oid in desc}
    return _pandas_frame(table, kinds)


def _read_frame_binary(conn, sql: str, params: dict) -> pd.DataFrame:
    """One frame read by ADBC on ``conn`` (an ``adbc_driver_postgresql`` connection): the server
    sends binary COPY, which the driver decodes into Arrow in C++. The CSV path spent ~2 µs of
    Python per row handing each COPY row over (1.9 s of 7.7 for the 1M parcel geometries, which
    then came as hex to decode again)."""
    with conn.cursor() as cur:
        cur.execute(_inline(sql, params))
        table = cur.fetch_arrow_table()
    kinds: dict[str, str] = {}
    columns = []
    for field, col in zip(table.schema, table.columns):
        pg_type = (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()
        if isinstance(field.type, pa.BaseExtensionType):  # numeric (as text) and geometry (as EWKB)
            col = pa.chunked_array([c.storage for c in col.chunks], field.type.storage_type)
        if pg_type == "numeric":
            col = col.cast(pa.float64())  # from its text: exact, as PostgreSQL's own parsing
        if pa.types.is_string(col.type):  # an empty text is NULL, as the CSV reader reads it
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)
        kinds[field.name] = "geometry" if pg_type == "geometry" else _kind_of_arrow(col.type)
        columns.append(col)
    return _pandas_frame(pa.table(columns, names=table.column_names), kinds)


def _kind_of_arrow(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    return "other"


def _pandas_frame(table: pa.Table, kinds: dict[str, str]) -> pd.DataFrame:
    """The frame of an Arrow table as the rules take it: integers ``int64`` (``Int64`` with
    NULLs), booleans ``bool`` (``boolean`` with NULLs), dates ``datetime64[ns]``, geometry shapely."""
    out: dict[str, object] = {}
    for name in table.column_names:
        col, kind = table.column(name), kinds[name]
        if kind == "int":
            col = col.cast(pa.int64())
            out[name] = col.to_pandas(types_mapper=None if col.null_count == 0 else _NULLABLE.get)
        elif kind == "bool":
            out[name] = col.to_pandas(types_mapper=None if col.null_count == 0 else _NULLABLE.get)
        elif kind == "date":
            out[name] = col.to_pandas(date_as_object=False).astype("datetime64[ns]")
        elif kind in ("timestamp", "timestamptz"):
            utc = kind == "timestamptz"
            stamps = pd.to_datetime(col.to_pandas(), utc=utc, format="ISO8601")
            out[name] = stamps if utc else stamps.astype("datetime64[ns]")
        elif kind == "geometry":
            import shapely

            if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
                out[name] = shapely.from_wkb(col.to_numpy())
            else:  # hex (CSV): GEOS parses hex WKB several times slower than bytes
                out[name] = shapely.from_wkb([None if v is None else bytes.fromhex(v) for v in col.to_pylist()])
        else:
            out[name] = col.to_pandas()
    return pd.DataFrame(out)


_KIND_OF_OID = {**{oid: "int" for oid in _INTS}, _BOOL: "bool", _DATE: "date", _TIMESTAMP: "timestamp",
                _TIMESTAMPTZ: "timestamptz"}
_ARROW_TYPES = {
    **{oid: pa.int64() for oid in _INTS},
    **{oid: pa.float64() for oid in _FLOATS},
    _DATE: pa.date32(),
    _BOOL: pa.bool_(),
}
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def load_inputs(engine: Engine | Connection, names: Iterable[str], zone_codes: Sequence[str] | None = None,
                as_of: dt.date | None = None, workers: int = 2) -> dict[str, pd.DataFrame]:
    """The named input frames, restricted to ``zone_codes`` (None = all zones).

    Frames holding geometry (``parcels_geom``, ``zone_boundaries``) are GeoDataFrames in
    EPSG:4490. ``zone_boundaries`` is the boundary in force on ``as_of`` (default today).
    All frames see one snapshot of the database (a repeatable-read transaction whose snapshot
    the ``workers`` parallel connections share), so they are consistent with each other.
    """
    names = _checked(names)
    as_of = as_of or dt.date.today()
    if isinstance(engine, Connection):
        zone_ids = zone_ids_for(engine, zone_codes)
        return _load_all(engine, names, {"zone_ids": zone_ids, "as_of": as_of})
    with input_snapshot(engine) as snapshot:
        with engine.connect() as conn:
            params = {"zone_ids": zone_ids_for(conn, zone_codes), "as_of": as_of}
        return read_frames(engine, snapshot, names, params, workers)


def read_frames(engine: Engine, snapshot: str, names: Iterable[str], params: dict,
                workers: int = 2) -> dict[str, pd.DataFrame]:
    """The named frames read in ``snapshot``, ``workers`` at a time (each on its own connection)."""
    names = _checked(names)
    if workers <= 1 or len(names) <= 1:
        return dict(read_in_snapshot(engine, snapshot, names, params))
    # the big frames first, so that the pool stays busy to the end
    order = sorted(names, key=lambda n: n not in _BIG)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {n: pool.submit(lambda n: dict(read_in_snapshot(engine, snapshot, [n], params))[n], n)
                   for n in order}
        return {n: futures[n].result() for n in names}


def _checked(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in FRAME_SQL]
    if unknown:
        raise InputError(f"unknown rule input frame(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(FRAME_SQL))}")
    return names


@contextmanager
def input_snapshot(engine: Engine) -> Iterator[str]:
    """A snapshot of the database exported for other connections (:func:`read_in_snapshot`, also
    from other processes): it stays importable while this block runs."""
    with input_snapshot_at(engine) as (snapshot, _taken_at):
        yield snapshot


@contextmanager
def input_snapshot_at(engine: Engine) -> Iterator[tuple[str, dt.datetime]]:
    """:func:`input_snapshot` and the server's clock when it was taken (read in the same
    statement, so just after it): of two readings, the later one saw every change the earlier saw
    (the live findings compare them, rules.parcel_patches)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        row = conn.execute(sa.text("SELECT pg_export_snapshot() AS snapshot, clock_timestamp() AS taken_at")).one()
        yield row.snapshot, row.taken_at


def read_in_snapshot(engine: Engine, snapshot: str, names: Iterable[str],
                     params: dict) -> Iterator[tuple[str, pd.DataFrame]]:
    """Read the named frames one after another in ``snapshot`` (on a connection of its own),
    yielding each as soon as it is read. ``params``: ``zone_ids`` (None = all) and ``as_of``."""
    names = _checked(names)
    with snapshot_reader(engine, snapshot) as read:
        for name in names:
            yield name, read(name, params)


@contextmanager
def snapshot_reader(engine: Engine, snapshot: str) -> Iterator[Callable[[str, dict], pd.DataFrame]]:
    """``read(name, params)``: a frame read in ``snapshot``, on one connection held for the block
    (an ADBC connection to the engine's database: binary COPY decoded in C++, no per-row Python;
    kept open for the process's next reader, gisapp.db.adbc_connections)."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _driver_errors("opening the rule inputs' snapshot"), adbc_connection(url) as conn, \
            conn.cursor() as cur:  # the connection's end of the block rolls its transaction back
        with _driver_errors("opening the rule inputs' snapshot"):
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'")
            # no parallel plans: the readers already run side by side (and beside the rules), so
            # a plan's extra workers only repeat work (performance_land's aggregate was built
            # three times over: 3 s of CPU for a 2 s query)
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")

        def read(name: str, params: dict) -> pd.DataFrame:
            name = _checked([name])[0]
            with _driver_errors(f"reading the rule input {name}"):
                return _as_geoframe(_read_frame_binary(conn, FRAME_SQL[name], params))

        yield read


@contextmanager
def _driver_errors(doing: str) -> Iterator[None]:
    """ADBC's errors as GisappError: the driver's own cannot be pickled, so raised in a worker
    process they would break the process pool instead of reaching the run."""
    import adbc_driver_postgresql.dbapi as adbc

    try:
        yield
    except adbc.Error as e:
        raise GisappError(f"{doing} failed: {e}") from None


def uses_param(name: str, param: str) -> bool:
    """Whether frame ``name``'s SQL takes parameter ``param``."""
    return f":{param}" in FRAME_SQL[name]


def _snapshot_id(snapshot: str) -> str:
    """A snapshot id as PostgreSQL exports them (hex digits and dashes), nothing else: it is inlined."""
    if not snapshot or any(c not in "0123456789ABCDEFabcdef-" for c in snapshot):
        raise InputError(f"not a snapshot id: {snapshot!r}")
    return snapshot


# frames that hold about one row per parcel or more
_BIG = {"parcels", "parcels_geom", "land_grants", "grant_requirements", "grant_reviews",
        "construction_progress",
        "enterprise_metrics", "green_areas", "enterprises"}


def read_in_transaction(conn: Connection, names: Iterable[str], params: dict) -> dict[str, pd.DataFrame]:
    """The named frames read in ``conn``'s own transaction (one snapshot when it is REPEATABLE
    READ), on that connection: no exported snapshot, no other connection (the parcels worker
    reads a few parcels' rows this way; gisapp.rules.parcel_jobs). ``params`` as for a run."""
    return _load_all(conn, _checked(names), params)


def _load_all(conn: Connection, names: list[str], params: dict) -> dict[str, pd.DataFrame]:
    geometry_oid = _geometry_oid(conn)
    return {name: _frame(conn, name, params, geometry_oid) for name in names}


def _frame(conn: Connection, name: str, params: dict, geometry_oid: int | None) -> pd.DataFrame:
    return _as_geoframe(_read_frame(conn, FRAME_SQL[name], params, geometry_oid))


def _as_geoframe(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with a ``geom`` column as a GeoDataFrame in EPSG:4490."""
    if "geom" in frame.columns:
        import geopandas as gpd

        frame = gpd.GeoDataFrame(frame, geometry="geom", crs="EPSG:4490")
    return frame
