"""Writing an import's rows, once every check passed: the import log entry, then parcels (bulk or
through the triggers), zones with their boundaries, metrics, or districts; all in the import's
transaction.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gisapp.errors import InputError
from gisapp.io.bulk_load import PARCEL_ATTRS, bulk_load_parcels

if TYPE_CHECKING:
    from gisapp.io.importer import ImportResult


# -- writing ------------------------------------------------------------------------------------------

def write_import(conn: Connection, result: ImportResult, sha256: str, actor: str, bulk: bool,
           update_existing: bool, crs: str | None, repair: bool, loaded: int | None = None) -> None:
    prepared = result.prepared
    rows = prepared.rows
    conn.execute(sa.text("SELECT set_config('gisapp.user', :u, true)"), {"u": actor})
    options = {"crs": crs, "repair": repair, "update_existing": update_existing}
    # the import log is written by the database's own functions (the app's roles may not write it)
    import_id = conn.execute(sa.text(
        "SELECT audit.begin_import(:k, :f, :h, :c, :n, :w, CAST(:o AS jsonb), :a)"),
        {"k": result.kind, "f": result.file, "h": sha256, "c": prepared.source_crs or None,
         "n": len(rows), "w": prepared.report.warnings, "o": json.dumps(options), "a": actor}).scalar_one()
    result.import_id = import_id
    reason = f"import #{import_id} {result.file}"[:200]
    conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true)"), {"r": reason})
    if result.kind == "parcels":
        _write_parcels(conn, result, actor, bulk, loaded, repair)
    else:
        {"zones": _write_zones, "metrics": _write_metrics,
         "districts": _write_districts}[result.kind](conn, result, actor, bulk)
    conn.execute(sa.text("SELECT audit.finish_import(:id, :i, :u, :b)"),
                 {"i": result.inserted, "u": result.updated, "b": result.bulk, "id": import_id})
    result.wrote = True


def _ewkb_hex(geoms: np.ndarray) -> list[str]:
    # GEOS's hex writer is several times slower than bytes.hex() on its binary output
    return [b.hex() for b in shapely.to_wkb(shapely.set_srid(geoms, 4490), include_srid=True)]


def _py(v):
    """A value COPY can write: None for every kind of missing, plain Python scalars."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _copy(conn: Connection, table: str, columns: list[str], data: list[list]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in zip(*data):
            copy.write_row(row)


def _column(rows: pd.DataFrame, name: str, n: int) -> list:
    """A column as Python values with None for every kind of missing (vectorised: 1M rows)."""
    if name not in rows:
        return [None] * n
    arr = rows[name].to_numpy(dtype=object)
    missing = pd.isna(arr)
    if missing.any():
        arr = arr.copy()
        arr[missing] = None
    return arr.tolist()



def _write_parcels(conn: Connection, result: ImportResult, actor: str, bulk: bool, loaded: int | None = None,
                   repair: bool = False) -> None:
    """Write the parcels; ``loaded``: the new parcels were already bulk-loaded (``EarlyParcelLoad``)."""
    rows = result.prepared.rows
    exists = rows["exists"].to_numpy(dtype=bool) if "exists" in rows else np.zeros(len(rows), dtype=bool)
    new, old = rows[~exists], rows[exists]
    crs_label = result.prepared.source_crs
    if bulk and (loaded is not None or len(new)):
        n = loaded
        if loaded is None:
            n, result.reused_wkb = bulk_load_parcels(conn, new, crs_label, actor, result.seconds,
                                                      geometry_checked=not repair)
        refuse_overlaps_with_earlier_parcels(conn)
        conn.execute(sa.text(
            "INSERT INTO audit.change_log (table_schema, table_name, row_id, action, new_row, app_user, reason) "
            "VALUES ('land', 'parcels', '*', 'BULK_LOAD', jsonb_build_object('rows', CAST(:n AS int), "
            "'import_id', CAST(:i AS bigint)), :a, current_setting('gisapp.reason', true))"),
            {"n": n, "i": result.import_id, "a": actor})
        result.bulk = True
        result.inserted = n
    elif len(new):
        n = len(new)
        cols = ["code", "zone_id", "geom", *PARCEL_ATTRS, "source_crs"]
        is_syn = [bool(v) if v is not None else False for v in _column(new, "is_synthetic", n)]
        data = [_column(new, "code", n), [int(z) for z in new["zone_id"]], _ewkb_hex(new["geom"].to_numpy()),
                *[_column(new, c, n) for c in PARCEL_ATTRS[:-1]], is_syn, [crs_label] * n]
        data[3 + PARCEL_ATTRS.index("enterprise_id")] = [None if e is None else int(e)
                                                          for e in data[3 + PARCEL_ATTRS.index("enterprise_id")]]
        t = time.perf_counter()
        # COPY cannot write through row-level security (the web role): stage, then INSERT
        _stage_parcels(conn, "import_new_parcels", cols, data)
        conn.execute(sa.text(f"INSERT INTO land.parcels ({', '.join(cols)}) "
                             f"SELECT {', '.join(cols)} FROM import_new_parcels"))
        result.seconds["copy"] = time.perf_counter() - t
        result.inserted = n
    if len(old):
        _update_parcels(conn, old, crs_label)
        result.updated = len(old)


