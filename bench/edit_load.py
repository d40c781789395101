"""Load benchmark of editing: 20 zone-office editors change parcel statuses at the same time
against the running server for 60 s (loopback only).

    .venv/bin/python bench/edit_load.py [--editors 20] [--seconds 60] [--db gisapp_edit_bench] [--no-record]

Each editor signs in, then loops: read a parcel of its zone (GET /api/edits/parcels/<code>, which
gives the version and the allowed next statuses), post a status change with that version. Five
editors share each zone and its pool of parcels, so some edits collide; a collision must come
back as 409 (conflict), never as a lost update.

Figures: edits/s, p50/p95 latency of an edit (the POST), conflicts, lost updates (successes the
clients saw minus version increments the database holds; history rows and audit rows must match
too: must be 0), errors other than conflicts (must be 0). Reference in the same run: the same
edits by the same number of threads straight through ``gisapp.queries.edits`` (no HTTP), for the
ratio of what the web layer costs. The server is ``gisapp serve`` (Flask's threaded server) on a
free 127.0.0.1 port against its own database (created with the demo data when missing, then
reused; edits accumulate in it), never the demo or test database.
The run is recorded with its command unless --no-record (bench/record.py): a row in the History
table of docs/benchmarks.md, the report below under a dated heading in docs/benchmark-runs.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from record import command_line, record

ROOT = Path(__file__).resolve().parents[1]
ZONES = ("yangshan", "waigaoqiao_ftz", "songjiang", "pudong_airport")
POOL_PER_ZONE = 40
PASSWORD = "bench-editor-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(db: str):
    """The bench database (demo data loaded once), its editor accounts, the pools of parcels."""
    os.environ["GISAPP_DB_NAME"] = db
    from gisapp.db.cluster import LocalCluster
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import demo_loaded, load_demo
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    cluster = LocalCluster(settings)
    cluster.up()
    cluster.create_database(db)
    engine = owner_engine()
    migrate(engine, settings.sql_dir)
    if not demo_loaded(engine):
        print(load_demo(engine))
    return engine


def ensure_editors(engine, count: int, zones=ZONES) -> list[tuple[str, str]]:
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account, set_user_zones

    editors = []
    for i in range(count):
        name, zone = f"bench.editor{i + 1:02d}", zones[i % len(zones)]
        try:
            account = find_account(engine, name)
        except NotFoundError:
            add_user(engine, name, PASSWORD, "zone_editor", (zone,))
        else:
            if tuple(account.zone_codes) != (zone,):  # the same names serve benches on other databases
                set_user_zones(engine, name, (zone,))
        editors.append((name, zone))
    return editors


def pools(engine, zones=ZONES) -> dict[str, list[str]]:
    import sqlalchemy as sa

    out = {}
    with engine.connect() as conn:
        for zone in zones:
            out[zone] = list(
                conn.execute(
                    sa.text(
                        "SELECT p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id WHERE "
                        "z.code = :z "
                        "ORDER BY p.id LIMIT :n"
                    ),
                    {"z": zone, "n": POOL_PER_ZONE},
                ).scalars()
            )
    return out


def snapshot(engine, codes: list[str]) -> dict[str, tuple[int, int, int]]:
    """Per parcel: (version, status history rows, audit UPDATE rows)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT p.code, p.version,
                   (SELECT count(*) FROM land.parcel_status_history h WHERE h.parcel_id = p.id),
                   (SELECT count(*) FROM audit.change_log c WHERE c.table_name = 'parcels'
                      AND c.row_id = p.id::text AND c.action = 'UPDATE')
            FROM land.parcels p WHERE p.code = ANY(:codes)"""),
            {"codes": codes},
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


class Tally:
    """What the clients saw, shared by the editor threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.read_latencies: list[float] = []
        self.saved: Counter = Counter()
        self.conflicts = 0
        self.errors: Counter = Counter()

    def add(self, code: str, status: int, seconds: float, read_seconds: float, detail: str = "") -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.read_latencies.append(read_seconds)
            if status == 200:
                self.saved[code] += 1
            elif status == 409:
                self.conflicts += 1
            else:
                self.errors[f"{status} {detail[:80]}"] += 1


