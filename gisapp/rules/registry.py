"""The registered rule modules, in the order `gisapp assess` runs them.

A rule module exposes:

- ``SPECS``: tuple of :class:`gisapp.rules.base.RuleSpec` (one per rule name it writes; a module
  may write several, e.g. ``idle_land`` and ``land_inventory``);
- ``INPUTS``: tuple of frame names it reads (keys of :data:`gisapp.queries.rule_inputs.FRAME_SQL`);
- optionally ``OPTIONAL_INPUTS``: frames it uses when given (`gisapp assess` reads them), and
  ``input_params(as_of, overrides) -> dict``: extra SQL parameters that let `gisapp assess` read
  less of its frames (e.g. ``metric_years``); the rule gives the same findings on the full frames;
- ``ZONE_LOCAL``: True when its findings for a zone depend only on that zone's rows
  (:mod:`gisapp.scaleout` may then run zones apart), and ``TYPICAL_SECONDS``: what it costs a
  city-scale run (`gisapp assess` starts the costliest first);
- ``evaluate(inputs, as_of, overrides=None) -> DataFrame``: the findings frame (columns
  ``FINDING_COLUMNS``, made with :func:`gisapp.rules.common.findings`); a module writing several
  rules may also take ``rules`` (the names asked for) and skip the work of the others.

Adding a rule family = adding its module path here (declare, don't branch).

:data:`PARCEL_LOCAL_RULES` names the rules whose finding for a parcel depends on that parcel's
own rows alone (and on data of its zone or the city that no parcel edit changes): the live
worker re-evaluates them for the parcels an edit touched, moments after it
(:mod:`gisapp.rules.parcel_jobs`), before the zone's full run.

Example:
    >>> [m.__name__.rsplit(".", 1)[1] for m in rule_modules()][:2]
    ['idle_land', 'per_mu']
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from types import ModuleType

from gisapp.errors import InputError
from gisapp.rules.base import RuleSpec

#: Rule modules in run order (dotted paths).
RULE_MODULES: list[str] = [
    "gisapp.rules.idle_land",
    "gisapp.rules.per_mu",
    "gisapp.rules.grants",
    "gisapp.rules.mixed_use",
    "gisapp.rules.green_balance",
    "gisapp.rules.quotas",
    "gisapp.rules.zone_performance",
    "gisapp.rules.assessment_coverage",
    "gisapp.rules.boundary_qa",
]

#: Modules whose ``SPECS`` hold parameters of the same mechanism (listed, set and overridden like
#: the rules') but which `gisapp assess` does not run: they write no findings. The periods of the
#: disposal and exit procedures (gisapp.casework.params, docs/casework.md); the zones' yearly
#: revitalization targets and the rectification thresholds (gisapp.revitalization.params).
PARAMETER_MODULES: list[str] = ["gisapp.casework.params", "gisapp.revitalization.params"]

#: Rules whose finding for a parcel depends only on that parcel's own rows (its grant, progress,
#: suspensions, exemptions, mixed-use components): not ranks, balances or counts over a zone.
#: sql/security/0800_live_findings.sql queues parcel jobs for changes to the tables they read
#: (tests/db/test_live_parcel_jobs.py checks the two agree).
PARCEL_LOCAL_RULES: tuple[str, ...] = ("idle_land", "land_inventory", "grant_review", "grant_notice", "mixed_use")


def parcel_local_modules() -> list[ModuleType]:
    """The modules that write a parcel-local rule, in run order."""
    return modules_for(PARCEL_LOCAL_RULES)


def rule_modules() -> list[ModuleType]:
    """The registered modules, imported."""
    return [importlib.import_module(path) for path in RULE_MODULES]


def all_specs() -> list[RuleSpec]:
    """Every spec with parameters: the registered rules' in run order, then the parameter-only
    modules' (:data:`PARAMETER_MODULES`)."""
    modules = [*rule_modules(), *(importlib.import_module(path) for path in PARAMETER_MODULES)]
    return [spec for module in modules for spec in module.SPECS]


def modules_for(rule_names: Sequence[str] | None = None) -> list[ModuleType]:
    """The modules that write ``rule_names`` (all when None); an unknown name raises InputError."""
    modules = rule_modules()
    if not rule_names:
        return modules
    known = {spec.name: module for module in modules for spec in module.SPECS}
    unknown = [n for n in rule_names if n not in known]
    if unknown:
        raise InputError(f"unknown rule(s): {', '.join(unknown)}; registered rules: {', '.join(known)}")
    wanted = {known[n].__name__ for n in rule_names}
    return [m for m in modules if m.__name__ in wanted]


def rules_read_with(rule_names: Iterable[str]) -> set[str]:
    """The rules whose findings a change to the parameters of ``rule_names`` can move: every rule
    of the modules that write them (a module reads its own specs' parameters and no other's).
    The parameter-only specs (:data:`PARAMETER_MODULES`: casework periods, revitalization
    targets) move no finding."""
    modules = rule_modules()
    module_of = {spec.name: module for module in modules for spec in module.SPECS}
    return {spec.name for name in rule_names if name in module_of for spec in module_of[name].SPECS}


def inputs_for(modules: Iterable[ModuleType]) -> list[str]:
    """The union of the frames the modules need, in first-use order (not the optional ones: a
    notebook's what-if edits the full frames, which an optional frame would contradict)."""
    return list(dict.fromkeys(name for module in modules for name in module.INPUTS))


def frames_of(module: ModuleType) -> tuple[str, ...]:
    """The frames a module reads: its ``INPUTS`` and ``OPTIONAL_INPUTS``."""
    return (*module.INPUTS, *getattr(module, "OPTIONAL_INPUTS", ()))
