"""The idle rule reads what cases decided (issue #20): the assessor reads the extensions and fee
decisions, every change to a case queues its parcel, and the live worker makes the parcel's
finding follow a payment or a revocation within one round."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.db.context import Actor
from gisapp.db.engine import assessor_engine
from gisapp.demo import DEMO_AS_OF
from gisapp.demo.cases import extension_parcel, surviving_fee_parcel
from gisapp.queries.rule_inputs import input_snapshot, load_inputs, read_in_snapshot
from gisapp.rules.assess import run_assessment
from gisapp.rules.worker import run_once
from tests.db.test_live_findings import _clear_queue, _drain, _jobs

pytestmark = pytest.mark.db

ADMIN = Actor("idle.cases.admin", "bureau_admin", ())


def _day(offset: int) -> str:
    return (DEMO_AS_OF + dt.timedelta(days=offset)).isoformat()


def _idle_finding(engine, parcel_id: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT outcome, is_positive, evidence, explanation_zh, explanation_en FROM rules.current_findings "
            "WHERE rule = 'idle_land' AND parcel_id = :p"), {"p": parcel_id}).mappings().one())


def _case_of(engine, parcel_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT code FROM land.cases WHERE parcel_id = :p AND kind = 'idle_land_disposal'"),
                            {"p": parcel_id}).scalar_one()


def test_the_assessor_reads_the_extensions_and_fees_cases_decided(engine, demo_frames):
    frames = load_inputs(assessor_engine(), ["case_extensions", "idle_fee_decisions"], as_of=DEMO_AS_OF)
    ext = frames["case_extensions"]
    row = extension_parcel(demo_frames)
    mine = ext[ext["parcel_id"] == row["id"]]
    assert len(mine) == 1 and mine["case_code"].iloc[0] == _case_of(engine, int(row["id"]))
    assert mine["new_start_on"].iloc[0] == row["agreed_start_on"]
    fees = frames["idle_fee_decisions"]
    # the demo's three fee decisions: unpaid, paid in full, paid in part; none revoked
    assert len(fees) == 3 and fees["revoked_on"].isna().all()
    assert sorted((fees["paid_wan"] >= fees["amount_wan"]).tolist()) == [False, False, True]
    survivor = surviving_fee_parcel(demo_frames)
    assert fees.loc[fees["parcel_id"] == survivor["id"], "paid_wan"].tolist() == [0.0]
    # restricted to a zone, and to a parcel as the live worker's parcel jobs read them
    zone = int(survivor["zone_id"])
    names = ["idle_fee_decisions", "case_extensions"]
    with input_snapshot(assessor_engine()) as snapshot:
        in_zone = dict(read_in_snapshot(assessor_engine(), snapshot, names,
                                        {"zone_ids": [zone], "as_of": DEMO_AS_OF}))
        alone = dict(read_in_snapshot(assessor_engine(), snapshot, names,
                                      {"zone_ids": [zone], "as_of": DEMO_AS_OF, "parcel_ids": [int(survivor["id"])]}))
    assert survivor["id"] in set(in_zone["idle_fee_decisions"]["parcel_id"])
    with engine.connect() as conn:
        zones = set(conn.execute(sa.text("SELECT zone_id FROM land.parcels WHERE id = ANY(:ps)"),
                                 {"ps": in_zone["idle_fee_decisions"]["parcel_id"].tolist()}).scalars())
    assert zones == {zone}
    assert alone["idle_fee_decisions"]["parcel_id"].tolist() == [survivor["id"]] and alone["case_extensions"].empty


def test_every_change_to_a_case_queues_its_parcel(engine, demo_frames):
    """In one transaction, rolled back: each case table's change queues a parcel job for the parcel
    of the case (the live worker then re-evaluates the parcel-local rules)."""
    survivor = int(surviving_fee_parcel(demo_frames)["id"])
    extended = int(extension_parcel(demo_frames)["id"])
    changes = {
        "cases": ("UPDATE land.cases SET note = note WHERE parcel_id = :p", survivor),
        "case_steps": ("UPDATE land.case_steps SET note = note WHERE case_id IN "
                       "(SELECT id FROM land.cases WHERE parcel_id = :p)", survivor),
        "case_money": ("UPDATE land.case_money SET note = note WHERE case_id IN "
                       "(SELECT id FROM land.cases WHERE parcel_id = :p)", survivor),
        "case_extensions": ("UPDATE land.case_extensions SET cap_source = cap_source WHERE case_id IN "
                            "(SELECT id FROM land.cases WHERE parcel_id = :p)", extended),
    }
    with engine.connect() as conn, conn.begin() as tx:
        for table, (sql, parcel) in changes.items():
            before = conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue WHERE parcel_id = :p "
                                          "AND source = :t"), {"p": parcel, "t": table}).scalar_one()
            assert conn.execute(sa.text(sql), {"p": parcel}).rowcount > 0, table
            after = conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue WHERE parcel_id = :p "
                                         "AND source = :t"), {"p": parcel, "t": table}).scalar_one()
            assert after == before + 1, table
        # a zone's case (rectification) queues nothing: no rule reads a zone's cases
        before = conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue")).scalar_one()
        conn.execute(sa.text("UPDATE land.case_steps SET note = note WHERE case_id IN "
                             "(SELECT id FROM land.cases WHERE parcel_id IS NULL)"))
        assert conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue")).scalar_one() == before
        tx.rollback()


@pytest.fixture(scope="module")
def live(isolated_engine):
    run_assessment(assessor_engine())
    _clear_queue(isolated_engine)
    return isolated_engine


def test_the_demo_fee_survives_the_later_start(live, demo_frames):
    survivor = int(surviving_fee_parcel(demo_frames)["id"])
    f = _idle_finding(live, survivor)
    code = _case_of(live, survivor)
    assert f["outcome"] == "idle_fee_due" and f["is_positive"]
    assert f["evidence"]["started_on"] is not None and f["evidence"]["fee_decision"]["case_code"] == code
    assert f["evidence"]["fee_decision"]["status"] == "due" and f["evidence"]["fee_decision"]["overdue"] is True
    assert code in f["explanation_zh"] and "仍应缴纳" in f["explanation_zh"]
    assert code in f["explanation_en"] and "remain due" in f["explanation_en"]
    with live.connect() as conn:
        layer = conn.execute(sa.text("SELECT idle_class, fee_case_code, fee_due_wan FROM layers.idle_land "
                                     "WHERE id = :p"), {"p": survivor}).mappings().one()
    assert layer["idle_class"] == "fee_due" and layer["fee_case_code"] == code
    assert float(layer["fee_due_wan"]) == f["evidence"]["fee_decision"]["outstanding_wan"] > 0


def test_a_payment_in_the_case_ends_the_surviving_fee_within_one_round(live, demo_frames):
    survivor = int(surviving_fee_parcel(demo_frames)["id"])
    code = _case_of(live, survivor)
    amount = q.case_timeline(live, ADMIN, code).money[0]["amount_wan"]
    _clear_queue(live)
    q.record_payment(live, ADMIN, code, {"paid_wan": str(amount), "paid_on": _day(-5)})
    assert [(p, s) for _z, p, s in _jobs(live)] == [(survivor, "case_money")]
    done = run_once(assessor_engine(), "parcels")
    assert done is not None and done.parcel_ids == [survivor]
    f = _idle_finding(live, survivor)
    assert f["outcome"] == "not_idle" and not f["is_positive"]
    assert f["evidence"]["fee_decision"]["status"] == "paid"
    assert f["evidence"]["fee_decision"]["paid_on"] == _day(-5) and "缴清" in f["explanation_zh"]
    _drain(live)


def test_a_fee_revoked_on_reconsideration_is_no_longer_due(live, demo_frames):
    """The fee paid in part on stalled land in disposal: a reconsideration that revokes it."""
    with live.connect() as conn:
        parcel, code = conn.execute(sa.text(
            "SELECT c.parcel_id, c.code FROM land.cases c JOIN land.case_money m ON m.case_id = c.id "
            "WHERE m.purpose = 'idle_fee' AND m.paid_wan > 0 AND m.paid_wan < m.amount_wan")).one()
    assert _idle_finding(live, parcel)["evidence"]["fee_decision"]["status"] == "due"
    _clear_queue(live)
    q.record_step(live, ADMIN, code, {"step": "reconsideration", "done_on": _day(-3), "result": "revoked"})
    assert (parcel, "case_steps") in [(p, s) for _z, p, s in _jobs(live)]
    run_once(assessor_engine(), "parcels")
    f = _idle_finding(live, parcel)
    assert f["evidence"]["fee_decision"]["status"] == "revoked"
    assert f["evidence"]["fee_decision"]["revoked_by"] == "reconsideration"
    assert "经行政复议撤销" in f["explanation_zh"] and "reconsideration" not in f["explanation_zh"]
    _drain(live)
