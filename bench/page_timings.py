"""Page timings in real headless Chromium on the demo data, signed in: how long the map takes to
draw its first parcels and the dashboard (all zones) to render its charts and tables.

    .venv/bin/python bench/page_timings.py [--runs 5] [--db gisapp_page_bench] [--server served|dev] [--no-record]

Measured from the navigation's start (``performance.timeOrigin`` of the page) in the page itself:
a script installed before the page's own (``Page.addScriptToEvaluateOnNewDocument``) looks on every
animation frame and notes ``performance.now()`` when

- map, default view (``/``: all of Shanghai at zoom 10, the parcels layer as zone summaries) and
  map, one zone (``/?lat=..&lon=..&zoom=15`` on Waigaoqiao, single parcels): ``gisapp.shown('parcels')``
  (gisapp/web/assets/gisapp.js) first returns features. Leaflet paints its canvas on the next
  animation frame, so the figure is at most one frame (~17 ms) early of the paint;
- dashboard, all zones (``/dashboard?zone=all``): the key figures (``#dash-kpis``) and every
  section of ``gisapp.queries.dashboard.DATASETS`` are there, each chart (``#dash-graph-<name>``)
  has drawn its Plotly traces and each table (``#dash-grid-<name>``) its rows.

Goals: map first parcels < 1 s, dashboard all zones < 2 s. Reference in the same run, in the same
browser and session: the sign-in page (``/login``, a plain HTML page from the same server: no Dash,
no data) from navigation start to the end of its load event. The ratio (page / reference, medians)
is what the app adds to what any page of this server costs. Each run opens the four pages in turn
(reference, map default, map zone, dashboard) from ``about:blank``, after ``--warmup`` runs that
are not counted (the browser's cache of the scripts, the server's first queries).

The server is ``gisapp serve`` (waitress, as deployed, with its live-findings worker) in a process
of its own on a free 127.0.0.1 port (``--server dev``: Werkzeug's threaded server in this process),
against its own database (created with the demo data and one assessment when missing, then
reused), never the demo or test database. The run is recorded with its command unless
--no-record (bench/record.py): a row in the History table of docs/benchmarks.md, the report under a
dated heading in docs/benchmark-runs.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from record import captured, command_line, fenced, record
from viewport_bench import InProcessServer, ServedApp

ROOT = Path(__file__).resolve().parents[1]
BENCH_USER = ("bench.pages", "bench-pages-password", "bureau_viewer")
WAIT_SECONDS = 60
GOALS = {"map_default": 1.0, "map_zone": 1.0, "dashboard": 2.0}
# the zone the "one zone" view opens on (its parcels drawn one by one at zoom 15)
ZONE_VIEW_SQL = """
    SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c FROM layers.parcels
    WHERE zone_code = 'waigaoqiao_ftz') s"""

#: Runs in each page before its own scripts; notes (ms since the navigation started) when the map
#: has drawn parcels or the dashboard has rendered every section, checking once per animation frame.
PROBE = """
(function () {
    const bench = window.__bench = {};
    const sections = %(sections)d;
    function parcels() {
        return window.gisapp && gisapp.shown ? gisapp.shown('parcels').length : 0;
    }
    function all(selector, inner) {
        const content = document.getElementById('dash-content');
        for (const g of content.querySelectorAll(selector)) { if (!g.querySelector(inner)) { return false; } }
        return true;
    }
    function dashboardParts(now) {
        const content = document.getElementById('dash-content');
        if (!content || !document.getElementById('dash-kpis')) { return false; }
        if (content.querySelectorAll('.dash-section').length < sections) { return false; }
        if (bench.content === undefined) { bench.content = now; }
        if (bench.graphs === undefined && all('[id^="dash-graph-"]', '.main-svg .trace')) { bench.graphs = now; }
        if (bench.grids === undefined && all('[id^="dash-grid-"]', '.ag-row')) { bench.grids = now; }
        return bench.graphs !== undefined && bench.grids !== undefined;
    }
    const dashboard = location.pathname.startsWith('/dashboard');
    const map = location.pathname === '/';
    if (!dashboard && !map) { return; }
    function tick() {
        const now = performance.now();
        if (map) {
            const n = parcels();
            if (n > 0) {
                bench.done = now; bench.count = n;
                bench.aggregates = gisapp.drawnCount('parcels', true);
                return;
            }
        } else {
            if (dashboardParts(now)) { bench.done = now; return; }
        }
        requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
})();"""


def prepare(db: str):
    """The bench database (demo data, findings, nothing queued) and the account; the owner's engine."""
    import sqlalchemy as sa
    from edit_load import prepare_database

    from gisapp.db.engine import assessor_engine
    from gisapp.demo import DEMO_AS_OF
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account
    from gisapp.rules.assess import run_assessment
    from gisapp.rules.worker import run_once

    engine = prepare_database(db)
    with engine.connect() as conn:
        assessed = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM rules.current_findings)")).scalar()
    if not assessed:
        run_assessment(assessor_engine(), DEMO_AS_OF)
    while run_once(assessor_engine()) is not None:  # what the load queued: not left to the served worker
        pass
    name, password, role = BENCH_USER
    try:
        find_account(engine, name)
    except NotFoundError:
        add_user(engine, name, password, role, display_name="Benchmark")
    return engine


