"""Green-ratio balance per parcel and zone, the industrial controls and the what-if check."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisapp.errors import InputError
from gisapp.rules import green_balance as gb
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)


def parcels(rows: list[dict]) -> pd.DataFrame:
    base = {"status": "in_production", "land_use_code": "100101"}
    return frame("parcels", [base | r for r in rows])


def green(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"id": range(1, len(rows) + 1), "parcel_id": [r[0] for r in rows],
                         "measured_on": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
                         "green_area_m2": [float(r[2]) for r in rows]})


def zones(ids=(1,)) -> pd.DataFrame:
    return pd.DataFrame({"id": list(ids), "code": [f"z{i}" for i in ids], "name_zh": [f"园区{i}" for i in ids],
                         "name_en": [f"Zone {i}" for i in ids], "approved_area_m2": 1e6})


def run(p, g, overrides=(), z=None) -> pd.DataFrame:
    inputs = {"parcels": p, "green_areas": g, "zones": zones(sorted(set(p["zone_id"]))) if z is None else z}
    return gb.evaluate(inputs, AS_OF, frame("parameter_overrides", list(overrides)))


def one(found: pd.DataFrame, rule: str, subject: str = "1") -> pd.Series:
    rows = found[(found["rule"] == rule) & (found["subject_id"] == subject)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_parcel_exactly_at_the_target_is_a_surplus_of_zero():
    f = one(run(parcels([{"area_m2": 10000.0}]), green([(1, "2026-01-05", 1500.0)])), "green_balance")
    assert f["outcome"] == "surplus" and not f["is_positive"]
    assert f["evidence"]["surplus_m2"] == 0.0 and f["evidence"]["green_ratio"] == 0.15
    assert "15%" in f["explanation_zh"] and "2026-01-05" in f["explanation_en"]


def test_parcel_below_target_is_a_deficit_naming_the_numbers():
    f = one(run(parcels([{"area_m2": 10000.0}]), green([(1, "2026-01-05", 1000.0)])), "green_balance")
    assert f["outcome"] == "deficit" and f["is_positive"]
    assert f["evidence"]["surplus_m2"] == -500.0
    assert "10.0%" in f["explanation_zh"] and "500.0" in f["explanation_zh"] and "15%" in f["explanation_zh"]
    assert "deficit 500.0 m²" in f["explanation_en"]
    assert f["parameters"]["target_ratio"]["value"] == 0.15
    assert "no Shanghai zone green target" in f["parameters"]["target_ratio"]["source"]


def test_the_latest_measurement_on_or_before_the_as_of_date_counts():
    g = green([(1, "2024-03-01", 500.0), (1, "2026-06-30", 2000.0), (1, "2026-07-01", 100.0)])
    f = one(run(parcels([{"area_m2": 10000.0}]), g), "green_balance")
    assert f["evidence"]["measured_on"] == "2026-06-30" and f["evidence"]["counted_green_m2"] == 2000.0


def test_dedicated_green_parcel_counts_with_its_whole_area():
    f = one(run(parcels([{"area_m2": 10000.0, "land_use_code": "1402", "status": "completed"}]),
                green([(1, "2026-01-05", 8000.0)])), "green_balance")
    assert f["outcome"] == "surplus" and f["evidence"]["dedicated_green"] is True
    assert f["evidence"]["surplus_m2"] == 8500.0 and f["evidence"]["measured_green_m2"] == 8000.0


@pytest.mark.parametrize("row,greens,missing", [
    ({"area_m2": 0.0}, [(1, "2026-01-05", 0.0)], "zero_area"),
    ({"area_m2": 1000.0}, [(1, "2026-01-05", 1200.0)], "green_exceeds_area"),
    ({"area_m2": 1000.0, "status": "completed"}, [], "no_measurement"),
])
def test_parcels_that_cannot_be_evaluated_say_why(row, greens, missing):
    found = run(parcels([row]), green(greens))
    f = one(found, "green_balance")
    assert f["outcome"] == "cannot_evaluate" and f["is_positive"] and f["evidence"]["missing"] == missing
    assert f["explanation_zh"].startswith("无法评估") and f["explanation_en"].startswith("Cannot evaluate")
    # and the zone is not judged on nothing
    assert one(found, "green_balance_zone")["outcome"] == "cannot_evaluate"


def test_unbuilt_parcel_without_measurement_has_no_finding_but_is_reported_in_the_zone():
    p = parcels([{"area_m2": 10000.0}, {"area_m2": 5000.0, "status": "granted_unbuilt"}])
    found = run(p, green([(1, "2026-01-05", 2000.0)]))
    assert set(found.loc[found["rule"] == "green_balance", "subject_id"]) == {"1"}
    z = one(found, "green_balance_zone")
    assert z["evidence"]["not_built_m2"] == 5000.0 and z["evidence"]["assessed_area_m2"] == 10000.0


def test_zone_with_no_green_parcels_is_short_by_the_hand_computed_margin():
    # like the demo's Jiading: no 1401/1402 parcels, 5% and 8% on the parcels
    p = parcels([{"area_m2": 10000.0}, {"area_m2": 20000.0}])
    z = one(run(p, green([(1, "2026-01-05", 500.0), (2, "2026-01-05", 1600.0)])), "green_balance_zone")
    assert z["outcome"] == "short" and z["is_positive"]
    assert z["evidence"]["zone_green_m2"] == 2100.0 and z["evidence"]["required_m2"] == 4500.0
    assert z["evidence"]["margin_m2"] == -2400.0 and z["evidence"]["dedicated_green_m2"] == 0.0
    assert "2,400.0" in z["explanation_zh"] and "short by 2,400.0 m²" in z["explanation_en"]


def test_dedicated_green_balances_a_zone_exactly():
    # 10% on 10,000 m² (deficit 500) + a 1402 parcel of 588.235... m²: needs 0.85 x area = 500
    area = 500 / 0.85
    p = parcels([{"area_m2": 10000.0}, {"area_m2": area, "land_use_code": "1402", "status": "completed"}])
    z = one(run(p, green([(1, "2026-01-05", 1000.0)])), "green_balance_zone")
    assert z["outcome"] == "balanced" and not z["is_positive"]
    assert abs(z["evidence"]["margin_m2"]) < 0.05


def test_zone_with_too_much_unmeasured_built_land_cannot_be_judged():
    p = parcels([{"area_m2": 10000.0}, {"area_m2": 2000.0, "status": "completed"}])
    z = one(run(p, green([(1, "2026-01-05", 3000.0)])), "green_balance_zone")
    assert z["outcome"] == "cannot_evaluate" and z["evidence"]["unmeasured_share"] == round(2000 / 12000, 4)
    # a larger threshold lets the verdict through
    z = one(run(p, green([(1, "2026-01-05", 3000.0)]),
                [override("green_balance_zone", "max_unmeasured_share", 0.2)]), "green_balance_zone")
    assert z["outcome"] == "balanced"


def test_zone_target_override_applies_to_parcels_and_zone_with_its_source():
    p = parcels([{"area_m2": 10000.0, "zone_id": 1}, {"area_m2": 10000.0, "zone_id": 2}])
    g = green([(1, "2026-01-05", 2000.0), (2, "2026-01-05", 2000.0)])
    found = run(p, g, [override("green_balance", "target_ratio", 0.25, zone_id=2, source="园区绿地规划 2023")])
    assert one(found, "green_balance", "1")["outcome"] == "surplus"
    f2 = one(found, "green_balance", "2")
    assert f2["outcome"] == "deficit" and f2["evidence"]["target"] == 0.25
    assert f2["parameters"]["target_ratio"]["source"] == "园区绿地规划 2023"
    z2 = one(found, "green_balance_zone", "2")
    assert z2["outcome"] == "short" and z2["evidence"]["required_m2"] == 2500.0


def test_missing_green_input_gives_cannot_evaluate_per_zone():
    found = gb.evaluate({"parcels": parcels([{}]), "zones": zones()}, AS_OF)
    assert list(found["outcome"]) == ["cannot_evaluate"] and "green_areas" in found.iloc[0]["explanation_en"]


# -- industrial controls ---------------------------------------------------------------------------

def industrial(green_m2, footprint, office, **row):
    p = parcels([{"area_m2": 10000.0, "building_footprint_m2": footprint, "office_living_area_m2": office} | row])
    g = green([(1, "2026-01-05", green_m2)] if green_m2 is not None else [])
    found = run(p, g)
    rows = found[found["rule"] == "industrial_controls"]
    return rows.iloc[0] if len(rows) else None


def test_industrial_parcel_exactly_at_the_three_limits_is_within():
    f = industrial(2000.0, 3000.0, 700.0)
    assert f["outcome"] == "within_controls" and not f["is_positive"]
    assert f["evidence"]["violations"] == [] and f["evidence"]["coverage"] == 0.3
    assert "20%" in f["explanation_zh"] and "30%" in f["explanation_en"] and "7%" in f["explanation_en"]
    assert "国土资发〔2008〕24号" in f["parameters"]["green_max"]["source"]


@pytest.mark.parametrize("green_m2,footprint,office,outcome", [
    (2001.0, 4000.0, 500.0, "green_above_max"),
    (1500.0, 2999.0, 500.0, "coverage_below_min"),
    (1500.0, 4000.0, 701.0, "office_above_max"),
])
def test_each_industrial_violation(green_m2, footprint, office, outcome):
    f = industrial(green_m2, footprint, office)
    assert f["outcome"] == outcome and f["is_positive"]
    assert f["evidence"]["violations"] == [{"green_above_max": "green_ratio", "coverage_below_min": "coverage",
                                            "office_above_max": "office_share"}[outcome]]


def test_built_industrial_parcel_missing_a_figure_cannot_be_evaluated():
    f = industrial(1500.0, None, 500.0)
    assert f["outcome"] == "cannot_evaluate" and f["evidence"]["missing"] == ["coverage"]
    assert "建筑系数" in f["explanation_zh"]


def test_unbuilt_or_non_industrial_parcels_are_not_checked():
    assert industrial(None, None, None, status="granted_unbuilt") is None
    assert industrial(2500.0, 1000.0, 900.0, land_use_code="110101") is None


# -- what-if ---------------------------------------------------------------------------------------

def test_what_if_adds_the_projects_surplus_or_deficit_to_the_margin():
    p = parcels([{"area_m2": 10000.0}, {"area_m2": 2000.0, "land_use_code": "1401", "status": "completed"}])
    g = green([(1, "2026-01-05", 1000.0)])
    # margin now: 1000 + 2000 - 0.15 x 12000 = 1200
    fits = gb.what_if_new_project(p, g, 1, 5000, 0.10, as_of=AS_OF)
    assert fits.fits and fits.margin_before_m2 == 1200.0 and fits.margin_after_m2 == 950.0
    too_big = gb.what_if_new_project(p, g, 1, 30000, 0.10, as_of=AS_OF)
    assert not too_big.fits and too_big.margin_after_m2 == -300.0
    assert too_big.min_green_ratio == pytest.approx(0.11)
    assert "0.11" not in too_big.explanation_zh and "11%" in too_big.explanation_zh
    exact = gb.what_if_new_project(p, g, 1, 30000, 0.11, as_of=AS_OF)
    assert exact.fits and abs(exact.margin_after_m2) < 1e-6


def test_what_if_notes_the_industrial_cap_and_refuses_bad_input():
    p = parcels([{"area_m2": 10000.0}])
    g = green([(1, "2026-01-05", 500.0)])
    r = gb.what_if_new_project(p, g, 1, 1000, 0.25, as_of=AS_OF, industrial=True)
    assert "20%" in r.explanation_zh and "capped" in r.explanation_en
    for area, ratio in ((0, 0.1), (-5, 0.1), (1000, 1.5), (1000, -0.1), (float("nan"), 0.1)):
        with pytest.raises(InputError):
            gb.what_if_new_project(p, g, 1, area, ratio, as_of=AS_OF)


# -- property: the green totals add up -------------------------------------------------------------

parcel_rows = st.lists(st.tuples(
    st.integers(1, 3),                                   # zone
    st.floats(0.0, 50000.0),                             # area
    st.sampled_from(["100101", "110101", "1401", "1402"]),
    st.sampled_from(["in_production", "completed", "granted_unbuilt"]),
    st.one_of(st.none(), st.floats(0.0, 1.2))),          # measured ratio (None: not measured)
    min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(parcel_rows, st.floats(0.0, 0.5))
def test_zone_totals_are_the_sum_of_the_parcels(rows, target):
    p = parcels([{"zone_id": z, "area_m2": a, "land_use_code": lu, "status": s} for z, a, lu, s, _ in rows])
    g = green([(i, "2026-01-05", a * r) for i, (_, a, _, _, r) in enumerate(rows, start=1) if r is not None])
    found = run(p, g, [override("green_balance", "target_ratio", target)], z=zones((1, 2, 3)))
    par = found[(found["rule"] == "green_balance") & found["outcome"].isin(["surplus", "deficit"])]
    for zone_id in (1, 2, 3):
        z = one(found, "green_balance_zone", str(zone_id))
        mine = par[par["zone_id"] == zone_id]
        surplus = sum(e["surplus_m2"] for e in mine["evidence"])
        counted = sum(e["counted_green_m2"] for e in mine["evidence"])
        area = sum(e["area_m2"] for e in mine["evidence"])
        # each parcel's figure and the zone's are rounded to 0.1 m² (off by <= 0.05 each); the
        # float sum of the rounded figures may sit exactly on that bound (1.05 -> 1.1 vs 1.0)
        rounding = 0.05 * (len(mine) + 1) + 1e-9
        if z["outcome"] in ("balanced", "short"):
            assert z["evidence"]["margin_m2"] == pytest.approx(surplus, abs=rounding)
            assert z["evidence"]["zone_green_m2"] == pytest.approx(counted, abs=rounding)
            assert z["evidence"]["required_m2"] == pytest.approx(target * area, abs=rounding + 0.05 * len(mine))
            margin = z["evidence"]["margin_m2"]
            if abs(margin) > 0.05:  # the evidence is rounded to 0.1 m²; the verdict uses the exact margin
                assert (z["outcome"] == "short") == (margin < 0)
        else:
            assert z["is_positive"]
        # what-if on the same zone agrees with the zone rule
        if z["outcome"] in ("balanced", "short"):
            w = gb.what_if_new_project(p, g, zone_id, 1000.0, 0.3, target=target, as_of=AS_OF)
            assert w.margin_after_m2 == pytest.approx(w.margin_before_m2 + 1000.0 * (0.3 - target), abs=2e-3)
