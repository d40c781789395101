"""Which parameter value is in force (gisapp.rules.base.resolve_params_with_provenance): the one
resolution every rule, page and CLI uses."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gisapp.rules.base import Param, RuleSpec, resolve_params, resolve_params_with_provenance
from gisapp.rules.common import ZoneParams

SPEC = RuleSpec("r", "1", "规则", "Rule", (Param("t", 1, "default source", dt.date(2020, 1, 1)),
                                          Param("u", [1, 2], "default source", dt.date(2020, 1, 1))))
AS_OF = dt.date(2026, 6, 30)


def _overrides(*rows, ints: str = "object") -> pd.DataFrame:
    frame = pd.DataFrame([{"id": i, "rule": "r", "name": "t", "zone_id": None, "year": None,
                           "effective_from": dt.date(2021, 1, 1), "source": f"row {i}", **row}
                          for i, row in enumerate(rows)],
                         columns=["id", "rule", "name", "value", "zone_id", "year", "source", "effective_from"])
    if ints != "object":
        frame[["zone_id", "year"]] = frame[["zone_id", "year"]].astype(ints)
    return frame


@pytest.mark.parametrize("ints", ["object", "float64", "Int64"])
def test_the_most_specific_override_wins(ints):
    frame = _overrides({"value": "2"}, {"value": "3", "year": 2026}, {"value": "4", "zone_id": 7},
                       {"value": "5", "zone_id": 7, "year": 2026}, ints=ints)
    assert resolve_params(SPEC, frame, as_of=AS_OF, zone_id=7, year=2026)["t"] == 5
    assert resolve_params(SPEC, frame, as_of=AS_OF, zone_id=7, year=2025)["t"] == 4
    assert resolve_params(SPEC, frame, as_of=AS_OF, zone_id=8, year=2026)["t"] == 3
    assert resolve_params(SPEC, frame, as_of=AS_OF, zone_id=8, year=2025)["t"] == 2
    assert resolve_params(SPEC, frame, as_of=AS_OF)["t"] == 2


def test_among_equals_the_latest_in_force_and_then_the_last_row():
    frame = _overrides({"value": "2", "effective_from": dt.date(2023, 1, 1)},
                       {"value": "3", "effective_from": dt.date(2022, 1, 1)},
                       {"value": "4", "effective_from": dt.date(2027, 1, 1)})  # not yet in force
    values, provenance = resolve_params_with_provenance(SPEC, frame, as_of=AS_OF)
    assert values == {"t": 2, "u": [1, 2]}
    assert provenance["t"] == {"value": 2, "source": "row 0", "effective_from": "2023-01-01", "override": True}
    assert provenance["u"]["source"] == "default source" and "override" not in provenance["u"]
    tie = _overrides({"value": "2"}, {"value": "3"})
    assert resolve_params(SPEC, tie, as_of=AS_OF)["t"] == 3


def test_other_rules_and_unknown_names_are_ignored():
    frame = _overrides({"value": "2", "rule": "other"}, {"value": "3", "name": "gone"}, {"value": "[4]", "name": "u"})
    assert resolve_params(SPEC, frame, as_of=AS_OF) == {"t": 1, "u": [4]}
    assert resolve_params(SPEC, frame.iloc[0:0], as_of=AS_OF) == {"t": 1, "u": [1, 2]}


def test_zone_params_resolve_each_zone_as_alone():
    frame = _overrides({"value": "2"}, {"value": "9", "zone_id": 7})
    zp = ZoneParams(SPEC, frame, AS_OF, pd.Series([7, 8, 7]))
    assert zp.column("t").tolist() == [9, 2, 9]
    assert [resolve_params(SPEC, frame, as_of=AS_OF, zone_id=z)["t"] for z in (7, 8, 7)] == [9, 2, 9]
