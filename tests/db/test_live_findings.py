"""Live findings (#19): every change that feeds a rule is queued by the database in its own
transaction, and the worker leaves exactly the findings a full `gisapp assess` computes."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gisapp.db.engine import assessor_engine
from gisapp.demo import DEMO_AS_OF
from gisapp.io.importer import import_file
from gisapp.queries import edits
from gisapp.queries.edits import Actor
from gisapp.queries.rule_inputs import FRAME_SQL
from gisapp.rules import worker
from gisapp.rules.assess import run_assessment
from gisapp.rules.overrides import set_param
from gisapp.rules.worker import queue_daily_pass, run_once
from tests.fresh_parcels import new_parcels
from tests.procs import priority, state

pytestmark = pytest.mark.db

ADMIN = Actor("live.admin", "bureau_admin", ())

# every column a user can see of a finding (the run's id and timestamps aside)
FINDINGS = """
    SELECT f.rule, f.subject_type, f.subject_id, f.zone_id, f.parcel_id, f.as_of, f.outcome, f.is_positive,
           f.evidence, f.explanation_zh, f.explanation_en, f.review_status, f.review_reason,
           CAST(f.parameters AS text) AS parameters
    FROM rules.current_findings f
    ORDER BY f.rule, f.subject_type, f.subject_id"""


def _current(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(FINDINGS))]


def _queued(engine) -> list[tuple]:
    """The zones' and the city's queued rows (parcel jobs: :func:`_jobs`)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.text("SELECT zone_id, source FROM rules.reassess_queue WHERE parcel_id IS NULL ORDER BY id"))]


