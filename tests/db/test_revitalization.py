"""The revitalization record (issue #20): quarterly stock snapshots equal the dashboard's inventory
on their day, are kept unchanged (only the owner corrects one) and audited, and the live worker's
daily pass takes one when a quarter has ended; yearly targets are parameters with their source."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.db.context import Actor, acting_as
from gisapp.demo import DEMO_AS_OF
from gisapp.queries import dashboard
from gisapp.revitalization import params, progress
from gisapp.revitalization.snapshots import AlreadyTaken, NotYet, snapshots, take_snapshot
from gisapp.rules.assess import run_assessment
from gisapp.rules.overrides import overrides_frame, set_param

pytestmark = pytest.mark.db

D = dt.date


def _exec(eng, sql: str, **values):
    with eng.begin() as conn:
        return conn.execute(sa.text(sql), values)


def _clock(eng, fixed: dt.date, daily_pass: dt.date) -> None:
    _exec(eng, "UPDATE rules.assessment_clock SET fixed_on = :f, daily_pass_on = :d", f=fixed, d=daily_pass)


@pytest.fixture(scope="module")
def eng(isolated_engine):
    """The isolated demo database assessed as of the demo's day, without snapshots."""
    run_assessment(isolated_engine, DEMO_AS_OF)
    _exec(isolated_engine, "DELETE FROM rules.stock_snapshots")  # the owner may
    yield isolated_engine
    _clock(isolated_engine, DEMO_AS_OF, DEMO_AS_OF)


@pytest.fixture
def no_snapshots(eng):
    _exec(eng, "DELETE FROM rules.stock_snapshots")
    yield eng
    _clock(eng, DEMO_AS_OF, DEMO_AS_OF)
    _exec(eng, "DELETE FROM rules.reassess_queue")


def test_a_snapshot_equals_the_dashboards_inventory_on_its_day(no_snapshots):
    eng = no_snapshots
    taken = take_snapshot(eng)
    assert (taken.quarter_end, taken.findings_as_of, taken.quarter) == (D(2026, 6, 30), DEMO_AS_OF, "2026Q2")
    shots = snapshots(eng)
    idle = dashboard.dataset(eng, "idle_land")
    per_mu = dashboard.dataset(eng, "per_mu")
    expected = {
        "idle": idle[idle["outcome"].isin(dashboard.IDLE_OUTCOMES)],
        "approved_unsupplied": idle[idle["outcome"] == "approved_unsupplied"],
        "supplied_unbuilt": idle[idle["outcome"] == "supplied_unbuilt"],
        "low_efficiency": per_mu[per_mu["outcome"] == "class_d"],
    }
    with eng.connect() as conn:
        zones = conn.execute(sa.text("SELECT count(*) FROM land.zones")).scalar()
    assert len(shots) == zones * 4, "every zone has a row of every kind, zero where it has none"
    for kind, rows in expected.items():
        want = rows.groupby("zone_code").agg(parcels=("parcels", "sum"), area_ha=("area_ha", "sum"), n=("parcels", "size"))
        mine = shots[shots["kind"] == kind].set_index("zone_code")
        assert want["parcels"].sum() > 0, kind
        for zone, row in mine.iterrows():
            if zone not in want.index:
                assert (row["parcels"], row["area_ha"]) == (0, 0.0), (kind, zone)
                continue
            assert row["parcels"] == want.at[zone, "parcels"], (kind, zone)
            # the dashboard rounds each of its rows to 0.01 ha
            assert row["area_ha"] == pytest.approx(want.at[zone, "area_ha"], abs=0.005 * want.at[zone, "n"] + 1e-9)
        assert taken.totals[kind][0] == want["parcels"].sum()


def test_a_quarter_is_taken_once_and_kept_as_it_was(no_snapshots):
    eng = no_snapshots
    take_snapshot(eng)
    with pytest.raises(AlreadyTaken, match="2026Q2"):
        take_snapshot(eng, DEMO_AS_OF)
    row = _exec(eng, "SELECT id, area_m2 FROM rules.stock_snapshots WHERE kind = 'idle' AND area_m2 > 0 "
                     "ORDER BY id LIMIT 1").one()
    # a role the privileges would let through (granted for the test, in its transaction) meets the trigger
    for sql in ("UPDATE rules.stock_snapshots SET area_m2 = 0 WHERE id = :id",
                "DELETE FROM rules.stock_snapshots WHERE id = :id"):
        with pytest.raises(sa.exc.DBAPIError, match="record of a past quarter"), eng.begin() as conn:
            conn.execute(sa.text("GRANT UPDATE, DELETE ON rules.stock_snapshots TO gisapp_assessor"))
            conn.execute(sa.text("SET LOCAL ROLE gisapp_assessor"))
            conn.execute(sa.text(sql), {"id": row.id})
    # the request role of a bureau admin has no privilege at all
    admin = Actor("rv.admin", "bureau_admin", ())
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), acting_as(eng, admin) as conn:
        conn.execute(sa.text("DELETE FROM rules.stock_snapshots WHERE id = :id"), {"id": row.id})
    assert _exec(eng, "SELECT area_m2 FROM rules.stock_snapshots WHERE id = :id", id=row.id).scalar() == row.area_m2
    # the owner corrects one, and the audit keeps both the taking and the correction
    with eng.begin() as conn:
        conn.execute(sa.text("SET LOCAL gisapp.reason = 'test correction'"))
        conn.execute(sa.text("UPDATE rules.stock_snapshots SET note = 'corrected' WHERE id = :id"), {"id": row.id})
    actions = _exec(eng, "SELECT action FROM audit.change_log WHERE table_name = 'stock_snapshots' "
                         "AND row_id = :id ORDER BY id", id=str(row.id)).scalars().all()
    assert actions[-2:] == ["INSERT", "UPDATE"]