class OverlapRefused(InputError):
    """New parcels of a bulk load overlap parcels that were there before (one line per pair)."""


def refuse_overlaps_with_earlier_parcels(conn: Connection) -> None:
    """A bulk load's COPY runs with the triggers off: the database's check of new parcels against
    the existing ones runs here instead, once the indexes are back (land.loaded_parcel_overlaps)."""
    if not conn.info.pop("gisapp.parcels_before_load", True):
        return
    found = conn.execute(sa.text("SELECT code, other, overlap_m2 FROM land.loaded_parcel_overlaps()")).all()
    if found:
        raise OverlapRefused("; ".join(f"parcel {code} overlaps the existing parcel {other} by {m2:,.1f} m²"
                                       for code, other, m2 in found))


def _stage_parcels(conn: Connection, name: str, cols: list[str], data: list[list]) -> None:
    """COPY rows into a temporary table shaped like land.parcels' importable columns."""
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE {name} (code text, zone_id integer, geom geometry(MultiPolygon, 4490),
            land_use_code text, legacy_land_use_code text, status text, status_since date, enterprise_id integer,
            plot_ratio_min numeric, plot_ratio_max numeric, floor_area_m2 double precision,
            building_footprint_m2 double precision, office_living_area_m2 double precision, is_synthetic boolean,
            source_crs text) ON COMMIT DROP"""))
    _copy(conn, name, cols, data)


def _update_parcels(conn: Connection, old: pd.DataFrame, crs_label: str) -> None:
    n = len(old)
    defaulted = old.attrs.get("defaulted", set())
    present = [c for c in PARCEL_ATTRS if c in old.columns and c not in defaulted]
    cols = ["code", "zone_id", "geom", *present]
    data = [_column(old, "code", n), [int(z) for z in old["zone_id"]], _ewkb_hex(old["geom"].to_numpy()),
            *[_column(old, c, n) for c in present]]
    if "enterprise_id" in present:
        k = cols.index("enterprise_id")
        data[k] = [None if e is None else int(e) for e in data[k]]
    _stage_parcels(conn, "import_parcels", cols, data)
    sets = ", ".join(f"{c} = s.{c}" for c in ["zone_id", "geom", *present])
    # status changes go through the lifecycle trigger (with the import as the reason): dated by the file
    conn.execute(sa.text("SELECT set_config('gisapp.status_dated', 'true', true)"))
    conn.execute(sa.text(f"UPDATE land.parcels p SET {sets}, source_crs = :crs FROM import_parcels s "
                         "WHERE p.code = s.code"), {"crs": crs_label})


def _write_zones(conn: Connection, result: ImportResult, actor: str, bulk: bool) -> None:
    rows = result.prepared.rows
    attrs = [c for c in ("name_zh", "name_en", "district_id", "kind", "approved_on", "approved_area_m2",
                         "approved_area_is_demo", "region", "is_synthetic") if c in rows]
    for r in rows.to_dict("records"):
        values = {c: _py(r.get(c)) for c in attrs}
        values["district_id"] = int(values["district_id"])
        for flag in ("approved_area_is_demo", "is_synthetic"):
            if flag in values and values[flag] is None:
                values[flag] = False
        geom = _ewkb_hex(np.array([r["geom"]], dtype=object))[0]
        if r.get("exists"):
            zone_id = conn.execute(sa.text(f"UPDATE land.zones SET {', '.join(f'{c} = :{c}' for c in attrs)} "
                                           "WHERE code = :code RETURNING id"), {**values, "code": r["code"]}).scalar_one()
            current = conn.execute(sa.text("SELECT valid_from FROM land.zone_boundaries WHERE zone_id = :z AND "
                                           "valid_to IS NULL"), {"z": zone_id}).scalar()
            if current is not None and current >= r["valid_from"]:
                raise InputError(f"{result.file}: zone {r['code']}: valid_from {r['valid_from']} must be after the "
                                 f"current boundary's valid_from {current}")
            conn.execute(sa.text("UPDATE land.zone_boundaries SET valid_to = :d WHERE zone_id = :z AND valid_to IS NULL"),
                         {"d": r["valid_from"], "z": zone_id})
            result.updated += 1
        else:
            names = ", ".join(["code", *attrs])
            zone_id = conn.execute(sa.text(f"INSERT INTO land.zones ({names}) VALUES "
                                           f"({', '.join(':' + c for c in ['code', *attrs])}) RETURNING id"),
                                   {**values, "code": r["code"]}).scalar_one()
            result.inserted += 1
        conn.execute(sa.text(
            "INSERT INTO land.zone_boundaries (zone_id, valid_from, approval_ref, geom, source_crs, is_synthetic) "
            "VALUES (:z, :vf, :ref, ST_GeomFromEWKB(decode(:g, 'hex')), :crs, :syn)"),
            {"z": zone_id, "vf": r["valid_from"], "ref": _py(r.get("approval_ref")), "g": geom,
             "crs": result.prepared.source_crs, "syn": bool(values.get("is_synthetic") or False)})


def _write_districts(conn: Connection, result: ImportResult, actor: str, bulk: bool) -> None:
    """Insert new districts; with --update-existing, a stored one's names and boundary are replaced."""
    for r in result.prepared.rows.to_dict("records"):
        values = {"code": r["code"], "zh": _py(r.get("name_zh")), "en": _py(r.get("name_en")),
                  "g": _ewkb_hex(np.array([r["geom"]], dtype=object))[0], "crs": result.prepared.source_crs}
        if r.get("exists"):
            conn.execute(sa.text("UPDATE land.districts SET name_zh = :zh, name_en = :en, source_crs = :crs, "
                                 "geom = ST_GeomFromEWKB(decode(:g, 'hex')) WHERE code = :code"), values)
            result.updated += 1
        else:
            conn.execute(sa.text("INSERT INTO land.districts (code, name_zh, name_en, geom, source_crs) "
                                 "VALUES (:code, :zh, :en, ST_GeomFromEWKB(decode(:g, 'hex')), :crs)"), values)
            result.inserted += 1