def _jobs(engine) -> list[tuple]:
    """The queued parcel jobs: (zone, parcel, source)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT zone_id, parcel_id, source FROM rules.reassess_queue WHERE parcel_id IS NOT NULL ORDER BY id"))]


def _drain(engine) -> int:
    """Everything queued done, as `gisapp serve`'s workers do it: the parcels' own rules first."""
    rounds = 0
    for kind in ("parcels", "zones", "city", "all"):
        while run_once(assessor_engine(), kind) is not None:
            rounds += 1
    return rounds


def _clear_queue(engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))


def _parcel(engine, sql_where: str, offset: int = 0, **params) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            f"SELECT p.id, p.code, p.zone_id, p.status, p.version FROM land.parcels p WHERE {sql_where} "
            "ORDER BY p.id OFFSET :o LIMIT 1"), {"o": offset, **params}).mappings().one())


@pytest.fixture(scope="module")
def live(isolated_engine):
    """The isolated demo database with its findings assessed once and nothing queued."""
    run_assessment(assessor_engine())
    _clear_queue(isolated_engine)
    return isolated_engine


def test_every_table_a_rule_reads_queues_its_changes(live):
    """Each table the rules' input frames read has the four change-capture triggers, enabled
    ALWAYS (bulk loads run in replica mode): no input can change without its findings following."""
    read = {m for sql in FRAME_SQL.values() for m in re.findall(r"\b((?:land|rules)\.[a-z_]+)", sql)}
    with live.connect() as conn:
        triggers = {(r.rel, r.tgname): r.tgenabled for r in conn.execute(sa.text(
            "SELECT tgrelid::regclass::text AS rel, tgname, tgenabled FROM pg_trigger "
            "WHERE tgname LIKE 'reassess\\_on\\_%'"))}
    assert read
    for table in sorted(read):
        for op in ("insert", "update", "delete", "truncate"):
            assert triggers.get((table, f"reassess_on_{op}")) == "A", f"{table} does not queue its {op}s"


def test_an_edit_queues_its_zone_and_the_city_in_its_own_transaction(live):
    _clear_queue(live)
    p = _parcel(live, "p.status = 'granted_unbuilt'")
    editor = Actor("live.editor", "zone_editor", (p["zone_id"],))
    edits.record_progress(live, editor, p["code"], {"reported_on": DEMO_AS_OF.isoformat(),
                                                    "started_on": "2026-03-01", "developed_area_m2": "10",
                                                    "should_develop_area_m2": "100"})
    assert _queued(live) == [(p["zone_id"], "construction_progress"), (None, "construction_progress")]
    # a refused edit queues nothing: the queue row is in the transaction that rolled back
    _clear_queue(live)
    with pytest.raises(edits.ValidationFailed):
        edits.record_progress(live, editor, p["code"], {"reported_on": "2026-01-01", "started_on": "2026-03-01"})
    assert _queued(live) == []
    # a statement that changes no row queues nothing either
    with live.begin() as conn:
        conn.execute(sa.text("UPDATE land.green_areas SET green_area_m2 = 1 WHERE false"))
    assert _queued(live) == []


def test_a_change_wakes_the_workers_whose_work_it_is_and_no_other(live):
    """A save wakes the parcels worker at once; the zones and city workers (its ranks and the
    city's wait to settle) only while they know of nothing settling yet; a parameter of one
    zone's rule wakes the zones worker at once (gisapp.rules.worker.WAKES)."""
    _clear_queue(live)
    kinds = ("parcels", "zones", "city", "all")

    def woken(change, settling_known: bool) -> dict[str, bool]:
        listeners = {kind: worker._listen(assessor_engine()) for kind in kinds}
        try:
            change()
            return {kind: worker._sleep_until_work(listeners[kind], kind, 0.5, settling_known) for kind in kinds}
        finally:
            for listener in listeners.values():
                listener.close()

    p = _parcel(live, "p.status = 'granted_unbuilt'", offset=1)
    editor = Actor("live.editor", "zone_editor", (p["zone_id"],))
    reports = iter(DEMO_AS_OF - dt.timedelta(days=d) for d in (2, 1))

    def save():
        edits.record_progress(live, editor, p["code"], {"reported_on": next(reports).isoformat(),
                                                        "started_on": "2026-03-01", "developed_area_m2": "10",
                                                        "should_develop_area_m2": "100"})

    assert woken(save, settling_known=True) == {"parcels": True, "zones": False, "city": False, "all": True}
    assert woken(save, settling_known=False) == {"parcels": True, "zones": True, "city": True, "all": True}
    with live.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones WHERE id = :z"), {"z": p["zone_id"]}).scalar_one()

    def parameter():
        set_param(live, "per_mu", "year_lag", 1, source="wake test", effective_from=dt.date(2021, 1, 1), zone=zone)

    assert woken(parameter, settling_known=True) == {"parcels": False, "zones": True, "city": False, "all": True}
    with live.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.parameter_overrides WHERE source = 'wake test'"))
    _clear_queue(live)


def test_an_import_is_one_row_per_zone_not_one_per_parcel(live, tmp_path):
    _clear_queue(live)
    with live.connect() as conn:
        zone, zone_id = conn.execute(sa.text("SELECT code, id FROM land.zones ORDER BY id LIMIT 1")).one()
    path = tmp_path / "survey.geojson"
    new_parcels(live, zone, n=12, seed=11, prefix="LIVE").to_file(path)
    import_file(live, "parcels", path)
    queued = _queued(live)
    assert queued.count((zone_id, "parcels")) == 1 and queued.count((None, "parcels")) == 1, queued


def test_the_worker_makes_a_parcels_own_findings_current(live):
    """A parcel suspected idle (not started) is no longer so once construction started."""
    with live.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT p.code, p.zone_id FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' ORDER BY p.id LIMIT 1")).one()
    _clear_queue(live)
    edits.record_progress(live, ADMIN, row.code, {"reported_on": DEMO_AS_OF.isoformat(),
                                                  "started_on": (DEMO_AS_OF - dt.timedelta(days=20)).isoformat(),
                                                  "developed_area_m2": "500", "should_develop_area_m2": "1000"})
    done = run_once(assessor_engine())
    assert done is not None and done.zone_ids == [row.zone_id] and done.city
    assert _queued(live) == []
    with live.connect() as conn:
        outcome = conn.execute(sa.text(
            "SELECT f.outcome FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND p.code = :c"), {"c": row.code}).scalar_one()
    assert outcome != "idle_not_started"


# -- the worker's findings are the batch's -------------------------------------------------------

def _status_change(engine, i: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT p.code, p.version, t.to_status FROM land.parcels p "
            "JOIN land.parcel_status_transitions t ON t.from_status = p.status "
            "ORDER BY p.id, t.to_status OFFSET :o LIMIT 1"), {"o": i * 37}).first()
    if rows is None:
        return
    edits.change_status(engine, ADMIN, rows.code, {"to_status": rows.to_status, "changed_on": DEMO_AS_OF.isoformat(),
                                                   "reason": "live test", "version": rows.version})