def test_a_snapshot_needs_findings_that_reach_the_quarters_end(no_snapshots):
    eng = no_snapshots
    with pytest.raises(Exception, match="cannot show the stock on 2026-07-01"):
        take_snapshot(eng, D(2026, 7, 1))  # after the day findings are as of
    with pytest.raises(Exception, match="say nothing of the stock at the end of 2026Q1"):
        take_snapshot(eng, D(2026, 5, 15))  # Q1 ended before these findings' quarter
    _clock(eng, D(2026, 10, 2), DEMO_AS_OF)
    with pytest.raises(NotYet, match="before the quarter 2026Q3 ended on 2026-09-30"):
        take_snapshot(eng)
    assert snapshots(eng).empty


def test_the_daily_pass_takes_the_snapshot_of_the_quarter_that_ended(no_snapshots):
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.worker import queue_daily_pass

    eng = no_snapshots
    _clock(eng, D(2026, 7, 1), D(2026, 6, 30))  # the first day after the quarter; findings as of its end
    assert queue_daily_pass(assessor_engine()) is True
    shots = snapshots(eng)
    assert set(shots["quarter_end"]) == {D(2026, 6, 30)}
    assert set(shots["taken_via"]) == {"daily_pass"} and set(shots["findings_as_of"]) == {DEMO_AS_OF}
    assert queue_daily_pass(assessor_engine()) is False  # once a day
    assert len(snapshots(eng)) == len(shots)


def test_a_target_is_a_parameter_set_per_zone_and_year_with_its_source(no_snapshots):
    eng = no_snapshots
    take_snapshot(eng)
    assert params.target(overrides_frame(eng), 3, 2026, as_of=DEMO_AS_OF) is None, "the default is no target"
    set_param(eng, "revitalization", "target_ha", 12.5, source="测试目标文件", effective_from=D(2026, 1, 1),
              zone="pudong_airport", year=2026)
    set_param(eng, "revitalization", "target_kinds", '["idle", "low_efficiency"]', source="测试口径",
              effective_from=D(2026, 1, 1), zone="pudong_airport", year=2026)
    try:
        frame = progress.targets(eng, "pudong_airport", DEMO_AS_OF)
        assert len(frame) == 1
        row = frame.iloc[0]
        assert (row["year"], row["target_ha"], row["kinds"], row["source"]) == (
            2026, 12.5, ["idle", "low_efficiency"], "测试目标文件")
        shots = snapshots(eng, "pudong_airport")
        counted = shots[shots["kind"].isin(["idle", "low_efficiency"])]["area_ha"].sum()
        assert row["stock_ha"] == pytest.approx(counted, abs=0.006)
        assert row["gap_ha"] == pytest.approx(counted - 12.5, abs=0.006)
        # not before it is in force
        assert progress.targets(eng, "pudong_airport", D(2025, 12, 31)).empty
    finally:
        _exec(eng, "DELETE FROM rules.parameter_overrides WHERE rule = 'revitalization'")


def test_every_step_of_the_procedures_has_a_stage_and_the_layer_names_them_as_the_labels_do(eng):
    from gisapp.catalog.registry import get_layer
    from gisapp.i18n import TEXTS

    with eng.connect() as conn:
        missing = conn.execute(sa.text("SELECT DISTINCT step FROM land.case_pathway_steps d WHERE NOT EXISTS "
                                       "(SELECT 1 FROM land.case_step_stages s WHERE s.step = d.step)")).scalars().all()
        stages = conn.execute(sa.text("SELECT code FROM land.case_stages ORDER BY sort")).scalars().all()
    assert missing == []
    legend = {c.value: (c.label.zh, c.label.en) for c in get_layer("cases").style.categories}
    assert list(legend) == stages
    assert all(legend[s] == (TEXTS[f"case_stage.{s}"]["zh"], TEXTS[f"case_stage.{s}"]["en"]) for s in stages)


def test_a_case_stands_at_the_stage_of_its_latest_step_and_the_layer_keeps_to_the_readers_zones(eng):
    with eng.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT n.case_id, n.stage, n.last_step, n.zone_id, "
            "(SELECT count(*) FROM land.case_steps s WHERE s.case_id = n.case_id) AS steps "
            "FROM land.case_stage_now n WHERE n.closed_on IS NULL")).all()
        step_stage = dict(conn.execute(sa.text("SELECT step, stage FROM land.case_step_stages")).all())
        layer = conn.execute(sa.text("SELECT id, zone_code FROM layers.open_cases")).all()
    assert rows and {r.stage for r in rows if r.steps == 0} <= {"opened"}
    assert all(r.stage == step_stage[r.last_step] for r in rows if r.steps)
    parcel_cases = {r.case_id for r in rows} & {r.id for r in layer}
    assert parcel_cases == {r.id for r in layer}, "the layer draws open cases only"
    zone_id, zone_code = next((r.zone_id, c) for r in rows for i, c in layer if i == r.case_id)
    editor = Actor("rv.editor", "zone_editor", (zone_id,))
    with acting_as(eng, editor) as conn:
        seen = conn.execute(sa.text("SELECT DISTINCT zone_code FROM layers.open_cases")).scalars().all()
        stages = conn.execute(sa.text("SELECT DISTINCT zone_id FROM land.case_stage_now")).scalars().all()
    assert seen == [zone_code] and stages == [zone_id]
