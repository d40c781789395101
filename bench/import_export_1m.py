"""Import and export of 1M parcels against ogr2ogr, side by side in one run.

    .venv/bin/python bench/import_export_1m.py [--source gisapp_bench] [--target gisapp_io_bench] [--append]

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

Prints the times and the ratios (goal: at most 1.5x ogr2ogr); ``--append`` adds them to
docs/benchmarks.md. Installs gdal-bin with apt-get when ogr2ogr is missing and we are root.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from gisapp import api
from gisapp.catalog.registry import get_layer
from gisapp.db.cluster import LocalCluster
from gisapp.db.migrate import migrate
from gisapp.io.importer import import_file
from gisapp.settings import get_settings

COPY_TABLES = ["land.districts", "land.zones", "land.zone_boundaries", "land.enterprises"]


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="gisapp_bench")
    ap.add_argument("--target", default="gisapp_io_bench")
    ap.add_argument("--workdir", default=None, help="folder for the GeoPackages (default: a temporary one)")
    ap.add_argument("--append", action="store_true", help="append the figures to docs/benchmarks.md")
    args = ap.parse_args()

    ogr2ogr = ensure_ogr2ogr()
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
    target.dispose()
    cluster.drop_database(args.target)

    r_export, r_import = t_our_export / t_ogr_export, t_our_import / t_ogr_import
    print(f"export ratio gisapp/ogr2ogr: {r_export:.2f}x   import ratio gisapp/ogr2ogr: {r_import:.2f}x "
          f"(goal <= 1.5x)")
    if args.append:
        load = os.getloadavg()[0]
        lines = [
            "",
            f"## Import and export of {n_source:,} parcels vs ogr2ogr ({dt.date.today().isoformat()})",
            "",
            ("Command: `.venv/bin/python bench/import_export_1m.py --append` (source `gisapp_bench`, "
             "target a scratch database on the same cluster; 2 cores, load average "
             f"{load:.1f} at the end of the run)."),
            "",
            "| step | ogr2ogr | gisapp | ratio |",
            "|---|---|---|---|",
            f"| export `layers.parcels` to GeoPackage | {t_ogr_export:.1f} s | {t_our_export:.1f} s | {r_export:.2f}x |",
            (f"| import GeoPackage into PostGIS | {t_ogr_import:.1f} s (plain load) | {t_our_import:.1f} s "
             f"(validated, zones assigned) | {r_import:.2f}x |"),
            "",
            f"gisapp import stages: {stages}.",
        ]
        with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        print("appended to docs/benchmarks.md")


if __name__ == "__main__":
    main()
