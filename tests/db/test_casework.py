"""Casework in the database (issue #20): the rules every path obeys (the order of steps, money
that adds up, consistent dates, a closed case's outcome, one open case per parcel and kind), a
confirmed finding opening a case, and an extension reaching the idle rule's input."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.api import rule_inputs, run_rule
from gisapp.casework import queries as q
from gisapp.db.context import Actor, acting_as
from gisapp.demo import DEMO_AS_OF
from gisapp.queries import edits
from gisapp.queries.edit_errors import ValidationFailed
from gisapp.rules.assess import run_assessment

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Actor("cw.admin", "bureau_admin", ())


def _scalar(eng, sql: str, **params):
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _parcels(eng, demo_frames, scenario: str) -> list[tuple[int, str, int]]:
    """(id, code, zone id) of the demo's parcels of a scenario that no demo case is about."""
    ids = demo_frames["parcels"].query("scenario == @scenario")["id"].tolist()
    with eng.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT p.id, p.code, p.zone_id FROM land.parcels p WHERE p.id = ANY (:ids) "
            "AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id) ORDER BY p.id"), {"ids": ids})]


@pytest.fixture(scope="module")
def idle_parcels(isolated_engine, demo_frames):
    return _parcels(isolated_engine, demo_frames, "unbuilt_idle")


def _editor(zone_id: int) -> Actor:
    return Actor(f"cw.ed{zone_id}", "zone_editor", (zone_id,))


def _open(eng, code: str, opened_on: str = "2026-01-05", **extra) -> str:
    return q.open_case(eng, ADMIN, {"kind": "idle_land_disposal", "parcel": code, "opened_on": opened_on,
                                    **extra}).case_code


def _investigate(eng, case: str, editor: Actor, *, notice="2026-01-09", reply="2026-02-06", determined="2026-02-20",
                 published="2026-02-25") -> None:
    q.record_step(eng, editor, case, {"step": "investigation_notice", "done_on": notice, "doc_no": "闲调〔2026〕1号"})
    q.record_step(eng, editor, case, {"step": "user_reply", "done_on": reply, "result": "received"})
    q.record_step(eng, ADMIN, case, {"step": "determination", "done_on": determined})
    q.record_step(eng, editor, case, {"step": "publication", "done_on": published})


# -- the order of steps, dates, results ------------------------------------------------------------


def test_a_step_cannot_be_done_before_the_steps_it_depends_on(isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[0]
    case = _open(isolated_engine, code)
    with pytest.raises(ValidationFailed) as early:
        q.record_step(isolated_engine, ADMIN, case, {"step": "determination", "done_on": "2026-01-10"})
    assert early.value.problems["step"].key == "case.err.step_order"
    q.record_step(isolated_engine, _editor(zone), case, {"step": "investigation_notice", "done_on": "2026-01-09"})
    # the reply dated before the notice it answers
    with pytest.raises(ValidationFailed) as before:
        q.record_step(isolated_engine, _editor(zone), case,
                      {"step": "user_reply", "done_on": "2026-01-08", "result": "received"})
    assert before.value.problems["done_on"].key == "case.err.before_dependency"
    # and the same order holds for SQL written by hand, as the owner
    with pytest.raises(sa.exc.DatabaseError, match="cannot be done before user_reply"), isolated_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO land.case_steps (case_id, pathway, step, done_on, done_by, article) "
                             "SELECT id, pathway, 'determination', DATE '2026-03-01', '', '' FROM land.cases "
                             "WHERE code = :c"), {"c": case})


