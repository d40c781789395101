"""Live findings, the parcel's own rules first (#19): a change to a few parcels queues parcel
jobs; the parcels worker puts their parcel-local findings into the current runs within moments;
patches and full runs never undo each other, and everything ends as the batch computes it."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import pandas as pd
import pytest
import sqlalchemy as sa

from gisapp.db.engine import assessor_engine
from gisapp.demo import DEMO_AS_OF
from gisapp.queries import edits
from gisapp.queries.live import freshness_on
from gisapp.queries.parcel import parcel_detail
from gisapp.queries.rule_inputs import FRAME_SQL
from gisapp.rules import assess, parcel_jobs, registry
from gisapp.rules.assess import run_assessment
from gisapp.rules.worker import run_once
from tests.db.test_live_findings import ADMIN, _clear_queue, _current, _drain, _jobs, _queued

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def live(isolated_engine):
    """The isolated demo database with its findings assessed once and nothing queued."""
    run_assessment(assessor_engine())
    _clear_queue(isolated_engine)
    return isolated_engine


def _idle_parcel(engine, offset: int = 0):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT p.id, p.code, p.zone_id FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' ORDER BY p.id OFFSET :o LIMIT 1"),
            {"o": offset}).one()


def _idle_outcome(engine, code: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT f.outcome FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND p.code = :c"), {"c": code}).scalar_one()


def _start_construction(engine, code: str) -> None:
    edits.record_progress(engine, ADMIN, code, {"reported_on": DEMO_AS_OF.isoformat(),
                                               "started_on": (DEMO_AS_OF - dt.timedelta(days=20)).isoformat(),
                                               "developed_area_m2": "500", "should_develop_area_m2": "1000"})


def _trigger_args(engine) -> dict[str, list[str]]:
    """Each captured table's trigger arguments (how, key, city, local)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT tgrelid::regclass::text AS rel, encode(tgargs, 'escape') AS args FROM pg_trigger "
            "WHERE tgname = 'reassess_on_insert'")).all()
    return {r.rel: r.args.split("\\000")[:-1] for r in rows}


def test_the_triggers_know_which_tables_the_parcel_local_rules_read(live):
    """A table a parcel-local rule reads queues parcel jobs (keyed by parcel) or marks its zone
    row as not covered (zone data); a table none of them reads covers its zone row."""
    frames = {"parameter_overrides", *(f for m in registry.parcel_local_modules() for f in registry.frames_of(m))}
    read = {t for f in frames for t in re.findall(r"\b((?:land|rules)\.[a-z_]+)", FRAME_SQL[f])}
    args = _trigger_args(live)
    assert read <= set(args), read - set(args)
    for table, (how, _key, _city, local, *_rule_key) in args.items():
        if table not in read:
            assert local == "none", f"{table} feeds no parcel-local rule but is marked {local}"
        elif how in ("parcel", "grant", "case") or table == "land.parcels":
            assert local == "parcel", f"{table} is read by a parcel-local rule per parcel but marked {local}"
        else:
            assert local == "zone", f"{table} is read by a parcel-local rule but marked {local}"


def test_every_frame_of_the_parcel_local_rules_is_read_by_parcel():
    """Parcel jobs read these frames for their parcels only (no zone filter): a frame without the
    parcel filter would be read for the whole city."""
    from gisapp.queries.rule_inputs import uses_param

    frames = {f for m in registry.parcel_local_modules() for f in registry.frames_of(m)}
    assert frames and all(uses_param(f, "parcel_ids") for f in frames), \
        sorted(f for f in frames if not uses_param(f, "parcel_ids"))


def test_an_edit_queues_a_job_for_its_parcel_and_a_covered_zone_row(live):
    _clear_queue(live)
    p = _idle_parcel(live)
    _start_construction(live, p.code)
    assert _jobs(live) == [(p.zone_id, p.id, "construction_progress")]
    with live.connect() as conn:
        covered = conn.execute(sa.text(
            "SELECT covered FROM rules.reassess_queue WHERE zone_id = :z AND parcel_id IS NULL"), {"z": p.zone_id}
        ).scalars().all()
    assert covered == [True]
    _drain(live)


