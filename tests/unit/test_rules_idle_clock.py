"""The idle-land clock after late or missing delivery of the land and after exemptions (MLR Order
No. 53 arts. 2 and 8), every date computed by hand in the comments.

The decisions under test (docs/policy.md §5.1): late delivery moves the agreed start by the days
of the delay; land not delivered by its due date is exempt, with no clock, until delivery; a
finished exemption pauses the clock (its days on the clock are not counted), it does not restart
it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gisapp.rules import idle_clock
from tests.unit.rule_frames import override
from tests.unit.test_rules_idle_land import idle, not_started

D = dt.date


def delivered(due: str | None, on: str | None, start: str = "2022-03-01") -> dict:
    """A grant agreeing the start on ``start``, the land due on ``due`` and delivered ``on``."""
    return not_started(start, delivery_due_on=due, delivered_on=on)


def clock(finding: pd.Series) -> dict:
    """The finding's evidence of what moved its clock ({} when nothing did)."""
    return finding["evidence"]["clock"] or {}


def exemption(reason: str, from_on: str, to_on: str | None) -> dict:
    return {"parcel_id": 1, "reason_code": reason, "reason_zh": "原因", "reason_en": "Reason",
            "from_on": from_on, "to_on": to_on}


# -- late or missing delivery -------------------------------------------------------------------


