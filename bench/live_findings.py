"""Live findings under load: from an edit's commit to its current finding through the API, on the
city-scale database while 20 zone-office editors save statuses (loopback only).

    .venv/bin/python bench/live_findings.py [--db gisapp_bench] [--editors 20] [--seconds 60]
        [--probes 15] [--no-record]

The database is the 1M-parcel one of bench/load_demo_1m.py (migrated first). Phases, one run:

1. Editors alone: `gisapp serve --no-worker` and 20 HTTP editors (bench/edit_load.py's) for
   ``--seconds``: their edit p95, the reference for "the editors' own p95 no worse". The probes'
   own requests run beside them as in phase 2 (the import, a construction start and a parameter
   change every 10 s, the API polled every 50 ms; other parcels of the probe zone), so that the
   two phases differ by the workers alone (phase 2 sends its probes every 10 s too).
2. Live: `gisapp serve` (its parcels, zones and city workers) and the same editors; in a probe
   zone of about 2,000 parcels that no editor touches:
   - parcel changes: a zone editor posts a construction start for a suspected-idle parcel
     (POST /api/edits/parcels/<code>/progress); timed from the answer (the commit) until
     GET /api/parcels/<code> shows its idle-land finding changed and not pending (the parcels
     worker's patch; the zone-wide findings follow with the zone's run);
   - zone changes: the zone's idle-years parameter is set (as `gisapp params set` does, a
     committed row of rules.parameter_overrides), which moves the idle-land finding of every
     parcel of the zone; timed until the API shows a parcel's idle-land finding made current
     after the commit and not pending (the zone-wide findings of the parcel probe's save just
     before may still wait for their settling, gisapp.rules.worker.ZONE_WIDE_SETTLE: they are
     not this change's);
   - an import of 10,000 new parcels into the probe zone (`gisapp import`'s bulk path), timed
     from its commit until the API shows the zone's findings made current and nothing pending
     (the parcels are deleted again afterwards).
3. The reference: the whole assessment (`run_assessment`, every zone and rule) on the same data.

Figures: p50 and p95 of each kind of probe, the editors' p95 with and without the workers, and
the ratio of each probe's p95 to the whole assessment's time. Goals (#19): p95 < 2 s for a parcel
change, < 5 s for a zone change, the editors' p95 no worse. Recorded with its command unless
--no-record (bench/record.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time

from edit_load import (
    PASSWORD,
    Tally,
    ensure_editors,
    free_port,
    http_editor,
    pct,
    pools,
    run_threads,
    start_server,
)
from record import captured, command_line, record

POLL_SECONDS = 0.05
PROBE_TIMEOUT = 120.0


def prepare(db: str):
    os.environ["GISAPP_DB_NAME"] = db
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    engine = owner_engine()
    migrate(engine, get_settings().sql_dir)
    return engine


def choose_zones(engine, idle_needed: int):
    """Four zones for the editors and one probe zone, each of about 2,000 parcels; the probe
    zone with ``idle_needed`` suspected idle parcels left (each run's probes start construction
    on some: a database benched often moves on to the next zone)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT z.code, z.id, count(*) AS n, (SELECT count(*) FROM rules.current_findings f "
            "  JOIN land.parcels q ON q.id = f.parcel_id WHERE q.zone_id = z.id AND f.rule = 'idle_land' "
            "  AND f.outcome = 'idle_not_started') AS idle "
            "FROM land.zones z JOIN land.parcels p ON p.zone_id = z.id "
            "GROUP BY z.code, z.id ORDER BY abs(count(*) - 2000), z.id LIMIT 40")).all()
    probe = next((r for r in rows if r.idle >= idle_needed), rows[0])
    return [r.code for r in rows if r.code != probe.code][:4], probe


def idle_parcels(engine, zone_id: int, n: int) -> list[str]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' AND p.zone_id = :z "
            "ORDER BY p.id LIMIT :n"), {"z": zone_id, "n": n}).scalars())


def signed_in(base: str, username: str):
    import requests

    from tests.signin import post_login

    session = requests.Session()
    resp = post_login(session, username, PASSWORD, prefix=base)
    if resp.status_code != 302:
        sys.exit(f"the probe editor could not sign in ({resp.status_code})")
    return session


