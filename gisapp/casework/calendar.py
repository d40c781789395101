"""Working days of the PRC: Monday to Friday, less the public holidays, plus the weekend days the
State Council makes working days (gisapp.casework.holidays holds the table and its sources).

Example:
    >>> import datetime as dt
    >>> cal = prc_calendar()
    >>> cal.is_working_day(dt.date(2026, 2, 14)), cal.is_working_day(dt.date(2026, 2, 16))
    (True, False)
    >>> cal.next_working_day(dt.date(2026, 10, 1))
    datetime.date(2026, 10, 8)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from gisapp.casework import holidays

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays and weekend working days; ``years``: the years the table covers."""

    days_off: frozenset[dt.date] = frozenset()
    weekend_workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.days_off:
            return False
        return day.weekday() < 5 or day in self.weekend_workdays

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def covered(self, year: int) -> bool:
        """Whether the year's holidays are known (else only weekends are days off)."""
        return year in self.years


@lru_cache(maxsize=1)
def prc_calendar() -> WorkCalendar:
    """The calendar of gisapp.casework.holidays."""
    years = frozenset(holidays.CALENDAR)
    return WorkCalendar(
        days_off=frozenset().union(*(holidays.days_off(y) for y in years)),
        weekend_workdays=frozenset().union(*(holidays.weekend_workdays(y) for y in years)),
        years=years,
    )
