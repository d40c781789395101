"""Helpers the rule modules share: calendar periods, parameters per zone and year with the
provenance of the value used (``ZoneParams`` for per-row columns, ``zone_params`` per key), the
latest record on or before a date, number formatting for the one-sentence explanations, and
findings frames whose ``parameters`` differ per row.

Example:
    >>> import pandas as pd
    >>> anniversary(pd.Series(pd.to_datetime(["2020-02-29", "2022-03-01"])), 1).dt.date.tolist()
    [datetime.date(2021, 2, 28), datetime.date(2023, 3, 1)]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from gisapp.gc_pause import gc_paused  # noqa: F401 - the rules import it from here
from gisapp.rules.base import FINDING_COLUMNS, RuleSpec, overrides_in_force, resolve_in_force
from gisapp.rules.columnar import same_column_types
from gisapp.units import MU_PER_M2  # noqa: F401 - the rules import it from here


def anniversary(dates: pd.Series, years: int | np.ndarray) -> pd.Series:
    """The last day of a period of ``years`` full years that starts on ``dates``.

    Civil Code of the PRC arts. 201-203: the starting day is not counted, a period in years ends
    on the corresponding day of the final year, at 24:00; where that year has no corresponding
    day (29 February in a common year) the period ends on the last day of that month (28 Feb).
    So a period from 2022-03-01 ends at the end of 2023-03-01, and from 2020-02-29 at the end of
    2021-02-28. NaT stays NaT.
    """
    d = pd.to_datetime(dates)
    valid = d.notna().to_numpy()
    out = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[ns]")
    if valid.any():
        dv = d[valid]
        y = dv.dt.year.to_numpy() + (np.asarray(years)[valid] if np.ndim(years) else years)
        m = dv.dt.month.to_numpy()
        day = dv.dt.day.to_numpy()
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        # only 29 February can lack its corresponding day in another year
        day = np.where((m == 2) & (day == 29) & ~leap, 28, day)
        out[valid] = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": day})).to_numpy()
    return pd.Series(out, index=dates.index)


def as_day(value: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    """A date as a midnight Timestamp (the type the input frames hold)."""
    return pd.Timestamp(value).normalize()


def iso_dates(values: pd.Series | np.ndarray | Any) -> list[str | None]:
    """``YYYY-MM-DD`` strings (None for NaT), vectorised.

    A million dates hold a few thousand distinct days: each distinct day is formatted once.
    """
    arr = np.asarray(pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values),
                     dtype="datetime64[D]")
    if arr.size == 0:
        return []
    # a hash of the day numbers, not a sort: several times faster for a million dates
    codes, days = pd.factorize(arr.view("int64"))
    days = days.view("datetime64[D]")
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = None
    return text[codes].tolist()


def format_each(values: Any, fmt: Callable[[float], str], missing: str = "—") -> list[str]:
    """``fmt(v)`` of each float of ``values`` (``missing`` for NaN), each distinct value formatted once.

    Values are told apart by their bits, so -0.0 and 0.0 keep their own text; the value handed to
    ``fmt`` is the very float of the row, so the text is what a per-row call would give.
    """
    arr = np.ascontiguousarray(values, dtype="float64")
    if arr.size == 0:
        return []
    bits, codes = np.unique(arr.view("int64"), return_inverse=True)
    text = np.array([missing if v != v else fmt(v) for v in bits.view("float64").tolist()],  # noqa: PLR0124
                    dtype=object)
    return text[codes.ravel()].tolist()


def ints_or_none(values: pd.Series) -> list[int | None]:
    """Python ints of a numeric column (None where missing), without a per-row ``pd.isna``."""
    missing = values.isna().to_numpy()
    out = np.empty(len(values), dtype=object)
    out[:] = values.fillna(0).to_numpy(dtype="int64").tolist()
    out[missing] = None
    return out.tolist()


def none_if_nan(values: Iterable[Any]) -> list[Any]:
    """Python values with NaN / NA replaced by None (JSON null)."""
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v for v in values
    ]


def round_list(values: pd.Series | np.ndarray, digits: int) -> list[float | None]:
    """Rounded floats as a list, NaN as None."""
    arr = np.round(np.asarray(values, dtype="float64"), digits)
    out = arr.astype(object)
    out[np.isnan(arr)] = None
    return out.tolist()


class ZoneParams:
    """A rule's parameters resolved for each zone (and optionally year) of the subjects.

    Overrides are resolved once per distinct (zone, year), not per row; ``column(name)`` gives
    a per-row array of a parameter and ``provenance()`` the per-row provenance dicts (shared
    objects, so that storing them costs one serialization per zone).
    """

    def __init__(
        self,
        spec: RuleSpec,
        overrides: pd.DataFrame | None,
        as_of: dt.date,
        zone_ids: pd.Series | np.ndarray,
        years: pd.Series | np.ndarray | int | None = None,
    ):
        self.spec = spec
        zones = np.asarray(zone_ids, dtype="int64")
        if years is None or np.ndim(years) == 0:
            yrs = np.full(zones.size, -1 if years is None else int(years), dtype="int64")
        else:
            yrs = np.asarray(years, dtype="int64")
        # one int key per (zone, year): a 1-D unique is much faster than a row-wise one
        keys = zones * 100_000 + (yrs + 1)
        uniq, codes = np.unique(keys, return_inverse=True)
        self._codes = np.asarray(codes).ravel()
        self._values: list[dict[str, Any]] = []
        self._prov: list[dict[str, Any]] = []
        in_force = overrides_in_force(spec, overrides, as_of)
        for key in uniq.tolist():
            zone_id, year = divmod(key, 100_000)
            year -= 1
            values, prov = resolve_in_force(spec, in_force, zone_id, None if year == -1 else year)
            self._values.append(values)
            self._prov.append(prov)
        self.n = zones.size

    @property
    def uniform(self) -> bool:
        """True when every subject has the same parameter values."""
        return all(v == self._values[0] for v in self._values[1:])

    def first(self) -> dict[str, Any]:
        """The values of the first group (all of them when ``uniform``)."""
        return self._values[0] if self._values else {p.name: p.default for p in self.spec.params}

    def column(self, name: str, dtype: str | None = "float64") -> np.ndarray:
        """Per-row values of parameter ``name``."""
        if dtype is None:  # lists and dicts stay whole (np.array would make them dimensions)
            per_group = np.empty(max(len(self._values), 1), dtype=object)
            for k, v in enumerate(self._values):
                per_group[k] = v[name]
        else:
            per_group = np.array([v[name] for v in self._values] or [0], dtype=dtype)
        return per_group[self._codes] if self.n else np.array([], dtype=dtype or object)

    def derived(self, func, dtype: str | None = "float64") -> np.ndarray:
        """Per-row values of ``func(parameter values)``, computed once per zone (and year)."""
        if dtype is None:
            per_group = np.empty(max(len(self._values), 1), dtype=object)
            for k, v in enumerate(self._values):
                per_group[k] = func(v)
        else:
            per_group = np.array([func(v) for v in self._values] or [0], dtype=dtype)
        return per_group[self._codes] if self.n else np.array([], dtype=dtype or object)

    def values_per_row(self) -> list[dict[str, Any]]:
        return [self._values[c] for c in self._codes.tolist()]

    def provenance(self) -> list[dict[str, Any]]:
        """Per-row provenance dicts (``parameters`` column of the findings)."""
        return [self._prov[c] for c in self._codes.tolist()]


def fmt_share(value: float) -> str:
    """A share threshold as people write it: 1/3 stays 1/3, others in percent."""
    if abs(value - 1 / 3) < 1e-9:
        return "1/3"
    if abs(value - 2 / 3) < 1e-9:
        return "2/3"
    return f"{value * 100:g}%"


def findings(spec: RuleSpec, as_of: dt.date, parameters: ZoneParams | list[dict] | pd.Series,
             **columns: Any) -> pd.DataFrame:
    """The findings frame of ``spec`` from its columns, with the parameters each row was judged
    by: a :class:`ZoneParams` (its per-row provenance) or one provenance dict per row (values that
    differ by zone and year, :func:`zone_params`). The one way every rule builds its findings.

    Text columns are kept as plain Python objects: pandas would otherwise convert each million
    strings to Arrow (about a second per column) only for the writer to convert them back; text
    built in Arrow (gisapp.rules.columnar) stays so.
    """
    cols = {name: pd.Series(values, dtype=object)
            if isinstance(values, list) or (isinstance(values, np.ndarray) and values.dtype.kind in "OUS")
            else values for name, values in columns.items()}
    frame = pd.DataFrame(cols)
    frame["rule"] = spec.name
    frame["rule_version"] = spec.version
    frame["as_of"] = as_of
    provenance = parameters.provenance() if isinstance(parameters, ZoneParams) else list(parameters)
    frame["parameters"] = pd.Series(provenance, dtype=object, index=frame.index)
    for col in FINDING_COLUMNS:
        if col not in frame:
            frame[col] = None
    return frame[FINDING_COLUMNS]


# -- zone-level families (quotas, performance, coverage, boundary QA, green balance) -------------


def zone_params(spec: RuleSpec, overrides: pd.DataFrame | None, *, as_of: dt.date,
                keys: Iterable[tuple[int | None, int | None]], aliases: Iterable[str] = ()
                ) -> dict[tuple[int | None, int | None], tuple[dict[str, Any], dict[str, Any]]]:
    """Values and provenance of ``spec``'s parameters for each (zone_id, year) in ``keys``.

    Resolution is :func:`gisapp.rules.base.resolve_params_with_provenance` (one place for that
    logic), done once per distinct key. ``aliases`` are other rule names whose overrides count
    as this rule's (two rules sharing one policy number, e.g. the green target of a parcel and
    of its zone).

    Example:
        >>> from gisapp.rules.base import Param
        >>> spec = RuleSpec("r", "1", "规则", "Rule", (Param("t", 0.15, "demo default", dt.date(2021, 1, 15)),))
        >>> values, prov = zone_params(spec, None, as_of=dt.date(2026, 6, 30), keys=[(1, 2026)])[(1, 2026)]
        >>> values["t"], prov["t"]["source"]
        (0.15, 'demo default')
    """
    if overrides is not None and not overrides.empty and aliases:
        overrides = overrides.copy()
        overrides.loc[overrides["rule"].isin(list(aliases)), "rule"] = spec.name
    in_force = overrides_in_force(spec, overrides, as_of)
    return {key: resolve_in_force(spec, in_force, zone_id=key[0], year=key[1]) for key in dict.fromkeys(keys)}


def concat_findings(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Findings frames stacked (an empty frame with the right columns when there are none); text
    and evidence built in Arrow stay so (:func:`gisapp.rules.columnar.same_column_types`)."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
    return pd.concat(same_column_types(frames), ignore_index=True)[FINDING_COLUMNS]


def latest_on_or_before(frame: pd.DataFrame, key: str, date_col: str, as_of: dt.date) -> pd.DataFrame:
    """The last row per ``key`` whose ``date_col`` is on or before ``as_of`` (others dropped)."""
    if frame.empty:
        return frame
    dates = pd.to_datetime(frame[date_col])
    kept = frame[dates <= pd.Timestamp(as_of)]
    order = np.lexsort((pd.to_datetime(kept[date_col]).to_numpy(), kept[key].to_numpy()))
    kept = kept.iloc[order]
    return kept.drop_duplicates(key, keep="last")


def to_date(value: Any) -> dt.date | None:
    """A date from a date, datetime, Timestamp or string; None for missing values."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def iso(value: Any) -> str | None:
    d = to_date(value)
    return d.isoformat() if d else None


