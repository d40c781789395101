"""Time the synthetic city-scale dataset: build (numpy/shapely) and load (COPY) 1M parcels.

    .venv/bin/python bench/load_demo_1m.py [--parcels 1000000] [--db gisapp_loadbench]

Reference in the same run: PostgreSQL's own binary COPY of the loaded parcels back into a table
of the same definition (constraints, generated area, GiST index): what the database alone needs
for the biggest table, without generating anything.
Loads into a scratch database on the private cluster, then drops it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import sqlalchemy as sa


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--db", default="gisapp_loadbench")
    args = parser.parse_args()
    os.environ["GISAPP_DB_NAME"] = args.db
    from gisapp.db.cluster import LocalCluster
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import build_dataset, load_demo
    from gisapp.settings import get_settings

    settings = get_settings()
    cluster = LocalCluster(settings)
    cluster.up()
    cluster.drop_database(args.db)
    cluster.create_database(args.db)
    engine = owner_engine()
    migrate(engine, settings.sql_dir)

    t0 = time.perf_counter()
    frames = build_dataset(args.parcels)
    t_build = time.perf_counter() - t0
    del frames
    t0 = time.perf_counter()
    summary = load_demo(engine, total_parcels=args.parcels, replace=True)
    t_total = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp, engine.begin() as conn:
        raw = conn.connection.driver_connection
        path = os.path.join(tmp, "parcels.copy")
        with open(path, "wb") as out, raw.cursor() as cur, cur.copy("COPY land.parcels TO STDOUT (FORMAT binary)") as cp:
            for block in cp:
                out.write(block)
        conn.execute(sa.text("CREATE TEMP TABLE parcels_copy (LIKE land.parcels INCLUDING ALL)"))
        t0 = time.perf_counter()
        with open(path, "rb") as src, raw.cursor() as cur, \
                cur.copy("COPY parcels_copy FROM STDIN (FORMAT binary)") as cp:
            while block := src.read(1 << 20):
                cp.write(block)
        t_ref = time.perf_counter() - t0
    engine.dispose()
    cluster.drop_database(args.db)
    print(summary)
    print(f"build {t_build:.1f} s; build + load of all tables {t_total:.1f} s")
    print(f"reference: binary COPY of the parcels table alone {t_ref:.1f} s; ratio {t_total / t_ref:.1f}x")


if __name__ == "__main__":
    main()
