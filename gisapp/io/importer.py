"""Import a file into the database: read, validate against the database, write all or nothing.

One transaction: the reference data is read, the file is validated, and only when the report has
no error are rows written; any refusal by the database (a constraint, a lifecycle step) rolls
everything back and becomes a line of the report. A dry run validates and writes nothing.

Large parcel imports (``bulk_threshold`` rows or more, on a superuser connection) load with row
triggers off, as pg_restore does: the tables the new rows point at (zones and their boundaries,
land-use codes, statuses, enterprises) are locked in SHARE mode before the file is checked against
them, so nobody changes them until the import commits (reads go on), instead of the foreign-key
triggers checking each row; the row versions are written directly, and the import is one
BULK_LOAD audit entry pointing at ``audit.imports``. Smaller imports keep every trigger, so each row is audited with the
reason ``import #<id> <file>``.

A bulk load starts as soon as every value to write is known, while the checks that can only add
errors (duplicates within the file, geometry validity, value pairs) still run: PostgreSQL parses,
checks and indexes the rows on one core while Python checks on the other. When those checks find
an error the COPY is cancelled and the transaction rolled back, so nothing is written either way.
A bulk import of at least two chunks (``CHUNK_ROWS``) goes further: it is checked chunk by chunk and
each chunk is COPYed (binary, :mod:`gisapp.db.binary_copy`) while the next is checked; duplicates
across the whole file are checked at the end (:func:`gisapp.io.validate.validate_in_chunks`).
A geometry that validation left as the file gave it (EPSG:4490 or WGS84, 2D, MultiPolygon, not
repaired) is COPYed as the file's own WKB, not encoded again (``ImportResult.reused_wkb`` counts them).

Example:
    >>> result = import_file(get_engine(), "parcels", "survey.gpkg", crs="EPSG:4549", dry_run=True)  # doctest: +SKIP
    >>> print(result.report.text())  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import decimal
import getpass
import hashlib
import itertools
import json
import math
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.binary_copy import copy_arrow
from gisapp.db.context import Actor, establish
from gisapp.errors import InputError
from gisapp.gc_pause import gc_paused
from gisapp.geodesy import ellipsoid_area_m2
from gisapp.io.fields import KINDS, match_columns, wanted_columns
from gisapp.io.readers import Source, SourcePreview, preview_source, read_source
from gisapp.io.report import ERROR, Report
from gisapp.io.validate import (
    AREA_TOLERANCE,
    MIN_PARCEL_AREA_M2,
    Prepared,
    Reference,
    validate,
    validate_in_chunks,
)

BULK_ROWS = 10_000
#: stored parcels compared with the file's features of the same code (GCJ-02 read as WGS84)
GCJ02_SAMPLE = 500
#: a bulk import of twice this many parcels or more is checked and COPYed in chunks of this many
CHUNK_ROWS = 100_000
#: what a bulk parcel import holds still while it runs (what the new rows reference)
BULK_LOCKED = ("land.zones", "land.zone_boundaries", "land.land_use_codes", "land.legacy_land_use_codes",
               "land.parcel_statuses", "land.enterprises")


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a rejected file, would not do)."""

    kind: str
    file: str
    prepared: Prepared
    dry_run: bool
    wrote: bool = False
    inserted: int = 0
    updated: int = 0
    import_id: int | None = None
    bulk: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    #: geometries a bulk load COPYed as the file's own WKB, not encoded again (see validate.Prepared)
    reused_wkb: int = 0

    @property
    def report(self):
        return self.prepared.report

    def describe(self) -> str:
        if self.wrote:
            head = (f"{self.file}: imported {self.kind}: {self.inserted} new, {self.updated} updated "
                    f"(import #{self.import_id}, source CRS {self.prepared.source_crs or '-'}; "
                    f"导入成功：新增 {self.inserted}，更新 {self.updated})")
            lines = self.report.lines(limit=20)
            return "\n".join([head, *lines])
        return self.report.text(wrote=False)


class ImportRejected(InputError):
    """The file has errors (or the database refused it); nothing was written."""

    def __init__(self, result: ImportResult):
        self.result = result
        super().__init__(result.report.text(wrote=False, limit=50))


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