def test_a_step_is_not_before_the_case_nor_in_the_future_and_records_an_allowed_result(isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[1]
    case = _open(isolated_engine, code, opened_on="2026-02-01")
    ed = _editor(zone)
    with pytest.raises(ValidationFailed) as early:
        q.record_step(isolated_engine, ed, case, {"step": "investigation_notice", "done_on": "2026-01-31"})
    assert early.value.problems["done_on"].key == "case.err.before_opened"
    with pytest.raises(ValidationFailed) as future:
        q.record_step(isolated_engine, ed, case, {"step": "investigation_notice", "done_on": "2099-01-01"})
    assert future.value.problems["done_on"].key == "edit.err.future"
    q.record_step(isolated_engine, ed, case, {"step": "investigation_notice", "done_on": "2026-02-02"})
    with pytest.raises(ValidationFailed) as bad:
        q.record_step(isolated_engine, ed, case, {"step": "user_reply", "done_on": "2026-02-20", "result": "maybe"})
    assert bad.value.problems["result"].key == "case.err.result"
    got = q.record_step(isolated_engine, ed, case, {"step": "user_reply", "done_on": "2026-02-20", "result": "none"})
    # served Monday 2 Feb 2026 + 30 days = Wednesday 4 Mar 2026, stored with how it was counted
    assert got.due_on == D(2026, 3, 4)
    period = _scalar(isolated_engine, "SELECT period FROM land.case_steps WHERE id = :i", i=got.row_id)
    assert period["param"] == "reply_days" and period["source"] == "国土资源部令第53号第五条"


def test_a_case_cannot_close_without_its_outcome_nor_before_the_outcomes_steps(isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[2]
    case = _open(isolated_engine, code)
    with pytest.raises(sa.exc.IntegrityError, match="cases_closed_has_outcome"), isolated_engine.begin() as conn:
        conn.execute(sa.text("UPDATE land.cases SET closed_on = DATE '2026-03-01' WHERE code = :c"), {"c": case})
    with pytest.raises(ValidationFailed) as missing:
        q.close_case(isolated_engine, ADMIN, case, {"outcome": "fee_collected", "closed_on": "2026-03-01"})
    assert missing.value.problems["outcome"].key == "case.err.steps_missing"
    with pytest.raises(ValidationFailed) as other:
        q.close_case(isolated_engine, ADMIN, case, {"outcome": "recovered", "closed_on": "2026-03-01"})
    assert other.value.problems["outcome"].key == "case.err.outcome_pathway"
    with pytest.raises(sa.exc.IntegrityError, match="cases_closed_after_opened"), isolated_engine.begin() as conn:
        conn.execute(sa.text("UPDATE land.cases SET closed_on = DATE '2025-01-01', outcome = 'not_idle' "
                             "WHERE code = :c"), {"c": case})
    q.close_case(isolated_engine, ADMIN, case, {"outcome": "not_idle", "closed_on": "2026-03-01"})
    with pytest.raises(ValidationFailed) as closed:
        q.record_step(isolated_engine, _editor(zone), case, {"step": "investigation_notice", "done_on": "2026-03-02"})
    assert closed.value.problems["case"].key == "case.err.closed"


def test_one_open_case_per_parcel_and_kind(isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[3]
    first = _open(isolated_engine, code)
    with pytest.raises(ValidationFailed) as twice:
        _open(isolated_engine, code)
    assert twice.value.problems["_form"].key == "edit.err.duplicate"
    # another kind on the same parcel is another case
    other = q.open_case(isolated_engine, ADMIN, {"kind": "low_efficiency_exit", "parcel": code,
                                                 "opened_on": "2026-01-05"}).case_code
    assert other.startswith("DX-2026-")
    q.close_case(isolated_engine, ADMIN, first, {"outcome": "not_idle", "closed_on": "2026-02-01"})
    assert _open(isolated_engine, code, opened_on="2026-02-02").startswith("XZ-2026-")


# -- money ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "value", "constraint"), [
    ("amount_wan", "'NaN'", "case_money_amount_wan_finite"),
    ("amount_wan", "-1", "case_money_amount_wan_check"),
    ("paid_wan", "'NaN'", "case_money_paid_wan_finite"),
    ("amount_wan", "'Infinity'", "cannot hold an infinite value"),
    ("paid_wan", "1000", "case_money_paid_within_amount"),
])
def test_money_is_finite_not_negative_and_not_paid_beyond_its_amount(isolated_engine, idle_parcels, column, value,
                                                                     constraint):
    pid, code, zone = idle_parcels[4]
    case = _scalar(isolated_engine, "SELECT code FROM land.cases WHERE parcel_id = :p AND closed_on IS NULL", p=pid) \
        or _open(isolated_engine, code)
    values = {"amount_wan": "100", "paid_wan": "0"} | {column: value}
    with pytest.raises(sa.exc.DatabaseError, match=constraint), isolated_engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO land.case_money (case_id, purpose, payer, amount_wan, basis, decided_on, paid_wan, paid_on) "
            f"SELECT id, 'compensation', 'government', {values['amount_wan']}, 'test', DATE '2026-02-01', "
            f"{values['paid_wan']}, DATE '2026-02-02' FROM land.cases WHERE code = :c"), {"c": case})


