"""A step's due date: its period (a parameter, counted as gisapp.casework.periods counts) from
the day its period starts, with the provenance stored next to the date; and whether it is overdue
on a day. Pure: the parameters come in resolved (gisapp.casework.params.provenance).

Example:
    >>> import datetime as dt
    >>> from gisapp.casework import params
    >>> values, prov = params.provenance(as_of=dt.date(2026, 3, 2))
    >>> due(dt.date(2026, 3, 2), "reply_days", values, prov).due_on
    datetime.date(2026, 4, 1)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gisapp.casework.calendar import WorkCalendar, prc_calendar
from gisapp.casework.periods import DEADLINE_UNITS, deadline, is_overdue, unit_of


@dataclass(frozen=True)
class Due:
    """A deadline and how it was counted (``period``: what case_steps.period stores)."""

    due_on: dt.date
    period: dict[str, Any]

    def overdue(self, as_of: dt.date) -> bool:
        return is_overdue(self.due_on, as_of)


def due(starts_after: dt.date, param: str, values: dict[str, Any], provenance: dict[str, Any],
        calendar: WorkCalendar | None = None) -> Due:
    """The deadline of the period named ``param`` that begins the day after ``starts_after``."""
    calendar = calendar or prc_calendar()
    unit = unit_of(param)
    n = int(values[param])
    rule = values["holiday_rule"]
    due_on = deadline(starts_after, n, unit, holiday_rule=rule, calendar=calendar)
    given = provenance[param]
    period = {
        "param": param, "value": n, "unit": unit, "source": given["source"],
        "effective_from": given["effective_from"], "starts_after": starts_after.isoformat(),
        "holiday_rule": rule if unit in DEADLINE_UNITS else "term",
        "holiday_rule_source": provenance["holiday_rule"]["source"],
        # a deadline in a year the holiday table does not cover is counted with weekends only
        "calendar_covered": calendar.covered(due_on.year),
    }
    if given.get("override"):
        period["override"] = True
    return Due(due_on, period)
