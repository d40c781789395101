"""Import and export of 1M parcels against ogr2ogr, side by side in one run.

    .venv/bin/python bench/import_export_1m.py [--source gisapp_bench] [--target gisapp_import_bench] [--append]

Source: the city-scale database (``gisapp_bench``, 1M synthetic parcels; made by
``GISAPP_DB_NAME=gisapp_bench gisapp load-demo --parcels 1000000 --replace``). Target: a scratch
database of this script (created, migrated, given the source's districts, zones, boundaries and
enterprises; dropped at the end).

1. Export: ``gisapp.api.export("parcels", ...)`` to GeoPackage vs ``ogr2ogr -f GPKG`` of the same
   view and columns.
2. Import: ``gisapp import parcels`` of that GeoPackage (reading, validation, zone assignment by
   point-in-boundary, duplicate and code checks, the write with the table's indexes and
   constraints) vs ``ogr2ogr``'s plain load of the same file into a new table (GiST index, COPY)
   in the same target database.
3. The table's own cost (``--no-floor`` skips it): the rows just imported, COPYed back (binary,
   nothing for PostgreSQL to parse but the values) into the emptied ``land.parcels`` with the
   same bulk settings, and its secondary indexes rebuilt, rolled back. No loader that keeps the
   table's constraints (``ST_IsValid``, unique codes), its ellipsoidal area (supplied by the loader
   since migration 0900) and indexes can be faster than this on the same server; its ratio to
   ogr2ogr bounds the import's.

Prints the times and the ratios (goal: at most 1.5x ogr2ogr); ``--append`` records the run
(bench/record.py): a row in the History table of docs/benchmarks.md, the printed report with the
run's row of the import/export table in docs/benchmark-runs.md. Installs gdal-bin with apt-get when
ogr2ogr is missing and we are root.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from record import captured, command_line, fenced, record

from gisapp import api
from gisapp.catalog.registry import get_layer
from gisapp.db.cluster import LocalCluster
from gisapp.db.migrate import migrate
from gisapp.io.importer import drop_secondary_indexes_for_large_load, import_file
from gisapp.settings import get_settings

#: the columns of the run's row, as in the import/export table of docs/benchmark-runs.md
TABLE_HEADER = (
    "| date | load average (start / end) | export ogr2ogr | export gisapp | ratio | import ogr2ogr (plain load) | "
    "import gisapp (validated, zones assigned) | ratio | the table's own cost (binary COPY + indexes) | "
    "gisapp import stages |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)
COPY_TABLES = ["land.districts", "land.zones", "land.zone_boundaries", "land.enterprises"]
PARCEL_COLUMNS = ("code, zone_id, geom, area_m2, land_use_code, legacy_land_use_code, status, status_since, enterprise_id, "
                  "plot_ratio_min, plot_ratio_max, floor_area_m2, building_footprint_m2, office_living_area_m2, "
                  "is_synthetic, source_crs, version, updated_by")


def ensure_ogr2ogr() -> str:
    found = shutil.which("ogr2ogr")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("ogr2ogr is missing: install the Debian package gdal-bin (apt-get install gdal-bin)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "gdal-bin"], check=True)
    return shutil.which("ogr2ogr") or sys.exit("apt-get did not install ogr2ogr")


def pg_conn(settings, db: str) -> str:
    return f"PG:host=127.0.0.1 port={settings.db_port} user={settings.db_superuser} dbname={db}"


def timed(label: str, fn):
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<46} {seconds:8.1f} s", flush=True)
    return seconds, out


def prepare_target(settings, cluster: LocalCluster, source: str, target: str) -> sa.Engine:
    cluster.drop_database(target)
    cluster.create_database(target)
    engine = sa.create_engine(cluster.url(target))
    migrate(engine, settings.sql_dir)
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(settings.db_port), PGUSER=settings.db_superuser)
    dump = subprocess.Popen(["pg_dump", "-d", source, "--data-only", "--disable-triggers",
                             *[a for t in COPY_TABLES for a in ("-t", t)]], stdout=subprocess.PIPE, env=env)
    subprocess.run(["psql", "-q", "-d", target], stdin=dump.stdout, check=True, env=env, stdout=subprocess.DEVNULL)
    dump.wait()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return engine


def table_floor(engine: sa.Engine) -> tuple[float, float]:
    """Seconds PostgreSQL itself takes to COPY the stored parcels back into the emptied
    land.parcels (binary, bulk settings as the import's) and to rebuild its secondary indexes;
    rolled back, so the table is left as it was."""
    buf = io.BytesIO()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY (SELECT {PARCEL_COLUMNS} FROM land.parcels) TO STDOUT "
                                           "(FORMAT binary)") as copy:
            for chunk in copy:
                buf.write(chunk)
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(sa.text("SET LOCAL client_min_messages = warning"))
        conn.execute(sa.text("TRUNCATE land.parcels CASCADE"))
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        rebuild = drop_secondary_indexes_for_large_load(conn, 1)
        raw = conn.connection.driver_connection
        start = time.perf_counter()
        with raw.cursor() as cur, cur.copy(f"COPY land.parcels ({PARCEL_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
            view = buf.getbuffer()
            for i in range(0, len(view), 1 << 20):
                copy.write(view[i:i + (1 << 20)])
        t_copy = time.perf_counter() - start
        start = time.perf_counter()
        for ddl in rebuild:
            conn.execute(sa.text(ddl))
        t_index = time.perf_counter() - start
        tx.rollback()
    return t_copy, t_index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="gisapp_bench")
    ap.add_argument("--target", default="gisapp_import_bench")
    ap.add_argument("--workdir", default=None, help="folder for the GeoPackages (default: a temporary one)")
    ap.add_argument("--append", action="store_true",
                    help="record the run in docs/benchmarks.md and docs/benchmark-runs.md")
    ap.add_argument("--no-floor", action="store_true", help="skip measuring the table's own cost")
    args = ap.parse_args()

    with captured() as printed:
        ogr2ogr = ensure_ogr2ogr()
        load_start = os.getloadavg()
        settings = get_settings()
        cluster = LocalCluster(settings)
        cluster.up()
        source = sa.create_engine(cluster.url(args.source))
        with source.connect() as conn:
            n_source = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
        work = Path(args.workdir or tempfile.mkdtemp(prefix="gisapp-bench-io-"))
        work.mkdir(parents=True, exist_ok=True)
        layer = get_layer("parcels")
        columns = ", ".join(f'"{c}"' for c in dict.fromkeys([layer.id_field, *layer.field_names]))
        ours_gpkg, ogr_gpkg = work / "parcels_gisapp.gpkg", work / "parcels_ogr2ogr.gpkg"
        for p in (ours_gpkg, ogr_gpkg):
            p.unlink(missing_ok=True)

        print(f"export of {n_source:,} parcels (layers.parcels, {len(layer.field_names)} fields) to GeoPackage")
        t_ogr_export, _ = timed("ogr2ogr -f GPKG", lambda: subprocess.run(
            [ogr2ogr, "-f", "GPKG", str(ogr_gpkg), pg_conn(settings, args.source), "-sql",
             f"SELECT {columns}, geom FROM layers.parcels", "-nln", "parcels"], check=True))
        t_our_export, _ = timed("gisapp export (api.export)", lambda: api.export("parcels", ours_gpkg, engine=source))

        print(f"import of {n_source:,} parcels from GeoPackage into a scratch database ({args.target})")
        target = prepare_target(settings, cluster, args.source, args.target)
        t_ogr_import, _ = timed("ogr2ogr plain load (COPY, GiST index)", lambda: subprocess.run(
            [ogr2ogr, "-f", "PostgreSQL", pg_conn(settings, args.target), str(ours_gpkg), "parcels",
             "-nln", "public.ogr_parcels", "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST",
             "--config", "PG_USE_COPY", "YES"], check=True))
        with target.begin() as conn:
            conn.execute(sa.text("DROP TABLE public.ogr_parcels"))
        t_our_import, result = timed("gisapp import parcels (validated, zones assigned)",
                                     lambda: import_file(target, "parcels", ours_gpkg))
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items() if k != "total")
        print(f"    imported {result.inserted:,} parcels (bulk={result.bulk}); stages: {stages}")
        with target.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
        assert stored == n_source == result.inserted, (stored, n_source, result.inserted)
        floor = None
        if not args.no_floor:
            _, floor = timed("the table's own cost (binary COPY + indexes)", lambda: table_floor(target))
            print(f"    COPY {floor[0]:.1f} s, secondary indexes {floor[1]:.1f} s")
        load_end = os.getloadavg()
        target.dispose()
        cluster.drop_database(args.target)

        r_export, r_import = t_our_export / t_ogr_export, t_our_import / t_ogr_import
        print(f"export ratio gisapp/ogr2ogr: {r_export:.2f}x   import ratio gisapp/ogr2ogr: {r_import:.2f}x "
              f"(goal <= 1.5x)")
        floor_text = "-"
        if floor is not None:
            floor_text = f"{sum(floor):.1f} s = {sum(floor) / t_ogr_import:.2f}x (COPY {floor[0]:.1f}, indexes {floor[1]:.1f})"
            print(f"the table's own cost / ogr2ogr: {sum(floor) / t_ogr_import:.2f}x")
    if args.append:
        row = (f"| {dt.date.today().isoformat()} | {load_start[0]:.1f} / {load_end[0]:.1f} | {t_ogr_export:.1f} s | "
               f"{t_our_export:.1f} s | {r_export:.2f}x | {t_ogr_import:.1f} s | {t_our_import:.1f} s | {r_import:.2f}x | "
               f"{floor_text} | {stages} |")
        floor_ratio = "" if floor is None else f"; the table's own cost {sum(floor) / t_ogr_import:.2f}x"
        record(
            "import_export_1m",
            (f"import {t_our_import:.1f} s vs ogr2ogr {t_ogr_import:.1f} s; "
             f"export {t_our_export:.1f} s vs ogr2ogr {t_ogr_export:.1f} s"),
            f"import {r_import:.2f}x, export {r_export:.2f}x ogr2ogr{floor_ratio}",
            f"load avg {load_start[0]:.1f} / {load_end[0]:.1f}",
            command_line("import_export_1m.py", sys.argv[1:], drop=["--append"]),
            TABLE_HEADER + "\n" + row + "\n\n" + fenced(printed.getvalue()),
        )


if __name__ == "__main__":
    main()
