"""The PRC's public holidays and the weekend days worked instead (调休上班), as data, with the
source of each year. A deadline that falls on a day that is not a working day moves to the next
working day (gisapp.casework.periods, parameter ``holiday_rule``).

A year is listed once the State Council has published its arrangement; a year without one is
counted with weekends only, and :func:`gisapp.casework.calendar.covered` says so. 2027's
arrangement was not yet published when this table was written: its rows are the statutory
holidays of the *全国年节及纪念日放假办法* (2024 revision, art. 2) on 2027's dates, without the
weekend swaps the State Council will add; replace them when the notice appears.
"""

from __future__ import annotations

import datetime as dt

#: year -> (source, days off (放假), weekend days worked (上班))
CALENDAR: dict[int, tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    2026: (
        "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
        (
            ("2026-01-01", "2026-01-03"),  # 元旦
            ("2026-02-15", "2026-02-23"),  # 春节
            ("2026-04-04", "2026-04-06"),  # 清明节
            ("2026-05-01", "2026-05-05"),  # 劳动节
            ("2026-06-19", "2026-06-21"),  # 端午节
            ("2026-09-25", "2026-09-27"),  # 中秋节
            ("2026-10-01", "2026-10-07"),  # 国庆节
        ),
        ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"),
    ),
    2027: (
        "全国年节及纪念日放假办法（2024年修订）第二条，按2027年公历日期；国务院2027年放假调休安排尚未发布",
        (
            ("2027-01-01", "2027-01-01"),  # 元旦
            ("2027-02-05", "2027-02-08"),  # 春节：除夕、正月初一至初三
            ("2027-04-05", "2027-04-05"),  # 清明节
            ("2027-05-01", "2027-05-02"),  # 劳动节
            ("2027-06-09", "2027-06-09"),  # 端午节
            ("2027-09-15", "2027-09-15"),  # 中秋节
            ("2027-10-01", "2027-10-03"),  # 国庆节
        ),
        (),
    ),
}


def days_off(year: int) -> frozenset[dt.date]:
    """The public holidays (days off) of ``year`` in the table (empty when the year is not listed)."""
    _source, spans, _worked = CALENDAR.get(year, ("", (), ()))
    out: set[dt.date] = set()
    for first, last in spans:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            out.add(day)
            day += dt.timedelta(days=1)
    return frozenset(out)


def weekend_workdays(year: int) -> frozenset[dt.date]:
    """The Saturdays and Sundays of ``year`` that are working days by the State Council's swaps."""
    return frozenset(dt.date.fromisoformat(d) for d in CALENDAR.get(year, ("", (), ()))[2])


def source(year: int) -> str | None:
    """Where the year's rows come from (None: the year is not in the table)."""
    entry = CALENDAR.get(year)
    return entry[0] if entry else None
