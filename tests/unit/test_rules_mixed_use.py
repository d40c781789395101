"""Mixed use: > 90% of floor area is single-use, shares sum to 100, caps as parameters."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gisapp.rules import mixed_use
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)
CATEGORY = {"100101": "industrial", "0902": "commercial", "0802": "research", "0701": "residential"}


def run(shares: dict[str, float] | None, overrides=(), pilot: bool = False) -> pd.Series:
    comps = [
        {"parcel_id": 1, "land_use_code": code, "land_use_category": CATEGORY[code], "floor_share_pct": pct}
        for code, pct in (shares or {}).items()
    ]
    pilots = [{"parcel_id": 1, "approved_on": "2024-01-01", "pilot_ref": "试点 1"}] if pilot else []
    found = mixed_use.evaluate(
        {
            "parcels": frame("parcels", [{}]),
            "mixed_use_components": frame("mixed_use_components", comps),
            "mixed_use_pilots": frame("mixed_use_pilots", pilots),
        },
        AS_OF,
        frame("parameter_overrides", list(overrides)),
    )
    assert len(found) == 1
    return found.iloc[0]


@pytest.mark.parametrize(
    "shares,outcome",
    [
        ({"100101": 95.0, "0902": 5.0}, "single_use"),
        ({"100101": 90.0, "0902": 10.0}, "mixed"),  # exactly 90% is still mixed
        ({"100101": 90.01, "0902": 9.99}, "single_use"),  # just above 90%
        ({"100101": 100.0}, "single_use"),
        ({"100101": 60.0, "0902": 25.0, "0802": 15.0}, "mixed"),
    ],
)
def test_single_use_needs_more_than_90_percent_of_floor_area(shares, outcome):
    f = run(shares)
    assert f["outcome"] == outcome and not f["is_positive"]
    assert f["evidence"]["dominant_use"] == "100101" and f["evidence"]["dominant_share"] == max(
        shares.values()
    )
    assert "90%" in f["explanation_zh"] and "90%" in f["explanation_en"]


@pytest.mark.parametrize(
    "shares,outcome",
    [
        ({"100101": 70.0, "0902": 25.0}, "invalid_shares"),
        ({"100101": 60.0, "0902": 40.02}, "invalid_shares"),
        ({"100101": 60.0, "0902": 40.01}, "mixed"),  # exactly at the 0.01-point tolerance
        ({"100101": 60.0, "0902": 39.99}, "mixed"),
    ],
)
def test_shares_must_sum_to_100_within_the_tolerance(shares, outcome):
    f = run(shares)
    assert f["outcome"] == outcome
    if outcome == "invalid_shares":
        assert f["is_positive"] and "应为 100%" in f["explanation_zh"]


def test_caps_on_complementary_uses_are_parameters_by_code_or_category():
    shares = {"100101": 75.0, "0902": 25.0}
    assert run(shares)["outcome"] == "mixed"  # no caps by default
    f = run(shares, [override("mixed_use", "caps", {"0902": 20}, zone_id=1)])
    assert f["outcome"] == "cap_exceeded" and f["evidence"]["caps_exceeded"][0]["cap_pct"] == 20.0
    assert "上限 20%" in f["explanation_zh"]
    assert (
        run(shares, [override("mixed_use", "caps", {"commercial": 25})])["outcome"] == "mixed"
    )  # at the cap
    # the main use is never capped
    assert run(shares, [override("mixed_use", "caps", {"industrial": 10})])["outcome"] == "mixed"


def test_a_pilot_without_shares_cannot_be_evaluated():
    f = run(None, pilot=True)
    assert f["outcome"] == "cannot_evaluate" and f["is_positive"] and "试点 1" in f["explanation_zh"]


def test_the_single_use_threshold_is_a_parameter():
    assert (
        run({"100101": 85.0, "0902": 15.0}, [override("mixed_use", "single_use_share_pct", 80.0)])["outcome"]
        == "single_use"
    )
