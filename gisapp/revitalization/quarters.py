"""Calendar quarters: the quarter a snapshot records is named by its last day.

Example:
    >>> import datetime as dt
    >>> quarter_end_on_or_before(dt.date(2026, 7, 1)), quarter_name(dt.date(2026, 6, 30))
    (datetime.date(2026, 6, 30), '2026Q2')
"""

from __future__ import annotations

import datetime as dt

_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def quarter_end(day: dt.date) -> dt.date:
    """The last day of the quarter ``day`` falls in."""
    month, last = _ENDS[(day.month - 1) // 3]
    return dt.date(day.year, month, last)


def is_quarter_end(day: dt.date) -> bool:
    return quarter_end(day) == day


def quarter_end_on_or_before(day: dt.date) -> dt.date:
    """The last quarter end on or before ``day`` (``day`` itself on 31 March, 30 June...)."""
    end = quarter_end(day)
    return end if end == day else _start(day) - dt.timedelta(days=1)


def _start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter_end(end: dt.date) -> dt.date:
    """The end of the quarter after the one ending ``end``."""
    return quarter_end(end + dt.timedelta(days=1))


def previous_quarter_ends(end: dt.date, n: int) -> list[dt.date]:
    """The ``n`` quarter ends up to and including ``end``, oldest first."""
    out = [quarter_end(end)]
    while len(out) < n:
        out.append(_start(out[-1]) - dt.timedelta(days=1))
    return out[::-1]


def quarter_name(end: dt.date) -> str:
    """``2026Q2``: the year and the quarter's number."""
    return f"{end.year}Q{(end.month - 1) // 3 + 1}"
