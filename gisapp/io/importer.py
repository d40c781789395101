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

The parts: this module runs an import (read, reference, validate, write, all or nothing) and
reads the reference data; gisapp.io.bulk_load holds the bulk loaders, gisapp.io.import_writers
what writes each kind, gisapp.io.validate the checks.

Example:
    >>> result = import_file(get_engine(), "parcels", "survey.gpkg", crs="EPSG:4549", dry_run=True)  # doctest: +SKIP
    >>> print(result.report.text())  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.context import Actor, establish
from gisapp.errors import InputError
from gisapp.gc_pause import gc_paused
from gisapp.io.bulk_load import (
    EarlyParcelLoad,
    StreamingParcelLoad,
    drop_secondary_indexes_for_large_load,
    geometry_wkb,
)
from gisapp.io.fields import KINDS, match_columns, wanted_columns
from gisapp.io.import_writers import OverlapRefused, write_import
from gisapp.io.readers import Source, SourcePreview, preview_source, read_source
from gisapp.io.report import ERROR
from gisapp.io.validate import (
    AREA_TOLERANCE,
    MIN_PARCEL_AREA_M2,
    CheckOptions,
    LoadHooks,
    Prepared,
    Reference,
    validate,
    validate_in_chunks,
)

__all__ = ["ImportRejected", "ImportResult", "drop_secondary_indexes_for_large_load", "geometry_wkb", "import_file",
           "load_reference"]

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
    """Import ``path`` as ``kind`` (parcels, zones, metrics, districts); see the module docstring.

    Raises ImportRejected (an InputError whose message is the report) when the file has errors,
    unless ``raise_on_error`` is False (the web page shows the report itself). ``acting_for`` runs
    the writing transaction as the request role with that user's verified context (the web page
    imports for the signed-in admin, so row-level security applies as to any edit). A bulk import of at least two ``chunk_rows`` new parcels
    is checked and COPYed chunk by chunk (see :class:`StreamingParcelLoad`). ``encoding`` names
    the text encoding of a Shapefile's table or a CSV file (else found: see
    :func:`gisapp.io.readers.read_source`); ``crs``, ``repair``, ``update_existing``, ``min_area_m2``
    and ``area_tolerance`` as in :class:`gisapp.io.validate.CheckOptions`.
    """
    if kind not in KINDS:
        raise InputError(f"unknown import kind {kind!r}; choose one of {', '.join(KINDS)}")
    options = CheckOptions(crs=crs, repair=repair, update_existing=update_existing, min_area_m2=min_area_m2,
                           area_tolerance=area_tolerance)
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
        early: EarlyParcelLoad | StreamingParcelLoad | None = None
        if streamed:
            early = StreamingParcelLoad(conn, actor, seconds, len(source), geometry_checked=not repair)
        elif bulk:
            early = EarlyParcelLoad(conn, actor, seconds, geometry_checked=not repair)
        try:
            if isinstance(early, StreamingParcelLoad):
                prepared = validate_in_chunks(kind, source, reference, chunk_rows, on_chunk=early.add,
                                              options=options)
            else:
                prepared = validate(kind, source, reference, options,
                                    LoadHooks(on_values=early.start if early else None,
                                              on_geometry=early.encode_geometry if early else None,
                                              parallel=len(source) >= bulk_threshold))
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
            write_import(conn, result, sha.result(), actor, bulk, update_existing, crs, repair,
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
    elif kind == "districts":
        ref.existing_keys = set(q(sa.text("SELECT code FROM land.districts")).scalars())
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