def _progress(engine, i: int) -> None:
    p = _parcel(engine, "EXISTS (SELECT 1 FROM land.land_grants g WHERE g.parcel_id = p.id)", offset=i * 13)
    started = DEMO_AS_OF - dt.timedelta(days=30 * (i % 40))
    edits.record_progress(engine, ADMIN, p["code"], {"reported_on": DEMO_AS_OF.isoformat(),
                                                     "started_on": started.isoformat(),
                                                     "developed_area_m2": str(10 * (i % 9)),
                                                     "should_develop_area_m2": "100"})


def _green(engine, i: int) -> None:
    p = _parcel(engine, "true", offset=i * 29)
    edits.record_green_area(engine, ADMIN, p["code"], {"measured_on": (DEMO_AS_OF - dt.timedelta(days=i)).isoformat(),
                                                       "green_area_m2": str(50 + 97 * i), "reason": "survey"})


def _metrics(engine, i: int) -> None:
    p = _parcel(engine, "p.enterprise_id IS NOT NULL", offset=i * 17)
    edits.record_metrics(engine, ADMIN, p["code"], {"year": str(DEMO_AS_OF.year - 1), "revenue_wan": str(100 * i + 1),
                                                    "tax_wan": str(3 * i), "employees": str(1 + i % 50)})


def _import(engine, i: int, tmp_path) -> None:
    with engine.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones ORDER BY id OFFSET :o LIMIT 1"),
                            {"o": i % 10}).scalar_one()
    path = tmp_path / f"import-{i}-{time.monotonic_ns()}.geojson"
    new_parcels(engine, zone, n=1 + i % 3, seed=i, prefix=f"HYP{time.monotonic_ns()}").to_file(path)
    import_file(engine, "parcels", path)


#: parameters the property test sets: (rule, name, value for step i, for one zone or city-wide).
#: A change re-runs only the rules read with it (worker._rules_fed), the casework's none at all.
PARAMETERS = [
    ("idle_land", "idle_years", lambda i: 1 + i % 2, True),
    ("per_mu", "class_cuts", lambda i: [0.2 + (i % 3) / 20, 0.6, 0.9], True),
    ("grant_notice", "notice_days_min", lambda i: 20 + i % 20, False),
    ("green_balance_zone", "max_unmeasured_share", lambda i: 0.05 + (i % 5) / 100, True),
    ("zone_performance", "exit_bottom_n", lambda i: 3 + i % 3, False),
    ("casework", "reply_days", lambda i: 25 + i % 10, False),
]


def _parameter(engine, i: int) -> None:
    from gisapp.rules.overrides import set_param

    rule, name, value, per_zone = PARAMETERS[i % len(PARAMETERS)]
    with engine.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones ORDER BY id OFFSET :o LIMIT 1"),
                            {"o": i % 10}).scalar_one()
    set_param(engine, rule, name, value(i), source="live test", effective_from=dt.date(2021, 1, 1),
              zone=zone if per_zone else None)


def _ledger(engine, i: int) -> None:
    """A quota ledger entry corrected in psql (the whole-city rules read the ledgers)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE land.quota_ledger SET amount = round(CAST(amount * :f AS numeric), 3) "
            "WHERE id = (SELECT id FROM land.quota_ledger ORDER BY id OFFSET :o LIMIT 1)"),
            {"f": 0.5 + (i % 7) / 4, "o": i * 3})


def _indicator(engine, i: int) -> None:
    """A zone's published indicator corrected in psql (zone performance ranks every zone)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE land.zone_indicator_values SET value = value * :f "
            "WHERE id = (SELECT id FROM land.zone_indicator_values ORDER BY id OFFSET :o LIMIT 1)"),
            {"f": 0.2 + (i % 9) / 3, "o": i * 2})