def test_a_parameter_change_is_not_covered_by_parcel_jobs(live):
    _clear_queue(live)
    with live.begin() as conn:
        conn.execute(sa.text("UPDATE rules.parameter_overrides SET source = source"))
        conn.execute(sa.text("UPDATE land.land_use_codes SET name_zh = name_zh WHERE code = "
                             "(SELECT min(code) FROM land.land_use_codes)"))
    rows = _queued(live)
    with live.connect() as conn:
        covered = conn.execute(sa.text("SELECT bool_or(covered) FROM rules.reassess_queue")).scalar()
    assert rows and not covered and _jobs(live) == []
    _drain(live)


def test_the_parcels_worker_makes_the_parcels_own_findings_current_before_its_zone(live):
    _clear_queue(live)
    p = _idle_parcel(live, 1)
    _start_construction(live, p.code)
    with live.connect() as conn:
        assert freshness_on(conn, p.code).own_pending
    done = run_once(assessor_engine(), "parcels")
    assert done is not None and done.parcel_ids == [p.id] and done.patched > 0
    assert _idle_outcome(live, p.code) != "idle_not_started"
    detail = parcel_detail(live, p.code)
    status = detail.findings_status
    assert status["own_pending"] is False and status["pending"] is True, status  # the zone's run is still due
    by_rule = {f["rule"]: f["pending"] for f in detail.findings}
    assert by_rule["idle_land"] is False
    assert all(pending for rule, pending in by_rule.items() if rule not in registry.PARCEL_LOCAL_RULES)
    with live.connect() as conn:
        patched = conn.execute(sa.text(
            "SELECT count(*) FROM rules.current_findings f JOIN rules.findings r ON r.id = f.id "
            "WHERE f.parcel_id = :p AND r.patch_run_id = :run"), {"p": p.id, "run": done.run_id}).scalar_one()
    assert patched == done.patched
    _drain(live)
    assert parcel_detail(live, p.code).findings_status["pending"] is False
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings


@contextmanager
def _then(original, action):
    """``original`` (a snapshot-taking context manager) with ``action`` run just after the
    snapshot was taken: a change committed while a run reads."""
    @contextmanager
    def wrapped(engine):
        with original(engine) as taken:
            action()
            yield taken
    yield wrapped


def test_a_zone_run_that_read_before_a_patch_keeps_the_patch(live, monkeypatch):
    """Edit and patch while a full run of the zone reads: made current afterwards, the run keeps
    the patch's (fresher) findings for that parcel instead of its own stale ones."""
    _clear_queue(live)
    p = _idle_parcel(live, 2)
    zone = _zone_code(live, p.zone_id)

    def edit_and_patch():
        _start_construction(live, p.code)
        assert run_once(assessor_engine(), "parcels") is not None

    with _then(assess.input_snapshot_at, edit_and_patch) as wrapped:
        monkeypatch.setattr(assess, "input_snapshot_at", wrapped)
        run_assessment(assessor_engine(), None, [zone])
    monkeypatch.undo()
    assert _idle_outcome(live, p.code) != "idle_not_started"  # not undone by the older run
    _drain(live)
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings


def test_a_patch_that_read_before_the_current_run_is_skipped(live, monkeypatch):
    """A full run of the zone made current while a parcel job reads: the job's (older) findings
    are not patched in over the run's."""
    _clear_queue(live)
    p = _idle_parcel(live, 3)
    zone = _zone_code(live, p.zone_id)
    _start_construction(live, p.code)
    read = parcel_jobs._read

    def read_then_run_the_zone(*args):
        taken = read(*args)
        run_assessment(assessor_engine(), None, [zone])
        return taken

    monkeypatch.setattr(parcel_jobs, "_read", read_then_run_the_zone)
    done = run_once(assessor_engine(), "parcels")
    monkeypatch.undo()
    assert done is not None and done.patched == 0 and done.skipped > 0
    assert _idle_outcome(live, p.code) != "idle_not_started"
    _drain(live)
    live_findings = _current(live)
    run_assessment(assessor_engine())
    assert _current(live) == live_findings


