"""The web map at city scale: viewport endpoint, vector tiles and first drawing in Chromium,
against the 1M-parcel database ``gisapp_bench``.

    .venv/bin/python bench/viewport_bench.py [--db gisapp_bench] [--samples 40] [--no-browser] [--no-record]

Viewports are 1280 x 800 px views at zoom 12, 14 and 16 centred on parcels drawn at random (fixed
seed), so every request is a different place. For each viewport the endpoint
(``/api/layers/parcels/features``, geobuf with the map's properties, exactly what the map asks
for, over HTTP from ``gisapp serve``, i.e. waitress as deployed, started on a free port in a
process of its own; ``--server dev``: Werkzeug's development server in this process, as before)
is timed against the raw SQL of the same query (``gisapp.queries.features.viewport_query``) run
in this process on a connection of the same pool settings (held open, autocommit like the
endpoint's); the order alternates so neither gains from the other's warm cache. Same for the tiles
(``/tiles/parcels/z/x/y.pbf`` against the raw ``ST_AsMVT`` of ``gisapp.queries.tiles``).
Then headless Chromium opens the map at z14 on the densest place and the time to the first
parcels painted is taken (from the navigation start, signed in already; the page counts what it
drew, and a probe in the page notes the second animation frame after that, when the canvas shows
them).

Goals (issue 4): endpoint overhead <= 1.5x the raw SQL; p95 < 150 ms for a z14 viewport; first
parcels drawn < 3 s. The run is recorded with its command unless --no-record (bench/record.py): a
row in the History table of docs/benchmarks.md, the report under a dated heading in
docs/benchmark-runs.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

from record import record

ROOT = Path(__file__).resolve().parents[1]
VIEW_PX = (1280, 800)
ZOOMS = (12, 14, 16)
BENCH_USER = ("bench.viewer", "bench-viewer-password", "bureau_viewer")
DENSE_CENTER = (121.25, 31.25)  # densest 0.05° cell of the benchmark data (see the record)
CITY_CENTER = (121.55, 31.15)  # where the map opens: all of Shanghai at z10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def viewport(lon: float, lat: float, zoom: int):
    """The bbox of a VIEW_PX view at ``zoom`` centred on lon/lat (Web Mercator pixel sizes)."""
    from gisapp.queries.features import BBox, pixel_degrees

    dx = pixel_degrees(zoom) * VIEW_PX[0] / 2
    dy = pixel_degrees(zoom) * VIEW_PX[1] / 2 * math.cos(math.radians(lat))
    return BBox(lon - dx, lat - dy, lon + dx, lat + dy)


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def centres(engine, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` parcel centres drawn at random (deterministic for ``seed``)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT max(id) FROM land.parcels")).scalar()
        rng = random.Random(seed)
        ids = [rng.randint(1, total) for _ in range(n * 3)]
        rows = conn.execute(sa.text(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM land.parcels "
            "WHERE id = ANY(:ids) ORDER BY array_position(CAST(:ids AS bigint[]), id) LIMIT :n"),
            {"ids": ids, "n": n}).all()
    return [(float(x), float(y)) for x, y in rows]


class Answer:
    """What the benchmark reads from one HTTP answer."""

    def __init__(self, status: int, headers, content: bytes):
        self.status_code, self.headers, self.content = status, headers, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class KeepAliveClient:
    """GET over one kept-alive HTTP/1.1 connection with the session cookie, as a browser does.

    The ``requests`` library spent ~1.4 ms of Python per call in this process (measured against
    the app's /api/health), time that no browser spends and that would be counted as the
    endpoint's; the plain standard-library connection costs a tenth of that.
    """

    def __init__(self, base: str, cookies: dict[str, str], user_agent: str):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.base = base
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        # the same User-Agent as at sign-in: Flask-Login's session protection compares them
        self.headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "User-Agent": user_agent}

    def get(self, url: str) -> Answer:
        path = url.removeprefix(self.base)
        self.conn.request("GET", path, headers=self.headers)
        resp = self.conn.getresponse()
        return Answer(resp.status, resp.headers, resp.read())


class InProcessServer:
    """The app on Werkzeug's threaded development server in a thread of this process (``--server dev``)."""

    def __init__(self):
        import logging

        from werkzeug.serving import make_server

        from gisapp.web.app import create_app

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", free_port(), create_app().server, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()


class ServedApp:
    """``gisapp serve`` (waitress, as deployed) in a process of its own on a free port, on the
    database of this process's settings (GISAPP_DB_NAME is passed on in the environment)."""

    def __init__(self):
        import subprocess
        import urllib.request

        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([str(Path(sys.executable).with_name("gisapp")), "serve", "--host", "127.0.0.1",
                                      "--port", str(port)], env=os.environ.copy())
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gisapp serve did not answer on {self.base} (exit code {self.proc.returncode})")
            time.sleep(0.2)

    def stop(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()  # waitress closes on SIGTERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(engine, server_kind: str = "served"):
    """The app served on a free port, and a signed-in keep-alive client."""
    import re

    import requests

    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account

    username, password, role = BENCH_USER
    try:
        find_account(engine, username)
    except NotFoundError:
        add_user(engine, username, password, role, display_name="Benchmark")
    server = ServedApp() if server_kind == "served" else InProcessServer()
    base = server.base
    session = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(f"{base}/login").text).group(1)
    resp = session.post(f"{base}/login", data={"csrf": token, "username": username, "password": password,
                                               "next": "/"}, allow_redirects=False)
    assert resp.status_code == 302, f"bench sign-in failed: {resp.status_code}"
    return server, base, KeepAliveClient(base, session.cookies.get_dict(), session.headers["User-Agent"])


def _timed(times: list[float], func, *args):
    """Call ``func(*args)``, append its duration in seconds to ``times``, return its result."""
    t0 = time.perf_counter()
    result = func(*args)
    times.append(time.perf_counter() - t0)
    return result


def _raw_tile(conn, sql, params) -> bytes:
    return bytes(conn.execute(sql, params).scalar_one() or b"")


def time_viewports(engine, session, base: str, points, zoom: int) -> dict:
    from gisapp.catalog.registry import get_layer
    from gisapp.queries.features import run_viewport_query, single_statement, viewport_query

    layer = get_layer("parcels")
    endpoint, raw, sizes, counts, geojson_sizes, modes = [], [], [], [], [], set()
    fmt = "geobuf"  # what the map asks for, summaries included
    with single_statement(engine) as conn:
        for k, (lon, lat) in enumerate(points):
            bbox = viewport(lon, lat, zoom)
            query = viewport_query(layer, bbox, zoom, fmt=fmt, properties="style")
            url = (f"{base}/api/layers/parcels/features?bbox={bbox.minx},{bbox.miny},{bbox.maxx},{bbox.maxy}"
                   f"&zoom={zoom}&format={fmt}&properties=style")

            if k % 2:
                answer = _timed(raw, run_viewport_query, conn, query)
                resp = _timed(endpoint, session.get, url)
            else:
                resp = _timed(endpoint, session.get, url)
                answer = _timed(raw, run_viewport_query, conn, query)
            assert resp.status_code == 200, resp.text[:200]
            # same answer (row order may differ between two runs of a parallel plan)
            assert int(resp.headers["X-Feature-Count"]) == answer.count, "endpoint and raw SQL disagree"
            sizes.append(len(resp.content))
            counts.append(int(resp.headers["X-Feature-Count"]))
            modes.add(resp.headers["X-Mode"])
            if k < 5:  # what the same answer weighs as GeoJSON, for the record
                geojson_sizes.append(len(session.get(url.replace("format=geobuf", "format=geojson")).content))
    return {"zoom": zoom, "mode": "+".join(sorted(modes)), "fmt": fmt, "endpoint": endpoint, "raw": raw, "bytes": sizes,
            "features": counts, "geojson_bytes": geojson_sizes}


def time_tiles(engine, session, base: str, points, zoom: int) -> dict:
    from gisapp.catalog.registry import get_layer
    from gisapp.queries.features import single_statement
    from gisapp.queries.tiles import TileAddress, tile_query

    layer = get_layer("parcels")
    endpoint, raw, sizes = [], [], []
    with single_statement(engine) as conn:
        for k, (lon, lat) in enumerate(points):
            z, x, y = tile_at(lon, lat, zoom)
            sql, params = tile_query(layer, TileAddress(z, x, y))

            url = f"{base}/tiles/parcels/{z}/{x}/{y}.pbf"
            if k % 2:
                data = _timed(raw, _raw_tile, conn, sql, params)
                resp = _timed(endpoint, session.get, url)
            else:
                resp = _timed(endpoint, session.get, url)
                data = _timed(raw, _raw_tile, conn, sql, params)
            assert resp.status_code in (200, 204), resp.text[:200]
            # same features (their order, hence the exact bytes, may differ between two parallel plans)
            assert bool(resp.content) == bool(data), "tile endpoint and raw ST_AsMVT disagree"
            sizes.append(len(resp.content))
    return {"zoom": zoom, "endpoint": endpoint, "raw": raw, "bytes": sizes}


#: Runs in the page before its own scripts: on every animation frame, looks whether parcels are drawn
#: (gisapp.drawnCount, gisapp/web/assets/gisapp.js) and notes the time (ms since the navigation
#: started) two frames later, when the canvas has been painted with them.
PAINT_PROBE = """
(function () {
    function drawn() { return window.gisapp && gisapp.drawnCount ? gisapp.drawnCount('parcels') : 0; }
    function tick() {
        if (drawn() > 0) {
            requestAnimationFrame(function () { requestAnimationFrame(function () {
                window.__firstParcelsPainted = performance.now(); }); });
            return;
        }
        requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
})();"""


def first_parcels_in_chromium(base: str, runs: int = 3) -> dict:
    """Seconds from navigation start to the first parcels painted, and to all of the view's parcels."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import login, make_driver

    username, password, _ = BENCH_USER
    lon, lat = DENSE_CENTER
    first, complete, drawn = [], [], []
    driver = make_driver(1280, 900)
    try:
        login(driver, base, username, password)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAINT_PROBE})
        for _ in range(runs):
            driver.get("about:blank")
            t0 = time.perf_counter()
            driver.get(f"{base}/?lat={lat}&lon={lon}&zoom=14")
            t_first = None
            last_count, stable_since = -1, None
            while time.perf_counter() - t0 < 60:
                count, painted = driver.execute_script(
                    "return [window.gisapp && gisapp.drawnCount ? gisapp.drawnCount('parcels') : 0, "
                    "window.__firstParcelsPainted || null]")
                now = time.perf_counter()
                if painted and t_first is None:
                    t_first = painted / 1000
                if count != last_count:
                    last_count, stable_since = count, now
                elif t_first is not None and now - stable_since > 1.0:
                    break
                time.sleep(0.02)
            first.append(t_first if t_first is not None else float("nan"))
            # the count settled at stable_since (polled: up to one poll late), never before the first paint
            complete.append(max(stable_since - t0, t_first) if stable_since and t_first else float("nan"))
            drawn.append(last_count)
    finally:
        driver.quit()
    return {"first": first, "complete": complete, "drawn": drawn}


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_bench")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--server", choices=("served", "dev"), default="served",
                        help="served: `gisapp serve` (waitress) in a process of its own, as deployed (default); "
                             "dev: Werkzeug's threaded development server in this process (the reference before)")
    parser.add_argument("--no-migrate", action="store_true",
                        help="use the database as it is (e.g. while another migration is being written)")
    args = parser.parse_args()
    os.environ["GISAPP_DB_NAME"] = args.db
    import sqlalchemy as sa

    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    engine = owner_engine()
    if not args.no_migrate:
        migrate(engine, get_settings().sql_dir)  # the map's views, indexes and kept counts; idempotent
    with engine.connect() as conn:
        n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    load_before = os.getloadavg()[0]
    points = centres(engine, args.samples, args.seed)
    server, base, session = serve(engine, args.server)
    try:
        session.get(f"{base}/api/layers/parcels/features?bbox=121.2,31.2,121.21,31.21&zoom=16")  # warm-up
        views = [time_viewports(engine, session, base, points, z) for z in ZOOMS]
        # the densest place as well: the worst z14 view the map will ask for
        lon, lat = DENSE_CENTER
        dense = time_viewports(engine, session, base, [(lon + dx, lat + dy) for dx in (-0.004, 0, 0.004)
                                                       for dy in (-0.003, 0, 0.003)] * 2, 14)
        # all of the city at z10, as the map opens: one summary per zone
        lon, lat = CITY_CENTER
        city = time_viewports(engine, session, base, [(lon + dx, lat + dy) for dx in (-0.02, 0, 0.02)
                                                      for dy in (-0.02, 0, 0.02)] * 2, 10)
        tiles = [time_tiles(engine, session, base, points, z) for z in ZOOMS]
        browser = None if args.no_browser else first_parcels_in_chromium(base)
    finally:
        server.stop()
    load_after = os.getloadavg()[0]

    lines = []
    print(f"{n_parcels:,} parcels; {args.samples} random viewports of {VIEW_PX[0]}x{VIEW_PX[1]} px per zoom; "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    header = ("| viewport | answer | features (median) | endpoint median | endpoint p95 | raw SQL median | "
              "raw SQL p95 | ratio (median) | ratio (p95) | bytes (median) | same as GeoJSON |")
    lines += [header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, v in [(f"z{v['zoom']} random", v) for v in views] + [("z14 densest", dense), ("z10 city-wide", city)]:
        row = (f"| {name} | {v['mode']} {v['fmt']} | {statistics.median(v['features']):,.0f} | {ms(v['endpoint'])} ms | "
               f"{pct(v['endpoint'], 0.95) * 1000:.1f} ms | {ms(v['raw'])} ms | {pct(v['raw'], 0.95) * 1000:.1f} ms | "
               f"{statistics.median(v['endpoint']) / statistics.median(v['raw']):.2f}x | "
               f"{pct(v['endpoint'], 0.95) / pct(v['raw'], 0.95):.2f}x | {statistics.median(v['bytes']):,.0f} | "
               f"{statistics.median(v['geojson_bytes']):,.0f} |")
        lines.append(row)
    lines += ["", "| tile | endpoint median | endpoint p95 | raw ST_AsMVT median | raw p95 | ratio (median) | bytes (median) |",
              "|---|---|---|---|---|---|---|"]
    for v in tiles:
        lines.append(f"| z{v['zoom']} | {ms(v['endpoint'])} ms | {pct(v['endpoint'], 0.95) * 1000:.1f} ms | "
                     f"{ms(v['raw'])} ms | {pct(v['raw'], 0.95) * 1000:.1f} ms | "
                     f"{statistics.median(v['endpoint']) / statistics.median(v['raw']):.2f}x | "
                     f"{statistics.median(v['bytes']):,.0f} |")
    z14 = next(v for v in views if v["zoom"] == 14)

    def ratio(v: dict) -> str:
        return f"{statistics.median(v['endpoint']) / statistics.median(v['raw']):.2f}x"

    goals = [
        ("endpoint overhead (median, endpoint / raw SQL): viewports "
         + ", ".join(f"z{v['zoom']} {ratio(v)}" for v in views) + "; tiles "
         + ", ".join(f"z{v['zoom']} {ratio(v)}" for v in tiles) + " (goal <= 1.5x)"),
        (f"z14 endpoint p95: random {pct(z14['endpoint'], 0.95) * 1000:.0f} ms, densest "
         f"{pct(dense['endpoint'], 0.95) * 1000:.0f} ms (goal < 150 ms)"),
        (f"all of the city at z10 ({statistics.median(city['features']):,.0f} parcels in one summary per zone): "
         f"endpoint median {ms(city['endpoint'])} ms, p95 {pct(city['endpoint'], 0.95) * 1000:.0f} ms"),
    ]
    if browser:
        goals.append(f"first parcels painted in Chromium (z14, densest place, {len(browser['first'])} loads): median "
                     f"{statistics.median(browser['first']):.2f} s, all {statistics.median(browser['drawn']):,.0f} "
                     f"parcels of the view drawn after {statistics.median(browser['complete']):.2f} s (goal < 3 s)")
    lines += [""] + [f"- {g}" for g in goals]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        figure = (f"z14 viewport p95 {pct(z14['endpoint'], 0.95) * 1000:.0f} ms "
                  f"(densest {pct(dense['endpoint'], 0.95) * 1000:.0f} ms)")
        if browser:
            figure += f"; first paint {statistics.median(browser['first']):.2f} s"
        record_run(report, args, n_parcels, load_before, load_after, figure,
                   "endpoint / raw SQL (median): viewports " + " / ".join(ratio(v) for v in views)
                   + ", tiles " + " / ".join(ratio(v) for v in tiles) + f" (z{' / z'.join(str(z) for z in ZOOMS)})")


def record_run(report: str, args, n_parcels: int, load_before: float, load_after: float, figure: str,
               ratios: str) -> None:
    """The run in docs/benchmarks.md (History) and its report in docs/benchmark-runs.md."""
    command = ".venv/bin/python bench/viewport_bench.py" + (f" --db {args.db}" if args.db != "gisapp_bench" else "") \
        + (f" --samples {args.samples}" if args.samples != 40 else "") + (" --no-browser" if args.no_browser else "") \
        + (" --server dev" if args.server != "served" else "") + (" --no-migrate" if args.no_migrate else "")
    served = ("`gisapp serve`: waitress in a process of its own" if args.server == "served"
              else "Werkzeug's threaded development server in the benchmark's process")
    details = (f"{n_parcels:,} synthetic parcels (`{args.db}`); load average {load_before:.1f} at the start, "
               f"{load_after:.1f} at the end, on {os.cpu_count()} cores. Endpoint = HTTP request ({served}, "
               "signed-in session, one kept-alive connection); raw = the same SQL in the benchmark's "
               "process on a connection of its own; the two alternate per viewport.\n\n" + report)
    note = f"load avg {load_before:.1f} -> {load_after:.1f}" + ("" if args.server == "served" else "; --server dev")
    record("viewport_bench", figure, ratios, note, command, details)


if __name__ == "__main__":
    main()