CHANGES = {"ledger": _ledger, "indicator": _indicator, "status": _status_change, "progress": _progress, "green": _green, "metrics": _metrics,
           "import": _import, "parameter": _parameter}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(CHANGES)), st.integers(0, 60)), min_size=1, max_size=5))
def test_after_any_changes_the_workers_findings_are_the_batchs(live, tmp_path, changes):
    applied = 0
    for kind, i in changes:
        try:
            if kind == "import":
                _import(live, i, tmp_path)
            else:
                CHANGES[kind](live, i)
            applied += 1
        except (edits.ValidationFailed, edits.EditConflict, sa.exc.IntegrityError):
            pass  # a change the register refuses changes nothing: still a fair step
    assert bool(_queued(live)) == bool(applied), "a committed change queued nothing"
    _drain(live)
    assert _queued(live) == [] and _jobs(live) == []
    live_findings = _current(live)
    run_assessment(assessor_engine())  # the full reconciliation
    batch = _current(live)
    assert len(live_findings) == len(batch)
    assert live_findings == batch


def test_a_parameter_change_runs_the_rules_read_with_it_and_no_other(live):
    """A zone's per-mu class cuts re-run per_mu in that zone; a casework period no rule; a
    city-wide zone performance parameter only the city's ranking. The findings are the batch's."""
    from gisapp.rules.overrides import set_param

    _clear_queue(live)
    with live.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones ORDER BY id LIMIT 1")).scalar_one()
    set_param(live, "per_mu", "class_cuts", [0.3, 0.6, 0.9], source="live test", effective_from=dt.date(2021, 1, 1),
              zone=zone)
    done = run_once(assessor_engine(), "zones")
    with live.connect() as conn:
        ran = conn.execute(sa.text("SELECT zone_codes, rule_names FROM rules.assessment_runs WHERE id = ANY(:i)"),
                           {"i": done.run_ids}).all()
    assert [(list(z), list(r)) for z, r in ran] == [([zone], ["per_mu"])]
    city = run_once(assessor_engine(), "city")
    assert city.city and city.run_ids == []  # per_mu is no whole-city rule
    set_param(live, "casework", "reply_days", 31, source="live test", effective_from=dt.date(2021, 1, 1))
    assert run_once(assessor_engine(), "zones").run_ids == [] and run_once(assessor_engine(), "city").run_ids == []
    set_param(live, "zone_performance", "exit_bottom_n", 4, source="live test", effective_from=dt.date(2021, 1, 1))
    assert run_once(assessor_engine(), "zones").run_ids == []
    city = run_once(assessor_engine(), "city")
    with live.connect() as conn:
        ran = conn.execute(sa.text("SELECT rule_names FROM rules.assessment_runs WHERE id = ANY(:i)"),
                           {"i": city.run_ids}).scalars().all()
    assert [list(r) for r in ran] == [["zone_performance"]]
    assert _queued(live) == []
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings
    with live.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.parameter_overrides WHERE source = 'live test'"))
    _drain(live)


def test_the_daily_pass_queues_every_zone_once_a_day(live):
    _clear_queue(live)
    with live.begin() as conn:
        conn.execute(sa.text("UPDATE rules.assessment_clock SET daily_pass_on = NULL"))
        zones = conn.execute(sa.text("SELECT count(*) FROM land.zones")).scalar_one()
    old_runs = ("SELECT count(*) FROM rules.findings f WHERE f.review_status = 'open' AND NOT EXISTS "
                "(SELECT 1 FROM rules.current_runs c WHERE c.run_id = f.run_id) AND f.run_id NOT IN "
                "(SELECT id FROM rules.assessment_runs WHERE status = 'finished' ORDER BY id DESC LIMIT 3)")
    reviewed = "SELECT count(*) FROM rules.findings WHERE review_status <> 'open'"
    run_assessment(assessor_engine())  # supersedes the last full run: its findings are history now
    with live.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones ORDER BY id LIMIT 1")).scalar_one()
    for _ in range(3):  # and three later runs, so that it is not among the latest kept
        run_assessment(assessor_engine(), DEMO_AS_OF, [zone], ["mixed_use"])
    with live.connect() as conn:
        assert conn.execute(sa.text(old_runs)).scalar_one() > 0
        reviews = conn.execute(sa.text(reviewed)).scalar_one()
    assert queue_daily_pass(assessor_engine()) is True
    assert queue_daily_pass(assessor_engine()) is False  # once per day
    queued = _queued(live)
    assert len([q for q in queued if q[0] is not None]) == zones and (None, "daily pass") in queued
    with live.connect() as conn:  # the superseded runs pruned, the reviews kept
        assert conn.execute(sa.text(old_runs)).scalar_one() == 0
        assert conn.execute(sa.text(reviewed)).scalar_one() == reviews
    _drain(live)