def http_editor(base: str, name: str, pool: list[str], stop: float, tally: Tally, seed: int) -> None:
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    resp = session.post(
        f"{base}/login",
        data={"username": name, "password": PASSWORD, "csrf": token, "next": "/"},
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code != 302:
        tally.add("-", resp.status_code, 0.0, 0.0, "sign-in refused")
        return
    today = dt.date.today().isoformat()
    while time.perf_counter() < stop:
        code = rng.choice(pool)
        t0 = time.perf_counter()
        record = session.get(f"{base}/api/edits/parcels/{code}", timeout=30)
        t1 = time.perf_counter()
        if record.status_code != 200:
            tally.add(code, record.status_code, 0.0, t1 - t0, "read")
            continue
        body = record.json()
        target = rng.choice(body["next_statuses"])["code"]
        t1 = time.perf_counter()
        answer = session.post(
            f"{base}/api/edits/parcels/{code}/status",
            timeout=30,
            json={
                "to_status": target,
                "changed_on": today,
                "reason": f"load test by {name}",
                "version": body["parcel"]["version"],
            },
        )
        tally.add(
            code,
            answer.status_code,
            time.perf_counter() - t1,
            t1 - t0,
            answer.text if answer.status_code not in (200, 409) else "",
        )


def direct_editor(
    engine, name: str, zone_id: int, pool: list[str], stop: float, tally: Tally, seed: int
) -> None:
    """The reference: the same read + edit through gisapp.queries (no HTTP, no sign-in)."""
    from gisapp.queries import edits
    from gisapp.queries.parcel_record import parcel_record

    rng = random.Random(seed)
    actor = edits.Actor(name, "zone_editor", (zone_id,))
    today = dt.date.today().isoformat()
    while time.perf_counter() < stop:
        code = rng.choice(pool)
        t0 = time.perf_counter()
        record = parcel_record(engine, actor, code)
        t1 = time.perf_counter()
        try:
            edits.change_status(
                engine,
                actor,
                code,
                {
                    "to_status": rng.choice(record["next_statuses"])["code"],
                    "changed_on": today,
                    "reason": f"reference by {name}",
                    "version": record["parcel"]["version"],
                },
            )
            status = 200
        except edits.EditConflict:
            status = 409
        except Exception as exc:  # noqa: BLE001 - counted, reported, must be none
            tally.add(code, 500, time.perf_counter() - t1, t1 - t0, repr(exc))
            continue
        tally.add(code, status, time.perf_counter() - t1, t1 - t0)


def run_threads(targets: list) -> None:
    threads = [threading.Thread(target=fn, args=args, daemon=True) for fn, args in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def check(engine, before: dict, tally: Tally) -> dict:
    after = snapshot(engine, list(before))
    bumps = sum(after[c][0] - before[c][0] for c in before)
    history = sum(after[c][1] - before[c][1] for c in before)
    audit = sum(after[c][2] - before[c][2] for c in before)
    saved = sum(tally.saved.values())
    per_parcel = sum(1 for c in before if after[c][0] - before[c][0] != tally.saved.get(c, 0))
    return {
        "saved": saved,
        "version_bumps": bumps,
        "history_rows": history,
        "audit_rows": audit,
        "lost": saved - bumps,
        "mismatched_parcels": per_parcel,
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000


def start_server(db: str, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "GISAPP_DB_NAME": db}
    # BENCH_SERVER_LOG=<file>: keep the server's log (the workers' rounds) to see where time goes
    log_path = os.environ.get("BENCH_SERVER_LOG")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the server's life
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gisapp"), "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=env,
        stdout=log,
        stderr=log,
        cwd=ROOT,
    )
    import requests

    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.terminate()
    sys.exit("the server did not come up within 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--reference-seconds", type=float, default=20.0)
    parser.add_argument("--db", default="gisapp_edit_bench")
    parser.add_argument("--no-record", action="store_true",
                        help="Do not record the run in docs/benchmarks.md and docs/benchmark-runs.md.")
    args = parser.parse_args()

    engine = prepare_database(args.db)
    editors = ensure_editors(engine, args.editors)
    pool = pools(engine)
    codes = [c for zone in ZONES for c in pool[zone]]
    import sqlalchemy as sa

    with engine.connect() as conn:
        zone_ids = dict(conn.execute(sa.text("SELECT code, id FROM land.zones")).all())

    load_before = os.getloadavg()[0]
    port = free_port()
    server = start_server(args.db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        before = snapshot(engine, codes)
        web = Tally()
        stop = time.perf_counter() + args.seconds
        t0 = time.perf_counter()
        run_threads(
            [(http_editor, (base, name, pool[zone], stop, web, i)) for i, (name, zone) in enumerate(editors)]
        )
        web_elapsed = time.perf_counter() - t0
        web_check = check(engine, before, web)
    finally:
        server.terminate()
        server.wait(timeout=30)

    before = snapshot(engine, codes)
    direct = Tally()
    stop = time.perf_counter() + args.reference_seconds
    t0 = time.perf_counter()
    run_threads(
        [
            (direct_editor, (engine, name, zone_ids[zone], pool[zone], stop, direct, 100 + i))
            for i, (name, zone) in enumerate(editors)
        ]
    )
    direct_elapsed = time.perf_counter() - t0
    direct_check = check(engine, before, direct)

    web_rate = web_check["saved"] / web_elapsed
    attempts_rate = len(web.latencies) / web_elapsed
    direct_rate = direct_check["saved"] / direct_elapsed
    errors = sum(web.errors.values())
    lines = [
        (
            f"editors: {args.editors} ({len(ZONES)} zones x {args.editors // len(ZONES)}, pools of "
            f"{POOL_PER_ZONE} "
            f"parcels), {web_elapsed:.0f} s against `gisapp serve` on 127.0.0.1"
        ),
        (
            f"edits saved: {web_check['saved']} = {web_rate:.1f} edits/s "
            f"(attempts {len(web.latencies)} = {attempts_rate:.1f}/s; conflicts {web.conflicts})"
        ),
        (
            f"edit latency (POST): p50 {pct(web.latencies, 0.5):.0f} ms, "
            f"p95 {pct(web.latencies, 0.95):.0f} ms; "
            f"read before edit (GET): p95 {pct(web.read_latencies, 0.95):.0f} ms"
        ),
        (
            f"lost updates: {web_check['lost']} (version bumps {web_check['version_bumps']}, history rows "
            f"{web_check['history_rows']}, audit rows {web_check['audit_rows']}, parcels not matching "
            f"{web_check['mismatched_parcels']})"
        ),
        f"errors other than conflicts: {errors}" + (f" {dict(web.errors.most_common(3))}" if errors else ""),
        (
            f"reference, same edits through gisapp.queries without HTTP ({direct_elapsed:.0f} s): "
            f"{direct_rate:.1f} edits/s, p95 {pct(direct.latencies, 0.95):.0f} ms, conflicts "
            f"{direct.conflicts}, "
            f"lost {direct_check['lost']}, errors {sum(direct.errors.values())}"
        ),
        (
            f"machine load average (1 min) when the run started: {load_before:.1f} on {os.cpu_count()} cores "
            "(other work on the machine shares them)"
        ),
        f"ratio web / direct: {web_rate / direct_rate:.2f}x the edits per second"
        if direct_rate
        else "ratio: n/a",
    ]
    print("\n".join(lines))
    ok = (
        web_check["lost"] == 0
        and web_check["mismatched_parcels"] == 0
        and not web.errors
        and web_check["history_rows"] == web_check["saved"] == web_check["audit_rows"]
    )
    if not args.no_record:
        record(
            "edit_load",
            (f"{web_check['lost']} lost of {web_check['saved']} saved, {web_rate:.1f} edits/s, "
             f"p95 {pct(web.latencies, 0.95):.0f} ms, errors {errors}"),
            (f"{web_rate / direct_rate:.2f}x the edits/s of the same edits without HTTP "
             f"({direct_rate:.1f} edits/s)") if direct_rate else "n/a",
            f"load avg {load_before:.1f} on {os.cpu_count()} cores",
            command_line("edit_load.py", sys.argv[1:], drop=["--no-record"]),
            "\n".join(f"- {line}" for line in lines),
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