def test_a_review_carries_over_a_patch(live):
    """A confirmed finding whose outcome a parcel job does not change keeps its review."""
    _clear_queue(live)
    with live.connect() as conn:
        f = conn.execute(sa.text(
            "SELECT f.id, f.parcel_id, f.subject_id, f.outcome FROM rules.current_findings f "
            "WHERE f.rule = 'land_inventory' AND f.review_status = 'open' ORDER BY f.id LIMIT 1")).one()
    with live.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.user', 'live.admin', true)"))
        conn.execute(sa.text("UPDATE rules.findings SET review_status = 'dismissed', review_reason = 'checked on site', "
                             "reviewed_by = 'live.admin', reviewed_at = now() WHERE id = :id"), {"id": f.id})
        conn.execute(sa.text("UPDATE land.parcels SET status_since = status_since WHERE id = :p"), {"p": f.parcel_id})
    done = run_once(assessor_engine(), "parcels")
    assert done is not None and done.parcel_ids == [f.parcel_id]
    with live.connect() as conn:
        now = conn.execute(sa.text(
            "SELECT id, outcome, review_status, review_reason FROM rules.current_findings "
            "WHERE rule = 'land_inventory' AND subject_id = :s"), {"s": f.subject_id}).one()
    assert now.id != f.id and now.outcome == f.outcome
    assert (now.review_status, now.review_reason) == ("dismissed", "checked on site")
    _drain(live)


def _zone_code(engine, zone_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT code FROM land.zones WHERE id = :z"), {"z": zone_id}).scalar_one()


def test_the_parcel_local_rules_give_a_parcel_the_same_findings_on_its_own_rows(live):
    """What makes patches exact: evaluated on the frames of a few parcels, the parcel-local
    rules give those parcels the findings they get on the frames of the whole zone."""
    from gisapp.queries.rule_inputs import read_in_transaction
    from gisapp.rules.evaluate import evaluate_frames

    rules = list(registry.PARCEL_LOCAL_RULES)
    modules = registry.parcel_local_modules()
    with live.connect() as conn:
        zone_id = conn.execute(sa.text("SELECT zone_id FROM land.parcels GROUP BY zone_id ORDER BY count(*) DESC "
                                       "LIMIT 1")).scalar_one()
        parcels = conn.execute(sa.text("SELECT id FROM land.parcels WHERE zone_id = :z ORDER BY id"),
                               {"z": zone_id}).scalars().all()
    few = parcels[::7][:40]
    params = {"zone_ids": [zone_id], "as_of": DEMO_AS_OF}

    names = ["parameter_overrides", *dict.fromkeys(f for m in modules for f in registry.frames_of(m))]

    def found(extra):
        with assessor_engine().connect() as conn:
            parts = evaluate_frames(modules, read_in_transaction(conn, names, {**params, **extra}), DEMO_AS_OF, rules)
        out = pd.concat([p for p in parts if not p.empty], ignore_index=True)
        out = out[out["parcel_id"].isin(few)].drop(columns=["parameters"])
        return out.sort_values(["rule", "subject_type", "subject_id"]).reset_index(drop=True).astype(str)

    alone, in_zone = found({"parcel_ids": few}), found({})
    assert len(alone) > len(few)  # every parcel has findings of several rules
    pd.testing.assert_frame_equal(alone, in_zone)


def test_a_zones_round_takes_the_zones_whose_own_findings_wait_first(live):
    """Rows the parcels worker cannot cover (a zone parameter) go before covered ones, and a
    round of covered zones is short: a waiting zone never waits behind a long round."""
    from gisapp.rules import worker

    _clear_queue(live)
    with live.connect() as conn:
        zones = conn.execute(sa.text("SELECT id FROM land.zones ORDER BY id LIMIT 5")).scalars().all()
    with live.begin() as conn:
        for z in zones[:4]:  # covered changes first in the queue
            conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source, covered) "
                                 "VALUES (:z, 'test', true)"), {"z": z})
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (:z, 'test')"),
                     {"z": zones[4]})
    first = run_once(assessor_engine(), "zones")
    assert first.zone_ids == [zones[4]]
    second = run_once(assessor_engine(), "zones")
    assert second.zone_ids == zones[:worker.COVERED_ZONES_PER_ROUND]
    _drain(live)