def time_probe(driver, url: str) -> dict:
    """Open ``url`` from about:blank; seconds from navigation start to what the probe waits for."""
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        bench = driver.execute_script("return window.__bench && window.__bench.done ? window.__bench : null")
        if bench:
            if "/login" in driver.current_url:
                raise SystemExit(f"{url} sent the browser to the sign-in page: the session was lost")
            # the slowest answer of the app's data requests (Dash callbacks, the map's feature
            # fetches), start to end, as the browser saw it: what the server's side of the wait was
            slowest = driver.execute_script(
                "return Math.max(0, ...performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('/_dash-update-component') || e.name.includes('/api/layers/'))"
                ".filter(e => e.responseEnd <= arguments[0]).map(e => e.responseEnd - e.startTime))", bench["done"])
            return {"seconds": bench["done"] / 1000, "count": bench.get("count"),
                    "aggregates": bench.get("aggregates"),
                    **{part: bench[part] / 1000 if bench.get(part) else None for part in ("content", "graphs", "grids")},
                    "slowest_request": slowest / 1000}
        time.sleep(0.05)
    raise SystemExit(f"{url}: nothing drawn within {WAIT_SECONDS} s ({driver.current_url})")


def time_reference(driver, url: str) -> dict:
    """Open ``url`` from about:blank; seconds from navigation start to the end of its load event
    (``driver.get`` returns after it)."""
    driver.get("about:blank")
    driver.get(url)
    end = driver.execute_script("const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : 0")
    return {"seconds": end / 1000}