_METRIC_VALUES = ["grading_category", "revenue_wan", "tax_wan", "value_added_wan", "energy_tce", "electricity_kwh",
                  "emissions_t", "employees", "rd_spend_wan"]


def _write_metrics(conn: Connection, result: ImportResult, actor: str, bulk: bool) -> None:
    rows = result.prepared.rows
    n = len(rows)
    present = [c for c in _METRIC_VALUES if c in rows]
    conn.execute(sa.text("""
        CREATE TEMP TABLE import_metrics (parcel_id bigint, enterprise_id integer, year smallint,
            grading_category text, revenue_wan numeric, tax_wan numeric, value_added_wan numeric, energy_tce numeric,
            electricity_kwh numeric, emissions_t numeric, employees integer, rd_spend_wan numeric) ON COMMIT DROP"""))
    data = [[int(p) for p in rows["parcel_id"]], [int(e) for e in rows["enterprise_id"]],
            [int(y) for y in rows["year"]], *[_column(rows, c, n) for c in present]]
    if "employees" in present:
        k = 3 + present.index("employees")
        data[k] = [None if v is None else int(v) for v in data[k]]
    _copy(conn, "import_metrics", ["parcel_id", "enterprise_id", "year", *present], data)
    insert_cols = ["parcel_id", "enterprise_id", "year", *present]
    select = ", ".join(f"coalesce({c}, 'regular')" if c == "grading_category" else c for c in insert_cols)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in present) or "year = EXCLUDED.year"
    flags = conn.execute(sa.text(
        f"INSERT INTO land.enterprise_metrics ({', '.join(insert_cols)}) SELECT {select} FROM import_metrics "
        f"ON CONFLICT (parcel_id, enterprise_id, year) DO UPDATE SET {updates} RETURNING (xmax = 0)")).scalars().all()
    result.inserted = int(sum(flags))
    result.updated = len(flags) - result.inserted