def test_a_fee_is_twenty_percent_of_the_price_after_a_full_year_and_stays_due_after_a_late_start(
        isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[5]
    ed = _editor(zone)
    case = _open(isolated_engine, code, idle_clock_from="2025-03-20")
    _investigate(isolated_engine, case, ed)
    q.record_step(isolated_engine, ed, case, {"step": "hearing_notice", "done_on": "2026-03-02"})
    # one full year from 20 Mar 2025 ends on 20 Mar 2026: a decision that day is too early
    with pytest.raises(ValidationFailed) as early:
        q.decide_fee(isolated_engine, ADMIN, case, {"decided_on": "2026-03-20", "served_on": "2026-03-20"})
    assert early.value.problems["done_on"].key == "case.err.too_early"
    assert early.value.problems["done_on"].values["from_on"] == "2026-03-21"
    fee = q.decide_fee(isolated_engine, ADMIN, case, {"decided_on": "2026-03-23", "served_on": "2026-03-27",
                                                      "doc_no": "征缴〔2026〕1号"})
    # served Friday 27 Mar + 30 days = Sunday 26 Apr -> Monday 27 Apr
    assert fee.due_on == D(2026, 4, 27)
    price = _scalar(isolated_engine, "SELECT g.price_wan FROM land.cases c JOIN land.land_grants g ON g.id = c.grant_id "
                                     "WHERE c.code = :c", c=case)
    amount, basis = (_scalar(isolated_engine, f"SELECT {col} FROM land.case_money WHERE case_id = "
                                              "(SELECT id FROM land.cases WHERE code = :c)", c=case)
                     for col in ("amount_wan", "basis"))
    assert amount == round(price * 2 / 10, 2) and "20%" in basis
    # the fee_paid step waits for the money
    with pytest.raises(ValidationFailed) as unpaid:
        q.record_step(isolated_engine, ed, case, {"step": "fee_paid", "done_on": "2026-04-20"})
    assert unpaid.value.problems["step"].key == "case.err.unpaid"
    # construction starts late: the fee decided stays due, and is overdue after its day
    with acting_as(isolated_engine, ed, "started late") as conn:
        conn.execute(sa.text("INSERT INTO land.construction_progress (parcel_id, reported_on, started_on) "
                             "VALUES (:p, DATE '2026-04-10', DATE '2026-04-08')"), {"p": pid})
    [summary] = q.list_cases(isolated_engine, ed, parcel=code, as_of=D(2026, 4, 28))
    assert summary.money_due_wan == amount and summary.money_overdue_wan == amount
    assert summary.overdue_steps == ("fee_paid",)
    assert q.list_cases(isolated_engine, ed, parcel=code, as_of=D(2026, 4, 27))[0].money_overdue_wan == 0
    q.record_payment(isolated_engine, ed, case, {"paid_wan": str(amount / 2), "paid_on": "2026-04-20"})
    with pytest.raises(ValidationFailed):
        q.record_step(isolated_engine, ed, case, {"step": "fee_paid", "done_on": "2026-04-21"})
    q.record_payment(isolated_engine, ed, case, {"paid_wan": str(amount), "paid_on": "2026-04-24", "settle": True})
    q.close_case(isolated_engine, ADMIN, case, {"outcome": "fee_collected", "closed_on": "2026-04-30"})
    timeline = q.case_timeline(isolated_engine, ed, case, as_of=D(2026, 5, 1))
    assert [e["step"] for e in timeline.events if e["event"] == "step"] == [
        "investigation_notice", "user_reply", "determination", "publication", "hearing_notice", "fee_decision",
        "fee_paid"]
    assert timeline.events[-1]["event"] == "closed" and timeline.money[0]["outstanding_wan"] == 0
    assert [d["kind"] for d in timeline.documents] == ["investigation_notice", "idle_determination", "hearing_notice",
                                                       "fee_decision"]


def test_a_decision_waits_for_the_hearing_request_period(isolated_engine, idle_parcels):
    pid, code, zone = idle_parcels[6]
    ed = _editor(zone)
    case = _open(isolated_engine, code, idle_clock_from="2024-01-10")
    _investigate(isolated_engine, case, ed)
    q.record_step(isolated_engine, ed, case, {"step": "hearing_notice", "done_on": "2026-03-02"})
    # Monday 2 Mar + 5 working days = Monday 9 Mar: a decision that day is refused
    with pytest.raises(ValidationFailed) as window:
        q.decide_fee(isolated_engine, ADMIN, case, {"decided_on": "2026-03-09", "served_on": "2026-03-09"})
    assert window.value.problems["done_on"].values["due_on"] == "2026-03-09"
    q.record_step(isolated_engine, ed, case, {"step": "hearing", "done_on": "2026-03-06", "result": "held"})
    assert q.decide_fee(isolated_engine, ADMIN, case, {"decided_on": "2026-03-09", "served_on": "2026-03-10"}).due_on \
        == D(2026, 4, 9)


# -- opening from a confirmed finding ----------------------------------------------------------------


@pytest.fixture(scope="module")
def assessed(isolated_engine):
    from gisapp.db.engine import assessor_engine

    run_assessment(assessor_engine(), as_of=DEMO_AS_OF, rule_names=["idle_land"])
    return assessor_engine()


def _idle_finding(eng, parcel_id: int):
    with eng.connect() as conn:
        return conn.execute(sa.text(
            "SELECT id, version, zone_id, outcome, evidence FROM rules.current_findings "
            "WHERE rule = 'idle_land' AND parcel_id = :p"), {"p": parcel_id}).one()


def test_a_confirmed_idle_finding_opens_a_case_once(isolated_engine, idle_parcels, assessed):
    pid, code, zone = idle_parcels[7]
    finding = _idle_finding(isolated_engine, pid)
    assert finding.outcome == "idle_not_started"
    ed = _editor(zone)
    edits.review_finding(isolated_engine, ed, finding.id,
                         {"decision": "confirmed", "reason": "现场核实未动工", "version": finding.version})
    with isolated_engine.connect() as conn:
        case = conn.execute(sa.text("SELECT * FROM land.cases WHERE parcel_id = :p"), {"p": pid}).mappings().one()
    assert case["opened_via"] == "finding" and case["finding_id"] == finding.id and case["opened_by"] == ed.username
    assert case["kind"] == "idle_land_disposal" and case["pathway"] in ("idle_fee", "idle_recovery")
    assert case["pathway"] == ("idle_recovery" if finding.evidence["recovery_candidate"] else "idle_fee")
    assert case["idle_clock_from"].isoformat() == finding.evidence["agreed_start_on"]
    assert case["grant_id"] == finding.evidence["grant_id"] and case["closed_on"] is None
    # the zone editor sees it, with the investigation notice due 30 days after the opening
    [nxt] = [s for s in q.next_steps(isolated_engine, ed, case=case["code"]) if s.step == "investigation_notice"]
    assert nxt.due_on is not None and nxt.period_starts_after == case["opened_on"]
    # a later run carries the review over: the same confirmation, no second case, even once closed
    q.close_case(isolated_engine, ADMIN, case["code"], {"outcome": "not_idle"})
    run_assessment(assessed, as_of=DEMO_AS_OF, rule_names=["idle_land"])
    again = _idle_finding(isolated_engine, pid)
    assert again.id != finding.id
    assert _scalar(isolated_engine, "SELECT review_status FROM rules.findings WHERE id = :i", i=again.id) == "confirmed"
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.cases WHERE parcel_id = :p", p=pid) == 1


def test_withdrawing_a_confirmation_closes_the_case_it_opened_while_nothing_was_done(
        isolated_engine, idle_parcels, assessed):
    pid, code, zone = idle_parcels[8]
    ed = _editor(zone)
    finding = _idle_finding(isolated_engine, pid)
    edits.review_finding(isolated_engine, ed, finding.id, {"decision": "confirmed", "reason": "核实",
                                                           "version": finding.version})
    version = _scalar(isolated_engine, "SELECT version FROM rules.findings WHERE id = :i", i=finding.id)
    edits.review_finding(isolated_engine, ed, finding.id, {"decision": "dismissed", "reason": "误报",
                                                           "version": version})
    with isolated_engine.connect() as conn:
        outcome, closed_by = conn.execute(sa.text("SELECT outcome, closed_by FROM land.cases WHERE parcel_id = :p"),
                                          {"p": pid}).one()
    assert (outcome, closed_by) == ("finding_withdrawn", ed.username)


# -- an extension reaches the idle rule ------------------------------------------------------------------


def test_an_extension_writes_the_new_agreed_start_the_idle_rule_reads_and_queues_the_zone(
        isolated_engine, demo_frames):
    pid, code, zone = _parcels(isolated_engine, demo_frames, "unbuilt_exempt")[0]
    ed = _editor(zone)
    old_start = _scalar(isolated_engine, "SELECT agreed_start_on FROM land.land_grants WHERE parcel_id = :p", p=pid)
    case = q.open_case(isolated_engine, ADMIN, {"kind": "idle_land_disposal", "pathway": "idle_extension",
                                                "parcel": code, "opened_on": "2026-01-05"}).case_code
    _investigate(isolated_engine, case, ed)
    q.record_step(isolated_engine, ADMIN, case, {"step": "disposal_plan_approved", "done_on": "2026-03-10"})
    # the extended start period may run one full year from the new start: 1 Sep 2026 -> 1 Sep 2027
    with pytest.raises(ValidationFailed) as over:
        q.record_extension(isolated_engine, ADMIN, case, {"agreed_on": "2026-03-20", "new_start_on": "2026-09-01",
                                                          "latest_start_on": "2027-09-02"})
    assert over.value.problems["latest_start_on"].values["limit"] == "2027-09-01"
    # a zone office may not agree an extension
    with pytest.raises(edits.EditRefused):
        q.record_extension(isolated_engine, ed, case, {"agreed_on": "2026-03-20", "new_start_on": "2026-09-01"})
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))
    q.record_extension(isolated_engine, ADMIN, case, {"agreed_on": "2026-03-20", "new_start_on": "2026-09-01",
                                                      "new_completion_on": "2028-09-01", "doc_no": "补充协议〔2026〕1号"})
    assert _scalar(isolated_engine, "SELECT agreed_start_on FROM land.land_grants WHERE parcel_id = :p", p=pid) \
        == D(2026, 9, 1)
    with isolated_engine.connect() as conn:
        ext = conn.execute(sa.text("SELECT e.* FROM land.case_extensions e JOIN land.cases c ON c.id = e.case_id "
                                   "WHERE c.code = :c"), {"c": case}).mappings().one()
        queued = conn.execute(sa.text("SELECT DISTINCT source FROM rules.reassess_queue WHERE zone_id = :z"),
                              {"z": zone}).scalars().all()
        reason = conn.execute(sa.text("SELECT reason FROM audit.change_log WHERE table_name = 'land_grants' "
                                      "AND action = 'UPDATE' ORDER BY id DESC LIMIT 1")).scalar()
    assert ext["previous_start_on"] == old_start and ext["latest_start_on"] == D(2027, 9, 1) and ext["cap_years"] == 1
    assert "land_grants" in queued and case in reason
    # the rule's input holds the new date, and the clock runs from it: not idle as of the demo date
    frames = rule_inputs("idle_land", as_of=DEMO_AS_OF, engine=isolated_engine)
    grant = frames["land_grants"].query("parcel_id == @pid").iloc[0]
    assert grant["agreed_start_on"].date() == D(2026, 9, 1)
    found = run_rule("idle_land", frames, as_of=DEMO_AS_OF)
    assert found.query("parcel_id == @pid")["outcome"].tolist() == ["not_idle"]
    # the cap holds in the database too, whatever writes the extension
    with pytest.raises(sa.exc.IntegrityError, match="case_extensions_within_cap"), isolated_engine.begin() as conn:
        conn.execute(sa.text("UPDATE land.case_extensions SET latest_start_on = DATE '2027-09-02' WHERE id = :i"),
                     {"i": ext["id"]})
    q.close_case(isolated_engine, ADMIN, case, {"outcome": "extended", "closed_on": "2026-03-21"})