def test_land_delivered_on_time_keeps_the_agreed_start():
    kw = delivered("2022-01-01", "2022-01-01")
    assert idle(D(2023, 3, 1), **kw)["outcome"] == "not_idle"
    f = idle(D(2023, 3, 2), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["idle_since"] == "2023-03-02"
    assert f["evidence"]["clock"] is None and "交地" not in f["explanation_zh"]
    # early delivery does not bring the start forward either
    assert idle(D(2023, 3, 2), **delivered("2022-01-01", "2021-12-01"))["evidence"]["idle_since"] == "2023-03-02"


def test_land_delivered_one_day_late_moves_the_start_by_one_day():
    kw = delivered("2022-01-01", "2022-01-02")  # due 1 Jan, delivered 2 Jan: 1 day late
    f = idle(D(2023, 3, 2), **kw)  # agreed start 2022-03-01 + 1 day = 2022-03-02, year ends 2023-03-02
    assert f["outcome"] == "not_idle" and clock(f)["delivery_delay_days"] == 1
    assert clock(f)["from"] == "2022-03-02" and f["evidence"]["period_ends_on"] == "2023-03-02"
    assert "约定交地日期 2022-01-01，实际交地日期 2022-01-02" in f["explanation_zh"]
    assert "迟延 1 天" in f["explanation_zh"] and "顺延至 2022-03-02" in f["explanation_zh"]
    assert "due on 2022-01-01, delivered on 2022-01-02" in f["explanation_en"]
    g = idle(D(2023, 3, 3), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2023-03-03"
    assert "自该日起满一年未动工" in g["explanation_zh"] and "Not started one full year after 2022-03-02" in \
        g["explanation_en"]


def test_late_delivery_counts_one_full_year_from_the_moved_start_to_the_day():
    # due 2022-01-01, delivered 2022-07-01: 181 days late (30 + 28 + 31 + 30 + 31 + 30 + 1);
    # 2022-03-01 + 181 days = 2022-08-29, so the year ends at the end of 2023-08-29. Counting from
    # the later of the agreed start and the delivery (2022-07-01) would end it on 2023-07-01.
    kw = delivered("2022-01-01", "2022-07-01")
    f = idle(D(2023, 8, 29), **kw)
    assert f["outcome"] == "not_idle" and clock(f)["from"] == "2022-08-29"
    assert clock(f)["delivery_delay_days"] == 181 and "2023-08-29" in f["explanation_zh"]
    g = idle(D(2023, 8, 30), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2023-08-30"
    assert g["evidence"]["fee_wan"] == 96.0 and g["is_positive"]
    # two full years from the moved start: recovery from 2024-08-30
    assert idle(D(2024, 8, 29), **kw)["evidence"]["recovery_candidate"] is False
    assert idle(D(2024, 8, 30), **kw)["evidence"]["recovery_from"] == "2024-08-30"


def test_a_moved_start_on_29_february_completes_its_year_on_28_february():
    # due 2024-01-01, delivered 2024-01-29 (28 days late): 2024-02-01 + 28 days = 2024-02-29
    kw = delivered("2024-01-01", "2024-01-29", start="2024-02-01")
    assert clock(idle(D(2025, 2, 28), **kw))["from"] == "2024-02-29"
    assert idle(D(2025, 2, 28), **kw)["outcome"] == "not_idle"
    assert idle(D(2025, 3, 1), **kw)["evidence"]["idle_since"] == "2025-03-01"


def test_land_never_delivered_after_its_due_date_is_exempt_without_a_recorded_exemption():
    kw = delivered("2022-01-01", None)
    # on the due day the land is still in time
    f = idle(D(2022, 1, 1), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["clock"] is None
    # from the next day the delivery is overdue and the clock waits for it
    f = idle(D(2022, 1, 2), **kw)
    assert f["outcome"] == "not_idle" and clock(f)["delivery_overdue"] is True
    assert clock(f)["from"] is None and clock(f)["delivery_due_on"] == "2022-01-01"
    assert "约定交地日期 2022-01-01 已过，截至 2022-01-02 尚未交地（未按约定交付土地）" in f["explanation_zh"]
    assert "not delivered as of 2022-01-02 (Land not delivered as agreed)" in f["explanation_en"]
    # a year after the agreed start it would be idle, and is exempt instead, for as long as it lasts
    for day in (D(2023, 3, 2), D(2030, 1, 1)):
        f = idle(day, **kw)
        assert f["outcome"] == "exempt" and not f["is_positive"] and f["evidence"]["fee_wan"] is None
        assert f["evidence"]["exemption_reason"] == "land_not_delivered"
        assert f["evidence"]["exempt_from"] == "2022-01-02" and f["evidence"]["recovery_candidate"] is False
        assert "约定交地日期 2022-01-01 已过" in f["explanation_zh"] and "应协商处置" in f["explanation_zh"]
        assert "land_not_delivered" not in f["explanation_zh"] + f["explanation_en"]  # a label, not the code


def test_a_delivery_recorded_for_a_later_day_is_not_known_on_the_as_of_date():
    kw = delivered("2022-01-01", "2022-07-01")
    f = idle(D(2022, 6, 30), **kw)
    assert clock(f)["delivery_overdue"] is True and clock(f)["delivered_on"] is None


def test_a_delivery_due_date_in_the_future_changes_nothing():
    kw = delivered("2022-02-01", None, start="2022-08-01")
    plain = idle(D(2022, 1, 15), **not_started("2022-08-01"))
    f = idle(D(2022, 1, 15), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["clock"] is None
    assert (f["explanation_zh"], f["explanation_en"]) == (plain["explanation_zh"], plain["explanation_en"])


def test_a_zone_that_does_not_count_late_delivery_keeps_the_agreed_start():
    narrowed = [override("idle_land", "exempt_reasons", ["force_majeure"], zone_id=1)]
    assert idle(D(2023, 3, 2), overrides=narrowed, **delivered("2022-01-01", None))["outcome"] == "idle_not_started"
    f = idle(D(2023, 3, 2), overrides=narrowed, **delivered("2022-01-01", "2022-01-02"))
    assert f["outcome"] == "idle_not_started" and f["evidence"]["clock"] is None


def test_delivery_dates_do_not_move_the_clock_of_started_land():
    kw = delivered("2022-01-01", "2022-07-01")
    kw |= {"parcels": [{"status": "under_construction"}],
           "progress": [{"parcel_id": 1, "reported_on": "2023-01-01", "started_on": "2022-09-01",
                         "should_develop_area_m2": 30000, "developed_area_m2": 1000, "invested_wan": 100,
                         "total_investment_wan": 12000}],
           "suspensions": [{"parcel_id": 1, "suspended_from": "2023-01-10"}]}
    assert idle(D(2024, 1, 10), **kw)["outcome"] == "not_idle"
    f = idle(D(2024, 1, 11), **kw)
    assert f["outcome"] == "idle_stalled" and f["evidence"]["period_ends_on"] == "2024-01-10"
    assert f["evidence"]["clock"] is None


# -- exemptions: a finished one pauses the clock ------------------------------------------------


def test_a_finished_six_month_exemption_pauses_the_clock_for_its_days():
    # agreed start 2022-03-01; exempt 2022-06-01 to 2022-11-30: 183 days (30 + 31 + 31 + 30 + 31 +
    # 30) not counted; 2022-03-01 + 183 days = 2022-08-31, the year ends at the end of 2023-08-31
    # (restarting would end it on 2023-11-30; ignoring it, on 2023-03-01)
    kw = not_started("2022-03-01") | {"exemptions": [exemption("plan_revision", "2022-06-01", "2022-11-30")]}
    f = idle(D(2023, 8, 31), **kw)
    assert f["outcome"] == "not_idle" and clock(f)["paused_days"] == 183
    assert f["evidence"]["period_ends_on"] == "2023-08-31" and f["evidence"]["exemption_reason"] is None
    assert "豁免期间 183 天不计入" in f["explanation_zh"] and "183 day(s) of exemption" in f["explanation_en"]
    g = idle(D(2023, 9, 1), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2023-09-01"
    # the two years run from the same moved start: recovery from 2024-09-01
    assert idle(D(2024, 8, 31), **kw)["evidence"]["recovery_candidate"] is False
    assert idle(D(2024, 9, 1), **kw)["evidence"]["recovery_from"] == "2024-09-01"


def test_an_exemption_in_force_before_the_year_is_over_pauses_it_meanwhile():
    kw = not_started("2022-03-01") | {"exemptions": [exemption("petition", "2022-06-01", None)]}
    f = idle(D(2022, 12, 1), **kw)
    assert f["outcome"] == "not_idle" and "自 2022-06-01 起因“原因”豁免" in f["explanation_zh"]
    assert "exempt since 2022-06-01 (Reason): the period does not run meanwhile" in f["explanation_en"]
    assert idle(D(2023, 3, 2), **kw)["outcome"] == "exempt"


def test_overlapping_exemptions_pause_each_day_once():
    # 2022-06-01..08-31 and 2022-08-01..11-30 together cover 2022-06-01..11-30: 183 days
    kw = not_started("2022-03-01") | {"exemptions": [exemption("plan_revision", "2022-06-01", "2022-08-31"),
                                                     exemption("petition", "2022-08-01", "2022-11-30")]}
    f = idle(D(2023, 9, 1), **kw)
    assert clock(f)["paused_days"] == 183 and f["evidence"]["idle_since"] == "2023-09-01"


def test_an_exemption_that_begins_after_the_year_is_over_does_not_reopen_it():
    # the year from 2022-03-01 ended on 2023-03-01; exempt 2023-06-01..2023-08-31 (92 days)
    kw = not_started("2022-03-01") | {"exemptions": [exemption("force_majeure", "2023-06-01", "2023-08-31")]}
    assert idle(D(2023, 7, 1), **kw)["outcome"] == "exempt"
    f = idle(D(2023, 9, 15), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["idle_since"] == "2023-03-02"
    assert f["evidence"]["clock"] is None
    # but the two years were still running: 2022-03-01 + 92 days = 2022-06-01, recovery from 2024-06-02
    assert idle(D(2024, 6, 1), **kw)["evidence"]["recovery_candidate"] is False
    assert idle(D(2024, 6, 2), **kw)["evidence"]["recovery_from"] == "2024-06-02"


def test_an_exemption_that_does_not_exempt_in_the_zone_does_not_pause_either():
    kw = not_started("2022-03-01") | {"exemptions": [exemption("petition", "2022-06-01", "2022-11-30")]}
    narrowed = [override("idle_land", "exempt_reasons", ["force_majeure"], zone_id=1)]
    f = idle(D(2023, 3, 2), overrides=narrowed, **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["clock"] is None


def test_a_finished_exemption_pauses_the_year_of_suspension_too():
    # suspended 2024-01-10; exempt 2024-03-01..2024-03-31 (31 days): 2024-01-10 + 31 = 2024-02-10
    kw = not_started("2021-01-01") | {
        "parcels": [{"status": "under_construction"}],
        "progress": [{"parcel_id": 1, "reported_on": "2021-06-01", "started_on": "2021-03-01",
                      "should_develop_area_m2": 30000, "developed_area_m2": 1000, "invested_wan": 100,
                      "total_investment_wan": 12000}],
        "suspensions": [{"parcel_id": 1, "suspended_from": "2024-01-10"}],
        "exemptions": [exemption("state_policy", "2024-03-01", "2024-03-31")]}
    f = idle(D(2025, 2, 10), **kw)
    assert f["outcome"] == "not_idle" and f["evidence"]["period_ends_on"] == "2025-02-10"
    assert "豁免期间 31 天不计入" in f["explanation_zh"]
    g = idle(D(2025, 2, 11), **kw)
    assert g["outcome"] == "idle_stalled" and g["evidence"]["idle_since"] == "2025-02-11"
    assert "豁免期间 31 天不计入，期限至 2025-02-10 届满" in g["explanation_zh"]


# -- late delivery and exemptions together ------------------------------------------------------


def test_late_delivery_and_a_later_exemption_both_move_the_clock():
    # delivered 181 days late: start moves to 2022-08-29; exempt 2022-10-01..10-31 (31 days) after
    # it: 2022-08-29 + 31 = 2022-09-29, the year ends at the end of 2023-09-29
    kw = delivered("2022-01-01", "2022-07-01") | {
        "exemptions": [exemption("plan_revision", "2022-10-01", "2022-10-31")]}
    f = idle(D(2023, 9, 29), **kw)
    assert f["outcome"] == "not_idle" and clock(f)["from"] == "2022-09-29"
    assert (clock(f)["delivery_delay_days"], clock(f)["paused_days"]) == (181, 31)
    assert "迟延 181 天" in f["explanation_zh"] and "豁免期间 31 天不计入" in f["explanation_zh"]
    g = idle(D(2023, 9, 30), **kw)
    assert g["outcome"] == "idle_not_started" and g["evidence"]["idle_since"] == "2023-09-30"
    assert "181 day(s) of late delivery" in g["explanation_en"] and "31 day(s) of exemption" in g["explanation_en"]


def test_a_recorded_exemption_for_the_same_late_delivery_is_not_counted_twice():
    # the delay (2022-01-02..07-01) lies before the moved start 2022-08-29: no day of it is paused
    kw = delivered("2022-01-01", "2022-07-01") | {
        "exemptions": [exemption("land_not_delivered", "2022-01-02", "2022-07-01")]}
    f = idle(D(2023, 8, 30), **kw)
    assert f["outcome"] == "idle_not_started" and f["evidence"]["idle_since"] == "2023-08-30"
    assert clock(f)["paused_days"] == 0 and clock(f)["delivery_delay_days"] == 181


def test_undelivered_land_with_a_recorded_exemption_names_the_recorded_one():
    kw = delivered("2022-01-01", None) | {"exemptions": [exemption("military_relic", "2022-02-01", None)]}
    f = idle(D(2023, 6, 1), **kw)
    assert f["outcome"] == "exempt" and f["evidence"]["exemption_reason"] == "military_relic"
    assert f["evidence"]["exempt_from"] == "2022-02-01" and clock(f)["delivery_overdue"] is True


# -- the clock itself ---------------------------------------------------------------------------


def test_pauses_merge_per_subject_and_touching_intervals_join():
    p = idle_clock.merged_pauses([1, 0, 1, 1], pd.to_datetime(["2022-01-01", "2022-05-01", "2022-01-11",
                                                               "2022-03-01"]),
                                 pd.to_datetime(["2022-01-10", "2022-05-31", "2022-01-20", "2022-03-05"]))
    got = [(r, str(pd.Timestamp(lo, unit="D").date()), str(pd.Timestamp(hi, unit="D").date()), k)
           for r, lo, hi, k in zip(p.row.tolist(), p.lo.tolist(), p.hi.tolist(), p.rank.tolist())]
    assert got == [(0, "2022-05-01", "2022-05-31", 0), (1, "2022-01-01", "2022-01-20", 0),
                   (1, "2022-03-01", "2022-03-05", 1)]


def test_a_pause_that_the_first_one_pushes_into_the_period_counts_too():
    # year from 2022-03-01 ends 2023-03-01; a pause of 2023-01-01..2023-02-28 (59 days) moves the end to
    # 2023-04-29; a second pause 2023-04-01..2023-04-10 now begins inside it: 10 more, end 2023-05-09
    base = pd.Series(pd.to_datetime(["2022-03-01", "2022-03-01"]))
    pauses = idle_clock.merged_pauses([0, 0, 1], pd.to_datetime(["2023-01-01", "2023-04-01", "2023-04-01"]),
                                      pd.to_datetime(["2023-02-28", "2023-04-10", "2023-04-10"]))
    end, paused = idle_clock.period_end(base, 1, pauses)
    assert end.dt.date.tolist() == [D(2023, 5, 9), D(2023, 3, 1)] and paused.tolist() == [69, 0]


def test_undelivered_land_with_a_finished_exemption_says_it_waits_for_delivery():
    kw = delivered("2022-01-01", None) | {"exemptions": [exemption("petition", "2022-06-01", "2022-11-30")]}
    f = idle(D(2024, 6, 1), **kw)  # idle counting the pause (from 2022-08-31), but not delivered
    assert f["outcome"] == "exempt" and clock(f)["from"] is None and clock(f)["paused_days"] == 183
    assert "None" not in f["explanation_zh"] + f["explanation_en"] and "尚未交地" in f["explanation_zh"]
