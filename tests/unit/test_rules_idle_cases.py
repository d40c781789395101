"""What the parcel's cases decided, as the idle-land rule reads it (MLR Order No. 53 arts. 12(1),
14(1), 17; docs/policy.md §5.1), every date computed by hand in the comments.

The decisions under test: the idle clock runs from the new agreed start of an extension, and the
days of late delivery up to the agreement are in that negotiated date (not added to it again);
a fee decided in a case stays due after a later start, until it is paid in full or revoked.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.unit.test_rules_idle_land import idle, not_started

D = dt.date
CASE = "XZ-2023-00007"


def extension(agreed: str, previous: str, new: str, grant_id: int = 1, code: str = CASE) -> dict:
    return {"case_id": 7, "case_code": code, "parcel_id": 1, "grant_id": grant_id, "agreed_on": agreed,
            "previous_start_on": previous, "new_start_on": new}


def ev(finding: pd.Series, key: str) -> dict:
    """The evidence key ``key`` ({} when null or absent: the case keys are there only where a case
    decided something)."""
    return finding["evidence"].get(key) or {}


def test_the_case_keys_are_absent_where_no_case_decided_anything():
    f = idle(D(2023, 3, 2), **not_started("2022-03-01"))
    assert "extension" not in f["evidence"] and "fee_decision" not in f["evidence"]
    assert f["evidence"]["clock"] is None  # the other keys as always


# -- an extension by supplementary agreement (art. 12(1)) ---------------------------------------


def test_after_an_extension_the_clock_runs_from_the_new_agreed_start():
    # the database wrote the new start (2023-03-01) to the grant; the year ends at the end of 2024-03-01
    kw = not_started("2023-03-01") | {"extensions": [extension("2022-12-15", "2022-03-01", "2023-03-01")]}
    f = idle(D(2024, 3, 1), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["period_ends_on"] == "2024-03-01"
    assert ev(f, "extension") == {"case_code": CASE, "agreed_on": "2022-12-15", "previous_start_on": "2022-03-01",
                                  "new_start_on": "2023-03-01", "delivery_delay_days_absorbed": None}
    assert f"经 2022-12-15 签订的补充协议（案件 {CASE}），约定开工日期由 2022-03-01 变更为 2023-03-01" in f["explanation_zh"]
    assert "闲置期限自协商确定的新约定开工日期起算" in f["explanation_zh"]
    assert "moved the agreed start date from 2022-03-01 to 2023-03-01" in f["explanation_en"]
    assert "runs from the negotiated date" in f["explanation_en"]
    g = idle(D(2024, 3, 2), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2024-03-02"
    assert CASE in g["explanation_zh"] and CASE in g["explanation_en"]


def test_late_delivery_before_the_extension_is_not_counted_again():
    # due 2022-01-01, delivered 2022-03-31: 89 days late (30 + 28 + 31). Without the agreement
    # the new start 2023-03-01 would move by them again, to 2023-05-29 (30 + 31 + 28 days).
    grant = {"delivery_due_on": "2022-01-01", "delivered_on": "2022-03-31"}
    plain = idle(D(2024, 3, 2), **not_started("2023-03-01", **grant))
    assert plain["outcome"] == "not_idle" and plain["evidence"]["clock"]["from"] == "2023-05-29"
    # agreed on 2022-06-01, after the delivery: all 89 days are in the negotiated date
    kw = not_started("2023-03-01", **grant) | {"extensions": [extension("2022-06-01", "2022-03-01", "2023-03-01")]}
    assert idle(D(2024, 3, 1), **kw)["outcome"] == "not_idle"
    f = idle(D(2024, 3, 2), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["idle_since"] == "2024-03-02"
    assert f["evidence"]["clock"] is None and ev(f, "extension")["delivery_delay_days_absorbed"] == 89
    assert "协议签订前交地迟延的 89 天已在新约定开工日期中考虑，不再顺延" in f["explanation_zh"]
    assert "the 89 day(s) of late delivery before the agreement are in that date" in f["explanation_en"]
    assert "顺延至" not in f["explanation_zh"]


def test_delay_after_the_agreement_still_moves_the_new_start():
    # due 2022-01-01, delivered 2022-07-01: 181 days late; agreed 2022-05-01, 120 days after the
    # due date (30 + 28 + 31 + 30 + 1), while the land was still undelivered: those 120 days are
    # absorbed, the 61 from 2022-05-02 to 2022-07-01 still count. New start 2023-03-01 + 61 days
    # = 2023-05-01; the year ends at the end of 2024-05-01.
    kw = not_started("2023-03-01", delivery_due_on="2022-01-01", delivered_on="2022-07-01") | {
        "extensions": [extension("2022-05-01", "2022-03-01", "2023-03-01")]}
    f = idle(D(2024, 5, 1), **kw)
    assert f["outcome"] == "not_idle"
    assert ev(f, "clock")["delivery_delay_days"] == 61 and ev(f, "clock")["from"] == "2023-05-01"
    assert ev(f, "extension")["delivery_delay_days_absorbed"] == 120
    assert "迟延 61 天" in f["explanation_zh"] and "顺延至 2023-05-01" in f["explanation_zh"]
    assert "协议签订前交地迟延的 120 天" in f["explanation_zh"]
    g = idle(D(2024, 5, 2), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2024-05-02"


def test_an_extension_agreed_after_the_as_of_date_is_not_known_on_it():
    # agreed start 2021-06-01, idle from 2022-06-02; an extension of 2022-12-01 sets 2023-03-01
    kw = not_started("2023-03-01") | {"extensions": [extension("2022-12-01", "2021-06-01", "2023-03-01")]}
    before = idle(D(2022, 11, 30), **kw)
    assert before["outcome"] == "idle_not_started" and before["evidence"]["idle_since"] == "2022-06-02"
    assert before["evidence"]["agreed_start_on"] == "2021-06-01" and "extension" not in before["evidence"]
    after = idle(D(2022, 12, 1), **kw)
    assert after["outcome"] == "not_idle" and after["evidence"]["agreed_start_on"] == "2023-03-01"
    assert ev(after, "extension")["agreed_on"] == "2022-12-01"


def test_of_two_extensions_the_latest_agreed_by_the_date_is_in_force():
    # 2021-06-01 -> 2022-06-01 (agreed 2021-12-01), then -> 2023-06-01 (agreed 2022-12-01)
    kw = not_started("2023-06-01") | {"extensions": [
        extension("2022-12-01", "2022-06-01", "2023-06-01", code="XZ-2022-00002"),
        extension("2021-12-01", "2021-06-01", "2022-06-01", code="XZ-2021-00001")]}
    mid = idle(D(2022, 6, 30), **kw)
    assert mid["evidence"]["agreed_start_on"] == "2022-06-01" and ev(mid, "extension")["case_code"] == "XZ-2021-00001"
    late = idle(D(2024, 6, 2), **kw)  # the year from 2023-06-01 ends at the end of 2024-06-01
    assert late["outcome"] == "idle_not_started" and ev(late, "extension")["case_code"] == "XZ-2022-00002"
    assert ev(late, "extension")["previous_start_on"] == "2022-06-01"


def test_an_extension_of_another_grant_changes_nothing():
    kw = not_started("2022-03-01") | {"extensions": [extension("2022-12-15", "2022-03-01", "2023-03-01", grant_id=9)]}
    f = idle(D(2023, 3, 2), **kw)
    assert f["outcome"] == "idle_not_started" and "extension" not in f["evidence"]
    assert "补充协议" not in f["explanation_zh"]


# -- a fee decided stays due (art. 14(1), 17) ---------------------------------------------------


def fee(decided: str = "2023-06-01", served: str = "2023-06-05", due: str = "2023-07-05", paid: float = 0.0,
        paid_on: str | None = None, revoked_on: str | None = None, revoked_by: str | None = None,
        grant_id: int | None = 1) -> dict:
    """96 万元 (20% of 480) decided in case XZ-2023-00007; due 30 days after service (2023-06-06 to
    2023-07-05)."""
    return {"case_id": 7, "case_code": CASE, "parcel_id": 1, "grant_id": grant_id, "amount_wan": 96.0,
            "paid_wan": paid, "decided_on": decided, "served_on": served, "due_on": due, "paid_on": paid_on,
            "revoked_on": revoked_on, "revoked_by": revoked_by}


def started_late(status: str = "under_construction", **fee_kw) -> dict:
    """Agreed start 2022-03-01 (idle from 2023-03-02), the fee decided on 2023-06-01, construction
    started on 2023-09-01 (reported 2023-09-10), not suspended. ``status``: the parcel's (before
    the start, the office had it as granted_unbuilt)."""
    return not_started("2022-03-01") | {
        "parcels": [{"status": status}],
        "progress": [{"parcel_id": 1, "reported_on": "2023-09-10", "started_on": "2023-09-01",
                      "should_develop_area_m2": 30000, "developed_area_m2": 500, "invested_wan": 100,
                      "total_investment_wan": 12000}],
        "fees": [fee(**fee_kw)]}


def test_a_fee_that_survives_a_later_start():
    kw = started_late()
    f = idle(D(2023, 12, 31), **kw)
    assert f["outcome"] == "idle_fee_due" and f["is_positive"]
    # the fee due is the decided one (not the rule's own: the land is no longer idle)
    assert f["evidence"]["fee_wan"] == 96.0 and f["evidence"]["started_on"] == "2023-09-01"
    assert f["evidence"]["idle_since"] is None and f["evidence"]["recovery_candidate"] is False
    assert ev(f, "fee_decision") == {
        "case_code": CASE, "status": "due", "amount_wan": 96.0, "decided_on": "2023-06-01",
        "served_on": "2023-06-05", "due_on": "2023-07-05", "paid_wan": 0.0, "paid_on": None,
        "outstanding_wan": 96.0, "overdue": True, "revoked_on": None, "revoked_by": None}
    assert f["explanation_zh"] == (
        "已于 2023-09-01 动工，截至 2023-12-31 无中止开发；但不再闲置不影响已作出的闲置费决定：案件 XZ-2023-00007 "
        "于 2023-06-01 决定征缴的闲置费 96.00 万元（缴纳期限至 2023-07-05）截至 2023-12-31 尚欠 96.00 万元，仍应缴纳")
    assert "does not undo the fee decided on 2023-06-01 in case XZ-2023-00007" in f["explanation_en"]
    assert "96.00 of 96.00 wan yuan (payable by 2023-07-05) remain due as of 2023-12-31" in f["explanation_en"]


def test_a_fee_decided_while_idle_is_said_with_the_idle_finding():
    kw = started_late(status="granted_unbuilt")
    # before the decision: idle, the fee computed, no decision yet
    before = idle(D(2023, 5, 31), **kw)
    assert before["outcome"] == "idle_not_started" and "fee_decision" not in before["evidence"]
    # decided and not yet started: still idle, and the decision with its case is named
    f = idle(D(2023, 7, 5), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["fee_wan"] == 96.0
    assert ev(f, "fee_decision")["status"] == "due" and ev(f, "fee_decision")["overdue"] is False  # due that day
    assert ev(idle(D(2023, 7, 6), **kw), "fee_decision")["overdue"] is True
    assert f"；案件 {CASE} 已于 2023-06-01 决定征缴闲置费 96.00 万元（缴纳期限至 2023-07-05），截至 2023-07-05 尚欠 96.00 万元" \
        in f["explanation_zh"]
    assert "is unpaid: 96.00 wan yuan outstanding as of 2023-07-05" in f["explanation_en"]


def test_a_fee_paid_in_part_stays_due_for_the_rest():
    kw = started_late(paid=40.0, paid_on="2023-10-01")
    f = idle(D(2023, 12, 31), **kw)
    assert f["outcome"] == "idle_fee_due"
    assert ev(f, "fee_decision")["paid_wan"] == 40.0 and ev(f, "fee_decision")["outstanding_wan"] == 56.0
    assert ev(f, "fee_decision")["paid_on"] == "2023-10-01" and "尚欠 56.00 万元" in f["explanation_zh"]
    assert f["evidence"]["fee_wan"] == 56.0
    # the payment is not known before the day it was complete
    g = idle(D(2023, 9, 30), **kw)
    assert ev(g, "fee_decision")["outstanding_wan"] == 96.0 and ev(g, "fee_decision")["paid_on"] is None


def test_a_paid_fee_is_shown_as_paid_not_due():
    kw = started_late(paid=96.0, paid_on="2023-07-01")
    f = idle(D(2023, 12, 31), **kw)
    assert f["outcome"] == "not_idle" and not f["is_positive"] and f["evidence"]["fee_wan"] is None
    assert ev(f, "fee_decision")["status"] == "paid" and ev(f, "fee_decision")["outstanding_wan"] == 0.0
    assert f"；案件 {CASE} 于 2023-06-01 决定的闲置费 96.00 万元已于 2023-07-01 缴清" in f["explanation_zh"]
    assert "was paid in full on 2023-07-01" in f["explanation_en"] and "尚欠" not in f["explanation_zh"]
    # before the payment (and the start): idle, the decided fee due
    before = idle(D(2023, 6, 30), **started_late(status="granted_unbuilt", paid=96.0, paid_on="2023-07-01"))
    assert before["outcome"] == "idle_not_started" and ev(before, "fee_decision")["status"] == "due"


def test_a_fee_revoked_on_reconsideration_is_not_due_from_that_day():
    kw = started_late(revoked_on="2023-10-15", revoked_by="reconsideration")
    assert idle(D(2023, 10, 14), **kw)["outcome"] == "idle_fee_due"
    f = idle(D(2023, 10, 15), **kw)
    assert f["outcome"] == "not_idle" and ev(f, "fee_decision")["status"] == "revoked"
    assert ev(f, "fee_decision")["revoked_on"] == "2023-10-15" and ev(f, "fee_decision")["revoked_by"] == "reconsideration"
    assert "已于 2023-10-15 经行政复议撤销，不再征缴" in f["explanation_zh"]
    assert "was revoked on 2023-10-15 (Administrative reconsideration) and is not due" in f["explanation_en"]
    assert "reconsideration" not in f["explanation_zh"]


def test_a_fee_of_a_case_about_another_grant_of_the_parcel_is_not_this_grants():
    f = idle(D(2023, 12, 31), **started_late(grant_id=2))
    assert f["outcome"] == "not_idle" and "fee_decision" not in f["evidence"]
    # a case that names no grant is about the parcel's grant
    assert idle(D(2023, 12, 31), **started_late(grant_id=None))["outcome"] == "idle_fee_due"


def test_exempt_land_keeps_its_outcome_and_the_fee_decided_is_said():
    # exempt from 2023-08-01 (after the decision), never started: idle by the rule, so exempt
    kw = not_started("2022-03-01") | {"fees": [fee()], "exemptions": [
        {"parcel_id": 1, "reason_code": "plan_revision", "reason_zh": "规划调整", "reason_en": "Plan revision",
         "from_on": "2023-08-01", "to_on": None}]}
    f = idle(D(2023, 12, 31), **kw)
    assert f["outcome"] == "exempt" and ev(f, "fee_decision")["status"] == "due"
    assert "尚欠 96.00 万元" in f["explanation_zh"]


def test_a_fee_surviving_an_extension_is_due_while_the_new_period_runs():
    # idle from 2023-03-02, fee decided 2023-06-01; an extension of 2023-08-01 sets 2024-01-01
    kw = not_started("2024-01-01") | {"fees": [fee()], "extensions": [
        extension("2023-08-01", "2022-03-01", "2024-01-01")]}
    f = idle(D(2023, 12, 31), **kw)
    assert f["outcome"] == "idle_fee_due" and ev(f, "extension")["new_start_on"] == "2024-01-01"
    assert "约定开工日期 2024-01-01" in f["explanation_zh"] and "仍应缴纳" in f["explanation_zh"]
