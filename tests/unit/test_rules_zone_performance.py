"""Zone performance: land indicators from parcels, normalised weighted score, ranks, classes, flags."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisapp.rules import zone_performance as zp
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)
METHODS = pd.DataFrame({"code": ["2020_trial", "2024_revised"], "name_zh": ["试行", "修订"],
                        "name_en": ["trial", "revised"],
                        "effective_from": pd.to_datetime(["2020-01-01", "2024-01-01"]).astype("datetime64[ns]")})


def zones(n=3, region="east") -> pd.DataFrame:
    ids = list(range(1, n + 1))
    return pd.DataFrame({"id": ids, "code": [f"z{i}" for i in ids], "name_zh": [f"园区{i}" for i in ids],
                         "name_en": [f"Zone {i}" for i in ids], "region": region, "approved_area_m2": 100000.0,
                         "kind": "comprehensive_bonded_zone"})


def indicators(table: dict[int, dict[str, tuple[str, float]]]) -> pd.DataFrame:
    """{year: {zone: {indicator: (category, value)}}} flattened."""
    rows = [{"zone_id": z, "year": y, "category": c, "indicator": i, "value": float(v), "unit": "", "source": "t"}
            for y, per_zone in table.items() for z, inds in per_zone.items() for i, (c, v) in inds.items()]
    out = pd.DataFrame(rows)
    out.insert(0, "id", range(1, len(out) + 1))
    return out


def boundaries(n=3, area=200000.0) -> pd.DataFrame:
    return pd.DataFrame({"id": range(1, n + 1), "zone_id": range(1, n + 1),
                         "valid_from": pd.Timestamp("2019-01-01"), "valid_to": pd.NaT, "area_m2": area})


def values(scale, quality, violations, innovation=5.0):
    return {"import_export_value": ("scale", scale), "tax_revenue": ("quality", quality),
            "rd_enterprises": ("innovation", innovation), "customs_violations": ("compliance", violations)}


def land(rows: list[tuple[int, str, int, float]] = ()) -> pd.DataFrame:
    """The performance_land frame: (zone, event, year, area_m2)."""
    return pd.DataFrame({"zone_id": [r[0] for r in rows], "event": [r[1] for r in rows],
                         "year": [r[2] for r in rows], "area_m2": [float(r[3]) for r in rows],
                         "parcels": 1})


def inputs(ind, n=3, events=(), report=None) -> dict:
    z = zones(n)
    return {"zones": z if report is None else z[z["id"].isin(report)], "performance_zones": z,
            "performance_values": ind, "performance_methods": METHODS, "performance_land": land(events),
            "zone_boundary_history": boundaries(n)}


def run(inp, overrides=()) -> pd.DataFrame:
    return zp.evaluate(inp, AS_OF, frame("parameter_overrides", list(overrides))).set_index("zone_id")


YEARS = {2025: {1: values(100, 10, 0), 2: values(200, 20, 1), 3: values(300, 30, 2)},
         2024: {1: values(200, 20, 1), 2: values(100, 10, 2), 3: values(300, 30, 0)}}


def test_scores_ranks_and_classes_by_hand():
    # 2025: scale 0/50/100, quality 0/50/100, innovation all equal (100), compliance 100/50/0 (fewer is
    # better), land indicators all 0 (no parcels) so equal (100): score = .5s + .2q + .1*100 + .1*100 + .1c
    found = run(inputs(indicators(YEARS)))
    ev = {z: found.loc[z, "evidence"] for z in (1, 2, 3)}
    assert [ev[z]["score"] for z in (1, 2, 3)] == [30.0, 60.0, 90.0]
    assert [ev[z]["rank_national"] for z in (1, 2, 3)] == [3, 2, 1]
    assert ev[1]["method"] == "2024_revised" and ev[1]["year"] == 2025
    # A = top 20% of 3 zones: rank <= 0.6, nobody; B up to 70%: rank <= 2.1
    assert [ev[z]["class"] for z in (1, 2, 3)] == ["C", "B", "B"]
    assert ev[1]["regional_average"] == 60.0 and ev[1]["rectification"] and not ev[2]["rectification"]
    # bottom 5 of 3 zones in both years: every zone is at exit risk under the default
    assert set(found["outcome"]) == {"exit_risk"}
    assert "第 3 名" in found.loc[1, "explanation_zh"] and "exit risk" in found.loc[1, "explanation_en"]


def test_exit_risk_needs_the_bottom_places_in_consecutive_years():
    found = run(inputs(indicators(YEARS)), [override("zone_performance", "exit_bottom_n", 1)])
    # zone 1 is last in 2025 but not in 2024 (zone 2 was): rectification, not exit
    assert found.loc[1, "outcome"] == "rectification" and found.loc[1, "is_positive"]
    assert found.loc[1, "evidence"]["bottom_by_year"] == {"2025": True, "2024": False}
    assert found.loc[2, "outcome"] == "class_b" and not found.loc[2, "is_positive"]
    assert found.loc[3, "outcome"] == "class_b"
    both = {2025: YEARS[2025], 2024: {1: values(100, 10, 2), 2: values(200, 20, 1), 3: values(300, 30, 0)}}
    found = run(inputs(indicators(both)), [override("zone_performance", "exit_bottom_n", 1)])
    assert found.loc[1, "outcome"] == "exit_risk"


def test_land_indicators_sum_the_parcel_areas_up_to_the_period_end():
    events = [(1, "accepted", 2025, 10000.0), (1, "accepted", 2026, 20000.0), (1, "started", 2023, 10000.0),
              (1, "started", 2024, 20000.0)]
    row = zp.land_indicators(zones(1), land(events), boundaries(1), dt.date(2025, 12, 31)).loc[1]
    assert row["accepted_share"] == pytest.approx(0.1)       # 10,000 of 100,000 approved
    assert row["development_rate"] == pytest.approx(0.15)    # 30,000 of 200,000 fenced
    assert zp.land_indicators(zones(1), land(events), boundaries(1), dt.date(2026, 6, 30)).loc[1][
        "accepted_share"] == pytest.approx(0.3)
    # before the boundary was approved there is no fenced area to develop
    early = zp.land_indicators(zones(1), land(events), boundaries(1), dt.date(2018, 12, 31)).loc[1]
    assert pd.isna(early["development_rate"]) and early["accepted_share"] == 0.0


def test_land_indicators_enter_the_score():
    # only zone 1 has accepted land: accepted_share normalises to 100 for it and 0 for the others, so
    # the others' development category (mean of accepted_share and development_rate) falls from 100 to
    # 50 and their score by 0.1 x 50 = 5; zone 1 keeps its 30
    events = [(1, "accepted", 2025, 50000.0)]
    found = run(inputs(indicators(YEARS), events=events))
    assert [found.loc[z, "evidence"]["score"] for z in (1, 2, 3)] == [30.0, 55.0, 85.0]
    assert found.loc[1, "evidence"]["land"]["accepted_share"] == 0.5


def test_reporting_some_zones_keeps_the_ranks_among_all():
    found = run(inputs(indicators(YEARS), report=[1]))
    assert list(found.index) == [1]
    assert found.loc[1, "evidence"]["rank_national"] == 3 and found.loc[1, "evidence"]["n_national"] == 3


def test_a_zone_missing_an_indicator_is_not_scored_and_says_which():
    table = {2025: {1: values(100, 10, 0), 2: values(200, 20, 1), 3: {"import_export_value": ("scale", 1.0)}},
             2024: YEARS[2024]}
    found = run(inputs(indicators(table)))
    assert found.loc[3, "outcome"] == "cannot_evaluate" and "tax_revenue" in found.loc[3, "explanation_en"]
    assert found.loc[1, "evidence"]["n_national"] == 2


def test_no_values_for_the_year_means_cannot_evaluate():
    found = run(inputs(indicators({2023: YEARS[2025]})))
    assert set(found["outcome"]) == {"cannot_evaluate"} and "2025" in found.loc[1, "explanation_en"]


def test_weights_per_method_can_be_overridden_and_bonus_points_add():
    weights = {"2024_revised": {"scale": 0.0, "quality": 1.0, "development": 0.0, "innovation": 0.0,
                                "compliance": 0.0}}
    table = {2025: {z: v | ({"award": ("bonus_penalty", 5.0)} if z == 1 else {}) for z, v in YEARS[2025].items()},
             2024: YEARS[2024]}
    found = run(inputs(indicators(table)), [override("zone_performance", "weights", weights)])
    assert [found.loc[z, "evidence"]["score"] for z in (1, 2, 3)] == [5.0, 50.0, 100.0]
    assert found.loc[1, "parameters"]["weights"]["source"] == "test override"


def test_method_in_force_by_year():
    assert zp.method_in_force(METHODS, 2019) is None
    assert zp.method_in_force(METHODS, 2023) == "2020_trial"
    assert zp.method_in_force(METHODS, 2024) == "2024_revised"


def test_ties_at_a_cut_share_the_better_class():
    # A: rank <= 0.2 x 5 = 1, so both zones tied first are A (40%); B: rank <= 3.5
    s = pd.Series([90.0, 90.0, 80.0, 70.0, 60.0])
    assert zp.classify(s, (0.2, 0.7)).tolist() == ["A", "A", "B", "C", "C"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60, unique=True),
       st.integers(0, 100), st.integers(0, 100))
def test_class_shares_follow_the_cuts(scores, a, b):
    cut_a, cut_b = min(a, b) / 100, max(a, b) / 100
    classes = zp.classify(pd.Series(scores), (cut_a, cut_b))
    n = len(scores)
    assert (classes == "A").sum() == math.floor(cut_a * n + 1e-9)
    assert (classes != "C").sum() == math.floor(cut_b * n + 1e-9)
    # a better score never gets a worse class
    order = pd.Series(scores).sort_values(ascending=False).index
    assert classes[order].tolist() == sorted(classes[order].tolist())
