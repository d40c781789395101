"""Idle land (MLR Order No. 53) and the land inventories, hand-computed at every edge."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gisapp.i18n import label
from gisapp.rules import idle_land
from gisapp.rules.common import anniversary
from tests.unit.rule_frames import frame, override

D = dt.date


def inputs(
    parcels=None, grants=None, progress=None, suspensions=None, exemptions=None, extensions=None, fees=None
) -> dict[str, pd.DataFrame]:
    return {
        "parcels": frame("parcels", parcels or [{}]),
        "land_grants": frame("land_grants", grants or []),
        "construction_progress": frame("construction_progress", progress or []),
        "construction_suspensions": frame("construction_suspensions", suspensions or []),
        "idle_exemptions": frame("idle_exemptions", exemptions or []),
        "case_extensions": frame("case_extensions", extensions or []),
        "idle_fee_decisions": frame("idle_fee_decisions", fees or []),
    }


def idle(as_of: dt.date, overrides=None, **kw) -> pd.Series:
    """The idle_land finding of parcel 1."""
    found = idle_land.evaluate(inputs(**kw), as_of, frame("parameter_overrides", overrides or []))
    rows = found[(found["rule"] == "idle_land") & (found["parcel_id"] == 1)]
    assert len(rows) == 1, found
    return rows.iloc[0]


def not_started(start: str, price: float = 480.0, **grant) -> dict:
    return {"grants": [{"parcel_id": 1, "agreed_start_on": start, "price_wan": price, **grant}]}


def stalled(
    developed: float,
    should: float,
    invested: float,
    total: float,
    suspended: str,
    resumed: str | None = None,
    extra_suspensions=(),
) -> dict:
    return {
        "parcels": [{"status": "under_construction"}],
        "grants": [{"parcel_id": 1, "agreed_start_on": "2021-01-01"}],
        "progress": [
            {
                "parcel_id": 1,
                "reported_on": "2021-06-01",
                "started_on": "2021-03-01",
                "should_develop_area_m2": should,
                "developed_area_m2": developed,
                "invested_wan": invested,
                "total_investment_wan": total,
            }
        ],
        "suspensions": [
            *extra_suspensions,
            {"parcel_id": 1, "suspended_from": suspended, "resumed_on": resumed},
        ],
    }


# -- "one full year" by calendar ------------------------------------------------------------------


def test_full_year_ends_at_the_end_of_the_anniversary_day():
    start = pd.Series(pd.to_datetime(["2022-03-01", "2020-02-29", "2023-02-28", "2024-02-29"]))
    assert anniversary(start, 1).dt.date.tolist() == [
        D(2023, 3, 1),
        D(2021, 2, 28),
        D(2024, 2, 28),
        D(2025, 2, 28),
    ]
    assert anniversary(start, 4).dt.date.tolist()[1] == D(2024, 2, 29)  # a leap year has the day


def test_not_started_is_idle_the_day_after_the_anniversary_with_the_fee_named():
    assert idle(D(2023, 3, 1), **not_started("2022-03-01"))["outcome"] == "not_idle"
    f = idle(D(2023, 3, 2), **not_started("2022-03-01"))
    assert f["outcome"] == "idle_not_started" and f["is_positive"]
    assert f["evidence"]["idle_since"] == "2023-03-02" and f["evidence"]["fee_wan"] == 96.0
    assert "约定开工日期 2022-03-01 起满一年未动工（截至 2023-03-02）" in f["explanation_zh"]
    assert "按出让价款 20% 应征闲置费 96.0 万元" in f["explanation_zh"]
    assert "2022-03-01" in f["explanation_en"] and "96.0" in f["explanation_en"]
    assert f["evidence"]["recovery_candidate"] is False


def test_a_start_on_29_february_completes_its_year_on_28_february():
    kw = not_started("2020-02-29")
    assert idle(D(2021, 2, 28), **kw)["outcome"] == "not_idle"
    f = idle(D(2021, 3, 1), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["idle_since"] == "2021-03-01"
    assert f["evidence"]["period_ends_on"] == "2021-02-28"


def test_a_start_on_28_february_before_a_leap_day_is_idle_on_29_february():
    kw = not_started("2023-02-28")
    assert idle(D(2024, 2, 28), **kw)["outcome"] == "not_idle"
    assert idle(D(2024, 2, 29), **kw)["evidence"]["idle_since"] == "2024-02-29"


def test_recovery_candidate_after_two_full_years_counted_the_same_way():
    kw = not_started("2020-02-29")
    assert idle(D(2022, 2, 28), **kw)["evidence"]["recovery_candidate"] is False
    f = idle(D(2022, 3, 1), **kw)
    assert f["evidence"]["recovery_candidate"] is True and f["evidence"]["recovery_from"] == "2022-03-01"
    assert "可无偿收回" in f["explanation_zh"] and "recovery" in f["explanation_en"]


def test_a_start_after_the_as_of_date_does_not_count_as_started():
    kw = not_started("2022-03-01")
    kw["progress"] = [{"parcel_id": 1, "reported_on": "2023-01-01", "started_on": "2024-01-01"}]
    assert idle(D(2023, 6, 1), **kw)["outcome"] == "idle_not_started"
    assert idle(D(2024, 6, 1), **kw)["outcome"] == "not_idle"


def test_a_progress_report_after_the_as_of_date_is_not_used():
    kw = not_started("2022-03-01")
    kw["progress"] = [{"parcel_id": 1, "reported_on": "2023-06-01", "started_on": "2022-04-01"}]
    assert idle(D(2023, 5, 1), **kw)["outcome"] == "idle_not_started"
    assert idle(D(2023, 6, 1), **kw)["outcome"] == "not_idle"


# -- started but stalled: 1/3, 25%, a full year of suspension -------------------------------------


def test_exactly_one_third_developed_and_exactly_25_percent_invested_is_not_idle():
    f = idle(D(2026, 6, 30), **stalled(10000, 30000, 3000, 12000, "2024-01-01"))
    assert f["outcome"] == "not_idle" and not f["is_positive"]
    assert "33.3%" in f["explanation_zh"] and "1/3" in f["explanation_zh"] and "25%" in f["explanation_zh"]


@pytest.mark.parametrize("developed,invested", [(9999.9, 3000), (10000, 2999.99)])
def test_just_below_one_third_or_just_below_25_percent_with_a_year_of_suspension_is_idle(developed, invested):
    f = idle(D(2026, 6, 30), **stalled(developed, 30000, invested, 12000, "2024-01-01"))
    assert f["outcome"] == "idle_stalled"
    assert f["evidence"]["idle_since"] == "2025-01-02" and f["evidence"]["fee_wan"] == 96.0
    assert "低于" in f["explanation_zh"] and "below" in f["explanation_en"]


def test_suspension_counts_one_full_year_to_the_day():
    kw = stalled(1000, 30000, 100, 12000, "2024-01-10")
    assert idle(D(2025, 1, 10), **kw)["outcome"] == "not_idle"
    assert idle(D(2025, 1, 11), **kw)["outcome"] == "idle_stalled"


def test_a_suspension_that_restarts_counts_from_the_latest_suspension():
    first = {"parcel_id": 1, "suspended_from": "2022-01-01", "resumed_on": "2022-10-01"}
    kw = stalled(1000, 30000, 100, 12000, "2024-05-01", extra_suspensions=[first])
    f = idle(D(2025, 3, 1), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["suspended_since"] == "2024-05-01"
    assert "2025-05-01" in f["explanation_zh"]  # the year of the latest suspension ends then
    assert idle(D(2025, 5, 2), **kw)["outcome"] == "idle_stalled"


def test_a_resumed_suspension_is_not_a_suspension():
    kw = stalled(1000, 30000, 100, 12000, "2022-01-01", resumed="2023-01-01")
    f = idle(D(2026, 6, 30), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["suspended_since"] is None
    # as of a date inside the suspended period it was suspended
    assert idle(D(2022, 12, 1), **kw)["evidence"]["suspended_since"] == "2022-01-01"


def test_missing_development_figures_cannot_be_evaluated_and_say_what_is_missing():
    kw = stalled(float("nan"), float("nan"), float("nan"), 12000, "2024-01-01")
    f = idle(D(2026, 6, 30), **kw)
    assert f["outcome"] == "cannot_evaluate" and f["is_positive"]
    assert "缺少" in f["explanation_zh"] and "missing" in f["explanation_en"]


def test_one_known_share_below_its_threshold_is_enough_even_if_the_other_is_missing():
    f = idle(D(2026, 6, 30), **stalled(1000, 30000, float("nan"), 12000, "2024-01-01"))
    assert f["outcome"] == "idle_stalled"


# -- exemptions --------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", idle_land.EXEMPT_REASONS)
def test_each_exemption_reason_active_on_the_date_exempts_idle_land(reason):
    # the frame carries the reason's names (land.idle_exemption_reasons); the sentence shows them
    names = {lang: label("exempt_reason", reason, lang) for lang in ("zh", "en")}
    kw = not_started("2022-03-01")
    kw["exemptions"] = [
        {
            "parcel_id": 1,
            "reason_code": reason,
            "reason_zh": names["zh"],
            "reason_en": names["en"],
            "from_on": "2022-03-01",
            "to_on": None,
        }
    ]
    f = idle(D(2024, 6, 1), **kw)
    assert f["outcome"] == "exempt" and not f["is_positive"]
    assert f["evidence"]["exemption_reason"] == reason and f["evidence"]["fee_wan"] is None
    assert f"因“{names['zh']}”（自 2022-03-01 起）不予认定闲置" in f["explanation_zh"]
    assert f"exempt: {names['en']} (since 2022-03-01)" in f["explanation_en"] and "negotiation" in f["explanation_en"]
    # the name, never the code (an English name may hold a code's word: "Unresolved petitions")
    assert reason not in f["explanation_zh"] and f"{reason}," not in f["explanation_en"]


def test_an_exemption_outside_the_as_of_date_does_not_exempt():
    kw = not_started("2022-03-01")
    kw["exemptions"] = [
        {
            "parcel_id": 1,
            "reason_code": "force_majeure",
            "reason_zh": "不可抗力",
            "reason_en": "Force majeure",
            "from_on": "2022-03-01",
            "to_on": "2023-12-31",
        }
    ]
    assert idle(D(2023, 12, 31), **kw)["outcome"] == "exempt"
    # once over, its days (2022-03-02 to 2023-12-31, 670) are not counted: the year runs from its
    # last day, as if that were the agreed start (tests/unit/test_rules_idle_clock.py)
    f = idle(D(2024, 1, 1), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["clock"]["paused_days"] == 670
    assert f["evidence"]["clock"]["from"] == "2023-12-31" and f["evidence"]["period_ends_on"] == "2024-12-31"
    assert idle(D(2024, 12, 31), **kw)["outcome"] == "not_idle"
    assert idle(D(2025, 1, 1), **kw)["evidence"]["idle_since"] == "2025-01-01"
    kw["exemptions"][0].update(from_on="2025-01-01", to_on=None)
    assert idle(D(2024, 6, 1), **kw)["outcome"] == "idle_not_started"


def test_a_zone_can_narrow_the_exempting_reasons_by_override():
    kw = not_started("2022-03-01")
    kw["exemptions"] = [
        {
            "parcel_id": 1,
            "reason_code": "petition",
            "reason_zh": "信访",
            "reason_en": "Petitions",
            "from_on": "2022-03-01",
        }
    ]
    narrowed = [override("idle_land", "exempt_reasons", ["force_majeure"], zone_id=1)]
    assert idle(D(2024, 6, 1), overrides=narrowed, **kw)["outcome"] == "idle_not_started"
    assert (
        idle(
            D(2024, 6, 1),
            overrides=[override("idle_land", "exempt_reasons", ["force_majeure"], zone_id=2)],
            **kw,
        )["outcome"]
        == "exempt"
    )


# -- fee, parameters, missing inputs, scope -----------------------------------------------------


def test_a_zone_fee_override_is_applied_and_its_source_stored():
    f = idle(
        D(2024, 6, 1),
        overrides=[override("idle_land", "fee_rate", 0.3, zone_id=1, source="区政府决定")],
        **not_started("2022-03-01", price=100.0),
    )
    assert f["evidence"]["fee_wan"] == 30.0 and "30%" in f["explanation_zh"]
    assert f["parameters"]["fee_rate"] == {
        "value": 0.3,
        "source": "区政府决定",
        "effective_from": "2000-01-01",
        "override": True,
    }
    assert "53" in f["parameters"]["develop_share_min"]["source"]


def test_a_missing_grant_price_keeps_the_verdict_and_says_the_fee_cannot_be_computed():
    f = idle(D(2024, 6, 1), **not_started("2022-03-01", price=float("nan")))
    assert f["outcome"] == "idle_not_started" and f["evidence"]["fee_wan"] is None
    assert "出让价款缺失" in f["explanation_zh"]


def test_a_grant_without_agreed_start_date_cannot_be_evaluated():
    f = idle(D(2024, 6, 1), **not_started(None))
    assert f["outcome"] == "cannot_evaluate" and "约定动工开发日期" in f["explanation_zh"]
    assert "no agreed start date" in f["explanation_en"]


def test_a_parcel_marked_under_construction_without_a_start_date_cannot_be_evaluated():
    kw = not_started("2022-03-01")
    kw["parcels"] = [{"status": "under_construction"}]
    f = idle(D(2024, 6, 1), **kw)
    assert f["outcome"] == "cannot_evaluate" and "under_construction" in f["explanation_en"]


def test_reclaimed_land_and_grants_signed_after_the_date_are_out_of_scope():
    found = idle_land.evaluate(
        inputs(
            parcels=[{"status": "reclaimed"}, {}],
            grants=[
                {"parcel_id": 1, "agreed_start_on": "2020-01-01"},
                {"parcel_id": 2, "agreed_start_on": "2025-01-01", "granted_on": "2024-08-01"},
            ],
        ),
        D(2024, 6, 1),
    )
    assert found[found["rule"] == "idle_land"].empty


def test_the_latest_grant_of_a_parcel_decides():
    kw = {
        "grants": [
            {"parcel_id": 1, "agreed_start_on": "2015-01-01", "granted_on": "2014-01-01"},
            {"parcel_id": 1, "agreed_start_on": "2024-01-01", "granted_on": "2023-06-01"},
        ]
    }
    f = idle(D(2024, 6, 1), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["grant_id"] == 2


# -- inventories -------------------------------------------------------------------------------


def test_inventories_list_approved_unsupplied_and_supplied_unbuilt_land_with_area_and_since():
    found = idle_land.evaluate(
        inputs(
            parcels=[
                {"status": "approved_unsupplied", "status_since": "2021-05-01", "area_m2": 20000.0},
                {"status": "granted_unbuilt", "area_m2": 15000.0},
                {"status": "in_production"},
            ],
            grants=[
                {"parcel_id": 2, "agreed_start_on": "2024-01-01", "granted_on": "2023-06-01"},
                {"parcel_id": 3, "agreed_start_on": "2018-01-01", "granted_on": "2017-06-01"},
            ],
            progress=[{"parcel_id": 3, "reported_on": "2019-01-01", "started_on": "2018-02-01"}],
        ),
        D(2024, 6, 1),
    )
    inv = found[found["rule"] == "land_inventory"].set_index("parcel_id")
    assert set(inv.index) == {1, 2}
    assert inv.loc[1, "outcome"] == "approved_unsupplied" and inv.loc[1, "evidence"]["since"] == "2021-05-01"
    assert inv.loc[2, "outcome"] == "supplied_unbuilt" and inv.loc[2, "evidence"]["area_m2"] == 15000.0
    assert inv.loc[2, "evidence"]["days"] == (D(2024, 6, 1) - D(2023, 6, 1)).days
    assert "1.50 公顷" in inv.loc[2, "explanation_zh"] and inv["is_positive"].all()
