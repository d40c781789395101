"""Vector tiles as a GIS client gets them, against the raw SQL, at city scale (issue #21).

    .venv/bin/python bench/tiles_cache.py [--db gisapp_bench] [--samples 40] [--no-record]

For z12, z14 and z16 tiles centred on parcels drawn at random (fixed seed), each tile is fetched
through the route as QGIS or GDAL fetch it (``gisapp serve``, waitress in a process of its own;
HTTP Basic credentials, ``Accept-Encoding: gzip``, one kept-alive connection) and timed against
the raw ``ST_AsMVT`` of the same statement (``gisapp.queries.tiles.tile_query`` with the layer's
options: numbers cast, feature ids) on a connection of this process; the order alternates. Then
each tile again with its ``If-None-Match``: the answer must be 304, without computing the tile.
Finally a row is changed and a 304-able tile asked again: it must be 200.

Goals: route / raw SQL <= 1.5x at z14 (median); repeat requests answered 304. Recorded with
bench/record.py unless --no-record.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time

from record import record
from viewport_bench import BENCH_USER, Answer, ServedApp, centres, ms, pct, tile_at

ZOOMS = (12, 14, 16)


class BasicClient:
    """GET over one kept-alive connection with HTTP Basic credentials, as QGIS and GDAL send them."""

    def __init__(self, base: str, username: str, password: str):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        self.headers = {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
                        "Accept-Encoding": "gzip", "User-Agent": "GDAL/3.6 bench"}

    def get(self, path: str, **extra: str) -> Answer:
        self.conn.request("GET", path, headers={**self.headers, **extra})
        resp = self.conn.getresponse()
        return Answer(resp.status, resp.headers, resp.read())


def _timed(times: list[float], func, *args, **kwargs):
    t0 = time.perf_counter()
    result = func(*args, **kwargs)
    times.append(time.perf_counter() - t0)
    return result


def time_tiles(engine, client: BasicClient, points, zoom: int) -> dict:
    from gisapp.catalog.registry import get_layer
    from gisapp.queries.features import single_statement
    from gisapp.queries.tiles import TileAddress, tile_options, tile_query

    layer = get_layer("parcels")
    options = tile_options(engine, layer)
    route, raw, again, sizes, packed = [], [], [], [], []
    etags = []
    with single_statement(engine) as conn:
        for k, (lon, lat) in enumerate(points):
            z, x, y = tile_at(lon, lat, zoom)
            sql, params = tile_query(layer, TileAddress(z, x, y), options)
            path = f"/tiles/parcels/{z}/{x}/{y}.pbf"

            def raw_tile():
                return bytes(conn.execute(sql, params).scalar_one() or b"")

            if k % 2:
                data = _timed(raw, raw_tile)
                resp = _timed(route, client.get, path)
            else:
                resp = _timed(route, client.get, path)
                data = _timed(raw, raw_tile)
            assert resp.status_code in (200, 204), resp.text[:200]
            assert bool(resp.content) == bool(data), "route and raw ST_AsMVT disagree"
            sizes.append(len(data))
            packed.append(len(resp.content))
            etags.append((path, resp.headers["ETag"]))
    for path, etag in etags:
        resp = _timed(again, client.get, path, **{"If-None-Match": etag})
        assert resp.status_code == 304, f"repeat request answered {resp.status_code}, not 304"
    return {"zoom": zoom, "route": route, "raw": raw, "again": again, "bytes": sizes, "sent": packed,
            "etags": etags}


def settle(client: BasicClient, path: str, seconds: float = 120) -> None:
    """Warm up (the credentials' check, the pools) and wait until the live-findings worker that
    `gisapp serve` starts has done what was queued: its writes move every tile's ETag."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        etag = client.get(path).headers["ETag"]
        time.sleep(2)
        if client.get(path, **{"If-None-Match": etag}).status_code == 304:
            return
    raise SystemExit("the data kept changing for two minutes: no quiet moment to measure in")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_bench")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    os.environ["GISAPP_DB_NAME"] = args.db
    import sqlalchemy as sa

    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    engine = owner_engine()
    migrate(engine, get_settings().sql_dir)
    username, password, role = BENCH_USER
    try:
        find_account(engine, username)
    except NotFoundError:
        add_user(engine, username, password, role, display_name="Benchmark")
    with engine.connect() as conn:
        n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    load_before = os.getloadavg()[0]
    points = centres(engine, args.samples, args.seed)
    server = ServedApp()
    try:
        client = BasicClient(server.base, username, password)
        settle(client, "/tiles/parcels/14/13726/6690.pbf")
        runs = [time_tiles(engine, client, points, z) for z in ZOOMS]
        path, etag = runs[1]["etags"][0]
        with engine.begin() as conn:  # a committed change of a row: every tile's ETag moves
            conn.execute(sa.text("UPDATE gisapp_meta.dataset SET value = value WHERE key = 'seed'"))
        after_edit = client.get(path, **{"If-None-Match": etag}).status_code
    finally:
        server.stop()
    load_after = os.getloadavg()[0]

    lines = [f"{n_parcels:,} parcels; {args.samples} random tiles per zoom; load average {load_before:.1f} -> "
             f"{load_after:.1f} on {os.cpu_count()} cores", "",
             "| tile | route median | route p95 | raw ST_AsMVT median | raw p95 | ratio (median) | 304 median | "
             "304 p95 | bytes (median) | sent gzip (median) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for v in runs:
        lines.append(f"| z{v['zoom']} | {ms(v['route'])} ms | {pct(v['route'], 0.95) * 1000:.1f} ms | {ms(v['raw'])} ms | "
                     f"{pct(v['raw'], 0.95) * 1000:.1f} ms | "
                     f"{statistics.median(v['route']) / statistics.median(v['raw']):.2f}x | {ms(v['again'])} ms | "
                     f"{pct(v['again'], 0.95) * 1000:.1f} ms | {statistics.median(v['bytes']):,.0f} | "
                     f"{statistics.median(v['sent']):,.0f} |")
    z14 = runs[1]
    ratio = statistics.median(z14["route"]) / statistics.median(z14["raw"])
    lines += ["", f"- z14 route / raw SQL (median): {ratio:.2f}x (goal <= 1.5x)",
              f"- repeat requests: all {sum(len(v['again']) for v in runs)} answered 304, median "
              f"{ms(z14['again'])} ms at z14",
              f"- after a committed change the same If-None-Match got {after_edit} (must be 200)"]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        command = ".venv/bin/python bench/tiles_cache.py" + (f" --db {args.db}" if args.db != "gisapp_bench" else "") \
            + (f" --samples {args.samples}" if args.samples != 40 else "")
        record("tiles_cache", f"z14 tile median {ms(z14['route'])} ms, 304 {ms(z14['again'])} ms",
               f"route / raw SQL {ratio:.2f}x at z14", f"load avg {load_before:.1f} -> {load_after:.1f}", command,
               f"{n_parcels:,} synthetic parcels (`{args.db}`), `gisapp serve` in a process of its own, "
               "HTTP Basic and gzip as QGIS and GDAL send them.\n\n" + report)


if __name__ == "__main__":
    main()