def wait_until(session, base: str, code: str, done) -> float | None:
    """Seconds until ``done(detail)`` holds for GET /api/parcels/<code> (None: timed out)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < PROBE_TIMEOUT:
        detail = session.get(f"{base}/api/parcels/{code}", timeout=30).json()
        if done(detail):
            return time.perf_counter() - t0
        time.sleep(POLL_SECONDS)
    return None


def idle_finding(detail: dict) -> dict:
    return next((f for f in detail["findings"] if f["rule"] == "idle_land"), {})


def post_start(session, base: str, code: str, as_of: dt.date):
    """A zone editor records that construction on ``code`` started ten days ago (the answer)."""
    return session.post(f"{base}/api/edits/parcels/{code}/progress", timeout=30, json={
        "reported_on": as_of.isoformat(), "started_on": (as_of - dt.timedelta(days=10)).isoformat(),
        "developed_area_m2": "10", "should_develop_area_m2": "1000", "reason": "live findings bench"})


def set_idle_years(engine, zone_code: str, years: int) -> None:
    """The zone's idle-years parameter set, as `gisapp params set` does (removed by remove_imported)."""
    from gisapp.rules.overrides import set_param

    set_param(engine, "idle_land", "idle_years", years, source="live findings bench",
              effective_from=dt.date(2021, 1, 1), zone=zone_code)


def parcel_probe(session, base: str, code: str, as_of: dt.date) -> float | None:
    answer = post_start(session, base, code, as_of)
    if answer.status_code != 200:
        sys.exit(f"the probe edit of {code} was refused: {answer.status_code} {answer.text[:200]}")
    # the parcel's own finding current (the API marks each finding pending while a change it
    # depends on waits; the zone-wide rules' findings follow with the zone's run)
    return wait_until(session, base, code, lambda d: idle_finding(d).get("outcome") not in (None, "idle_not_started")
                      and idle_finding(d).get("pending") is False)


def zone_probe(engine, session, base: str, zone_code: str, code: str, years: int) -> float | None:
    set_idle_years(engine, zone_code, years)
    committed = dt.datetime.now(dt.UTC)
    return wait_until(session, base, code, lambda d: idle_finding(d).get("pending") is False
                      and dt.datetime.fromisoformat(d["findings_status"]["made_current_at"]) > committed)


