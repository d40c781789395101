"""Standardized grants: review against requirements, notice period, term report."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gisapp.rules import grants
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)


def run(grant_rows, reqs=(), reviews=(), overrides=(), as_of=AS_OF) -> pd.DataFrame:
    n = max(g.get("parcel_id", 1) for g in grant_rows)
    inputs = {
        "parcels": frame("parcels", [{}] * n),
        "land_grants": frame("land_grants", [{"parcel_id": 1} | g for g in grant_rows]),
        "grant_requirements": frame("grant_requirements", list(reqs)),
        "grant_reviews": frame("grant_reviews", list(reviews)),
    }
    return grants.evaluate(inputs, as_of, frame("parameter_overrides", list(overrides)))


def one(found: pd.DataFrame, rule: str, grant_id: int = 1) -> pd.Series:
    rows = found[(found["rule"] == rule) & (found["subject_type"] == "grant") & (found["subject_id"] == str(grant_id))]
    assert len(rows) == 1
    return rows.iloc[0]


def term_report(found: pd.DataFrame, zone_id: int = 1) -> pd.Series:
    rows = found[(found["rule"] == "grant_term") & (found["subject_type"] == "zone")
                 & (found["subject_id"] == str(zone_id))]
    assert len(rows) == 1
    return rows.iloc[0]


def req(indicator, lo=None, hi=None, stage="acceptance", grant_id=1):
    return {
        "grant_id": grant_id,
        "indicator": indicator,
        "review_stage": stage,
        "min_value": lo,
        "max_value": hi,
        "indicator_zh": {"tax_per_mu": "亩均税收", "plot_ratio": "容积率"}.get(indicator, indicator),
        "indicator_en": indicator,
        "unit": "万元/亩" if indicator == "tax_per_mu" else "",
    }


def rev(indicator, actual, on="2025-05-01", stage="acceptance", grant_id=1):
    return {
        "grant_id": grant_id,
        "indicator": indicator,
        "review_stage": stage,
        "reviewed_on": on,
        "actual_value": actual,
    }


STD = {"is_standardized": True, "announced_on": "2023-01-01", "granted_on": "2023-02-15"}


# -- review ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tax,ratio,outcome",
    [
        (50.0, 2.0, "passed"),  # at the floor, inside the range
        (50.0, 1.2, "passed"),  # plot ratio exactly at the lower end of its range
        (50.0, 2.5, "passed"),  # exactly at the upper end
        (49.99, 2.0, "shortfall"),  # just below the floor
        (60.0, 2.51, "shortfall"),  # just above the range
    ],
)
def test_review_passes_within_inclusive_bounds_and_reports_each_indicator(tax, ratio, outcome):
    found = run(
        [STD],
        [req("tax_per_mu", lo=50), req("plot_ratio", lo=1.2, hi=2.5)],
        [rev("tax_per_mu", tax), rev("plot_ratio", ratio)],
    )
    f = one(found, "grant_review")
    assert f["outcome"] == outcome and f["is_positive"] == (outcome == "shortfall")
    items = {i["indicator"]: i for i in f["evidence"]["indicators"]}
    assert items["tax_per_mu"]["required_min"] == 50 and items["tax_per_mu"]["actual"] == tax
    assert items["plot_ratio"]["required_max"] == 2.5 and f["evidence"]["stage"] == "acceptance"
    if outcome == "shortfall":
        failed = [k for k, v in items.items() if not v["passed"]]
        assert len(failed) == 1 and "未达标" in f["explanation_zh"] and "short" in f["explanation_en"]


def test_the_latest_review_before_the_date_counts_with_its_own_stage():
    reqs = [req("tax_per_mu", lo=50), req("tax_per_mu", lo=80, stage="production")]
    reviews = [
        rev("tax_per_mu", 60, on="2024-01-01"),
        rev("tax_per_mu", 70, on="2025-06-01", stage="production"),
    ]
    assert one(run([STD], reqs, reviews, as_of=dt.date(2025, 1, 1)), "grant_review")["outcome"] == "passed"
    f = one(run([STD], reqs, reviews), "grant_review")
    assert f["outcome"] == "shortfall" and f["evidence"]["stage"] == "production"


def test_no_review_yet_is_not_reviewed_and_no_requirements_cannot_be_evaluated():
    assert one(run([STD], [req("tax_per_mu", lo=50)]), "grant_review")["outcome"] == "not_reviewed"
    f = one(run([STD], [], [rev("tax_per_mu", 60)]), "grant_review")
    assert f["outcome"] == "cannot_evaluate" and "未登记履约指标要求" in f["explanation_zh"]


def test_a_requirement_without_actual_value_cannot_be_evaluated_unless_another_fails():
    reqs = [req("tax_per_mu", lo=50), req("plot_ratio", lo=1.2, hi=2.5)]
    f = one(run([STD], reqs, [rev("tax_per_mu", 60)]), "grant_review")
    assert f["outcome"] == "cannot_evaluate" and "plot_ratio" in f["explanation_en"]
    assert one(run([STD], reqs, [rev("tax_per_mu", 40)]), "grant_review")["outcome"] == "shortfall"


def test_only_standardized_grants_are_reviewed_and_noticed():
    found = run([STD, {"granted_on": "2023-02-15"}])
    assert set(found[found["rule"].isin(["grant_review", "grant_notice"])]["subject_id"]) == {"1"}
    # the term report counts every grant, standardized or not
    assert term_report(found)["evidence"]["grants"] == 2


# -- notice period -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "announced,outcome,days",
    [("2023-01-16", "notice_ok", 30), ("2023-01-17", "notice_too_short", 29), (None, "not_announced", None)],
)
def test_notice_of_exactly_30_days_is_enough(announced, outcome, days):
    f = one(run([STD | {"announced_on": announced}]), "grant_notice")
    assert f["outcome"] == outcome and f["evidence"]["notice_days"] == days
    assert f["evidence"]["required_days"] == 30 and f["is_positive"] == (outcome != "notice_ok")
    if days is not None:
        assert f"{days} 天" in f["explanation_zh"] and "30 天" in f["explanation_zh"]


def test_the_notice_minimum_is_a_zone_parameter():
    f = one(
        run(
            [STD | {"announced_on": "2023-01-01"}],
            overrides=[override("grant_notice", "notice_days_min", 60, zone_id=1)],
        ),
        "grant_notice",
    )
    assert f["outcome"] == "notice_too_short" and f["evidence"]["required_days"] == 60


# -- term ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "granted,major,term,outcome",
    [
        ("2020-01-01", False, 20, "term_ok"),
        ("2020-01-01", False, 21, "term_above_max"),
        ("2020-01-01", True, 50, "term_ok"),
        ("2020-01-01", True, 30, "major_below_preferred"),
        ("2020-01-01", True, 51, "term_above_max"),
        ("2010-01-01", False, 50, "term_ok"),
        ("2010-01-01", False, 51, "term_above_max"),
        ("2010-01-01", True, 30, "term_ok"),
        ("2020-01-01", False, None, "cannot_evaluate"),
    ],
)
def test_term_against_the_2014_shanghai_rule_and_the_national_maximum(granted, major, term, outcome):
    found = run([{"granted_on": granted, "is_major_project": major, "term_years": term}])
    report = term_report(found)
    counted = {"term_ok": "term_ok", "term_above_max": "above_max", "major_below_preferred": "major_below_preferred",
               "cannot_evaluate": "no_term"}[outcome]
    assert report["evidence"][counted] == 1 and report["evidence"]["grants"] == 1
    assert report["outcome"] == ("terms_above_max" if outcome == "term_above_max" else "terms_within_max")
    assert report["is_positive"] == (outcome == "term_above_max")
    grant_rows = found[(found["rule"] == "grant_term") & (found["subject_type"] == "grant")]
    if outcome == "term_ok":  # within its maximum: counted in the zone's report, no finding of its own
        assert grant_rows.empty
        assert f"{term} 年 1 宗" in report["explanation_zh"] and f"{term} years × 1" in report["explanation_en"]
        return
    f = one(found, "grant_term")
    assert f["outcome"] == outcome
    assert f["is_positive"] == (outcome in ("term_above_max", "major_below_preferred", "cannot_evaluate"))
    if term is not None:
        assert f"{term} 年" in f["explanation_zh"] and f"{term} years" in f["explanation_en"]


def test_term_report_counts_a_zone_by_rule_term_and_verdict():
    rows = [
        {"granted_on": "2020-01-01", "is_major_project": False, "term_years": 20},
        {"granted_on": "2020-01-01", "is_major_project": False, "term_years": 20},
        {"granted_on": "2020-01-01", "is_major_project": True, "term_years": 50},
        {"granted_on": "2020-01-01", "is_major_project": True, "term_years": 30},
        {"granted_on": "2010-01-01", "is_major_project": False, "term_years": 50},
        {"granted_on": "2020-01-01", "is_major_project": False, "term_years": 25},
        {"granted_on": "2020-01-01", "is_major_project": False, "term_years": None},
        {"granted_on": "2020-01-01", "is_major_project": False, "term_years": 20, "zone_id": 2},
    ]
    found = run([{"id": i + 1, "contract_no": f"C{i + 1}"} | r for i, r in enumerate(rows)])
    ev = term_report(found, 1)["evidence"]
    assert {k: ev[k] for k in ("grants", "normal_grants", "major_grants", "national_rule_grants", "above_max",
                                "major_below_preferred", "no_term", "within_max", "term_ok")} == {
        "grants": 7, "normal_grants": 4, "major_grants": 2, "national_rule_grants": 1, "above_max": 1,
        "major_below_preferred": 1, "no_term": 1, "within_max": 5, "term_ok": 4}
    assert ev["by_term_years"] == {"20": 2, "25": 1, "30": 1, "50": 2}
    report = term_report(found, 1)
    assert report["outcome"] == "terms_above_max" and report["is_positive"]
    assert "已出让 7 宗" in report["explanation_zh"] and "超过最长年限 1 宗" in report["explanation_zh"]
    assert "7 grants" in report["explanation_en"] and "1 above their maximum" in report["explanation_en"]
    assert term_report(found, 2)["outcome"] == "terms_within_max"
    per_grant = found[(found["rule"] == "grant_term") & (found["subject_type"] == "grant")]
    assert dict(zip(per_grant["subject_id"], per_grant["outcome"])) == {
        "4": "major_below_preferred", "6": "term_above_max", "7": "cannot_evaluate"}


def test_term_report_uses_each_zones_own_maximum():
    rows = [{"id": 1, "zone_id": 1, "term_years": 30}, {"id": 2, "zone_id": 2, "term_years": 30}]
    found = run([{"granted_on": "2020-01-01", "is_major_project": False} | r for r in rows],
                overrides=[override("grant_term", "normal_max_years", 30, zone_id=2)])
    assert term_report(found, 1)["evidence"]["above_max"] == 1
    assert term_report(found, 2)["evidence"]["above_max"] == 0
    assert term_report(found, 2)["evidence"]["normal_max_years"] == 30
    assert "最长 30 年" in term_report(found, 2)["explanation_zh"]


# -- asked for some rules only ---------------------------------------------------------------


@pytest.mark.parametrize("asked", [["grant_review"], ["grant_notice", "grant_review"], ["grant_term"], []])
def test_rules_asked_for_are_those_of_the_whole_module(asked):
    """A live re-assessment asks the module for its parcels' rules only (gisapp.rules.evaluate):
    it gets exactly the findings the whole module computes for them, and nothing else."""
    from gisapp.rules.evaluate import evaluate_module

    grant_rows = [STD, {**STD, "parcel_id": 2}, {"parcel_id": 3, "granted_on": "2020-01-01"}]
    inputs = {
        "parcels": frame("parcels", [{}] * 3),
        "land_grants": frame("land_grants", [{"parcel_id": 1} | g for g in grant_rows]),
        "grant_requirements": frame("grant_requirements", [req("tax_per_mu", lo=50)]),
        "grant_reviews": frame("grant_reviews", [rev("tax_per_mu", 40.0)]),
        "parameter_overrides": frame("parameter_overrides", []),
    }
    whole = grants.evaluate(inputs, AS_OF, inputs["parameter_overrides"])
    assert set(whole["rule"]) == {"grant_review", "grant_notice", "grant_term"}
    part = evaluate_module(grants, inputs, AS_OF, asked, None)
    expected = whole[whole["rule"].isin(asked)] if asked else whole
    pd.testing.assert_frame_equal(part.reset_index(drop=True).astype(object), expected.reset_index(drop=True).astype(object))
    if asked:
        assert set(grants.evaluate(inputs, AS_OF, None, rules=asked)["rule"]) <= set(asked)