@gc_paused  # millions of values, geometries and strings, no reference cycles
def import_file(engine: Engine, kind: str, path: str | Path, *, crs: str | None = None, layer: str | None = None,
                dry_run: bool = False, repair: bool = False, update_existing: bool = False,
                actor: str | None = None, display: str | None = None, bulk_threshold: int = BULK_ROWS,
                raise_on_error: bool = True, acting_for: Actor | None = None,
                chunk_rows: int = CHUNK_ROWS, encoding: str | None = None,
                min_area_m2: float = MIN_PARCEL_AREA_M2, area_tolerance: float = AREA_TOLERANCE) -> ImportResult:
    """Import ``path`` as ``kind`` (parcels, zones, metrics); see the module docstring.

    Raises ImportRejected (an InputError whose message is the report) when the file has errors,
    unless ``raise_on_error`` is False (the web page shows the report itself). ``acting_for`` runs
    the writing transaction as the request role with that user's verified context (the web page
    imports for the signed-in admin, so row-level security applies as to any edit). A bulk import of at least two ``chunk_rows`` new parcels
    is checked and COPYed chunk by chunk (see :class:`_StreamingParcelLoad`). ``encoding`` names
    the text encoding of a Shapefile's table or a CSV file (else found: see
    :func:`gisapp.io.readers.read_source`); ``min_area_m2`` and ``area_tolerance`` as for
    :func:`gisapp.io.validate.validate`.
    """
    if kind not in KINDS:
        raise InputError(f"unknown import kind {kind!r}; choose one of {', '.join(KINDS)}")
    path = Path(path)
    display = display or path.name
    actor = actor or default_actor()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    spec = KINDS[kind]
    wanted = wanted_columns(spec)
    # a large parcel file whose features can be counted unread (vector formats): the reference is
    # read from the database while the file is (both take seconds)
    preview = (preview_source(path, layer=layer, columns=wanted, display=display, encoding=encoding)
               if kind == "parcels" else None)
    if preview is not None and len(preview) < bulk_threshold:
        preview = None
    source: Source | SourcePreview = preview or read_source(path, layer=layer, columns=wanted, display=display,
                                                            encoding=encoding)
    if preview is None:
        seconds["read"] = time.perf_counter() - t0
    with ThreadPoolExecutor(max_workers=2) as pool, engine.connect() as conn, conn.begin() as tx:
        t = time.perf_counter()
        if acting_for is not None:
            establish(conn, acting_for)  # ends with this transaction
        bulk = (kind == "parcels" and not dry_run and len(source) >= bulk_threshold
                and bool(conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()))
        if bulk:
            conn.execute(sa.text(f"LOCK TABLE {', '.join(BULK_LOCKED)} IN SHARE MODE"))
            # and no other writer of parcels until this load commits: its rows reach the table with
            # the triggers off, so another writer's overlap check could not wait for them (reads go on)
            conn.execute(sa.text("LOCK TABLE land.parcels IN SHARE ROW EXCLUSIVE MODE"))
            # nothing to overlap when the table starts empty (a first load): the check after the
            # COPY is then skipped (it would scan every new row to find no earlier one)
            conn.info["gisapp.parcels_before_load"] = bool(
                conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM land.parcels)")).scalar())
        if preview is not None:
            reference = pool.submit(_load_reference_apart, engine, kind, preview, seconds)
            t_read = time.perf_counter()
            source = preview.read()
            seconds["read (meanwhile)"] = time.perf_counter() - t_read
        elif len(source) >= bulk_threshold:
            # a large file: read the reference on a second connection while this thread parses the
            # file (in a bulk import the locks above keep what it reads still until we commit)
            reference = pool.submit(_load_reference_apart, engine, kind, source, seconds)
        else:
            reference = load_reference(conn, kind, source)
        seconds["reference"] = time.perf_counter() - t
        t = time.perf_counter()
        # without --repair every geometry written passes the importer's own validity check
        streamed = bulk and not update_existing and len(source) >= 2 * chunk_rows
        early: _EarlyParcelLoad | _StreamingParcelLoad | None = None
        if streamed:
            early = _StreamingParcelLoad(conn, actor, seconds, len(source), geometry_checked=not repair)
        elif bulk:
            early = _EarlyParcelLoad(conn, actor, seconds, geometry_checked=not repair)
        try:
            if isinstance(early, _StreamingParcelLoad):
                prepared = validate_in_chunks(kind, source, reference, chunk_rows, on_chunk=early.add, crs=crs,
                                              repair=repair, min_area_m2=min_area_m2, area_tolerance=area_tolerance)
            else:
                prepared = validate(kind, source, reference, crs=crs, repair=repair, update_existing=update_existing,
                                    on_values=early.start if early else None,
                                    on_geometry=early.encode_geometry if early else None,
                                    parallel=len(source) >= bulk_threshold, min_area_m2=min_area_m2,
                                    area_tolerance=area_tolerance)
        except BaseException:
            if early is not None:
                early.cancel()
            raise
        seconds["validate"] = time.perf_counter() - t
        # the file's hash is needed only for the import log: hashed while a bulk load rebuilds its
        # indexes (the database's work alone), not while the file is checked (2 cores)
        sha = pool.submit(file_sha256, path) if not dry_run and prepared.report.ok else None
        result = ImportResult(kind, display, prepared, dry_run, seconds=seconds)
        if early is not None and early.started:
            t = time.perf_counter()
            if not prepared.report.ok:
                early.cancel()  # the last checks found errors: stop the COPY; the rollback below undoes it
            early.finish()
            early.join()
            result.reused_wkb = early.reused_wkb
            seconds["wait for load"] = time.perf_counter() - t
        if not prepared.report.ok or dry_run:
            tx.rollback()
            if not prepared.report.ok and raise_on_error:
                raise ImportRejected(result)
            return result
        t = time.perf_counter()
        try:
            if early is not None and early.error is not None:
                raise early.error
            if streamed and early.loaded != len(prepared.rows):  # every chunk was handed over when there is no error
                raise RuntimeError(f"bulk load wrote {early.loaded} of {len(prepared.rows)} parcels")
            _write(conn, result, sha.result(), actor, bulk, update_existing, crs, repair,
                   loaded=early.loaded if early is not None and early.started else None)
        except (sa.exc.DBAPIError, psycopg.Error, OverlapRefused) as exc:  # raw COPY raises psycopg's own
            tx.rollback()
            orig = getattr(exc, "orig", None) or exc
            diag = getattr(orig, "diag", None)
            message = (diag.message_primary if diag is not None and diag.message_primary
                       else str(orig or exc).splitlines()[0])
            prepared.report.add(ERROR, "database", f"the database refused the import: {message}")
            result.wrote = False
            if raise_on_error:
                raise ImportRejected(result) from None
            return result
        seconds["write"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return result


# -- reference data ---------------------------------------------------------------------------------

# A million keys travel as one text parameter split by the server: binding them as an array costs
# seconds of client-side adaptation. U+001F cannot occur in a valid key (control characters are refused).
_KEYS = "(SELECT DISTINCT unnest(string_to_array(CAST(:keys AS text), chr(31))) AS key) AS k"


def _joined(values: list[str]) -> str:
    return "\x1f".join(values)


def _matching(conn: Connection, table: str, key: str, value: str, source: Source | SourcePreview,
              mapping: dict[str, str], name: str) -> list[tuple]:
    """``(key, value)`` of the rows of ``table`` whose ``key`` the file's column ``name`` may name.

    When the table is not much larger than the file (a first load; enterprises named by most of a
    city's parcels), the whole table is read: cheaper than collecting the file's distinct keys and
    sending a million of them to join. Otherwise only the rows the file names.
    """
    if name not in mapping:
        return []
    estimate = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                            {"t": table}).scalar()
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        if estimate is not None and 0 <= estimate <= 2 * len(source):
            cur.execute(f"SELECT {key}, {value} FROM {table} WHERE {key} IS NOT NULL")
            return cur.fetchall()
        keys = _raw_values(source, mapping, name)
        if not keys:
            return []
        cur.execute(f"SELECT t.{key}, t.{value} FROM {table} t JOIN {_KEYS.replace(':keys', '%(keys)s')} "
                    f"ON k.key = t.{key}", {"keys": _joined(keys)})
        return cur.fetchall()


