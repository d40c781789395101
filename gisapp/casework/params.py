"""The periods of the procedures and the rules of counting them, as parameters of the project's
one parameter mechanism (gisapp.rules.base.Param, overridden in rules.parameter_overrides and
listed by `gisapp params list --rule casework`). A step of a pathway names its period by the
parameter's name (``land.case_pathway_steps.period_param``); the name's ending says the unit
(gisapp.casework.periods.unit_of).

The idle-land fee rate and the full years of the fee and of the recovery are the idle rule's own
parameters (gisapp.rules.idle_land: ``fee_rate``, ``idle_years``, ``recovery_years``): one value
for the finding and the case.

Example:
    >>> import datetime as dt
    >>> values(as_of=dt.date(2026, 6, 30))["reply_days"]
    30
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from gisapp.rules.base import Param, RuleSpec, resolve_params_with_provenance
from gisapp.rules.idle_land import IDLE

ORDER_53 = "国土资源部令第53号"
IN_FORCE_53 = dt.date(2012, 7, 1)
OPINIONS = "实施意见（2021）"  # 关于促进本市综合保税区高质量发展的实施意见, in force 2021-01-15
OPINIONS_IN_FORCE = dt.date(2021, 1, 15)
PROJECT_DEFAULT = "项目约定（未找到官方期限，默认值）"

SPEC = RuleSpec(
    "casework",
    "1.0",
    "处置与退出程序期限",
    "Periods of the disposal and exit procedures",
    (
        Param("investigation_days", 30, f"{ORDER_53}第五条", IN_FORCE_53,
              "days from the suspicion (the case opened) to the investigation notice"),
        Param("reply_days", 30, f"{ORDER_53}第五条", IN_FORCE_53,
              "days from receipt of the investigation notice for the land user's facts and reasons"),
        Param("hearing_request_working_days", 5,
              "国土资源听证规定（国土资源部令第22号）；期限未在本项目核实，默认值", dt.date(2004, 5, 1),
              "working days from the hearing notice for the land user to ask for a hearing"),
        Param("fee_payment_days", 30, f"{ORDER_53}第十七条", IN_FORCE_53,
              "days from service of the fee decision to pay the idle-land fee"),
        Param("cancellation_days", 30, f"{ORDER_53}第十七条", IN_FORCE_53,
              "days from service of the recovery decision to cancel the registration"),
        Param("reconsideration_days", 60, "行政复议法（2023年修订）第二十条", dt.date(2024, 1, 1),
              "days from service of a decision to ask for administrative reconsideration"),
        Param("lawsuit_months", 6, "行政诉讼法第四十六条", dt.date(2015, 5, 1),
              "months from service of a decision to sue"),
        Param("temporary_use_max_years", 2, f"{ORDER_53}第十二条第（三）项", IN_FORCE_53,
              "full years a temporary government use may last"),
        Param("extension_max_years", 1, f"{ORDER_53}第十二条第（一）项", IN_FORCE_53,
              "full years the extended start period may run from the new agreed start date"),
        Param("holiday_rule", "next_working_day",
              "民事诉讼法第八十五条（行政诉讼法第一百零一条适用）；民法典第二百零三条", dt.date(2022, 1, 1),
              "a deadline on a weekend or public holiday: next_working_day (moved) or none"),
        Param("le_notice_days", 30, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the case's opening to notify the enterprise of its low efficiency"),
        Param("le_plan_days", 60, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the notice for the enterprise's plan"),
        Param("le_agreement_days", 180, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the enterprise's plan to the exit agreement"),
        Param("le_handover_days", 90, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the agreement to the transfer of the land (or building)"),
        Param("zr_explanation_days", 30, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the evaluation result to the zone's explanation"),
        Param("zr_plan_days", 60, PROJECT_DEFAULT, OPINIONS_IN_FORCE,
              "days from the evaluation result to the rectification plan reported"),
        Param("zr_rectification_years", 2, f"{OPINIONS}3.5", OPINIONS_IN_FORCE,
              "full years to rectify before an interview"),
    ),
)
SPECS = (SPEC,)


def values(overrides: pd.DataFrame | None = None, *, as_of: dt.date, zone_id: int | None = None
           ) -> dict[str, Any]:
    """The casework parameters in force on ``as_of`` for a zone (and ``as_of``'s year)."""
    return provenance(overrides, as_of=as_of, zone_id=zone_id)[0]


def provenance(overrides: pd.DataFrame | None = None, *, as_of: dt.date, zone_id: int | None = None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values, provenance) of the casework parameters, and of the idle rule's fee rate and full
    years, in force on ``as_of`` for a zone and ``as_of``'s year (provenance: value, source,
    effective date)."""
    mine, mine_from = resolve_params_with_provenance(SPEC, overrides, as_of=as_of, zone_id=zone_id, year=as_of.year)
    idle, idle_from = resolve_params_with_provenance(IDLE, overrides, as_of=as_of, zone_id=zone_id, year=as_of.year)
    for name in ("fee_rate", "idle_years", "recovery_years"):
        mine[name], mine_from[name] = idle[name], idle_from[name] | {"rule": IDLE.name}
    return mine, mine_from
