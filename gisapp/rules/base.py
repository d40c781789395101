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
    return resolve_in_force(spec, overrides_in_force(spec, overrides, as_of), zone_id, year)


def overrides_in_force(spec: RuleSpec, overrides: pd.DataFrame | None, as_of: dt.date) -> list[dict[str, Any]]:
    """The rows of ``overrides`` for ``spec``'s rule in force on ``as_of``, as plain records in
    the frame's order: what :func:`resolve_in_force` chooses from, once per zone and year (a
    rule resolving a few zones' parameters would otherwise filter the frame again for each
    parameter of each zone, most of a live re-assessment of a few parcels)."""
    if overrides is None or overrides.empty:
        return []
    mine = overrides[overrides["rule"] == spec.name]
    if mine.empty:
        return []
    return mine[(pd.to_datetime(mine["effective_from"]).dt.date <= as_of).to_numpy()].to_dict("records")


def resolve_in_force(spec: RuleSpec, in_force: list[dict[str, Any]], zone_id: int | None = None,
                     year: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values and provenance of ``spec``'s parameters for a zone and year, from the overrides in
    force (:func:`overrides_in_force`): the most specific wins (zone and year, then zone, then
    year, then city-wide), among equals the latest ``effective_from``, and among rows equal in
    both the last of the frame; else the rule's default."""
    values = {p.name: p.default for p in spec.params}
    provenance = param_provenance(spec, values)
    best: dict[str, tuple[tuple[int, Any], dict[str, Any]]] = {}
    for row in in_force:
        name = row["name"]
        if name not in values:
            continue
        zone_set, year_set = not _missing(row["zone_id"]), not _missing(row["year"])
        if (zone_set and row["zone_id"] != zone_id) or (year_set and row["year"] != year):
            continue
        rank = (zone_set * 2 + year_set, row["effective_from"])
        if name not in best or rank >= best[name][0]:
            best[name] = (rank, row)
    for name, (_rank, row) in best.items():
        value = row["value"]
        values[name] = json.loads(value) if isinstance(value, str) else value
        provenance[name] = {"value": values[name], "source": str(row["source"]),
                            "effective_from": pd.Timestamp(row["effective_from"]).date().isoformat(),
                            "override": True}
    return values, provenance


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def param_provenance(spec: RuleSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Parameters as stored with a finding: value, source and effective date of each."""
    return {p.name: {"value": values.get(p.name, p.default), "source": p.source,
                     "effective_from": p.effective_from.isoformat()} for p in spec.params}


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