def test_the_database_counts_a_year_from_the_leap_day_as_the_law_does(isolated_engine):
    from gisapp.casework.periods import end_of_years

    with isolated_engine.connect() as conn:
        pg = conn.execute(sa.text("SELECT CAST(DATE '2028-02-29' + make_interval(years => 1) AS date)")).scalar()
    assert pg == end_of_years(D(2028, 2, 29), 1) == D(2029, 2, 28)


def test_undoing_the_agreement_gives_the_grant_back_its_dates(isolated_engine, demo_frames):
    pid, code, zone = _parcels(isolated_engine, demo_frames, "unbuilt_exempt")[1]
    old = _scalar(isolated_engine, "SELECT agreed_start_on FROM land.land_grants WHERE parcel_id = :p", p=pid)
    case = q.open_case(isolated_engine, ADMIN, {"kind": "idle_land_disposal", "pathway": "idle_extension",
                                                "parcel": code, "opened_on": "2026-01-05"}).case_code
    _investigate(isolated_engine, case, _editor(zone))
    q.record_step(isolated_engine, ADMIN, case, {"step": "disposal_plan_approved", "done_on": "2026-03-10"})
    q.record_extension(isolated_engine, ADMIN, case, {"agreed_on": "2026-03-20", "new_start_on": "2026-10-01"})
    q.undo_step(isolated_engine, ADMIN, case, "supplementary_agreement", "协议未生效")
    assert _scalar(isolated_engine, "SELECT agreed_start_on FROM land.land_grants WHERE parcel_id = :p", p=pid) == old
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.case_extensions e JOIN land.cases c ON c.id = e.case_id "
                                    "WHERE c.code = :c", c=case) == 0


