"""Per-mu evaluation: hand-computed scores, benchmarks of zero, categories, class cuts and ties."""

from __future__ import annotations

import collections
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisapp.rules import per_mu
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)  # evaluation year 2025
MU = 10000.0 * 15 / 10000  # a 1 ha parcel is 15 mu


def metrics(pid: int, **kw) -> dict:
    row = {
        "parcel_id": pid,
        "zone_id": 1,
        "enterprise_id": pid,
        "year": 2025,
        "grading_category": "regular",
        "revenue_wan": 1000.0,
        "tax_wan": 60.0,
        "value_added_wan": 300.0,
        "energy_tce": 30.0,
        "electricity_kwh": 200000.0,
        "emissions_t": 0.5,
        "employees": 10,
        "rd_spend_wan": 30.0,
    }
    return row | kw


def run(rows: list[dict], overrides=None, n_parcels: int | None = None) -> pd.DataFrame:
    n = n_parcels or max(r["parcel_id"] for r in rows)
    parcels = frame("parcels", [{"status": "in_production"} for _ in range(n)])
    found = per_mu.evaluate(
        {"parcels": parcels, "enterprise_metrics": frame("enterprise_metrics", rows)},
        AS_OF,
        frame("parameter_overrides", overrides or []),
    )
    return found.set_index("parcel_id")


BENCH = {
    "tax_per_mu": 2.0,
    "va_per_mu": 10.0,
    "va_per_tce": 5.0,
    "va_per_emission": 300.0,
    "labour_productivity": 20.0,
    "rd_share": 2.0,
}


def test_score_is_the_weighted_sum_of_value_over_benchmark():
    # firm 1: tax/mu = 60/15 = 4, va/mu = 20, va/tce = 10, va/t = 600, va/person = 30, R&D = 3%
    f = run([metrics(1)], [override("per_mu", "benchmarks", BENCH)]).loc[1]
    expected = 30 * 4 / 2 + 20 * 20 / 10 + 20 * 10 / 5 + 10 * 600 / 300 + 10 * 30 / 20 + 10 * 3 / 2
    assert f["evidence"]["score"] == pytest.approx(expected, abs=0.01)
    inds = f["evidence"]["indicators"]
    assert inds["tax_per_mu"]["value"] == pytest.approx(4.0) and inds["rd_share"]["value"] == pytest.approx(
        3.0
    )
    assert inds["va_per_tce"]["benchmark"] == 5.0 and inds["va_per_tce"]["weight"] == 20
    assert "va_per_tce" in f["evidence"]["benchmarks_overridden"] and f["evidence"]["year"] == 2025
    assert f"{expected:.1f}" in f["explanation_zh"] and f["parameters"]["benchmarks"]["override"] is True


def test_default_benchmark_is_the_zone_median_of_graded_firms():
    found = run(
        [
            metrics(1, tax_wan=30.0),
            metrics(2, tax_wan=60.0),
            metrics(3, tax_wan=150.0),
            metrics(4, grading_category="startup", tax_wan=9000.0),
        ]
    )
    ind = found.loc[1, "evidence"]["indicators"]
    assert ind["tax_per_mu"]["benchmark"] == pytest.approx(60.0 / MU)  # the start-up is not in the median
    assert found.loc[1, "evidence"]["benchmarks_overridden"] == []


def test_a_zero_benchmark_leaves_its_indicator_unscored_and_says_so():
    bench = BENCH | {"va_per_tce": 0.0}
    f = run([metrics(1)], [override("per_mu", "benchmarks", bench)]).loc[1]
    partial = 30 * 4 / 2 + 20 * 20 / 10 + 10 * 600 / 300 + 10 * 30 / 20 + 10 * 3 / 2
    assert f["evidence"]["score"] == pytest.approx(partial * 100 / 80, abs=0.01)
    assert f["evidence"]["indicators"]["va_per_tce"]["scored"] is False
    assert "单位能耗增加值基准为 0 或缺失，不计分" in f["explanation_zh"]
    assert "value added per tce is zero or missing" in f["explanation_en"]


def test_all_benchmarks_zero_cannot_be_evaluated():
    zero = {k: 0 for k in BENCH}
    f = run([metrics(1)], [override("per_mu", "benchmarks", zero)]).loc[1]
    assert f["outcome"] == "cannot_evaluate" and "基准均为 0" in f["explanation_zh"]


