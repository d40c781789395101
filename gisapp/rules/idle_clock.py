"""The idle-land clock: the last day of a period of full years once the time the government kept
the land from being developed is taken out (MLR Order No. 53 arts. 2 and 8; docs/policy.md §5.1).

Two kinds of government-caused time move the clock, and neither needs a person to record it:

- **Late delivery** (art. 8(1), 未按约定交付土地): land delivered after the delivery due date of its
  grant has its agreed start date moved by the days of the delay (:func:`delivery`); land whose
  due date has passed without delivery has no clock running at all until it is delivered.
- **Exemptions** (art. 8, ``land.idle_exemptions``): the clock does not run on the days of an
  exemption that fall after the clock's starting day and begin on or before the period's last
  day (:func:`period_end`); a finished exemption so *pauses* the clock, it does not restart it.

Periods are counted as :func:`gisapp.rules.common.anniversary` counts them (Civil Code arts.
201-203), from the starting day moved by the paused days.

Example:
    >>> import pandas as pd
    >>> start = pd.Series(pd.to_datetime(["2022-03-01"]))
    >>> pauses = merged_pauses([0], pd.to_datetime(["2022-06-01"]), pd.to_datetime(["2022-07-01"]))
    >>> end, paused = period_end(start, 1, pauses)
    >>> end.dt.date.tolist(), paused.tolist()
    ([datetime.date(2023, 4, 1)], [31])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gisapp.rules.common import anniversary


def _days(values) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of dates; NaT as the smallest int64."""
    return np.asarray(pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values),
                      dtype="datetime64[D]").astype("int64")


@dataclass(frozen=True)
class Pauses:
    """Paused days of the subjects: per interval the subject's position, the first and last day
    (day numbers, both included) and its order among the subject's intervals (0 first).
    Intervals of a subject never overlap or touch (see :func:`merged_pauses`)."""

    row: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    rank: np.ndarray

    @classmethod
    def none(cls) -> Pauses:
        empty = np.array([], dtype="int64")
        return cls(empty, empty, empty, empty)


def merged_pauses(rows, first_days, last_days) -> Pauses:
    """The union of each subject's intervals [first, last] (days both included), in order.

    Overlapping or touching intervals merge, so that a day two exemptions cover pauses the clock
    once.
    """
    row = np.asarray(rows, dtype="int64")
    if row.size == 0:
        return Pauses.none()
    frame = pd.DataFrame({"row": row, "lo": _days(first_days), "hi": _days(last_days)})
    frame = frame.sort_values(["row", "lo", "hi"], kind="stable").reset_index(drop=True)
    reach = frame.groupby("row")["hi"].cummax()
    prev_reach = reach.groupby(frame["row"]).shift(1)
    starts = prev_reach.isna() | (frame["lo"] > prev_reach + 1)
    group = starts.cumsum()
    merged = frame.groupby(group).agg(row=("row", "first"), lo=("lo", "min"), hi=("hi", "max"))
    rank = merged.groupby("row").cumcount()
    return Pauses(merged["row"].to_numpy(dtype="int64"), merged["lo"].to_numpy(dtype="int64"),
                  merged["hi"].to_numpy(dtype="int64"), rank.to_numpy(dtype="int64"))


def delivery(due_on: pd.Series, delivered_on: pd.Series, day: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Days each grant's land was delivered late (0 when on time or not known) and whether its
    delivery is overdue on ``day`` (due date passed, not delivered by ``day``).

    Land due on 2022-01-01 and delivered on 2022-01-02 is 1 day late; land due on 2022-01-01 and
    not delivered is overdue from 2022-01-02 (the due day itself is still in time). A delivery
    date after ``day`` is not known on ``day``: the land counts as not delivered.
    """
    due = due_on.to_numpy(dtype="datetime64[ns]")
    got = delivered_on.to_numpy(dtype="datetime64[ns]")
    today = np.datetime64(day, "ns")
    due_known = ~np.isnat(due)
    delivered = ~np.isnat(got) & (got <= today)
    late = due_known & delivered & (got > due)
    late_days = np.where(late, (got - due).astype("timedelta64[D]").astype("int64"), 0)
    overdue = due_known & (due < today) & ~delivered
    return late_days, overdue


def period_end(base: pd.Series, years, pauses: Pauses) -> tuple[pd.Series, np.ndarray]:
    """The last day of a period of ``years`` full years from ``base``, paused on ``pauses``' days,
    and the number of paused days.

    A paused interval counts with its days after ``base`` (the starting day is not in the period)
    when it begins on or before the period's last day as it stands then: the clock stops, and
    runs on after the interval; the period then ends ``years`` after ``base`` moved by the paused
    days. An interval that begins after the period ended does not reopen it. Intervals are taken
    in order, one rank per step for all subjects at once.
    """
    n = len(base)
    yrs = np.broadcast_to(np.asarray(years, dtype="int64"), (n,))
    end = anniversary(base, yrs)
    paused = np.zeros(n, dtype="int64")
    if pauses.row.size == 0 or n == 0:
        return end, paused
    start = _days(base)
    valid = ~np.isnat(base.to_numpy(dtype="datetime64[ns]"))
    last = _days(end)
    base_ns = base.to_numpy(dtype="datetime64[ns]")
    for k in range(int(pauses.rank.max()) + 1):
        sel = pauses.rank == k
        r, lo, hi = pauses.row[sel], pauses.lo[sel], pauses.hi[sel]
        first = np.maximum(lo, start[r] + 1)
        add = np.where(valid[r] & (lo <= last[r]) & (hi >= first), hi - first + 1, 0)
        hit = add > 0
        if not hit.any():
            continue
        r = r[hit]
        paused[r] += add[hit]
        moved = pd.Series(base_ns[r] + paused[r].astype("timedelta64[D]"))
        last[r] = _days(anniversary(moved, yrs[r]))
    out = pd.Series(last.astype("datetime64[D]").astype("datetime64[ns]"), index=base.index)
    return out, paused