def test_every_pathway_step_and_period_is_in_the_docs(isolated_engine):
    from pathlib import Path

    from gisapp.casework.params import SPEC

    text = (Path(__file__).parents[2] / "docs" / "casework.md").read_text(encoding="utf-8")
    with isolated_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT pathway, step, article FROM land.case_pathway_steps")).all()
    missing = [f"{r.pathway}.{r.step}" for r in rows
               if f"`{r.pathway}`" not in text or f"`{r.step}`" not in text or r.article not in text]
    assert missing == []
    assert [p.name for p in SPEC.params if f"`{p.name}`" not in text] == []


def test_a_bureau_override_of_the_holiday_rule_applies_to_periods_starting_after_it(isolated_engine, idle_parcels):
    from gisapp.rules.overrides import list_params, set_param

    pid, code, zone = idle_parcels[9]
    zone_code = _scalar(isolated_engine, "SELECT code FROM land.zones WHERE id = :z", z=zone)
    override = set_param(isolated_engine, "casework", "holiday_rule", "none", source="区局通知（测试）",
                         effective_from=D(2026, 1, 1), zone=zone_code)
    try:
        case = _open(isolated_engine, code)
        got = q.record_step(isolated_engine, _editor(zone), case, {"step": "investigation_notice", "done_on": "2026-01-09"})
        [reply] = [s for s in q.next_steps(isolated_engine, ADMIN, case=case) if s.step == "user_reply"]
        # served Friday 9 Jan: day 30 is Sunday 8 Feb, left there by the zone's rule
        assert reply.due_on == D(2026, 2, 8) and reply.period["holiday_rule"] == "none"
        assert reply.period["holiday_rule_source"] == "区局通知（测试）"
        assert got.due_on == D(2026, 2, 4)  # opened 5 Jan + 30 = Wednesday 4 Feb either way
        lines = {(p.rule, p.name): p for p in list_params(isolated_engine, "casework", zone=zone_code)}
        assert lines[("casework", "holiday_rule")].value == "none" and lines[("casework", "holiday_rule")].overridden
    finally:
        with isolated_engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM rules.parameter_overrides WHERE id = :i"), {"i": override})