def run(base: str, zone_view: tuple[float, float], runs: int, warmup: int, sections: int) -> dict[str, list[dict]]:
    from tests.browser.conftest import make_driver
    from tests.signin import sign_in

    lon, lat = zone_view
    pages = {
        "reference": (time_reference, f"{base}/login"),
        "map_default": (time_probe, f"{base}/"),
        "map_zone": (time_probe, f"{base}/?lat={lat:.6f}&lon={lon:.6f}&zoom=15"),
        "dashboard": (time_probe, f"{base}/dashboard?zone=all"),
    }
    results: dict[str, list[dict]] = {name: [] for name in pages}
    driver = make_driver(1280, 900)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        sign_in(driver, BENCH_USER[0], BENCH_USER[1], base)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE % {"sections": sections}})
        for k in range(warmup + runs):
            for name, (measure, url) in pages.items():
                result = measure(driver, url)
                if k >= warmup:
                    results[name].append(result)
    finally:
        driver.quit()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--db", default="gisapp_page_bench")
    parser.add_argument("--server", choices=("served", "dev"), default="served",
                        help="served: `gisapp serve` (waitress) in a process of its own (default); "
                             "dev: Werkzeug's threaded server in this process")
    parser.add_argument("--note", default="", help="Added to the recorded row (what else was running).")
    parser.add_argument("--no-record", action="store_true",
                        help="Do not record the run in docs/benchmarks.md and docs/benchmark-runs.md.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ["GISAPP_DB_NAME"] = args.db
    import sqlalchemy as sa

    from gisapp.queries.dashboard import DATASETS

    engine = prepare(args.db)
    with engine.connect() as conn:
        zone_view = tuple(conn.execute(sa.text(ZONE_VIEW_SQL)).one())
        n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()

    load_before = os.getloadavg()
    server = ServedApp() if args.server == "served" else InProcessServer()
    t0 = time.monotonic()
    try:
        results = run(server.base, zone_view, args.runs, args.warmup, len(DATASETS))
    finally:
        server.stop()
    elapsed = time.monotonic() - t0
    load_after = os.getloadavg()

    labels = {"reference": "reference: /login (load event end)",
              "map_default": "map, default view (/, z10): first parcels drawn",
              "map_zone": "map, one zone (Waigaoqiao, z15): first parcels drawn",
              "dashboard": "dashboard, all zones: every chart and table"}
    med = {name: statistics.median(r["seconds"] for r in rs) for name, rs in results.items()}
    top = {name: max(r["seconds"] for r in rs) for name, rs in results.items()}
    ref = med["reference"]
    with captured() as report:
        print(f"page timings, headless Chromium 1280x900, signed in as a bureau viewer; {n_parcels} parcels "
              f"(demo data, database {args.db}); server: "
              + ("`gisapp serve` (waitress) in a process of its own" if args.server == "served"
                 else "Werkzeug's threaded server in the benchmark's process"))
        print(f"{args.runs} runs after {args.warmup} warm-up, the four pages in turn each run; {elapsed:.0f} s in all")
        print(f"machine load average (1/5/15 min): {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} "
              f"before, {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after, on {os.cpu_count()} cores")
        print()
        print(f"{'page':<55} {'median':>8} {'max':>8} {'min':>8} {'goal':>6} {'x ref':>6}  runs (s)")
        for name, rs in results.items():
            secs = [r["seconds"] for r in rs]
            goal = f"< {GOALS[name]:g} s" if name in GOALS else ""
            ratio = f"{med[name] / ref:.1f}x" if name != "reference" and ref else ""
            print(f"{labels[name]:<55} {med[name]:>7.3f}s {top[name]:>7.3f}s {min(secs):>7.3f}s {goal:>6} "
                  f"{ratio:>6}  {', '.join(f'{s:.3f}' for s in secs)}")
        for name in ("map_default", "map_zone", "dashboard"):
            slowest = statistics.median(r["slowest_request"] for r in results[name])
            print(f"{name}: slowest data request (Dash callback or feature fetch) before it was done, "
                  f"median {slowest:.3f} s")
        parts = {part: statistics.median(r[part] for r in results["dashboard"])
                 for part in ("content", "graphs", "grids")}
        print(f"dashboard, medians: every section there (the server's answer rendered) {parts['content']:.3f} s, "
              f"every chart drawn {parts['graphs']:.3f} s, every table's rows {parts['grids']:.3f} s")
        for name in ("map_default", "map_zone"):
            first = results[name][0]
            kind = "zone summaries" if first["aggregates"] == first["count"] else "parcels"
            print(f"{name}: {first['count']} features of the parcels layer at the first frame with any ({kind})")
        verdicts = [f"{name} {'met' if med[name] < GOALS[name] and top[name] < GOALS[name] else 'NOT met'}"
                    for name in GOALS]
        print("goals (median and max under the goal): " + ", ".join(verdicts))

    if not args.no_record:
        figure = (f"map first parcels {med['map_default']:.2f} s default view, {med['map_zone']:.2f} s one zone z15 "
                  f"(max {top['map_default']:.2f} / {top['map_zone']:.2f} s); dashboard all zones "
                  f"{med['dashboard']:.2f} s (max {top['dashboard']:.2f} s); medians of {args.runs}")
        ratio = (f"{med['map_default'] / ref:.1f}x / {med['map_zone'] / ref:.1f}x / {med['dashboard'] / ref:.1f}x "
                 f"the /login page ({ref * 1000:.0f} ms)")
        note = (f"load avg {load_before[0]:.1f} -> {load_after[0]:.1f} on {os.cpu_count()} cores"
                + ("" if args.server == "served" else "; --server dev") + (f"; {args.note}" if args.note else ""))
        record("page_timings", figure, ratio, note,
               command_line("page_timings.py", sys.argv[1:], drop=["--no-record"]), fenced(report.getvalue()))


if __name__ == "__main__":
    main()