# -- faults ---------------------------------------------------------------------------------------

def test_a_worker_killed_mid_job_leaves_the_work_queued_and_the_next_one_does_it(live, tmp_path):
    """SIGKILL while the worker holds its queued rows: nothing is lost, the next worker does them,
    and the findings are the batch's."""
    _clear_queue(live)
    with live.begin() as conn:  # every zone: a round long enough to be killed in
        conn.execute(sa.text("UPDATE land.zones SET name_en = name_en"))
    env = {**os.environ, "GISAPP_DB_NAME": os.environ["GISAPP_DB_NAME"]}
    worker = subprocess.Popen([sys.executable, "-c", "from gisapp.cli import main; main()", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        taken = False
        while time.monotonic() < deadline and not taken:
            with live.connect() as conn:  # the worker's claim shows as rows another transaction locked
                free = conn.execute(sa.text(
                    "SELECT count(*) FROM (SELECT id FROM rules.reassess_queue FOR UPDATE SKIP LOCKED) x")).scalar()
                total = conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue")).scalar()
                conn.rollback()
            taken = total > 0 and free == 0
            time.sleep(0.01)
        assert taken, "the worker never took the queued rows"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(0.5)  # the server notices the dead client and ends its transaction
    assert len(_queued(live)) == total, "the killed worker's rows were lost"
    assert _drain(live) >= 1
    assert _queued(live) == []
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings


def test_workers_side_by_side_take_different_rows_and_agree_with_the_batch(live):
    """A zones worker, a city worker and one of both kinds at once, as `gisapp serve` runs them."""
    import threading

    _clear_queue(live)
    with live.begin() as conn:
        conn.execute(sa.text("UPDATE land.zones SET name_zh = name_zh"))
    errors: list[BaseException] = []

    def work(kind):
        try:
            while run_once(assessor_engine(), kind) is not None:
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(kind,)) for kind in ("parcels", "zones", "city", "all")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert _queued(live) == []
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings


def test_the_map_api_says_when_a_parcels_findings_are_pending(live):
    """/api/parcels/<code> (the map's detail panel) carries the same freshness as the parcel page."""
    from gisapp.queries.parcel import parcel_detail

    _clear_queue(live)
    with live.connect() as conn:
        code, zone_id = conn.execute(sa.text("SELECT code, zone_id FROM land.parcels ORDER BY id LIMIT 1")).one()
    status = parcel_detail(live, code).findings_status
    assert status["pending"] is False and status["made_current_at"] and status["as_of"] == DEMO_AS_OF.isoformat()
    with live.begin() as conn:
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (:z, 'test')"), {"z": zone_id})
    assert parcel_detail(live, code).findings_status["pending"] is True
    _drain(live)
    assert parcel_detail(live, code).findings_status["pending"] is False


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if os.path.exists(f"/proc/{p}") and
            state(p) != "Z"}


def _serve(**popen) -> subprocess.Popen:
    """`gisapp serve` with its workers, answering its health check."""
    import requests

    from tests.servers import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", "from gisapp.cli import main; main()", "serve", "--host",
                               "127.0.0.1", "--port", str(port), "--threads", "2"],
                              env={**os.environ}, stdout=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.3)
    return server


