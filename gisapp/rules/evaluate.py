"""Evaluate the registered rules on frames already read: no database, no storage.

The notebook face of the rules (:func:`evaluate_rules`), and what each process of
`gisapp assess` calls per module (:func:`evaluate_module`), with the check that a module returned
a findings frame with one row per rule and subject.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import time
from collections.abc import Sequence

import pandas as pd

from gisapp.errors import GisappError, InputError
from gisapp.rules import registry
from gisapp.rules.base import FINDING_COLUMNS
from gisapp.rules.common import concat_findings


def evaluate_rules(
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None = None,
    seconds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Findings of the registered rules on already loaded frames (no database needed).

    This is the notebook face of the rules: give it frames (e.g. from :func:`load_inputs`, or
    built by hand) and get the findings frame. ``seconds`` receives the time of each module.
    """
    parts = [
        evaluate_module(m, inputs, as_of, rule_names, seconds) for m in registry.modules_for(rule_names)
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return concat_findings(parts)


def evaluate_frames(modules, frames: dict[str, pd.DataFrame], as_of: dt.date,
                    rule_names: Sequence[str]) -> list[pd.DataFrame]:
    """The findings of ``rule_names`` by each of ``modules`` on ``frames`` (each module given its
    own frames and the parameter overrides, as a run gives them)."""
    parts = []
    for module in modules:
        inputs = {n: frames[n] for n in ("parameter_overrides", *registry.frames_of(module)) if n in frames}
        parts.append(evaluate_module(module, inputs, as_of, rule_names, None))
    return parts


def evaluate_module(
    module,
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None,
    seconds: dict[str, float] | None,
) -> pd.DataFrame:
    missing = [n for n in module.INPUTS if n not in inputs]
    if missing:
        raise InputError(f"rule module {module.__name__} needs input frame(s) {', '.join(missing)}")
    start = time.perf_counter()
    if rule_names and takes_rules(module):
        found = module.evaluate(inputs, as_of, inputs.get("parameter_overrides"), rules=list(rule_names))
    else:
        found = module.evaluate(inputs, as_of, inputs.get("parameter_overrides"))
    if seconds is not None:
        seconds[module.__name__.rsplit(".", 1)[-1]] = time.perf_counter() - start
    if rule_names:
        found = found[found["rule"].isin(rule_names)]
    _check(module.__name__, found)
    return found


@functools.cache
def takes_rules(module) -> bool:
    """Whether ``module.evaluate`` takes ``rules`` (the names asked for) and skips the others."""
    return "rules" in inspect.signature(module.evaluate).parameters


def _check(module: str, found: pd.DataFrame) -> None:
    """A rule's output must be a findings frame with one row per rule and subject."""
    if list(found.columns) != FINDING_COLUMNS:
        raise GisappError(
            f"rule module {module} returned columns {list(found.columns)}, expected {FINDING_COLUMNS}"
        )
    for col in (
        "rule",
        "rule_version",
        "subject_type",
        "subject_id",
        "outcome",
        "explanation_zh",
        "explanation_en",
        "is_positive",
    ):
        if found[col].isna().any():
            raise GisappError(
                f"rule module {module} left {col} empty in {int(found[col].isna().sum())} finding(s)"
            )
    dup = found.duplicated(["rule", "subject_type", "subject_id"])
    if dup.any():
        first = found[dup].iloc[0]
        raise GisappError(
            f"rule module {module} returned {int(dup.sum())} duplicate finding(s), e.g. "
            f"{first['rule']} {first['subject_type']} {first['subject_id']}"
        )
