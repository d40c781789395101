"""The bureau's parameter values (``rules.parameter_overrides``): checked against the rule that
uses them, listed with what is in force, set with a source and a date, and their history.

A rule declares its parameters once (``RuleSpec.params``, each with a default, its source and
since when it applies). An override names a rule and a parameter and gives a value of the same
kind as the default, optionally for one zone and/or one year, from a date. An override naming
no parameter of any rule would be silently ignored by every assessment, so it is refused when set
and reported when found (``unknown_overrides``).

Example:
    >>> check_value("idle_land", "idle_years", "2")                     # doctest: +SKIP
    2
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.errors import InputError
from gisapp.rules.base import Param, RuleSpec, resolve_params_with_provenance
from gisapp.rules.registry import all_specs

#: years a value may be set for (the column is a smallint; anything outside is a slip)
MIN_YEAR, MAX_YEAR = 1949, 2200


def _specs() -> dict[str, RuleSpec]:
    return {spec.name: spec for spec in all_specs()}


def find_param(rule: str, name: str) -> Param:
    """The declared parameter, or an InputError naming what the rule does have."""
    specs = _specs()
    if rule not in specs:
        raise InputError(f"there is no rule {rule!r}; rules: {', '.join(sorted(specs))}")
    spec = specs[rule]
    try:
        return spec.param(name)
    except KeyError:
        raise InputError(f"rule {rule} has no parameter {name!r}; its parameters: "
                         f"{', '.join(p.name for p in spec.params) or 'none'}") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list):
        return isinstance(value, list) and all(_same_kind(v, default[0]) for v in value) if default else \
            isinstance(value, list)
    if isinstance(default, dict):
        return isinstance(value, dict) and set(value) <= set(default) and all(
            _same_kind(v, default[k]) for k, v in value.items())
    return isinstance(value, type(default))


def check_value(rule: str, name: str, value: Any) -> Any:
    """``value`` (JSON text, or already parsed) as the parameter takes it; InputError when it is
    not of the kind of the rule's default (a whole number where the default is one, ...)."""
    param = find_param(rule, name)
    if isinstance(value, str) and not isinstance(param.default, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError(f"{rule}.{name}: {value[:60]!r} is not a value (write it as JSON, e.g. 2, 0.25, "
                             "true, \"text\", [1, 2])") from None
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{rule}.{name}: the value must be a finite number")
    if not _same_kind(value, param.default):
        raise InputError(f"{rule}.{name} takes {_kind(param.default)} (default {json.dumps(param.default)}), "
                         f"not {json.dumps(value)[:60]}")
    if isinstance(param.default, float) and isinstance(value, int):
        value = float(value)
    return value


@dataclass(frozen=True)
class ParamLine:
    """One parameter as `gisapp params list` shows it."""

    rule: str
    name: str
    value: Any
    source: str
    effective_from: str
    overridden: bool
    description: str


def overrides_frame(engine: Engine) -> pd.DataFrame:
    """The stored overrides, each value as JSON text, as the rules' loader reads them
    (gisapp.queries.rule_inputs) and resolve_params parses them: a text value read as jsonb would
    arrive already parsed, and parsing it again fails."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT id, rule, name, value::text AS value, zone_id, year, source, "
                                   "effective_from, updated_by, updated_at FROM rules.parameter_overrides ORDER BY id"),
                           conn)


def _zone_id(engine: Engine, zone: str | None) -> int | None:
    if zone is None:
        return None
    with engine.connect() as conn:
        zone_id = conn.execute(sa.text("SELECT id FROM land.zones WHERE code = :c"), {"c": zone}).scalar()
    if zone_id is None:
        raise InputError(f"there is no zone {zone!r}")
    return zone_id


def list_params(engine: Engine, rule: str | None = None, zone: str | None = None, year: int | None = None,
                on: dt.date | None = None) -> list[ParamLine]:
    """Every parameter (of ``rule``, or all) with the value in force for the zone and year on a day."""
    on = on or dt.date.today()
    zone_id = _zone_id(engine, zone)
    overrides = overrides_frame(engine)
    lines = []
    for spec in all_specs():
        if rule and spec.name != rule:
            continue
        _values, provenance = resolve_params_with_provenance(spec, overrides, as_of=on, zone_id=zone_id, year=year)
        for p in spec.params:
            got = provenance[p.name]
            lines.append(ParamLine(spec.name, p.name, got["value"], got["source"], got["effective_from"],
                                   bool(got.get("override")), p.description))
    if rule and not lines and rule not in _specs():
        raise InputError(f"there is no rule {rule!r}; rules: {', '.join(sorted(_specs()))}")
    return lines


def unknown_overrides(engine: Engine) -> list[str]:
    """Stored overrides that name no declared parameter (every assessment ignores them)."""
    declared = {(spec.name, p.name) for spec in all_specs() for p in spec.params}
    frame = overrides_frame(engine)
    return [f"override #{row.id} names {row.rule}.{row.name}, which no rule has: no assessment uses it"
            for row in frame.itertuples() if (row.rule, row.name) not in declared]


def set_param(engine: Engine, rule: str, name: str, value: Any, *, source: str, effective_from: dt.date,
              zone: str | None = None, year: int | None = None, actor: str = "gisapp-cli") -> int:
    """Store an override (as the tables' owner; audited), after checking it; returns its id.

    A second value for the same rule, parameter, zone, year and date replaces the first (its
    history stays in the audit log)."""
    checked = check_value(rule, name, value)
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"{rule}.{name}: the year {year} is not one a parameter could apply to "
                         f"({MIN_YEAR}-{MAX_YEAR})")
    if not (source or "").strip():
        raise InputError(f"{rule}.{name}: say where the value comes from (--source), e.g. the document and article")
    zone_id = _zone_id(engine, zone)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.user', :a, true), set_config('gisapp.reason', :r, true)"),
                     {"a": actor, "r": f"parameter {rule}.{name}: {source}"[:200]})
        existing = conn.execute(sa.text(
            "SELECT id FROM rules.parameter_overrides WHERE rule = :r AND name = :n AND zone_id IS NOT DISTINCT FROM :z "
            "AND year IS NOT DISTINCT FROM CAST(:y AS smallint) AND effective_from = :f"),
            {"r": rule, "n": name, "z": zone_id, "y": year, "f": effective_from}).scalar()
        params = {"r": rule, "n": name, "v": json.dumps(checked), "z": zone_id, "y": year, "s": source.strip(),
                  "f": effective_from}
        if existing is None:
            return conn.execute(sa.text(
                "INSERT INTO rules.parameter_overrides (rule, name, value, zone_id, year, source, effective_from) "
                "VALUES (:r, :n, CAST(:v AS jsonb), :z, :y, :s, :f) RETURNING id"), params).scalar_one()
        conn.execute(sa.text("UPDATE rules.parameter_overrides SET value = CAST(:v AS jsonb), source = :s "
                             "WHERE id = :id"), params | {"id": existing})
        return existing


def param_history(engine: Engine, rule: str, name: str) -> pd.DataFrame:
    """Every value the parameter has had: the rule's default, then each override as it was written,
    changed or removed (from the audit log), oldest first."""
    param = find_param(rule, name)
    with engine.connect() as conn:
        changes = pd.read_sql(sa.text("""
            SELECT c.changed_at, c.action, coalesce(c.app_user, c.db_user) AS changed_by, c.reason,
                   coalesce(c.new_row, c.old_row) AS row_values
            FROM audit.change_log c
            WHERE c.table_schema = 'rules' AND c.table_name = 'parameter_overrides'
              AND coalesce(c.new_row, c.old_row) ->> 'rule' = :r AND coalesce(c.new_row, c.old_row) ->> 'name' = :n
            ORDER BY c.id"""), conn, params={"r": rule, "n": name})
    rows = [{"changed_at": None, "action": "DEFAULT", "value": param.default, "zone_id": None, "year": None,
             "source": param.source, "effective_from": param.effective_from.isoformat(), "changed_by": "rule"}]
    for change in changes.itertuples():
        v = change.row_values
        rows.append({"changed_at": change.changed_at, "action": change.action, "value": v.get("value"),
                     "zone_id": v.get("zone_id"), "year": v.get("year"), "source": v.get("source"),
                     "effective_from": v.get("effective_from"), "changed_by": change.changed_by})
    return pd.DataFrame(rows)
