"""Helpers the zone-level rule families share: parameters per zone and year with the provenance
of the value actually used, the latest record on or before a date, number formatting for the
one-sentence explanations, and findings frames whose ``parameters`` differ per row.

Example:
    >>> from gisapp.rules.base import Param
    >>> spec = RuleSpec("r", "1", "规则", "Rule", (Param("t", 0.15, "demo default", dt.date(2021, 1, 15)),))
    >>> values, prov = zone_params(spec, None, as_of=dt.date(2026, 6, 30), keys=[(1, 2026)])[(1, 2026)]
    >>> values["t"], prov["t"]["source"]
    (0.15, 'demo default')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from gisapp.rules.base import (
    FINDING_COLUMNS,
    RuleSpec,
    make_findings,
    resolve_params_with_provenance,
)
from gisapp.rules.columnar import same_column_types
from gisapp.rules.common import iso_dates, round_list


def zone_params(spec: RuleSpec, overrides: pd.DataFrame | None, *, as_of: dt.date,
                keys: Iterable[tuple[int | None, int | None]], aliases: Iterable[str] = ()
                ) -> dict[tuple[int | None, int | None], tuple[dict[str, Any], dict[str, Any]]]:
    """Values and provenance of ``spec``'s parameters for each (zone_id, year) in ``keys``.

    Resolution is :func:`gisapp.rules.base.resolve_params_with_provenance` (one place for that
    logic), done once per distinct key. ``aliases`` are other rule names whose overrides count
    as this rule's (two rules sharing one policy number, e.g. the green target of a parcel and
    of its zone).
    """
    if overrides is not None and not overrides.empty and aliases:
        overrides = overrides.copy()
        overrides.loc[overrides["rule"].isin(list(aliases)), "rule"] = spec.name
    return {key: resolve_params_with_provenance(spec, overrides, as_of=as_of, zone_id=key[0], year=key[1])
            for key in dict.fromkeys(keys)}


def findings_frame(spec: RuleSpec, as_of: dt.date, parameters: list[dict] | pd.Series, **columns: Any) -> pd.DataFrame:
    """:func:`make_findings` with a ``parameters`` dict per row (values differ by zone and year).

    Text columns are kept as Python objects: inferring pandas' string dtype for a million
    explanations costs seconds and buys nothing here.
    """
    columns = {k: pd.Series(v, dtype=object) if isinstance(v, list) or (isinstance(v, np.ndarray) and v.dtype.kind in "OUS")
               else v for k, v in columns.items()}
    frame = make_findings(spec, as_of, {p.name: p.default for p in spec.params}, **columns)
    frame["parameters"] = list(parameters)
    return frame[FINDING_COLUMNS]


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