def new_parcels_file(engine, zone_code: str, n: int, path) -> str:
    """``n`` squares of about 6 m on a grid over the free land of ``zone_code`` (inside its
    boundary, clear of its parcels; a grid keeps them clear of each other), as a GeoPackage."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from gisapp import api

    boundary = api.read_layer("zones", engine=engine).set_index("code").geometry[zone_code]
    parcels = api.read_layer("parcels", zone=zone_code, fields=["code"], engine=engine).geometry.values
    free = shapely.difference(boundary, shapely.union_all(shapely.buffer(parcels, 0.00002)))
    shapely.prepare(free)
    minx, miny, maxx, maxy = boundary.bounds
    side, step = 0.00006, 0.00008  # ~6 m squares, ~9 m apart: the free land is in strips
    xs, ys = np.meshgrid(np.arange(minx, maxx - side, step), np.arange(miny, maxy - side, step))
    squares = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + side, ys.ravel() + side)
    squares = squares[shapely.contains(free, squares)]
    if len(squares) < n:
        sys.exit(f"only {len(squares)} new parcels fit in the free land of {zone_code}")
    squares = squares[np.random.default_rng(19).choice(len(squares), n, replace=False)]
    frame = gpd.GeoDataFrame({"code": [f"LIVE-IMPORT-{i:05d}" for i in range(n)], "land_use_code": "1001",
                              "status": "approved_unsupplied", "zone_code": zone_code}, geometry=squares, crs=4490)
    frame.to_file(path, driver="GPKG")
    return str(path)


def import_probe(engine, session, base: str, path: str, code: str) -> tuple[float | None, float]:
    """(seconds from the import's commit to its zone's findings current, the import's own time)."""
    from gisapp.io.importer import import_file

    t0 = time.perf_counter()
    import_file(engine, "parcels", path)
    imported = time.perf_counter() - t0
    committed = dt.datetime.now(dt.UTC)
    took = wait_until(session, base, code, lambda d: not d["findings_status"]["pending"]
                      and dt.datetime.fromisoformat(d["findings_status"]["made_current_at"]) > committed)
    return took, imported


def remove_imported(engine) -> None:
    """What the probes left that other benches would read: the imported parcels and the
    parameter the zone probes set (their progress reports stay, as any edit would)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.parcels WHERE code LIKE 'LIVE-IMPORT-%'"))
        conn.execute(sa.text("DELETE FROM rules.parameter_overrides WHERE source = 'live findings bench'"))
    # the statistics as they were: 10,000 parcels in and out of the probe zone are too few changes
    # for autovacuum to re-analyze, and the planner then hashed whole tables for that zone's reads
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE land.parcels"))


#: how often each phase sends a probe's edits (a construction start and a parameter change)
PROBE_PERIOD = 10.0


def probe_traffic(engine, session, base: str, codes: list[str], zone_code: str, watch: str, gpkg: str,
                  as_of: dt.date, stop: float) -> None:
    """Phase 1's stand-in for the probes: their requests, with no worker to wait for."""
    from gisapp.io.importer import import_file

    import_file(engine, "parcels", gpkg)
    due, i = time.perf_counter(), 0
    while time.perf_counter() < stop:
        if time.perf_counter() >= due and i < len(codes):
            post_start(session, base, codes[i], as_of)
            set_idle_years(engine, zone_code, 2 if i % 2 == 0 else 1)
            due, i = due + PROBE_PERIOD, i + 1
        session.get(f"{base}/api/parcels/{watch}", timeout=30)
        time.sleep(POLL_SECONDS)


def editors_phase(base: str, editors, pool, seconds: float) -> Tally:
    tally = Tally()
    stop = time.perf_counter() + seconds
    run_threads([(http_editor, (base, name, pool[zone], stop, tally, i)) for i, (name, zone) in enumerate(editors)])
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_bench")
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--probes", type=int, default=15)
    parser.add_argument("--import-parcels", type=int, default=10_000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import sqlalchemy as sa

    from gisapp.db.engine import assessor_engine
    from gisapp.queries.users import add_user, find_account, set_user_zones
    from gisapp.rules.assess import run_assessment

    engine = prepare(args.db)
    zones, probe = choose_zones(engine, 2 * args.probes + 1)
    editors = ensure_editors(engine, args.editors, zones)
    pool = pools(engine, zones)
    try:
        prober = find_account(engine, "bench.prober")
    except Exception:  # noqa: BLE001 - NotFoundError: first run on this database
        add_user(engine, "bench.prober", PASSWORD, "zone_editor", (probe.code,))
    else:
        if tuple(prober.zone_codes) != (probe.code,):  # the probe zone moved on (choose_zones)
            set_user_zones(engine, "bench.prober", (probe.code,))
    with engine.connect() as conn:
        as_of = conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()
    candidates = idle_parcels(engine, probe.id, 2 * args.probes + 1)
    alone_codes, candidates = candidates[args.probes:2 * args.probes], candidates[:args.probes] + candidates[-1:]
    if len(candidates) < args.probes + 1 or len(alone_codes) < args.probes:
        sys.exit(f"the probe zone {probe.code} has only {len(candidates)} suspected idle parcels; "
                 "run `gisapp assess` on this database first")
    remove_imported(engine)  # a run that stopped half-way
    import tempfile

    gpkg = new_parcels_file(engine, probe.code, args.import_parcels,
                            os.path.join(tempfile.mkdtemp(prefix="gisapp-live-"), "import.gpkg"))
    load_before = os.getloadavg()[0]

    with captured() as report:
        print(f"database {args.db}: probe zone {probe.code} ({probe.n} parcels), editors in {', '.join(zones)}; "
              f"findings as of {as_of}")
        # 1. the editors alone
        port = free_port()
        server = start_server(args.db, port, "--no-worker")
        try:
            base = f"http://127.0.0.1:{port}"
            probing = threading.Thread(target=probe_traffic, args=(
                engine, signed_in(base, "bench.prober"), base, alone_codes, probe.code, candidates[-1], gpkg, as_of,
                time.perf_counter() + args.seconds), daemon=True)
            probing.start()
            alone = editors_phase(base, editors, pool, args.seconds)
            probing.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
            remove_imported(engine)
        with engine.begin() as conn:  # what the editors queued without a worker is not this run's
            conn.execute(sa.text("DELETE FROM rules.reassess_queue"))

        # 2. live: the editors and the probes at once
        port = free_port()
        server = start_server(args.db, port)
        base = f"http://127.0.0.1:{port}"
        parcel_s: list[float] = []
        zone_s: list[float] = []
        missed = 0
        try:
            session = signed_in(base, "bench.prober")
            # the first round after the start reassesses what was queued meanwhile: wait it out
            wait_until(session, base, candidates[-1], lambda d: not d["findings_status"]["pending"])
            tally = Tally()
            stop = time.perf_counter() + args.seconds
            load = threading.Thread(target=run_threads, args=([
                (http_editor, (base, name, pool[zone], stop, tally, 100 + i)) for i, (name, zone) in enumerate(editors)
            ],))
            load.start()
            import_s, import_own = import_probe(engine, session, base, gpkg, candidates[-1])
            due = time.perf_counter()
            for i, code in enumerate(candidates[:args.probes]):
                # one pair of probes every PROBE_PERIOD, as phase 1 sends their edits: back to back,
                # the faster the workers, the more edits the probes would add to the editors' load
                time.sleep(max(0.0, due - time.perf_counter()))
                due += PROBE_PERIOD
                if time.perf_counter() > stop - 10:
                    break
                took = parcel_probe(session, base, code, as_of)
                parcel_s.append(took) if took is not None else None
                missed += took is None
                took = zone_probe(engine, session, base, probe.code, candidates[-1], 2 if i % 2 == 0 else 1)
                zone_s.append(took) if took is not None else None
                missed += took is None
            load.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
            remove_imported(engine)

        # 3. the reference: the whole assessment
        t0 = time.perf_counter()
        run_assessment(assessor_engine())
        whole = time.perf_counter() - t0

        lines = [
            f"parcel change -> its finding through the API: p50 {pct(parcel_s, 0.5) / 1000:.2f} s, "
            f"p95 {pct(parcel_s, 0.95) / 1000:.2f} s ({len(parcel_s)} probes; goal p95 < 2 s)",
            f"zone change (parameter) -> the zone's findings current: p50 {pct(zone_s, 0.5) / 1000:.2f} s, "
            f"p95 {pct(zone_s, 0.95) / 1000:.2f} s ({len(zone_s)} probes; goal p95 < 5 s)",
            f"import of {args.import_parcels:,} parcels ({import_own:.1f} s itself) -> the zone's findings current: "
            + (f"{import_s:.2f} s" if import_s is not None else "timed out"),
            f"probes that timed out after {PROBE_TIMEOUT:.0f} s: {missed}",
            "each probe (s): parcel " + " ".join(f"{x:.2f}" for x in sorted(parcel_s))
            + "; zone " + " ".join(f"{x:.2f}" for x in sorted(zone_s)),
            f"editors' edit p95: {pct(alone.latencies, 0.95):.0f} ms without the workers, "
            f"{pct(tally.latencies, 0.95):.0f} ms with them ({len(alone.latencies)} and {len(tally.latencies)} edits, "
            f"{args.editors} editors, {args.seconds:.0f} s each)",
            f"reference: the whole assessment {whole:.1f} s; parcel p95 / whole "
            f"{pct(parcel_s, 0.95) / 1000 / whole:.3f}, zone p95 / whole {pct(zone_s, 0.95) / 1000 / whole:.3f}"
            + (f", import / whole {import_s / whole:.3f}" if import_s is not None else ""),
            f"machine load average (1 min) when the run started: {load_before:.1f} on {os.cpu_count()} cores",
        ]
        print("\n".join(lines))
    if not args.no_record:
        record("live_findings",
               f"parcel p95 {pct(parcel_s, 0.95) / 1000:.2f} s, zone p95 {pct(zone_s, 0.95) / 1000:.2f} s; "
               f"editors p95 {pct(alone.latencies, 0.95):.0f} -> {pct(tally.latencies, 0.95):.0f} ms",
               f"{pct(parcel_s, 0.95) / 1000 / whole:.3f} / {pct(zone_s, 0.95) / 1000 / whole:.3f} of the whole "
               f"assessment ({whole:.1f} s)",
               f"load avg {load_before:.1f} on {os.cpu_count()} cores",
               command_line("live_findings.py", sys.argv[1:], drop=["--no-record"]),
               report.getvalue())


if __name__ == "__main__":
    main()