def test_missing_or_zero_metrics_cannot_be_evaluated_and_are_named():
    found = run([metrics(1, energy_tce=0.0), metrics(2, employees=None), metrics(3)])
    assert found.loc[1, "outcome"] == "cannot_evaluate" and "energy_tce" in found.loc[1, "explanation_zh"]
    assert found.loc[2, "evidence"]["missing"] == ["employees"]
    assert found.loc[3, "outcome"].startswith("class_")


def test_a_parcel_in_production_without_metrics_of_the_year_cannot_be_evaluated():
    found = run([metrics(1), metrics(2, year=2024)])
    assert found.loc[2, "outcome"] == "cannot_evaluate" and "2025" in found.loc[2, "explanation_zh"]


def test_startups_and_plants_under_construction_are_not_graded():
    found = run(
        [
            metrics(1),
            metrics(2, grading_category="startup"),
            metrics(3, grading_category="under_construction"),
        ]
    )
    assert found.loc[2, "outcome"] == found.loc[3, "outcome"] == "not_graded"
    assert not found.loc[2, "is_positive"] and "初创" in found.loc[2, "explanation_zh"]
    assert found.loc[1, "evidence"]["graded_in_zone"] == 1


def test_small_firms_are_scored_on_tax_per_mu_and_tax_per_kwh():
    bench = {"tax_per_mu": 2.0, "tax_per_kwh": 1.0}
    f = run([metrics(1, grading_category="small")], [override("per_mu", "benchmarks", bench)]).loc[1]
    # tax per kWh = 60 万元 * 10,000 / 200,000 kWh = 3 元/kWh
    assert f["evidence"]["score"] == pytest.approx(50 * 4 / 2 + 50 * 3 / 1)
    assert list(f["evidence"]["indicators"]) == ["tax_per_mu", "tax_per_kwh"]
    assert f["evidence"]["scheme"] == "small"


def test_twenty_distinct_scores_split_5_9_5_1_and_d_is_the_low_efficiency_candidate():
    found = run([metrics(i, tax_wan=10.0 * i) for i in range(1, 21)])
    counts = collections.Counter(found["outcome"])
    assert counts == {"class_a": 5, "class_b": 9, "class_c": 5, "class_d": 1}
    d = found[found["outcome"] == "class_d"].iloc[0]
    assert d.name == 1 and d["is_positive"] and "低效用地候选" in d["explanation_zh"]
    assert d["evidence"]["rank"] == 20 and d["evidence"]["percentile"] == 1.0


def test_a_tie_at_the_class_a_cut_puts_both_firms_in_class_a():
    scores = np.array([20, 19, 18, 17, 16, 16, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    rank, _count, cls = per_mu.rank_classes(scores, np.zeros(20), [0.25, 0.70, 0.95])
    assert rank[4] == rank[5] == 5 and cls[4] == cls[5] == "class_a"
    assert collections.Counter(cls)["class_a"] == 6


def test_class_cuts_are_parameters_per_zone():
    rows = [metrics(i, tax_wan=10.0 * i) for i in range(1, 11)]
    found = run(rows, [override("per_mu", "class_cuts", [0.5, 0.8, 0.9], zone_id=1)])
    assert collections.Counter(found["outcome"]) == {"class_a": 5, "class_b": 3, "class_c": 1, "class_d": 1}


def test_a_single_graded_firm_is_class_c():
    assert run([metrics(1)]).loc[1, "outcome"] == "class_c"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=150),
    st.tuples(st.integers(1, 40), st.integers(41, 80), st.integers(81, 99)),
)
def test_class_shares_follow_the_cuts(values, cut_pct):
    cuts = [c / 100 for c in cut_pct]
    scores = np.array(values, dtype=float)
    n = scores.size
    _rank, _count, cls = per_mu.rank_classes(scores, np.zeros(n), cuts)
    c = collections.Counter(cls.tolist())
    distinct = len(set(values)) == n
    if distinct:
        assert c["class_a"] == math.floor(cuts[0] * n + 1e-9)
        assert c["class_a"] + c["class_b"] == math.floor(cuts[1] * n + 1e-9)
        assert c["class_d"] == math.floor((1 - cuts[2]) * n + 1e-9)
    else:
        # ties move whole groups to the better class, never below a firm with the same score
        for v in set(values):
            assert len({k for s, k in zip(values, cls.tolist()) if s == v}) == 1
        assert c["class_d"] <= math.floor((1 - cuts[2]) * n + 1e-9)
    # a better score never gets a worse class
    order = {"class_a": 0, "class_b": 1, "class_c": 2, "class_d": 3}
    pairs = sorted(zip(scores.tolist(), [order[k] for k in cls.tolist()]), key=lambda p: -p[0])
    assert [p[1] for p in pairs] == sorted(p[1] for p in pairs)
