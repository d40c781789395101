"""Periods counted as PRC law counts them: pure functions of dates, numbers and a calendar.

- A period starts the day after the event that starts it: the day a notice or decision is served
  or received is not counted (民法典 art. 201; 民事诉讼法 art. 85 para. 2, which the
  行政诉讼法 art. 101 applies to administrative procedure). A period of N days served on day S
  ends at the end of day S + N.
- A period of months or years ends on the corresponding day of the last month, or on that
  month's last day when it has no corresponding day (民法典 art. 202): one year from 2028-02-29
  ends on 2029-02-28. "满一年" / "满两年" (Order No. 53 art. 14) have passed on the day after.
- A period of working days counts the working days after the event (weekends and public holidays
  out, the State Council's weekend working days in).
- A deadline to act (days, months) that falls on a day that is not a working day moves to the
  next working day when the parameter ``holiday_rule`` is ``next_working_day`` (民事诉讼法
  art. 85 para. 3: "期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期";
  民法典 art. 203), and stays where it falls with ``none``. Weekends count as 法定休假日 here
  (the courts' practice); a weekend day the State Council made a working day does not.
  Terms in years (the 2-year temporary use, the 1-year extension cap, the full years of the
  idle fee and the recovery) are lengths of time, not deadlines to act, and never move.

Example:
    >>> import datetime as dt
    >>> deadline(dt.date(2026, 1, 9), 30, "days")   # served on a Friday; day 30 is a Sunday
    datetime.date(2026, 2, 9)
    >>> end_of_years(dt.date(2028, 2, 29), 1)
    datetime.date(2029, 2, 28)
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt

from gisapp.casework.calendar import ONE_DAY, WorkCalendar, prc_calendar

UNITS = ("days", "working_days", "months", "years")
HOLIDAY_RULES = ("next_working_day", "none")
#: units whose period is a deadline to act (moved off a day off); the others are terms
DEADLINE_UNITS = ("days", "months")


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later, or that month's last day when it has none."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def end_of_years(start: dt.date, years: int) -> dt.date:
    """The last day of a period of ``years`` full years from ``start`` (not counted)."""
    return add_months(start, 12 * years)


def full_years_passed(start: dt.date, years: int, on: dt.date) -> bool:
    """Whether ``years`` full years from ``start`` have passed as of ``on`` ("满N年")."""
    return on > end_of_years(start, years)


def first_day_after(start: dt.date, years: int) -> dt.date:
    """The first day on which ``years`` full years from ``start`` have passed."""
    return end_of_years(start, years) + ONE_DAY


def add_working_days(start: dt.date, n: int, calendar: WorkCalendar) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        if calendar.is_working_day(day):
            counted += 1
    return day


def deadline(start: dt.date, n: int, unit: str, *, holiday_rule: str = "next_working_day",
             calendar: WorkCalendar | None = None) -> dt.date:
    """The last day of a period of ``n`` ``unit`` that begins the day after ``start``.

    Args:
        start: the day of the event that starts the period (service, receipt, a decision).
        n: the length (a whole number, 0 or more).
        unit: ``days``, ``working_days``, ``months`` or ``years``.
        holiday_rule: ``next_working_day`` moves a deadline in days or months off a day off;
            ``none`` leaves it.
        calendar: the working days (default: the PRC's, gisapp.casework.holidays).
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; units: {', '.join(UNITS)}")
    if holiday_rule not in HOLIDAY_RULES:
        raise ValueError(f"unknown holiday rule {holiday_rule!r}; rules: {', '.join(HOLIDAY_RULES)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a period is a whole number of {unit}, not {n!r}")
    calendar = calendar or prc_calendar()
    if unit == "working_days":
        return add_working_days(start, n, calendar)
    if unit == "days":
        last = start + dt.timedelta(days=n)
    else:
        last = add_months(start, n * (12 if unit == "years" else 1))
    if unit in DEADLINE_UNITS and holiday_rule == "next_working_day":
        last = calendar.next_working_day(last)
    return last


def unit_of(param_name: str) -> str:
    """The unit a period parameter is counted in, from its name (``reply_days`` -> ``days``)."""
    for unit in ("working_days", "days", "months", "years"):
        if param_name.endswith(f"_{unit}"):
            return unit
    raise ValueError(f"{param_name!r} does not name a period (its name ends in _days, _working_days, "
                     "_months or _years)")


def is_overdue(due_on: dt.date | None, as_of: dt.date) -> bool:
    """Overdue: the deadline's last day has ended (due on the day itself is still in time)."""
    return due_on is not None and as_of > due_on


def days_between(first: dt.date, last: dt.date) -> int:
    """Calendar days from ``first`` to ``last`` (negative when ``last`` comes first)."""
    return (last - first).days