def num(x: float | None, digits: int = 1) -> str:
    """A number for an explanation: thousands separated, fixed digits; '—' when missing."""
    if x is None:
        return "—"
    x = float(x)
    return "—" if math.isnan(x) else f"{x:,.{digits}f}"


def pct(x: float | None, digits: int = 1) -> str:
    """A ratio as a percentage, trailing zeros dropped ('15%' for 0.15, '12.3%' for 0.1234)."""
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "—"
    text = f"{x * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def fnum(x: Any) -> float | None:
    """A float for evidence (None for missing), rounded to 3 decimals so JSON stays readable."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else round(x, 3)


def nums(values: Any, digits: int = 1) -> list[str]:
    """Numbers of an array as fixed-digit text without thousands separators ('—' for NaN): the
    per-parcel figures of a million findings, where grouping would double the formatting time."""
    spec = f".{digits}f"
    return ["—" if v != v else f"{v:{spec}}" for v in np.asarray(values, dtype=float).tolist()]  # noqa: PLR0124


def pcts(values: Any, digits: int = 1) -> list[str]:
    """Ratios as fixed-digit percentages ('12.3%'), fast; '—' for NaN."""
    spec = f".{digits}f"
    return ["—" if v != v else f"{v * 100:{spec}}%" for v in np.asarray(values, dtype=float).tolist()]  # noqa: PLR0124


def floats(values: Any, digits: int = 3) -> list[float | None]:
    """Rounded Python floats for evidence, NaN as None: :func:`gisapp.rules.common.round_list`."""
    return round_list(values, digits)


def iso_list(values: Any) -> list[str | None]:
    """``YYYY-MM-DD`` strings of a date array (None for NaT): :func:`gisapp.rules.common.iso_dates`."""
    return iso_dates(values)