def test_a_running_zones_worker_lets_covered_changes_settle(live):
    """Covered changes (the parcels' own findings already current) wait until the zone has been
    quiet a moment, or until the oldest has waited long enough; a change the parcels worker
    cannot cover never waits."""
    from gisapp.rules import worker

    _clear_queue(live)
    with live.connect() as conn:
        zones = conn.execute(sa.text("SELECT id FROM land.zones ORDER BY id LIMIT 3")).scalars().all()
    with live.begin() as conn:
        for z in zones[:2]:
            conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source, covered) "
                                 "VALUES (:z, 'test', true)"), {"z": z})
    assert run_once(assessor_engine(), "zones", settle=True) is None  # just saved: not yet
    assert 0 < worker._seconds_until_settled(live, "zones") <= worker.ZONE_WIDE_SETTLE.quiet
    with live.begin() as conn:
        # zones[0] quiet for long enough; zones[1] edited all along, its first change long ago
        conn.execute(sa.text("UPDATE rules.reassess_queue SET enqueued_at = enqueued_at - make_interval(secs => :s) "
                             "WHERE zone_id = :z"), {"z": zones[0], "s": worker.ZONE_WIDE_SETTLE.quiet + 1})
        conn.execute(sa.text("UPDATE rules.reassess_queue SET enqueued_at = enqueued_at - make_interval(secs => :s) "
                             "WHERE zone_id = :z"), {"z": zones[1], "s": worker.ZONE_WIDE_SETTLE.max_wait + 1})
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source, covered) VALUES (:z, 'test', true)"),
                     {"z": zones[1]})
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (:z, 'test')"),
                     {"z": zones[2]})
    assert run_once(assessor_engine(), "zones", settle=True).zone_ids == [zones[2]]  # uncovered: at once
    settled = []  # both settled, in rounds of COVERED_ZONES_PER_ROUND zones
    while (done := run_once(assessor_engine(), "zones", settle=True)) is not None:
        assert len(done.zone_ids) <= worker.COVERED_ZONES_PER_ROUND
        settled += done.zone_ids
    assert settled == zones[:2]
    assert worker._seconds_until_settled(live, "zones") is None
    _drain(live)


def test_a_zones_change_does_not_wait_for_the_ranks_of_a_save_just_made(live):
    """A zone parameter set a moment after a save in the same zone: a running zones worker runs
    the parameter's rule at once and leaves the save's zone-wide rules to settle."""
    from gisapp.rules import worker

    _clear_queue(live)
    with live.connect() as conn:
        zone = conn.execute(sa.text("SELECT id FROM land.zones ORDER BY id LIMIT 1")).scalar_one()
    with live.begin() as conn:
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source, covered) VALUES (:z, 'test', true)"),
                     {"z": zone})
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source, rules) "
                             "VALUES (:z, 'parameter_overrides', '{idle_land}')"), {"z": zone})
    done = run_once(assessor_engine(), "zones", settle=True)
    assert done.zone_ids == [zone] and done.queued_rows == 1
    with live.connect() as conn:
        ran = conn.execute(sa.text("SELECT rule_names FROM rules.assessment_runs WHERE id = ANY(:i)"),
                           {"i": done.run_ids}).scalars().all()
    assert [sorted(r) for r in ran] == [["idle_land", "land_inventory"]]  # the idle module's rules
    assert [c for _z, c in _queued(live)] == ["test"]  # the save's ranks wait to settle
    assert 0 < worker._seconds_until_settled(live, "zones") <= worker.ZONE_WIDE_SETTLE.quiet
    _drain(live)


def test_a_running_city_worker_lets_the_citys_changes_settle(live):
    """The whole-city rules run once the changes feeding them pause, or once the oldest has
    waited long enough: not once per save. `gisapp worker --once` (no settling) takes them at once."""
    from gisapp.rules import worker

    _clear_queue(live)
    with live.begin() as conn:
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (NULL, 'test')"))
    assert run_once(assessor_engine(), "city", settle=True) is None
    assert 0 < worker._seconds_until_settled(live, "city") <= worker.CITY_SETTLE.quiet
    with live.begin() as conn:
        conn.execute(sa.text("UPDATE rules.reassess_queue SET enqueued_at = enqueued_at - make_interval(secs => :s)"),
                     {"s": worker.CITY_SETTLE.max_wait + 1})
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (NULL, 'test')"))
    done = run_once(assessor_engine(), "city", settle=True)  # saves all along: the oldest waited enough
    assert done.city and done.queued_rows == 2
    with live.begin() as conn:
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (NULL, 'test')"))
    assert run_once(assessor_engine(), "city").city
    assert _queued(live) == []
