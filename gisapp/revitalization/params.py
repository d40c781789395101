"""Parameters of the revitalization record and of zone rectification, in the project's one
parameter mechanism (gisapp.rules.base.Param; overridden in rules.parameter_overrides by `gisapp
params set`, listed by `gisapp params list --rule revitalization|zone_rectification`). Neither spec
is a rule `gisapp assess` runs (gisapp.rules.registry.PARAMETER_MODULES).

**Yearly targets** (``revitalization.target_ha``): the stock a zone aims to have left at the end
of a year, in hectares, summed over the kinds of ``target_kinds``; set per zone and year, with its
source and effective date::

    gisapp params set revitalization target_ha 42.5 --zone waigaoqiao --year 2026 \\
        --source "2026 年盘活存量工作目标（区政府文件）" --from 2026-01-01

The default (0.0) is not a target: a zone and year has a target only when an override sets one
(:func:`target`), so no zone is measured against a number nobody decided.

**Rectification** (``zone_rectification``, the 2021 opinions 3.5): the full years since set-up,
the consecutive years and the national bottom places of the exit procedure. The years a zone has
to rectify before an interview are the casework's ``zr_rectification_years`` (one value for the
flag and the case's deadline).

Example:
    >>> import datetime as dt
    >>> rectification_values(as_of=dt.date(2026, 6, 30))["exit_min_years"]
    5
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gisapp.casework import params as casework_params
from gisapp.rules.base import Param, RuleSpec, resolve_params_with_provenance

OPINIONS = "关于促进本市综合保税区高质量发展的实施意见（沪府办发〔2021〕1号）"
OPINIONS_IN_FORCE = dt.date(2021, 1, 15)
#: the kinds of land a snapshot counts (rules.stock_snapshots.kind), in the order pages show them
STOCK_KINDS = ("idle", "low_efficiency", "approved_unsupplied", "supplied_unbuilt")

REVITALIZATION = RuleSpec(
    "revitalization", "1.0", "存量土地盘活目标", "Revitalization targets",
    (Param("target_ha", 0.0, "各园区年度盘活目标由规划资源局按区下达（未设定时不显示目标）",
           OPINIONS_IN_FORCE, "hectares of the stock a zone aims to have left at the end of the year "
           "(set per zone and year; the default is no target)"),
     Param("target_kinds", list(STOCK_KINDS), f"{OPINIONS}；domain §7 Progress", OPINIONS_IN_FORCE,
           "the kinds of land a target counts: idle, low_efficiency, approved_unsupplied, supplied_unbuilt")),
)

ZONE_RECTIFICATION = RuleSpec(
    "zone_rectification", "1.0", "综合保税区整改与退出", "Zone rectification and exit",
    (Param("exit_min_years", 5, f"{OPINIONS}3.5：设立满5年", OPINIONS_IN_FORCE,
           "full years since the zone was set up (approved_on) before the exit procedure can apply"),
     Param("exit_years", 2, f"{OPINIONS}3.5：连续两年", OPINIONS_IN_FORCE,
           "consecutive evaluated years of class C nationally and regionally in the national bottom places"),
     Param("exit_bottom_n", 5, f"{OPINIONS}3.5：全国排名后5位", OPINIONS_IN_FORCE,
           "national bottom places that count towards exit"),
     Param("exit_class", "C", f"{OPINIONS}3.5：评估结果为C类", OPINIONS_IN_FORCE,
           "the class, nationally and regionally, that counts towards exit")),
)

SPECS = (REVITALIZATION, ZONE_RECTIFICATION)


@dataclass(frozen=True)
class Target:
    """A zone's target for a year: hectares of the kinds counted, and where it comes from."""

    zone_id: int
    year: int
    hectares: float
    kinds: tuple[str, ...]
    source: str
    effective_from: str


def target(overrides: pd.DataFrame | None, zone_id: int, year: int, *, as_of: dt.date) -> Target | None:
    """The target set for ``zone_id`` and ``year`` in force on ``as_of``, or None when none is set."""
    values, prov = resolve_params_with_provenance(REVITALIZATION, overrides, as_of=as_of, zone_id=zone_id, year=year)
    if not prov["target_ha"].get("override"):
        return None
    kinds = tuple(k for k in STOCK_KINDS if k in values["target_kinds"])
    return Target(zone_id, year, float(values["target_ha"]), kinds, prov["target_ha"]["source"],
                  prov["target_ha"]["effective_from"])


def rectification_values(overrides: pd.DataFrame | None = None, *, as_of: dt.date) -> dict[str, Any]:
    """The rectification thresholds in force on ``as_of`` (city-wide), the casework's years to
    rectify (``rectify_years``) included."""
    return rectification_provenance(overrides, as_of=as_of)[0]


def rectification_provenance(overrides: pd.DataFrame | None = None, *, as_of: dt.date
                             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values, provenance) of :func:`rectification_values`."""
    values, prov = resolve_params_with_provenance(ZONE_RECTIFICATION, overrides, as_of=as_of)
    case_values, case_prov = casework_params.provenance(overrides, as_of=as_of)
    values["rectify_years"] = case_values["zr_rectification_years"]
    prov["rectify_years"] = case_prov["zr_rectification_years"] | {"rule": casework_params.SPEC.name}
    return values, prov