def _raw_values(source: Source | SourcePreview, mapping: dict[str, str], name: str) -> list[str]:
    if name not in mapping:
        return []
    if isinstance(source, SourcePreview):
        source = source.source()  # the file's values: wait until it is read
    col = source.frame[mapping[name]]
    values = col.dropna().astype("string[pyarrow]").str.strip()
    # a value with NUL cannot be a key (validation refuses it) and PostgreSQL text cannot hold it
    return values[(values != "") & ~values.str.contains("\x00", regex=False)].unique().tolist()


def _load_reference_apart(engine: Engine, kind: str, source: Source | SourcePreview,
                          seconds: dict[str, float]) -> Reference:
    t = time.perf_counter()
    with engine.connect() as conn, conn.begin():
        reference = load_reference(conn, kind, source)
    seconds["reference (meanwhile)"] = time.perf_counter() - t
    return reference


def load_reference(conn: Connection, kind: str, source: Source | SourcePreview,
                   as_of: dt.date | None = None) -> Reference:
    """The lookups ``kind`` is validated against, limited to the keys the file names."""
    as_of = as_of or dt.date.today()
    spec = KINDS[kind]
    mapping, _ = match_columns(spec, list(source.frame.columns))
    ref = Reference()
    q = conn.execute
    ref.land_use_codes = set(q(sa.text("SELECT code FROM land.land_use_codes")).scalars())
    ref.legacy_codes = {str(a).upper(): b for a, b in q(sa.text("SELECT legacy_code, code FROM land.legacy_land_use_codes"))}
    for code, zh, en in q(sa.text("SELECT code, name_zh, name_en FROM land.parcel_statuses")):
        for name in (code, zh, en):
            ref.statuses[str(name).strip().lower()] = code
    zones = q(sa.text("""
        SELECT z.id, z.code, ST_AsBinary(b.geom) AS wkb
        FROM land.zones z JOIN land.zone_boundaries b ON b.zone_id = z.id
        WHERE b.valid_from <= :d AND (b.valid_to IS NULL OR b.valid_to > :d)"""), {"d": as_of}).all()
    ref.zones = pd.DataFrame({"id": [r.id for r in zones], "code": [r.code for r in zones],
                              "geom": shapely.from_wkb([bytes(r.wkb) for r in zones]) if zones else []})
    ref.districts = pd.DataFrame(q(sa.text("SELECT id, code, name_zh, name_en FROM land.districts")).all(),
                                 columns=["id", "code", "name_zh", "name_en"])
    ref.enterprises_by_credit = dict(_matching(conn, "land.enterprises", "credit_code", "id", source, mapping,
                                               "enterprise_credit_code"))
    named = _matching(conn, "land.enterprises", "name_zh", "id", source, mapping, "enterprise_zh")
    # two plain lists, not a DataFrame of a million tuples (seconds less for a city's enterprises)
    names = [name for name, _ in named]
    ids = np.fromiter((i for _, i in named), dtype=np.int64, count=len(named))
    ids[pd.Series(names, dtype=object).duplicated(keep=False).to_numpy()] = -1  # -1: several have this name
    ref.enterprises_by_name = dict(zip(names, ids.tolist()))
    if kind == "parcels":
        ref.existing_keys = {code for code, _ in _matching(conn, "land.parcels", "code", "id", source, mapping, "code")}
        if ref.existing_keys:
            # where the stored parcels lie, for a sample of those the file names: a file whose
            # features sit a systematic ~0.5 km off them is GCJ-02 read as WGS84 (validate)
            sample = list(itertools.islice(ref.existing_keys, GCJ02_SAMPLE))
            ref.stored_centroids = pd.DataFrame(q(sa.text(
                "SELECT code, ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT code, ST_Centroid(geom) AS c FROM land.parcels "
                "WHERE code = ANY(:c)) s"), {"c": sample}).all(), columns=["code", "x", "y"])
    elif kind == "zones":
        ref.existing_keys = set(q(sa.text("SELECT code FROM land.zones")).scalars())
    elif kind == "metrics":
        codes = _raw_values(source, mapping, "parcel_code")
        frames = []
        if codes:
            frames.append(pd.DataFrame(q(sa.text(
                "SELECT id, code, enterprise_id, ST_AsBinary(geom) AS wkb FROM land.parcels WHERE code = ANY(:c)"),
                {"c": codes}).all(), columns=["id", "code", "enterprise_id", "wkb"]))
        if source.geometry is not None:
            pts = [g for g in source.geometry if g is not None and not pd.isna(g)]
            if pts:
                # locations may be GCJ-02 or projected: a generous box in lon/lat, refined in validation
                frames.append(pd.DataFrame(q(sa.text(
                    "SELECT id, code, enterprise_id, ST_AsBinary(geom) AS wkb FROM land.parcels "
                    "WHERE geom && ST_MakeEnvelope(73, 3, 136, 54, 4490) AND zone_id IN (SELECT id FROM land.zones)"
                )).all(), columns=["id", "code", "enterprise_id", "wkb"]))
        parcels = pd.concat(frames, ignore_index=True).drop_duplicates("id") if frames else pd.DataFrame(
            columns=["id", "code", "enterprise_id", "wkb"])
        parcels["geom"] = shapely.from_wkb([bytes(w) for w in parcels["wkb"]]) if len(parcels) else []
        ref.parcels = parcels.drop(columns="wkb")
        if len(parcels):
            ref.existing_keys = {(int(a), int(b), int(c)) for a, b, c in q(sa.text(
                "SELECT parcel_id, enterprise_id, year FROM land.enterprise_metrics WHERE parcel_id = ANY(:p)"),
                {"p": [int(i) for i in parcels["id"]]})}
    return ref


