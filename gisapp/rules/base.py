"""What every rule shares: parameters with provenance, the findings frame, override lookup.

Example:
    >>> spec = RuleSpec("demo_rule", "1.0", "示例", "Example", (
    ...     Param("threshold", 0.25, "MLR Order No. 53 art. 2", dt.date(2012, 7, 1), "share of investment"),))
    >>> resolve_params(spec, as_of=dt.date(2024, 1, 1))["threshold"]
    0.25
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Columns of a findings frame, in the order of ``rules.findings``.
FINDING_COLUMNS = [
    "rule", "rule_version", "as_of", "zone_id", "parcel_id", "subject_type", "subject_id", "outcome",
    "is_positive", "parameters", "evidence", "explanation_zh", "explanation_en",
]
#: Outcome of every rule when an input it needs is missing: never a crash, never a silent pass.
CANNOT_EVALUATE = "cannot_evaluate"


@dataclass(frozen=True)
class Param:
    """A rule parameter: its default, where the number comes from, and since when it applies."""

    name: str
    default: Any
    source: str
    effective_from: dt.date
    description: str = ""


@dataclass(frozen=True)
class RuleSpec:
    """A rule's identity and parameters."""

    name: str
    version: str
    title_zh: str
    title_en: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"rule {self.name} has no parameter {name!r}")


def resolve_params(spec: RuleSpec, overrides: pd.DataFrame | None = None, *, as_of: dt.date,
                   zone_id: int | None = None, year: int | None = None) -> dict[str, Any]:
    """The parameter values in force on ``as_of`` for a zone and year.

    ``overrides`` has the columns of ``rules.parameter_overrides`` (rule, name, value, zone_id,
    year, source, effective_from). The most specific override wins (zone and year, then zone,
    then year, then city-wide), and among equals the latest ``effective_from`` not after
    ``as_of``; otherwise the rule's default applies.
    """
    return resolve_params_with_provenance(spec, overrides, as_of=as_of, zone_id=zone_id, year=year)[0]


def resolve_params_with_provenance(spec: RuleSpec, overrides: pd.DataFrame | None = None, *, as_of: dt.date,
                                   zone_id: int | None = None, year: int | None = None
                                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Like :func:`resolve_params`, with the provenance stored with a finding: for each
    parameter its value, source and effective date, taken from the override when one applies."""
    values = {p.name: p.default for p in spec.params}
    provenance = param_provenance(spec, values)
    if overrides is None or overrides.empty:
        return values, provenance
    mine = overrides[(overrides["rule"] == spec.name) & (pd.to_datetime(overrides["effective_from"]).dt.date <= as_of)]
    for name in list(values):
        cand = mine[mine["name"] == name]
        if cand.empty:
            continue
        zone_match = cand["zone_id"].isna() | (cand["zone_id"] == zone_id)
        year_match = cand["year"].isna() | (cand["year"] == year)
        cand = cand[zone_match & year_match].copy()
        if cand.empty:
            continue
        cand["specificity"] = cand["zone_id"].notna().astype(int) * 2 + cand["year"].notna().astype(int)
        best = cand.sort_values(["specificity", "effective_from"]).iloc[-1]
        value = best["value"]
        values[name] = json.loads(value) if isinstance(value, str) else value
        provenance[name] = {"value": values[name], "source": str(best["source"]),
                            "effective_from": pd.Timestamp(best["effective_from"]).date().isoformat(),
                            "override": True}
    return values, provenance


def param_provenance(spec: RuleSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Parameters as stored with a finding: value, source and effective date of each."""
    return {p.name: {"value": values.get(p.name, p.default), "source": p.source,
                     "effective_from": p.effective_from.isoformat()} for p in spec.params}


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
