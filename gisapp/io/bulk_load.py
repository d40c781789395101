"""Bulk loads of parcels, as pg_restore loads: row triggers off, the new rows COPYed in binary
(Arrow, column by column), secondary indexes dropped before and rebuilt after a load that at
least doubles the table. Either in one COPY started while the last checks run
(:class:`EarlyParcelLoad`) or chunk by chunk while the file is still being checked
(:class:`StreamingParcelLoad`). Only the tables' owner may switch triggers off; the database's
checks that triggers would run are made by the importer (gisapp.io.import_writers and
gisapp.io.validate). See gisapp.io.importer for the whole import.
"""

from __future__ import annotations

import decimal
import math
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gisapp.db.binary_copy import copy_arrow
from gisapp.geodesy import ellipsoid_area_m2
from gisapp.io.report import Report

PARCEL_ATTRS = ["land_use_code", "legacy_land_use_code", "status", "status_since", "enterprise_id", "plot_ratio_min",
                 "plot_ratio_max", "floor_area_m2", "building_footprint_m2", "office_living_area_m2", "is_synthetic"]


class EarlyParcelLoad:
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
        the file's bytes where ``wkb`` has them, encoded elsewhere (see :func:`geometry_wkb`)."""
        if not pd.isna(geoms).any():  # else the file has errors: nothing will be written
            self.encoded = self._encoder.submit(geometry_wkb, geoms, wkb)
        self._encoder.shutdown(wait=False)

    def start(self, rows: pd.DataFrame, source_crs: str, report: Report) -> None:
        self.seconds["checks before the load"] = time.perf_counter() - self.t0
        exists = rows["exists"].to_numpy(dtype=bool) if "exists" in rows else np.zeros(len(rows), dtype=bool)
        if not report.ok or exists.any():
            return  # errors already (nothing will be written), or updates too: written after the checks
        # the columns are taken here: the thread must not touch the frame while validation reads it
        columns = {c: rows[c] for c in ("code", "zone_id", "geom", "wkb", "area_m2", *PARCEL_ATTRS) if c in rows}
        self.thread = threading.Thread(target=self._run, args=(columns, len(rows), source_crs),
                                       name="gisapp-import-copy", daemon=True)
        self.thread.start()

    def _run(self, columns: dict[str, pd.Series], n: int, source_crs: str) -> None:
        try:
            self.loaded, self.reused_wkb = bulk_load_parcels(
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


def parcel_copy_table(columns, n: int, source_crs: str, actor: str,
                       encoded: Future | None = None) -> tuple[pa.Table, int]:
    """``(table, geometries COPYed as the file's own WKB)``: the new parcels as an Arrow table for a
    binary COPY into land.parcels, built column by column (no Python object per row), each column
    in the Arrow type of its PostgreSQL type's binary form (gisapp.db.binary_copy: integer -> int32,
    numeric -> decimal128, date -> date32), geometry as plain WKB (the column's typmod gives it its
    SRID, 4490): the file's bytes where validation handed them on (column ``wkb``), encoded from
    the geometries elsewhere (:func:`geometry_wkb`; ``encoded``: that already under way). Row
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
    wkb, reused = encoded.result() if encoded is not None else geometry_wkb(geoms, columns.get("wkb"))
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


def geometry_wkb(geoms: np.ndarray, raw) -> tuple[pa.Array, int]:
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


def bulk_load_parcels(conn: Connection, new, source_crs: str, actor: str, seconds: dict[str, float],
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
    table, reused = parcel_copy_table(new, n, source_crs, actor, encoded)
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
    was measured 1-1.6 s slower overall (docs/benchmark-runs.md)."""
    # the referenced tables are locked (import_file): the keys checked are the keys written
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    rebuild = drop_secondary_indexes_for_large_load(conn, n)
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


class StreamingParcelLoad:
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
        columns = {c: rows[c] for c in ("code", "zone_id", "geom", "wkb", "area_m2", *PARCEL_ATTRS) if c in rows}
        self.queue.put(self._tables.submit(self._table, columns, len(rows), source_crs))
        self.queued += len(rows)
        if self.queued >= self.n_total:
            # the last chunk: the indexes are rebuilt right after its COPY, while the validating
            # thread runs the whole-file checks (duplicates, overlaps) on the other core; an error
            # they find cancels the rebuild and the import as before
            self.finish()

    def _table(self, columns: dict[str, pd.Series], n: int, source_crs: str) -> pa.Table:
        table, reused = parcel_copy_table(columns, n, source_crs, self.actor)
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


def drop_secondary_indexes_for_large_load(conn: Connection, n_new: int) -> list[str]:
    """When the load at least doubles land.parcels, drop its plain secondary indexes (GiST, trigram
    GIN, btrees) and its unique constraints that no foreign key depends on (the parcel code), not
    the primary key, and return the statements that rebuild them after the COPY, as pg_restore
    does: building an index once is several times cheaper than a million insertions into it (a
    trigram GIN above all; the unique code index: 1.1 s to build against 3.3 s more COPY for 1M
    parcels, docs/benchmark-runs.md). Transactional: a failed import gets its indexes back with the
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
    CPU for a 1M-parcel COPY (docs/benchmark-runs.md). Only with the secondary indexes dropped, i.e.
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
