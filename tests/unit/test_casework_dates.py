"""Periods of the disposal procedures counted as the law counts them (gisapp.casework.periods):
each expected date below is worked out by hand from the calendar, not by the code under test."""

from __future__ import annotations

import datetime as dt

import pytest

from gisapp.casework import params
from gisapp.casework.calendar import WorkCalendar, prc_calendar
from gisapp.casework.holidays import days_off, source, weekend_workdays
from gisapp.casework.periods import (
    add_months,
    add_working_days,
    deadline,
    end_of_years,
    first_day_after,
    full_years_passed,
    is_overdue,
    unit_of,
)
from gisapp.casework.schedule import due

D = dt.date


# -- 30 days from service: the day of service is not counted; a day off moves the deadline ----------


@pytest.mark.parametrize(
    ("served", "expected", "why"),
    [
        # Friday 9 Jan + 30 days = Sunday 8 Feb -> Monday 9 Feb
        (D(2026, 1, 9), D(2026, 2, 9), "service on a Friday, day 30 a Sunday"),
        # Tuesday 1 Sep + 30 = Thursday 1 Oct, National Day (1-7 Oct off) -> Thursday 8 Oct
        (D(2026, 9, 1), D(2026, 10, 8), "day 30 on National Day"),
        # 20 Jan + 30 = 19 Feb, Spring Festival (15-23 Feb off) -> Tuesday 24 Feb
        (D(2026, 1, 20), D(2026, 2, 24), "day 30 in the Spring Festival"),
        # 15 Jan + 30 = Saturday 14 Feb, a weekend day worked by the State Council's swap: stays
        (D(2026, 1, 15), D(2026, 2, 14), "day 30 a swapped working Saturday"),
        # 2 Dec 2026 + 30 = Friday 1 Jan 2027 (New Year), then the weekend -> Monday 4 Jan
        (D(2026, 12, 2), D(2027, 1, 4), "day 30 on New Year's Day, across the year"),
        # 31 Jan + 30 = 2 Mar 2026, a Monday: nothing moves
        (D(2026, 1, 31), D(2026, 3, 2), "from a month's end"),
        # 30 Jan 2028 + 30 = 29 Feb 2028, a Tuesday (2028 is a leap year)
        (D(2028, 1, 30), D(2028, 2, 29), "day 30 on the leap day"),
    ],
)
def test_thirty_days_from_service(served, expected, why):
    assert deadline(served, 30, "days") == expected, why


def test_the_holiday_rule_none_leaves_the_deadline_on_the_day_off():
    assert deadline(D(2026, 1, 9), 30, "days", holiday_rule="none") == D(2026, 2, 8)
    assert deadline(D(2026, 9, 1), 30, "days", holiday_rule="none") == D(2026, 10, 1)


def test_a_deadline_on_a_working_day_does_not_move():
    # Monday 2 Mar 2026 + 30 = Wednesday 1 Apr 2026
    assert deadline(D(2026, 3, 2), 30, "days") == D(2026, 4, 1)


# -- months and years: the corresponding day, or the month's last day -----------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2027, 1, 31), 13, D(2028, 2, 29)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2027, 8, 31), 6, D(2028, 2, 29)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
    ],
)
def test_add_months_takes_the_corresponding_day_or_the_months_end(start, months, expected):
    assert add_months(start, months) == expected


def test_six_months_to_sue_ending_on_a_sunday_move_to_monday():
    # 31 Aug 2026 + 6 months = 28 Feb 2027 (no 31 Feb), a Sunday -> Monday 1 Mar 2027
    assert deadline(D(2026, 8, 31), 6, "months") == D(2027, 3, 1)
    assert deadline(D(2026, 8, 31), 6, "months", holiday_rule="none") == D(2027, 2, 28)
    # 31 Aug 2027 + 6 months = 29 Feb 2028, a Tuesday
    assert deadline(D(2027, 8, 31), 6, "months") == D(2028, 2, 29)


def test_full_years_from_the_leap_day():
    assert end_of_years(D(2028, 2, 29), 1) == D(2029, 2, 28)
    assert end_of_years(D(2028, 2, 29), 4) == D(2032, 2, 29)
    assert not full_years_passed(D(2028, 2, 29), 1, D(2029, 2, 28))
    assert full_years_passed(D(2028, 2, 29), 1, D(2029, 3, 1))
    assert end_of_years(D(2027, 2, 28), 1) == D(2028, 2, 28)  # the 28th exists in 2028


def test_the_fee_after_one_full_year_and_the_recovery_after_two():
    clock_from = D(2024, 3, 15)  # the agreed start date
    assert not full_years_passed(clock_from, 1, D(2025, 3, 15))
    assert first_day_after(clock_from, 1) == D(2025, 3, 16)
    assert not full_years_passed(clock_from, 2, D(2026, 3, 15))
    assert first_day_after(clock_from, 2) == D(2026, 3, 16)


def test_terms_in_years_do_not_move_off_a_day_off():
    # two years of temporary use from 1 Oct 2024 end on 1 Oct 2026 (National Day): a length of time
    assert deadline(D(2024, 10, 1), 2, "years") == D(2026, 10, 1)