# -- writing ------------------------------------------------------------------------------------------

def _write(conn: Connection, result: ImportResult, sha256: str, actor: str, bulk: bool,
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
        {"zones": _write_zones, "metrics": _write_metrics}[result.kind](conn, result, actor, bulk)
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


_PARCEL_ATTRS = ["land_use_code", "legacy_land_use_code", "status", "status_since", "enterprise_id", "plot_ratio_min",
                 "plot_ratio_max", "floor_area_m2", "building_footprint_m2", "office_living_area_m2", "is_synthetic"]


def _write_parcels(conn: Connection, result: ImportResult, actor: str, bulk: bool, loaded: int | None = None,
                   repair: bool = False) -> None:
    """Write the parcels; ``loaded``: the new parcels were already bulk-loaded (``_EarlyParcelLoad``)."""
    rows = result.prepared.rows
    exists = rows["exists"].to_numpy(dtype=bool) if "exists" in rows else np.zeros(len(rows), dtype=bool)
    new, old = rows[~exists], rows[exists]
    crs_label = result.prepared.source_crs
    if bulk and (loaded is not None or len(new)):
        n = loaded
        if loaded is None:
            n, result.reused_wkb = _bulk_load_parcels(conn, new, crs_label, actor, result.seconds,
                                                      geometry_checked=not repair)
        _refuse_overlaps_with_earlier_parcels(conn)
        conn.execute(sa.text(
            "INSERT INTO audit.change_log (table_schema, table_name, row_id, action, new_row, app_user, reason) "
            "VALUES ('land', 'parcels', '*', 'BULK_LOAD', jsonb_build_object('rows', CAST(:n AS int), "
            "'import_id', CAST(:i AS bigint)), :a, current_setting('gisapp.reason', true))"),
            {"n": n, "i": result.import_id, "a": actor})
        result.bulk = True
        result.inserted = n
    elif len(new):
        n = len(new)
        cols = ["code", "zone_id", "geom", *_PARCEL_ATTRS, "source_crs"]
        is_syn = [bool(v) if v is not None else False for v in _column(new, "is_synthetic", n)]
        data = [_column(new, "code", n), [int(z) for z in new["zone_id"]], _ewkb_hex(new["geom"].to_numpy()),
                *[_column(new, c, n) for c in _PARCEL_ATTRS[:-1]], is_syn, [crs_label] * n]
        data[3 + _PARCEL_ATTRS.index("enterprise_id")] = [None if e is None else int(e)
                                                          for e in data[3 + _PARCEL_ATTRS.index("enterprise_id")]]
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


def _refuse_overlaps_with_earlier_parcels(conn: Connection) -> None:
    """A bulk load's COPY runs with the triggers off: the database's check of new parcels against
    the existing ones runs here instead, once the indexes are back (land.loaded_parcel_overlaps)."""
    if not conn.info.pop("gisapp.parcels_before_load", True):
        return
    found = conn.execute(sa.text("SELECT code, other, overlap_m2 FROM land.loaded_parcel_overlaps()")).all()
    if found:
        raise OverlapRefused("; ".join(f"parcel {code} overlaps the existing parcel {other} by {m2:,.1f} m²"
                                       for code, other, m2 in found))


class _EarlyParcelLoad:
    """The COPY of a bulk parcel import, started by ``validate(on_values=...)`` while the last checks run.

    It runs on a thread of its own on the import's connection; the importing thread does not use
    that connection again until :meth:`join`. :meth:`cancel` stops it when the checks find an error
    (the transaction is then rolled back). A COPY refused by the database is kept in ``error``.
    """

    def __init__(self, conn: Connection, actor: str, seconds: dict[str, float], geometry_checked: bool = False):
        self.conn, self.actor, self.seconds = conn, actor, seconds
        self.geometry_checked = geometry_checked
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.loaded: int | None = None
        self.cancelled = False
        self.t0 = time.perf_counter()
        self.encoded: Future | None = None
        self.reused_wkb = 0
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gisapp-import-wkb")

    @property
    def started(self) -> bool:
        return self.thread is not None

    def encode_geometry(self, geoms: np.ndarray, wkb: pa.ChunkedArray | None = None) -> None:
        """The geometries' WKB column for the COPY, on a thread of its own (GEOS releases the GIL):
        the file's bytes where ``wkb`` has them, encoded elsewhere (see :func:`_geometry_wkb`)."""
        if not pd.isna(geoms).any():  # else the file has errors: nothing will be written
            self.encoded = self._encoder.submit(_geometry_wkb, geoms, wkb)
        self._encoder.shutdown(wait=False)

    def start(self, rows: pd.DataFrame, source_crs: str, report: Report) -> None:
        self.seconds["checks before the load"] = time.perf_counter() - self.t0
        exists = rows["exists"].to_numpy(dtype=bool) if "exists" in rows else np.zeros(len(rows), dtype=bool)
        if not report.ok or exists.any():
            return  # errors already (nothing will be written), or updates too: written after the checks
        # the columns are taken here: the thread must not touch the frame while validation reads it
        columns = {c: rows[c] for c in ("code", "zone_id", "geom", "wkb", "area_m2", *_PARCEL_ATTRS) if c in rows}
        self.thread = threading.Thread(target=self._run, args=(columns, len(rows), source_crs),
                                       name="gisapp-import-copy", daemon=True)
        self.thread.start()

    def _run(self, columns: dict[str, pd.Series], n: int, source_crs: str) -> None:
        try:
            self.loaded, self.reused_wkb = _bulk_load_parcels(
                self.conn, columns, source_crs, self.actor, self.seconds, n=n, encoded=self.encoded,
                geometry_checked=self.geometry_checked)
        except BaseException as exc:  # noqa: BLE001 - handed to the importing thread
            self.error = exc

    def cancel(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.cancelled = True
            raw = self.conn.connection.driver_connection
            (getattr(raw, "cancel_safe", None) or raw.cancel)()
        self.join()

    def finish(self) -> None:
        """Nothing to say: the one COPY has all its rows (for the same calls as the streaming load)."""

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _parcel_copy_table(columns, n: int, source_crs: str, actor: str,
                       encoded: Future | None = None) -> tuple[pa.Table, int]:
    """``(table, geometries COPYed as the file's own WKB)``: the new parcels as an Arrow table for a
    binary COPY into land.parcels, built column by column (no Python object per row), each column
    in the Arrow type of its PostgreSQL type's binary form (gisapp.db.binary_copy: integer -> int32,
    numeric -> decimal128, date -> date32), geometry as plain WKB (the column's typmod gives it its
    SRID, 4490): the file's bytes where validation handed them on (column ``wkb``), encoded from
    the geometries elsewhere (:func:`_geometry_wkb`; ``encoded``: that already under way). Row
    triggers are off for the COPY, so the area on the ellipsoid is computed here (migration 0900,
    gisapp.geodesy), from the geometries."""
    def col(name: str, typ: pa.DataType) -> pa.Array:
        if name not in columns:
            return pa.nulls(n, typ)
        values = columns[name]
        if isinstance(values.dtype, pd.StringDtype):  # Arrow-backed already: no copy
            return pa.array(values.array).cast(typ)
        values = values.to_numpy(dtype=float) if typ == pa.float64() else values.to_numpy(dtype=object)
        return pa.array(values, type=typ, from_pandas=True)

    text = ["code", "land_use_code", "legacy_land_use_code", "status"]
    geoms = np.asarray(columns["geom"], dtype=object)
    wkb, reused = encoded.result() if encoded is not None else _geometry_wkb(geoms, columns.get("wkb"))
    synthetic = col("is_synthetic", pa.bool_()).fill_null(False)
    arrays = {
        **{c: col(c, pa.large_string()) for c in text[:1]},
        "zone_id": pa.array(np.asarray(columns["zone_id"], dtype=np.int32)),
        "geom": wkb,
        # measured by validation (the sliver and stated-area checks) when it was: not twice
        "area_m2": pa.array(np.asarray(columns["area_m2"], dtype=float) if "area_m2" in columns
                            else ellipsoid_area_m2(geoms)),
        **{c: col(c, pa.large_string()) for c in text[1:]},
        "status_since": col("status_since", pa.date32()),
        "enterprise_id": col("enterprise_id", pa.int32()),
        **{c: _numeric(columns[c]) if c in columns else pa.nulls(n, _NUMERIC)
           for c in ("plot_ratio_min", "plot_ratio_max")},
        **{c: col(c, pa.float64()) for c in ("floor_area_m2", "building_footprint_m2", "office_living_area_m2")},
        "is_synthetic": synthetic,
        "source_crs": pa.array(np.full(n, source_crs, dtype=object), pa.large_string()),
        "version": pa.array(np.ones(n, dtype=np.int32)),
        "updated_by": pa.array(np.full(n, actor, dtype=object), pa.large_string()),
    }
    return pa.table(arrays), reused


#: numeric columns (plot ratios, numeric(6,2)) travel with the column's scale; the server checks the precision
_NUMERIC = pa.decimal128(38, 2)


def _numeric(values: pd.Series) -> pa.Array:
    """Floats as decimals rounded as PostgreSQL rounds their text (shortest repr, half away from
    zero), so a binary COPY stores what a text COPY of the same floats stored; each distinct value
    is converted once (plot ratios repeat)."""
    codes, uniques = pd.factorize(pd.Series(values).astype(float), use_na_sentinel=True)
    cent = decimal.Decimal("0.01")
    exact = [decimal.Decimal(repr(float(u))).quantize(cent, rounding=decimal.ROUND_HALF_UP)
             if math.isfinite(u) else None for u in uniques]
    return pa.array(exact, _NUMERIC).take(pa.array(codes, pa.int64(), mask=codes < 0))


def _geometry_wkb(geoms: np.ndarray, raw) -> tuple[pa.Array, int]:
    """``(WKB of geoms as Arrow large_binary, how many are the file's bytes)``: ``raw`` (the rows'
    ``wkb`` column, Arrow large_binary, or None) where not null, GEOS's encoding of the geometry
    elsewhere. The file's bytes are the geometry validation left as read (validate._geometry), so
    they are what encoding it would send, without the 1-1.5 s per million rows that costs."""
    if raw is None:
        return _wkb_binary(geoms), 0
    if isinstance(raw, pd.Series):
        raw = raw.array
    raw = pa.array(raw)  # the Arrow array behind the column: no copy
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks() if raw.num_chunks != 1 else raw.chunk(0)
    raw = raw.cast(pa.large_binary())
    reused = len(raw) - raw.null_count
    if reused == 0:
        return _wkb_binary(geoms), 0
    if reused < len(raw):
        missing = np.asarray(raw.is_null())
        raw = pc.replace_with_mask(raw, pa.array(missing), _wkb_binary(geoms[missing]))
    return raw, reused


def _wkb_binary(geoms: np.ndarray) -> pa.Array:
    """WKB of ``geoms`` as an Arrow binary array, assembled from one buffer (not per row)."""
    wkb = shapely.to_wkb(geoms)
    lengths = np.fromiter(map(len, wkb), dtype=np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(wkb), [None, pa.py_buffer(offsets),
                                                                          pa.py_buffer(b"".join(wkb))])


def _bulk_load_parcels(conn: Connection, new, source_crs: str, actor: str, seconds: dict[str, float],
                       n: int | None = None, encoded: Future | None = None,
                       geometry_checked: bool = False) -> tuple[int, int]:
    """COPY new parcels into land.parcels with row triggers off; when the load at least doubles the
    table, its secondary indexes are dropped before and rebuilt after, and, when ``geometry_checked``
    (the importer's own validity check covers every row, see :func:`_suspend_geometry_check`), the
    geometry check is not run a second time. Returns the rows written and how many geometries were
    the file's own WKB."""
    n = len(new) if n is None else n
    undo = _bulk_begin(conn, n, geometry_checked)
    t = time.perf_counter()
    table, reused = _parcel_copy_table(new, n, source_crs, actor, encoded)
    seconds["copy: columns ready"] = time.perf_counter() - t
    copy_arrow(conn, "land.parcels", table, batch_rows=20_000)
    seconds["copy"] = time.perf_counter() - t
    _bulk_end(conn, undo, seconds)
    return n, reused


def _bulk_begin(conn: Connection, n: int, geometry_checked: bool) -> tuple[list[str], list[str]]:
    """Before a bulk COPY of ``n`` parcels: row triggers off, indexes (and the geometry check)
    dropped when the load at least doubles the table; returns what :func:`_bulk_end` puts back.

    The statement trigger that counts the parcels per zone stays on (ENABLE ALWAYS): its
    transition table costs the COPY ~2.4 s of server time for 1M parcels, which the server has
    spare while it waits for the client's chunks; switching it off and counting once afterwards
    was measured 1-1.6 s slower overall (docs/benchmarks.md)."""
    # the referenced tables are locked (import_file): the keys checked are the keys written
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    rebuild = _drop_secondary_indexes_for_large_load(conn, n)
    restore = _suspend_geometry_check(conn) if rebuild and geometry_checked else []
    return rebuild, restore


def _bulk_end(conn: Connection, undo: tuple[list[str], list[str]], seconds: dict[str, float],
              stop: Callable[[], bool] = lambda: False) -> None:
    """After a bulk COPY: the geometry check back, the indexes rebuilt (each skipped once ``stop()``
    says the import is being cancelled), row triggers on again."""
    rebuild, restore = undo
    t = time.perf_counter()
    for ddl in restore:
        conn.execute(sa.text(ddl))
    if restore:
        seconds["geometry check back"] = time.perf_counter() - t
    t = time.perf_counter()
    for ddl in rebuild:
        if stop():
            return
        t_index = time.perf_counter()
        conn.execute(sa.text(ddl))
        name = re.search(r'(?:INDEX|CONSTRAINT) "?(\w+)', ddl).group(1)
        seconds[f"index {name}"] = time.perf_counter() - t_index
    if rebuild:
        seconds["indexes"] = time.perf_counter() - t
    conn.execute(sa.text("SET LOCAL session_replication_role = origin"))


class _StreamingParcelLoad:
    """The COPY of a large bulk parcel import, fed chunk by chunk while the file is still being
    checked (:func:`~gisapp.io.validate.validate_in_chunks`): PostgreSQL parses, checks and stores
    the rows of one chunk on one core while Python checks the next on the other.

    One thread of its own COPYs on the import's connection (the importing thread does not use it
    until :meth:`join`); a second one turns each chunk into Arrow columns (WKB encoding releases
    the GIL) so that the next COPY can start as soon as the last one ends. :meth:`finish` says no
    chunk follows (the indexes are then rebuilt); :meth:`cancel` stops it when a check finds an
    error (the transaction is then rolled back). A COPY refused by the database is kept in ``error``.
    """

    def __init__(self, conn: Connection, actor: str, seconds: dict[str, float], n_total: int,
                 geometry_checked: bool = False):
        self.conn, self.actor, self.seconds = conn, actor, seconds
        self.n_total, self.geometry_checked = n_total, geometry_checked
        self.error: BaseException | None = None
        self.loaded = 0
        self.queued = 0
        self.finished = False
        self.reused_wkb = 0  # added to by the one thread that builds the chunks' tables
        self.cancelled = False
        self.t0 = time.perf_counter()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self._tables = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gisapp-import-arrow")

    @property
    def started(self) -> bool:
        return self.thread is not None

    def add(self, rows: pd.DataFrame, source_crs: str) -> None:
        """Queue a chunk's final rows for the COPY (called by the validating thread)."""
        if self.cancelled or self.error is not None:
            return
        if self.thread is None:
            self.seconds["checks before the load"] = time.perf_counter() - self.t0
            self.thread = threading.Thread(target=self._run, name="gisapp-import-copy", daemon=True)
            self.thread.start()
        # the columns are taken here: the frame is not touched again by the thread that validates it
        columns = {c: rows[c] for c in ("code", "zone_id", "geom", "wkb", "area_m2", *_PARCEL_ATTRS) if c in rows}
        self.queue.put(self._tables.submit(self._table, columns, len(rows), source_crs))
        self.queued += len(rows)
        if self.queued >= self.n_total:
            # the last chunk: the indexes are rebuilt right after its COPY, while the validating
            # thread runs the whole-file checks (duplicates, overlaps) on the other core; an error
            # they find cancels the rebuild and the import as before
            self.finish()

    def _table(self, columns: dict[str, pd.Series], n: int, source_crs: str) -> pa.Table:
        table, reused = _parcel_copy_table(columns, n, source_crs, self.actor)
        self.reused_wkb += reused
        return table

    def _run(self) -> None:
        try:
            undo = _bulk_begin(self.conn, self.n_total, self.geometry_checked)
            t, waited = time.perf_counter(), 0.0
            while not self.cancelled:
                t_wait = time.perf_counter()
                table = self.queue.get()
                if table is None:
                    break
                table = table.result()
                waited += time.perf_counter() - t_wait
                if self.cancelled:
                    return
                copy_arrow(self.conn, "land.parcels", table, batch_rows=20_000)
                self.loaded += table.num_rows
            self.seconds["copy"] = time.perf_counter() - t
            self.seconds["copy: waiting for chunks"] = waited
            if not self.cancelled:
                _bulk_end(self.conn, undo, self.seconds, stop=lambda: self.cancelled)
        except BaseException as exc:  # noqa: BLE001 - handed to the importing thread
            self.error = exc

    def finish(self) -> None:
        """No chunk follows: end the COPY and rebuild the indexes; :meth:`join` waits for it.
        Called again (by the importer, after the last chunk already did) it changes nothing."""
        if self.finished:
            return
        self.finished = True
        self.queue.put(None)
        self._tables.shutdown(wait=False)

    def cancel(self) -> None:
        self.cancelled = True
        if self.thread is not None and self.thread.is_alive():
            raw = self.conn.connection.driver_connection
            (getattr(raw, "cancel_safe", None) or raw.cancel)()
        self.finish()
        self.join()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _drop_secondary_indexes_for_large_load(conn: Connection, n_new: int) -> list[str]:
    """When the load at least doubles land.parcels, drop its plain secondary indexes (GiST, trigram
    GIN, btrees) and its unique constraints that no foreign key depends on (the parcel code), not
    the primary key, and return the statements that rebuild them after the COPY, as pg_restore
    does: building an index once is several times cheaper than a million insertions into it (a
    trigram GIN above all; the unique code index: 1.1 s to build against 3.3 s more COPY for 1M
    parcels, docs/benchmarks.md). Transactional: a failed import gets its indexes back with the
    rollback. The codes were checked against the file and the table (both locked) before; should
    one still repeat, re-adding the constraint fails and the whole import is rolled back. Readers
    of the table wait until the import commits.
    """
    existing = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    if n_new < max(existing, 1):
        return []
    defs = conn.execute(sa.text("""
        SELECT n.nspname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace
        WHERE x.indrelid = CAST('land.parcels' AS regclass) AND NOT x.indisprimary AND NOT x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""")).all()
    unique = conn.execute(sa.text("""
        SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.conrelid = CAST('land.parcels' AS regclass) AND c.contype = 'u'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
        ORDER BY c.conname""")).all()
    for schema, name, _ in defs:
        conn.execute(sa.text(f'DROP INDEX "{schema}"."{name}"'))
    for name, _ in unique:
        conn.execute(sa.text(f'ALTER TABLE land.parcels DROP CONSTRAINT "{name}"'))
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
    # the unique constraints first: a repeated code stops the import before the longer builds
    return ([f'ALTER TABLE land.parcels ADD CONSTRAINT "{name}" {definition}' for name, definition in unique]
            + [ddl for _, _, ddl in defs])


def _suspend_geometry_check(conn: Connection) -> list[str]:
    """Drop land.parcels' ``CHECK (ST_IsValid(geom))`` for a bulk COPY whose every geometry the
    importer has checked itself (GEOS ``is_valid``, the test behind ``ST_IsValid``, on the same WKB;
    an invalid one cancels the COPY and rolls the import back), and return the statements that put it
    back ``NOT VALID`` after the COPY, in the same transaction.

    Why: the check was a second run of the same test on every row, ~4 s of the server's ~19 s of
    CPU for a 1M-parcel COPY (docs/benchmarks.md). Only with the secondary indexes dropped, i.e.
    while the import holds the table's ACCESS EXCLUSIVE lock: no other transaction can write (or
    see) the table without the check, and every write after the commit is checked as before.
    ``NOT VALID`` says what is true: the database did not itself check the rows already there
    (``ALTER TABLE land.parcels VALIDATE CONSTRAINT ...`` does, at any time, without blocking writes).
    Not used with ``--repair``: the repaired geometries are not checked again by the importer.
    """
    defs = conn.execute(sa.text("""
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = CAST('land.parcels' AS regclass) AND contype = 'c'
          AND pg_get_constraintdef(oid) ILIKE 'CHECK (st_isvalid(geom))%'""")).all()
    restore = []
    for name, definition in defs:
        conn.execute(sa.text(f'ALTER TABLE land.parcels DROP CONSTRAINT "{name}"'))
        restore.append(f'ALTER TABLE land.parcels ADD CONSTRAINT "{name}" '
                       f'{definition.removesuffix(" NOT VALID")} NOT VALID')
    return restore


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
    present = [c for c in _PARCEL_ATTRS if c in old.columns and c not in defaulted]
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