def test_every_casework_code_has_its_label_in_both_languages(isolated_engine):
    from gisapp.i18n import TEXTS

    queries = {
        "case_kind": "SELECT code FROM land.case_kinds",
        "case_pathway": "SELECT code FROM land.case_pathways",
        "case_step": "SELECT DISTINCT step FROM land.case_pathway_steps",
        "case_result": "SELECT DISTINCT unnest(results) FROM land.case_pathway_steps",
        "case_outcome": "SELECT DISTINCT code FROM land.case_outcomes",
        "case_document": "SELECT code FROM land.case_document_kinds",
    }
    missing = []
    with isolated_engine.connect() as conn:
        for prefix, sql in queries.items():
            for code in conn.execute(sa.text(sql)).scalars():
                entry = TEXTS.get(f"{prefix}.{code}", {})
                if not (entry.get("zh") and entry.get("en")):
                    missing.append(f"{prefix}.{code}")
    assert missing == []


def test_a_confirmed_estimate_of_a_zones_class_opens_no_case(isolated_engine):
    """The class is the published national result (gisapp.revitalization.rectification opens the
    zone's case from it); the project's own ranking is an estimate and opens nothing."""
    zone = _scalar(isolated_engine, "SELECT id FROM land.zones WHERE code = 'fengxian'")
    with isolated_engine.begin() as conn:  # a current finding about the zone, as `gisapp assess` writes one
        run = conn.execute(sa.text("INSERT INTO rules.assessment_runs (as_of, started_by) VALUES (:d, 'test') "
                                   "RETURNING id"), {"d": DEMO_AS_OF}).scalar()
        conn.execute(sa.text("INSERT INTO rules.current_runs (rule, zone_key, run_id) VALUES ('zone_performance', :z, :r) "
                             "ON CONFLICT (rule, zone_key) DO UPDATE SET run_id = EXCLUDED.run_id"), {"z": zone, "r": run})
        finding = conn.execute(sa.text(
            "INSERT INTO rules.findings (run_id, rule, rule_version, as_of, zone_id, zone_key, subject_type, subject_id, "
            "outcome, is_positive, explanation_zh, explanation_en) VALUES (:r, 'zone_performance', 'test', :d, :z, :z, 'zone', "
            "CAST(:z AS text), 'rectification', true, '低于东部平均', 'below the eastern average') RETURNING id"),
            {"r": run, "d": DEMO_AS_OF, "z": zone}).scalar()
    with acting_as(isolated_engine, ADMIN, "评估结果确认") as conn:
        conn.execute(sa.text("UPDATE rules.findings SET review_status = 'confirmed', review_reason = '评估结果确认', "
                             "reviewed_by = 'cw.admin', reviewed_at = now() WHERE id = :i"), {"i": finding})
    with isolated_engine.connect() as conn:
        cases = conn.execute(sa.text("SELECT count(*) FROM land.cases WHERE finding_id = :i"), {"i": finding}).scalar()
    assert cases == 0