def test_the_one_year_extension_cap_from_the_new_agreed_start():
    cap = params.values(as_of=D(2026, 6, 30))["extension_max_years"]
    assert cap == 1
    assert deadline(D(2026, 3, 1), cap, "years") == D(2027, 3, 1)
    assert deadline(D(2028, 2, 29), cap, "years") == D(2029, 2, 28)


# -- working days -------------------------------------------------------------------------------------


def test_working_days_count_the_swapped_sunday_and_skip_the_holidays():
    # Friday 18 Sep 2026: Sat 19 off, Sun 20 worked (swap), 21, 22, 23, 24 -> the 5th is Thu 24 Sep
    assert add_working_days(D(2026, 9, 18), 5, prc_calendar()) == D(2026, 9, 24)
    # Wednesday 23 Sep: 24 (1), 25-27 Mid-Autumn, 28 (2), 29 (3), 30 (4), 1-7 Oct off, 8 Oct (5)
    assert deadline(D(2026, 9, 23), 5, "working_days") == D(2026, 10, 8)


def test_a_year_outside_the_table_counts_weekends_only():
    calendar = prc_calendar()
    assert not calendar.covered(2028)
    assert calendar.is_working_day(D(2028, 1, 3))  # a Monday
    assert not calendar.is_working_day(D(2028, 1, 1))  # a Saturday


def test_a_calendar_without_holidays_moves_only_weekends():
    bare = WorkCalendar()
    assert deadline(D(2026, 9, 1), 30, "days", calendar=bare) == D(2026, 10, 1)  # a Thursday


# -- the holiday table -----------------------------------------------------------------------------------


def test_the_2026_table_is_the_state_councils_arrangement():
    off = days_off(2026)
    assert len(off) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert {D(2026, 2, 15), D(2026, 2, 23), D(2026, 10, 7), D(2026, 5, 5)} <= off
    assert weekend_workdays(2026) == {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                      D(2026, 9, 20), D(2026, 10, 10)}
    assert all(d.weekday() >= 5 for d in weekend_workdays(2026))
    assert "2026年部分节假日安排" in source(2026)


def test_2027_holds_the_statutory_days_and_says_its_arrangement_is_not_published():
    off = days_off(2027)
    assert {D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)} <= off  # 除夕 to 初三
    assert len(off) == 1 + 4 + 1 + 2 + 1 + 1 + 3
    assert "尚未发布" in source(2027)
    assert source(2028) is None


# -- overdue and the parameters -----------------------------------------------------------------------


def test_due_on_the_day_is_in_time_and_overdue_the_day_after():
    assert not is_overdue(D(2026, 2, 9), D(2026, 2, 9))
    assert is_overdue(D(2026, 2, 9), D(2026, 2, 10))
    assert not is_overdue(None, D(2030, 1, 1))


def test_every_period_parameter_names_its_unit():
    for p in params.SPEC.params:
        if p.name != "holiday_rule":
            assert unit_of(p.name) in {"days", "working_days", "months", "years"}, p.name
            assert isinstance(p.default, int) and p.default > 0
    with pytest.raises(ValueError, match="does not name a period"):
        unit_of("fee_rate")


def test_a_due_date_keeps_how_it_was_counted():
    values, prov = params.provenance(as_of=D(2026, 1, 9))
    got = due(D(2026, 1, 9), "fee_payment_days", values, prov)
    assert got.due_on == D(2026, 2, 9)
    assert got.period["value"] == 30 and got.period["unit"] == "days"
    assert got.period["source"] == "国土资源部令第53号第十七条"
    assert got.period["holiday_rule"] == "next_working_day" and got.period["calendar_covered"] is True
    assert got.overdue(D(2026, 2, 10)) and not got.overdue(D(2026, 2, 9))


def test_a_bureau_override_changes_the_period_and_says_so():
    import pandas as pd

    # values as the JSON text the loaders read (rules.parameter_overrides.value::text)
    overrides = pd.DataFrame([{"rule": "casework", "name": "reply_days", "value": "15", "zone_id": None, "year": None,
                               "source": "test", "effective_from": D(2026, 1, 1)},
                              {"rule": "casework", "name": "holiday_rule", "value": '"none"', "zone_id": None,
                               "year": None, "source": "test", "effective_from": D(2026, 1, 1)}])
    values, prov = params.provenance(overrides, as_of=D(2026, 9, 16))
    got = due(D(2026, 9, 16), "reply_days", values, prov)
    # 16 Sep + 15 = 1 Oct, left on the holiday by the overridden rule
    assert got.due_on == D(2026, 10, 1) and got.period["override"] is True
    assert got.period["holiday_rule"] == "none"


def test_the_idle_rules_fee_rate_and_years_are_the_cases():
    values, prov = params.provenance(as_of=D(2026, 6, 30))
    assert values["fee_rate"] == 0.20 and values["idle_years"] == 1 and values["recovery_years"] == 2
    assert prov["fee_rate"]["rule"] == "idle_land"


def test_a_bad_period_is_refused():
    with pytest.raises(ValueError, match="unit"):
        deadline(D(2026, 1, 1), 3, "weeks")
    with pytest.raises(ValueError, match="holiday rule"):
        deadline(D(2026, 1, 1), 3, "days", holiday_rule="previous")
    with pytest.raises(ValueError, match="whole number"):
        deadline(D(2026, 1, 1), -1, "days")
