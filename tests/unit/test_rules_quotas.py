"""Quota ledger: balances, escalation to the city, the request decision, the energy review level."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisapp.errors import InputError
from gisapp.rules import quotas
from tests.unit.rule_frames import frame

AS_OF = dt.date(2026, 6, 30)
# city 1 -> district 2 (zone 4 -> project 5) and district 3
ACCOUNTS = [(1, "city", None, "上海市", None, None), (2, "district", 1, "甲区", None, None),
            (3, "district", 1, "乙区", None, None), (4, "zone", 2, "甲园区", 7, None),
            (5, "project", 4, "项目一", None, 11)]


def accounts(rows=ACCOUNTS, year=2025, resource="energy") -> pd.DataFrame:
    return pd.DataFrame({"id": [r[0] for r in rows], "year": year, "resource": resource,
                         "level": [r[1] for r in rows], "parent_id": pd.array([r[2] for r in rows], dtype="Int64"),
                         "district_id": None, "zone_id": pd.array([r[4] for r in rows], dtype="Int64"),
                         "grant_id": pd.array([r[5] for r in rows], dtype="Int64"), "name": [r[3] for r in rows]})


def ledger(entries, year=2025, resource="energy") -> pd.DataFrame:
    """entries: (entry_type, from, to, amount, day)"""
    return pd.DataFrame({"id": range(1, len(entries) + 1), "year": year, "resource": resource,
                         "entry_type": [e[0] for e in entries],
                         "from_account_id": pd.array([e[1] for e in entries], dtype="Int64"),
                         "to_account_id": pd.array([e[2] for e in entries], dtype="Int64"),
                         "amount": [float(e[3]) for e in entries],
                         "recorded_on": pd.to_datetime([e[4] for e in entries]).astype("datetime64[ns]"),
                         "reference": None})


def grants() -> pd.DataFrame:
    return frame("quota_grants", [{"id": 11, "parcel_id": 99, "zone_id": 7}])


def run(entries, acc=None) -> pd.DataFrame:
    found = quotas.evaluate({"quota_accounts": accounts() if acc is None else acc, "quota_ledger": ledger(entries),
                             "quota_grants": grants()}, AS_OF)
    return found.set_index("subject_id")


BASE = [("allocation", 1, 2, 1000, "2025-01-10"), ("allocation", 1, 3, 500, "2025-01-10"),
        ("allocation", 2, 4, 600, "2025-01-20"), ("allocation", 4, 5, 200, "2025-02-10"),
        ("use", 5, None, 150, "2025-12-31"), ("use", 4, None, 100, "2025-06-30")]


def test_district_exactly_at_its_quota_is_within():
    found = run(BASE + [("allocation", 2, 5, 400, "2025-03-01")])
    d = found.loc["2"]
    assert d["outcome"] == "within_quota" and not d["is_positive"]
    assert d["evidence"]["balance"] == 0.0 and d["evidence"]["own_quota"] == 1000.0
    assert "余额 0" in d["explanation_zh"] and "balance 0" in d["explanation_en"]


def test_district_over_by_a_thousandth_without_escalation_is_flagged():
    d = run(BASE + [("allocation", 2, 5, 400.001, "2025-03-01")]).loc["2"]
    assert d["outcome"] == "over_quota_not_escalated" and d["is_positive"]
    assert d["evidence"]["balance"] == -0.001 and d["evidence"]["uncovered"] == 0.001
    assert "无报市统筹记录" in d["explanation_zh"] and "no escalation" in d["explanation_en"]


def test_escalated_shortfall_covered_by_the_city_leaves_the_district_exactly_at_quota():
    # like the demo's Songjiang: needs 1,400, holds 1,000: 400 escalated, the city adds 400
    entries = BASE + [("escalation", 2, 1, 400, "2025-09-01"), ("allocation", 1, 2, 400, "2025-09-16"),
                      ("allocation", 2, 5, 800, "2025-09-21")]
    d = run(entries).loc["2"]
    assert d["outcome"] == "over_quota_escalated" and not d["is_positive"]
    ev = d["evidence"]
    assert (ev["balance"], ev["own_quota"], ev["city_cover"], ev["shortfall"], ev["escalated"]) == \
        (0.0, 1000.0, 400.0, 400.0, 400.0)
    assert "2025-09-01" in d["explanation_zh"] and "市统筹追加 400" in d["explanation_zh"]


def test_escalated_but_not_yet_covered_is_negative_yet_escalated():
    d = run(BASE + [("allocation", 2, 5, 800, "2025-09-01"), ("escalation", 2, 1, 400, "2025-09-02")]).loc["2"]
    assert d["outcome"] == "over_quota_escalated" and d["evidence"]["balance"] == -400.0
    assert "待市统筹" in d["explanation_zh"] and "awaiting the city" in d["explanation_en"]


def test_partial_escalation_leaves_the_rest_not_escalated():
    d = run(BASE + [("allocation", 2, 5, 800, "2025-09-01"), ("escalation", 2, 1, 300, "2025-09-02")]).loc["2"]
    assert d["outcome"] == "over_quota_not_escalated" and d["evidence"]["uncovered"] == 100.0
    assert "仅报市统筹 300" in d["explanation_zh"]


def test_entries_after_the_as_of_date_do_not_count():
    d = run(BASE + [("allocation", 2, 5, 800, "2026-07-01")]).loc["2"]
    assert d["outcome"] == "within_quota" and d["evidence"]["balance"] == 400.0


def test_transfers_move_quota_between_districts():
    found = run(BASE + [("transfer", 3, 2, 200, "2025-05-01"), ("allocation", 2, 5, 600, "2025-06-01")])
    assert found.loc["2", "outcome"] == "within_quota" and found.loc["2", "evidence"]["balance"] == 0.0
    assert found.loc["3", "evidence"]["balance"] == 300.0 and found.loc["3", "evidence"]["transferred_out"] == 200.0


def test_city_without_a_recorded_total_cannot_be_evaluated_and_with_one_is_judged():
    c = run(BASE).loc["1"]
    assert c["outcome"] == "cannot_evaluate" and c["is_positive"] and "没有记录总量" in c["explanation_zh"]
    c = run(BASE + [("allocation", None, 1, 1500, "2025-01-01")]).loc["1"]
    assert c["outcome"] == "within_quota" and c["evidence"]["balance"] == 0.0


def test_project_and_zone_accounts_carry_their_zone_and_parcel():
    found = run(BASE)
    assert found.loc["4", "zone_id"] == 7 and found.loc["5", "zone_id"] == 7 and found.loc["5", "parcel_id"] == 99
    assert found.loc["2", "zone_id"] is None and found.loc["5", "evidence"]["level"] == "project"


def test_missing_ledger_gives_cannot_evaluate():
    found = quotas.evaluate({"quota_accounts": accounts()}, AS_OF)
    assert list(found["outcome"]) == ["cannot_evaluate"] and "quota_ledger" in found.iloc[0]["explanation_en"]


# -- the request decision ----------------------------------------------------------------------------

def test_request_is_granted_from_the_zone_then_the_district():
    # zone 4 holds 600 - 200 - 100 = 300, district 2 holds 1000 - 600 = 400
    d = quotas.request_quota(accounts(), ledger(BASE), 5, 700, as_of=AS_OF)
    assert d.decision == "grant" and d.available == 700.0 and d.drawn_from == ((4, 300.0), (2, 400.0))
    assert "予以下达" in d.explanation_zh


def test_request_beyond_the_district_balance_is_escalated_with_the_shortfall():
    d = quotas.request_quota(accounts(), ledger(BASE), 5, 700.5, as_of=AS_OF)
    assert d.decision == "escalate" and d.shortfall == 0.5
    assert "报市统筹" in d.explanation_zh and "escalate to the city" in d.explanation_en


@pytest.mark.parametrize("account,amount", [(5, 0), (5, -1), (5, float("nan")), (99, 10), (1, 10)])
def test_bad_requests_are_refused(account, amount):
    with pytest.raises(InputError):
        quotas.request_quota(accounts(), ledger(BASE), account, amount, as_of=AS_OF)


# -- energy review -----------------------------------------------------------------------------------

@pytest.mark.parametrize("tce,kwh,level", [
    (5000, None, "provincial_review"), (4999.99, 1e7, "local_review"), (999.99, 4_999_999, "exempt"),
    (1000, 0, "local_review"), (999, 5_000_000, "local_review"), (999, None, "undetermined"), (0, 0, "exempt"),
])
def test_energy_review_thresholds(tce, kwh, level):
    r = quotas.energy_review_level(tce, kwh)
    assert r.level == level and r.explanation_zh and r.explanation_en


def test_energy_review_refuses_negative_figures():
    with pytest.raises(InputError):
        quotas.energy_review_level(-1)
    with pytest.raises(InputError):
        quotas.energy_review_level(10, -5)


# -- property: no balance negative without an escalation finding -------------------------------------

entry = st.tuples(st.sampled_from(["allocation", "transfer", "use", "escalation"]), st.integers(1, 5),
                  st.integers(1, 5), st.integers(1, 500), st.integers(0, 400))


@settings(max_examples=80, deadline=None)
@given(st.lists(entry, max_size=20))
def test_no_negative_balance_without_an_over_quota_finding(raw):
    entries = []
    for kind, src, dst, amount, day in raw:
        date = (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat()
        if kind == "use":
            entries.append(("use", src, None, amount, date))
        elif src != dst:
            entries.append((kind, src, dst, amount, date))
    found = run(entries)
    for acc_id, f in found.iterrows():
        ev = f["evidence"]
        a = int(acc_id)
        moves = [e for e in entries if e[0] in ("allocation", "transfer")]
        balance = (sum(e[3] for e in moves if e[2] == a) - sum(e[3] for e in moves if e[1] == a)
                   - sum(e[3] for e in entries if e[0] == "use" and e[1] == a))
        assert ev["balance"] == pytest.approx(balance)
        if f["outcome"] == "cannot_evaluate":
            assert a == 1 and f["is_positive"]
            continue
        if balance < -0.0005:
            assert f["outcome"] in ("over_quota_escalated", "over_quota_not_escalated")
        if f["outcome"] == "within_quota":
            assert balance >= -0.0005 and not f["is_positive"]
        if f["outcome"] == "over_quota_escalated":
            assert ev["escalated"] >= ev["shortfall"] - 0.0005 > 0
        if f["outcome"] == "over_quota_not_escalated":
            assert f["is_positive"] and ev["uncovered"] > 0