def _worker_kinds(pids: set[int]) -> dict[str, int]:
    """{kind: pid} of the workers among ``pids`` (a child between its fork and its exec of
    `gisapp worker`, or one ending, is none yet)."""
    kinds = {}
    for pid in _alive(pids):
        try:
            args = open(f"/proc/{pid}/cmdline").read().split("\0")
        except OSError:
            continue
        if "worker" in args and "--kind" in args[:-1]:
            kinds[args[args.index("--kind") + 1]] = pid
    return kinds


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_serve_starts_three_workers_and_none_outlives_it(live, stop):
    """`gisapp serve` runs a parcels, a zones and a city worker; stopped (SIGTERM) or killed, it
    leaves no worker behind."""
    server = _serve(stderr=subprocess.DEVNULL)
    try:
        workers = _children(server.pid)
        assert len(workers) == 3, workers
        kinds = _worker_kinds(workers)
        assert set(kinds) == {"parcels", "zones", "city"}
        # below the server's priority: at the lowest niceness, the city's only on cores nothing
        # else wants (nice, scheduling policy)
        priorities = {k: priority(p) for k, p in kinds.items()}
        assert priorities == {"parcels": (19, os.SCHED_OTHER), "zones": (19, os.SCHED_OTHER),
                            "city": (19, os.SCHED_IDLE)}, priorities
        server.send_signal(stop)
        server.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(workers), "a worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()


def test_serve_starts_a_worker_again_when_it_ends(live):
    """A worker that ends while the server runs (killed here; a crash at its start did it) is
    started again and says so, and the findings of a later edit are made current by the new one."""
    server = _serve(stderr=subprocess.PIPE, text=True)
    try:
        first = _worker_kinds(_children(server.pid))
        assert set(first) == {"parcels", "zones", "city"}, first
        os.kill(first["parcels"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _worker_kinds(_children(server.pid))
            if now.get("parcels", first["parcels"]) != first["parcels"]:
                break
            time.sleep(0.2)
        assert now.get("parcels", first["parcels"]) != first["parcels"], "the parcels worker was not started again"
        assert now["zones"] == first["zones"] and now["city"] == first["city"], "only the one that ended is replaced"
        # the new worker does its work: a status change's own findings made current
        with live.connect() as conn:
            parcel_id, code = conn.execute(sa.text("SELECT id, code FROM land.parcels ORDER BY id LIMIT 1")).one()
        edits.record_progress(live, ADMIN, code, {"reported_on": DEMO_AS_OF.isoformat(),
                                                  "started_on": (DEMO_AS_OF - dt.timedelta(days=20)).isoformat()})
        patched = sa.text("SELECT count(*) FROM rules.assessment_runs WHERE status = 'finished' "
                          "AND :p = ANY(parcel_ids)")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with live.connect() as conn:
                if conn.execute(patched, {"p": parcel_id}).scalar_one():
                    break
            time.sleep(0.3)
        assert not _jobs(live), "the new parcels worker took nothing"
        with live.connect() as conn:
            assert conn.execute(patched, {"p": parcel_id}).scalar_one(), "no patch of the edited parcel"
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert re.search(r"the parcels worker ended \(exit status -9\); starting another in [\d.]+ s", err), err
    assert "the parcels worker started again" in err


def test_ctrl_c_in_a_terminal_stops_the_server_and_its_workers_quietly(live):
    """Ctrl+C reaches the whole process group: the server stops its workers, none is reported as
    ended (and started again) on the way, none is left behind."""
    server = _serve(stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        workers = _children(server.pid)
        assert len(workers) == 3, workers
        for pid in workers:  # the server alone takes Ctrl+C (SigIgn: the signals ignored, proc(5))
            ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)", open(f"/proc/{pid}/status").read(), re.M).group(1), 16)
            assert ignored & (1 << (signal.SIGINT - 1)), f"worker {pid} would end on Ctrl+C before the server"
        os.killpg(server.pid, signal.SIGINT)
        _out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    deadline = time.monotonic() + 20
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(workers), "a worker outlived the server"
    assert "worker ended" not in err and "started again" not in err, err
