"""Green-ratio balance (绿地率平衡) per parcel and per zone, the national controls on industrial
parcels, and the what-if check for a new project (docs/policy.md §5 "Green ratio balance").

Shanghai balances green at zone level (SMPG GO [2021] No. 1, §1.6): a parcel may stay below the
zone's target when the zone total meets it. What counts:

- a parcel's green is its latest measured green area on or before the as-of date
  (``land.green_areas``); a dedicated green parcel (公园绿地 1401, 防护绿地 1402) is green land as
  a whole, so its whole area counts (its measured green is kept in the evidence);
- the zone total is taken over the parcels that can be assessed (measured, or dedicated green):
  zone green = Σ counted green, required = target × Σ their area, margin = green − required,
  which is exactly the sum of the parcels' surpluses. Land not yet built (approved, granted,
  under construction) has no green to measure yet; its area is reported in the evidence but
  left out of both sides, so that the what-if question "a new project of area A with ratio g"
  is answered by margin + A × (g − target). Built parcels with no measurement are findings of
  their own (cannot_evaluate) and, when their area is a large share, make the zone verdict
  cannot_evaluate too (``max_unmeasured_share``).

Zone target: **no Shanghai figure was found** (docs/policy.md §5). The default 15% is a marked demo value,
chosen below the 20% national cap on industrial parcels so that a zone of compliant industrial
parcels at the usual 10-20% can balance with its green corridors; set the real target per zone
(and year) in ``rules.parameter_overrides`` under rule ``green_balance`` (it applies to the zone
rule and the what-if check as well).

Example:
    >>> import pandas as pd
    >>> parcels = pd.DataFrame({"id": [1, 2], "zone_id": [7, 7], "area_m2": [10_000.0, 2_000.0],
    ...                         "land_use_code": ["100101", "1402"], "status": ["in_production"] * 2})
    >>> green = pd.DataFrame({"parcel_id": [1], "measured_on": [pd.Timestamp("2026-01-05")],
    ...                       "green_area_m2": [1_000.0]})
    >>> r = what_if_new_project(parcels, green, zone_id=7, area_m2=5_000, green_ratio=0.10,
    ...                         as_of=dt.date(2026, 6, 30))
    >>> r.fits, r.margin_before_m2, r.margin_after_m2
    (True, 1200.0, 950.0)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gisapp.errors import InputError
from gisapp.rules import columnar as col
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec, param_provenance
from gisapp.rules.common import (
    concat_findings,
    findings,
    floats,
    gc_paused,
    iso_list,
    latest_on_or_before,
    num,
    nums,
    pct,
    pcts,
    zone_params,
)

OPINIONS_IN_FORCE = dt.date(2021, 1, 15)  # SMPG GO [2021] No. 1
_CLASSIFICATION = "国土空间调查、规划、用途管制用地用海分类指南 (2023): 1401 公园绿地, 1402 防护绿地"
_BUILT = ["completed", "in_production", "low_efficiency", "transferred"]

_TARGET = Param("target_ratio", 0.15,
                "DEMO DEFAULT (no Shanghai zone green target found, docs/policy.md §5): 15%, below the 20% "
                "national cap on industrial parcels; set the zone's real target in rules.parameter_overrides",
                OPINIONS_IN_FORCE, "zone green-ratio target (green area / assessed land area)")
_DEDICATED = Param("dedicated_green_codes", ["1401", "1402"], _CLASSIFICATION, dt.date(2023, 11, 22),
                   "land-use codes of dedicated green parcels, counted with their whole area")
_BUILT_STATUSES = Param("built_statuses", _BUILT, "parcel lifecycle, docs/policy.md §6", OPINIONS_IN_FORCE,
                        "statuses in which a parcel must have a green measurement")

GREEN_BALANCE = RuleSpec("green_balance", "1.0", "地块绿地率平衡", "Parcel green-ratio balance",
                         (_TARGET, _DEDICATED, _BUILT_STATUSES))
GREEN_BALANCE_ZONE = RuleSpec(
    "green_balance_zone", "1.0", "园区绿地率总量平衡", "Zone green-ratio balance",
    (_TARGET, _DEDICATED, _BUILT_STATUSES,
     Param("max_unmeasured_share", 0.10,
           "DEMO DEFAULT (no official figure found): a zone verdict needs at least 90% of its built land measured",
           OPINIONS_IN_FORCE, "largest share of built land without a green measurement for a zone verdict")))

_CONTROLS_SOURCE = ("national control indicators for industrial land (docs/policy.md §5): 工业项目建设用地控制指标, "
                    "国土资发〔2008〕24号")
INDUSTRIAL_CONTROLS = RuleSpec(
    "industrial_controls", "1.0", "工业用地控制指标", "Industrial land controls",
    (Param("green_max", 0.20, _CONTROLS_SOURCE, dt.date(2008, 1, 31), "green ratio normally at most 20%"),
     Param("coverage_min", 0.30, _CONTROLS_SOURCE, dt.date(2008, 1, 31), "building coverage at least 30%"),
     Param("office_living_max", 0.07, _CONTROLS_SOURCE, dt.date(2008, 1, 31),
           "offices and living at most 7% of the site"),
     Param("industrial_code_prefix", "1001", _CLASSIFICATION.split(":")[0] + ": 1001 工业用地 and its subclasses",
           dt.date(2023, 11, 22), "land-use codes counted as industrial"),
     _BUILT_STATUSES))

SPECS: tuple[RuleSpec, ...] = (GREEN_BALANCE, GREEN_BALANCE_ZONE, INDUSTRIAL_CONTROLS)
INPUTS: tuple[str, ...] = ("parcels", "green_areas", "zones")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 16

_TOL = 1e-9  # relative: a ratio exactly at a threshold is at it, not past it


def per_row_isin(values: np.ndarray, zone_ids: np.ndarray, lists: dict[int, list]) -> np.ndarray:
    """``values[i] in lists[zone_ids[i]]``, vectorised by grouping zones that share a list."""
    out = np.zeros(len(values), dtype=bool)
    by_list: dict[tuple, list[int]] = {}
    for z, items in lists.items():
        by_list.setdefault(tuple(str(x) for x in items), []).append(z)
    for items, zones in by_list.items():
        mask = np.isin(zone_ids, zones)
        out[mask] = np.isin(values[mask].astype(str), list(items))
    return out


def latest_green(green_areas: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The latest green measurement per parcel on or before ``as_of``, indexed by parcel id."""
    return latest_on_or_before(green_areas, "parcel_id", "measured_on", as_of).set_index("parcel_id")


def parcel_green(parcels: pd.DataFrame, green_areas: pd.DataFrame, as_of: dt.date,
                 dedicated_codes=("1401", "1402"), *, latest: pd.DataFrame | None = None,
                 dedicated: np.ndarray | None = None) -> pd.DataFrame:
    """Per parcel: the latest measurement on or before ``as_of``, counted green and ratio.

    Columns added: ``measured_on``, ``measured_green_m2``, ``is_dedicated``, ``counted_green_m2``
    (the whole area for a dedicated green parcel, else the measurement) and ``green_ratio``.
    """
    if latest is None:
        latest = latest_green(green_areas, as_of)
    out = parcels.copy()
    ids = out["id"]
    out["measured_on"] = pd.to_datetime(ids.map(latest["measured_on"])) if len(latest) else pd.NaT
    out["measured_green_m2"] = ids.map(latest["green_area_m2"]).astype(float) if len(latest) else np.nan
    area = out["area_m2"].astype(float).to_numpy()
    if dedicated is None:
        dedicated = out["land_use_code"].astype(str).isin([str(c) for c in dedicated_codes]).to_numpy()
    out["is_dedicated"] = dedicated
    out["counted_green_m2"] = np.where(dedicated, area, out["measured_green_m2"].to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["green_ratio"] = np.where(area > 0, out["counted_green_m2"].to_numpy(dtype=float) / area, np.nan)
    return out


def _verdicts(pg: pd.DataFrame, target: np.ndarray, built: np.ndarray) -> pd.DataFrame:
    """Outcome per parcel (surplus / deficit / cannot_evaluate / None = out of scope), with the
    reason of a cannot_evaluate and the surplus in m² (negative: deficit)."""
    area = pg["area_m2"].astype(float).to_numpy()
    counted = pg["counted_green_m2"].to_numpy(dtype=float)
    measured = pg["measured_green_m2"].to_numpy(dtype=float)
    has_green = ~np.isnan(counted)
    # not yet built and never measured: nothing to assess yet (reported in the zone's evidence)
    in_scope = has_green | built
    bad_area = ~(area > 0)
    too_much = ~pg["is_dedicated"].to_numpy() & (measured > area * (1 + _TOL))
    with np.errstate(invalid="ignore"):
        surplus = counted - target * area
    at_least = surplus >= -_TOL * np.maximum(np.nan_to_num(area), 1)
    outcome = np.where(at_least, "surplus", "deficit").astype(object)
    reason = np.full(len(pg), None, dtype=object)
    reason[in_scope & ~has_green] = "no_measurement"
    reason[in_scope & too_much] = "green_exceeds_area"
    reason[in_scope & bad_area] = "zero_area"
    cannot = in_scope & (bad_area | ~has_green | too_much)
    outcome[cannot] = CANNOT_EVALUATE
    outcome[~in_scope] = None
    return pd.DataFrame({"outcome": outcome, "reason": reason,
                         "surplus_m2": np.where(cannot | ~in_scope, np.nan, surplus)}, index=pg.index)


def _assess_parcels(parcels, green, as_of, overrides, target_ratio: float | None = None):
    """Parcel green, verdicts and the per-zone parameters, computed once for both green rules
    (``target_ratio`` replaces the zone targets, for the what-if check)."""
    zid = parcels["zone_id"].to_numpy()
    keys = [(int(z), as_of.year) for z in pd.unique(zid)]
    per_zone = {k[0]: v for k, v in zone_params(GREEN_BALANCE, overrides, as_of=as_of, keys=keys,
                                                 aliases=("green_balance_zone",)).items()}
    targets = {z: float(v[0]["target_ratio"]) for z, v in per_zone.items()}
    target = pd.Series(zid).map(targets).to_numpy(dtype=float)
    if target_ratio is not None:
        target = np.full(len(parcels), float(target_ratio))
    dedicated = per_row_isin(parcels["land_use_code"].to_numpy(), zid,
                             {z: v[0]["dedicated_green_codes"] for z, v in per_zone.items()})
    built = per_row_isin(parcels["status"].to_numpy(), zid, {z: v[0]["built_statuses"] for z, v in per_zone.items()})
    pg = parcel_green(parcels, green, as_of, latest=latest_green(green, as_of), dedicated=dedicated)
    return pg, _verdicts(pg, target, built), target, per_zone


@gc_paused
def evaluate(inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """Findings of ``green_balance``, ``green_balance_zone`` and ``industrial_controls``."""
    parcels, green, zones = inputs.get("parcels"), inputs.get("green_areas"), inputs.get("zones")
    missing = [n for n, f in (("parcels", parcels), ("green_areas", green)) if f is None]
    if missing:
        return _cannot_zone_frame(zones, as_of, f"input frame(s) {', '.join(missing)}")
    pg, verdict, target, _ = _assess_parcels(parcels, green, as_of, overrides)
    return concat_findings([
        _parcel_findings(pg, verdict, target, as_of, overrides),
        _zone_findings(pg, verdict, zones, as_of, overrides),
        _industrial_findings(parcels, green, as_of, overrides),
    ])


def _parcel_findings(pg, verdict, target, as_of, overrides) -> pd.DataFrame:
    keep = verdict["outcome"].notna().to_numpy()
    if not keep.any():
        return concat_findings([])
    zone_ids = pg["zone_id"].to_numpy()[keep]
    prov = {k[0]: v[1] for k, v in zone_params(GREEN_BALANCE, overrides, as_of=as_of,
                                               keys=[(int(z), as_of.year) for z in pd.unique(zone_ids)],
                                               aliases=("green_balance_zone",)).items()}
    outcome = verdict["outcome"].to_numpy()[keep]
    area = pg["area_m2"].to_numpy(dtype=float)[keep]
    counted = pg["counted_green_m2"].to_numpy(dtype=float)[keep]
    measured = pg["measured_green_m2"].to_numpy(dtype=float)[keep]
    ratio = pg["green_ratio"].to_numpy(dtype=float)[keep]
    surplus = verdict["surplus_m2"].to_numpy(dtype=float)[keep]
    t_all = target[keep]
    dedicated = pg["is_dedicated"].to_numpy(dtype=bool)[keep]
    # a million rows at city scale: each sentence built column by column (gisapp.rules.columnar)
    day = pg["measured_on"].to_numpy()[keep]
    day_s = col.dates(day, missing="—")
    area_s, counted_s, abs_s = col.fixed(area), col.fixed(counted), col.fixed(np.abs(surplus))
    ratio_s, t_s = col.percents(ratio), col.each_distinct(t_all, pct)
    code = col.texts(pg["land_use_code"].astype(str).to_numpy()[keep])
    basis_zh = col.choose(dedicated, col.sentence("专用绿地 {code} 整块计入，{a} m²", code=code, a=area_s),
                          col.sentence("绿地 {c} m² / 用地 {a} m²，{d} 测量", c=counted_s, a=area_s, d=day_s))
    basis_en = col.choose(dedicated, col.sentence("dedicated green parcel {code} counted whole, {a} m²", code=code,
                                                  a=area_s),
                          col.sentence("{c} m² green of {a} m², measured on {d}", c=counted_s, a=area_s, d=day_s))
    fields = {"r": ratio_s, "t": t_s, "sp": abs_s}
    ok = outcome == "surplus"
    zh = col.choose(ok, col.sentence("绿地率 {r}（{b}）不低于园区目标 {t}，盈余 {sp} m²", b=basis_zh, **fields),
                    col.sentence("绿地率 {r}（{b}）低于园区目标 {t}，缺口 {sp} m²，由园区总量平衡", b=basis_zh, **fields))
    en = col.choose(ok, col.sentence("Green ratio {r} ({b}) meets the zone target of {t}: surplus {sp} m²",
                                     b=basis_en, **fields),
                    col.sentence("Green ratio {r} ({b}) is below the zone target of {t}: deficit {sp} m², to be "
                                 "balanced at zone level", b=basis_en, **fields))
    ev = col.json_objects({
        "green_ratio": col.j_float(ratio, 4), "target": col.j_float(t_all, 4), "surplus_m2": col.j_float(surplus, 1),
        "area_m2": col.j_float(area, 1), "counted_green_m2": col.j_float(counted, 1),
        "measured_green_m2": col.j_float(measured, 1), "measured_on": col.j_date(day),
        "dedicated_green": col.j_bool(dedicated)})
    # the few that cannot be evaluated, one by one
    cannot = np.flatnonzero(outcome == CANNOT_EVALUATE)
    if cannot.size:
        zh, en, ev = _cannot_parcel_texts(pg, verdict, keep, cannot, zh, en, ev, as_of, t_all)
    ids = pg["id"].to_numpy()[keep]
    return findings(
        GREEN_BALANCE, as_of, [prov[z] for z in zone_ids.tolist()], zone_id=zone_ids, parcel_id=ids,
        subject_type="parcel", subject_id=col.id_texts(ids), outcome=outcome, is_positive=outcome != "surplus",
        evidence=col.evidence_column(ev), explanation_zh=col.text_column(zh), explanation_en=col.text_column(en))


def _cannot_parcel_texts(pg, verdict, keep, rows, zh, en, ev, as_of, target):
    """The sentences and evidence of the parcels that cannot be evaluated (few), written row by row."""
    reason = verdict["reason"].to_numpy()[keep][rows]
    codes = (pg["code"] if "code" in pg else pg["id"].astype(str)).to_numpy()[keep][rows]
    status = pg["status"].to_numpy()[keep][rows]
    area = pg["area_m2"].to_numpy(dtype=float)[keep][rows]
    measured = pg["measured_green_m2"].to_numpy(dtype=float)[keep][rows]
    days = iso_list(pg["measured_on"].to_numpy()[keep][rows])
    area_s = nums(area)
    target_f, area_f, measured_f = floats(target[rows], 4), floats(area, 1), floats(measured, 1)
    day0 = as_of.isoformat()
    zh_rows, en_rows, ev_rows = [], [], []
    for i in range(len(rows)):
        day = days[i]
        if reason[i] == "zero_area":
            zh_rows.append(f"无法评估：地块 {codes[i]} 面积为 {area_s[i]} m²，无法计算绿地率")
            en_rows.append(f"Cannot evaluate: parcel {codes[i]} has an area of {area_s[i]} m², so no green ratio")
        elif reason[i] == "green_exceeds_area":
            zh_rows.append(f"无法评估：{day} 测得绿地 {num(measured[i])} m² 大于地块面积 {area_s[i]} m²，请核对测量")
            en_rows.append(f"Cannot evaluate: the green area measured on {day}, {num(measured[i])} m², exceeds the "
                           f"parcel area of {area_s[i]} m²; check the measurement")
        else:
            zh_rows.append(f"无法评估：地块状态为 {status[i]}，截至 {day0} 缺少绿地面积测量")
            en_rows.append(f"Cannot evaluate: the parcel is {status[i]} but has no green-area measurement on or "
                           f"before {day0}")
        ev_rows.append({"green_ratio": None, "target": target_f[i], "surplus_m2": None, "area_m2": area_f[i],
                        "measured_green_m2": measured_f[i], "measured_on": day, "missing": reason[i]})
    return (col.replace_rows(zh, rows, zh_rows), col.replace_rows(en, rows, en_rows),
            col.replace_rows(ev, rows, col.json_texts(ev_rows)))


@dataclass(frozen=True)
class ZoneGreen:
    """A zone's green accounting in m²; ``margin_m2`` = green − target × assessed area."""

    zone_id: int
    target: float
    zone_green_m2: float
    assessed_area_m2: float
    required_m2: float
    margin_m2: float
    parcel_green_m2: float
    dedicated_green_m2: float
    parcels_assessed: int
    unmeasured_built_m2: float
    unmeasured_built_parcels: int
    not_built_m2: float


def _zone_sums(pg: pd.DataFrame, verdict: pd.DataFrame, target: np.ndarray) -> pd.DataFrame:
    """Per zone: the sums behind the zone verdict (one groupby, no loop over parcels)."""
    area = pg["area_m2"].to_numpy(dtype=float)
    counted = pg["counted_green_m2"].to_numpy(dtype=float)
    ok = verdict["outcome"].isin(["surplus", "deficit"]).to_numpy()
    unmeasured = (verdict["outcome"] == CANNOT_EVALUATE).to_numpy()
    not_built = verdict["outcome"].isna().to_numpy()
    dedicated = pg["is_dedicated"].to_numpy()
    frame = pd.DataFrame({
        "zone_id": pg["zone_id"].to_numpy(),
        "target": target,
        "zone_green_m2": np.where(ok, counted, 0.0),
        "assessed_area_m2": np.where(ok, area, 0.0),
        "parcel_green_m2": np.where(ok & ~dedicated, counted, 0.0),
        "dedicated_green_m2": np.where(ok & dedicated, counted, 0.0),
        "parcels_assessed": ok.astype(int),
        "unmeasured_built_m2": np.where(unmeasured, np.nan_to_num(area), 0.0),
        "unmeasured_built_parcels": unmeasured.astype(int),
        "not_built_m2": np.where(not_built, np.nan_to_num(area), 0.0),
    })
    sums = frame.groupby("zone_id", sort=True).agg(
        target=("target", "first"), zone_green_m2=("zone_green_m2", "sum"),
        assessed_area_m2=("assessed_area_m2", "sum"), parcel_green_m2=("parcel_green_m2", "sum"),
        dedicated_green_m2=("dedicated_green_m2", "sum"), parcels_assessed=("parcels_assessed", "sum"),
        unmeasured_built_m2=("unmeasured_built_m2", "sum"),
        unmeasured_built_parcels=("unmeasured_built_parcels", "sum"), not_built_m2=("not_built_m2", "sum"))
    sums["required_m2"] = sums["target"] * sums["assessed_area_m2"]
    sums["margin_m2"] = sums["zone_green_m2"] - sums["required_m2"]
    return sums


def zone_green(parcels: pd.DataFrame, green_areas: pd.DataFrame, zone_id: int, as_of: dt.date,
               target: float | None = None, overrides: pd.DataFrame | None = None) -> ZoneGreen:
    """One zone's green accounting on ``as_of``: the arithmetic of the zone rule, for one zone.

    ``target`` defaults to the zone's ``target_ratio`` in force (overrides included).
    """
    mine = parcels[parcels["zone_id"] == zone_id]
    if mine.empty:
        raise InputError(f"zone {zone_id} has no parcels in the frame given")
    pg, verdict, t, _ = _assess_parcels(mine, green_areas, as_of, overrides, target)
    row = _zone_sums(pg, verdict, t).iloc[0]
    return ZoneGreen(zone_id=int(zone_id), **{k: (int(row[k]) if k in ("parcels_assessed", "unmeasured_built_parcels")
                                                 else float(row[k])) for k in ZoneGreen.__dataclass_fields__
                                              if k != "zone_id"})


def _zone_findings(pg, verdict, zones, as_of, overrides) -> pd.DataFrame:
    spec = GREEN_BALANCE_ZONE
    zone_ids = sorted(set(pd.unique(pg["zone_id"]).tolist())
                      | set(zones["id"].tolist() if zones is not None else []))
    per_zone = {k[0]: v for k, v in zone_params(spec, overrides, as_of=as_of,
                                                 keys=[(int(z), as_of.year) for z in zone_ids],
                                                 aliases=("green_balance",)).items()}
    target = pg["zone_id"].map({z: float(v[0]["target_ratio"]) for z, v in per_zone.items()}).to_numpy(dtype=float)
    sums = _zone_sums(pg, verdict, target) if len(pg) else pd.DataFrame()
    names = zones.set_index("id")["name_zh"].to_dict() if zones is not None else {}
    names_en = zones.set_index("id")["name_en"].to_dict() if zones is not None else {}
    day = as_of.isoformat()
    rows = []
    for z in zone_ids:
        values, prov = per_zone[int(z)]
        t = float(values["target_ratio"])
        zh_name, en_name = names.get(z, f"园区 {z}"), names_en.get(z, f"zone {z}")
        if z not in sums.index or sums.at[z, "parcels_assessed"] == 0:
            ev = {"target": t, "parcels_assessed": 0, "missing": "assessable parcels"}
            if z in sums.index:
                ev |= {"unmeasured_built_m2": round(float(sums.at[z, "unmeasured_built_m2"]), 1),
                       "not_built_m2": round(float(sums.at[z, "not_built_m2"]), 1)}
            rows.append((z, CANNOT_EVALUATE, prov, ev,
                         f"无法评估：{zh_name} 截至 {day} 没有可评估的地块（无绿地测量，也无专用绿地）",
                         (f"Cannot evaluate: {en_name} has no parcel to assess on {day} "
                          "(no green measurement, no dedicated green parcel)")))
            continue
        s = sums.loc[z]
        green_m2, assessed, required, margin = (float(s["zone_green_m2"]), float(s["assessed_area_m2"]),
                                                float(s["required_m2"]), float(s["margin_m2"]))
        unmeasured = float(s["unmeasured_built_m2"])
        share = unmeasured / (assessed + unmeasured) if assessed + unmeasured > 0 else 0.0
        ratio = green_m2 / assessed
        ev = {"zone_green_m2": round(green_m2, 1), "required_m2": round(required, 1), "margin_m2": round(margin, 1),
              "target": t, "zone_green_ratio": round(ratio, 4), "assessed_area_m2": round(assessed, 1),
              "parcel_green_m2": round(float(s["parcel_green_m2"]), 1),
              "dedicated_green_m2": round(float(s["dedicated_green_m2"]), 1),
              "parcels_assessed": int(s["parcels_assessed"]), "unmeasured_built_m2": round(unmeasured, 1),
              "unmeasured_built_parcels": int(s["unmeasured_built_parcels"]), "unmeasured_share": round(share, 4),
              "not_built_m2": round(float(s["not_built_m2"]), 1)}
        limit = float(values["max_unmeasured_share"])
        if share > limit + _TOL:
            rows.append((z, CANNOT_EVALUATE, prov, ev | {"missing": "green measurements of built parcels"},
                         (f"无法评估：{zh_name} 已建成用地中 {pct(share)}（{num(unmeasured)} m²，"
                          f"{int(s['unmeasured_built_parcels'])} 块）缺少绿地测量，超过 {pct(limit)}"),
                         (f"Cannot evaluate: {pct(share)} of {en_name}'s built land ({num(unmeasured)} m², "
                          f"{int(s['unmeasured_built_parcels'])} parcels) has no green measurement, more than "
                          f"{pct(limit)}")))
            continue
        balanced = margin >= -_TOL * max(assessed, 1)
        head_zh = (f"{zh_name} 绿地 {num(green_m2)} m²（地块绿地 {num(float(s['parcel_green_m2']))} + 专用绿地 "
                   f"{num(float(s['dedicated_green_m2']))}），占已评估用地 {num(assessed)} m² 的 {pct(ratio, 2)}，"
                   f"按目标 {pct(t)} 需 {num(required)} m²")
        head_en = (f"{en_name} has {num(green_m2)} m² of green (parcels {num(float(s['parcel_green_m2']))} + "
                   f"dedicated {num(float(s['dedicated_green_m2']))}), {pct(ratio, 2)} of the {num(assessed)} m² "
                   f"assessed; the {pct(t)} target needs {num(required)} m²")
        if balanced:
            zh = f"{head_zh}，总量平衡，余量 {num(margin)} m²（截至 {day}）"
            en = f"{head_en}: balanced with a margin of {num(margin)} m² (as of {day})"
        else:
            zh = f"{head_zh}，总量不足 {num(-margin)} m²（截至 {day}）"
            en = f"{head_en}: short by {num(-margin)} m² (as of {day})"
        rows.append((z, "balanced" if balanced else "short", prov, ev, zh, en))
    if not rows:
        return concat_findings([])
    z, outcome, prov, ev, zh, en = map(list, zip(*rows))
    outcome = np.array(outcome, dtype=object)
    return findings(spec, as_of, prov, zone_id=z, parcel_id=None, subject_type="zone",
                          subject_id=[str(x) for x in z], outcome=outcome, is_positive=outcome != "balanced",
                          evidence=ev, explanation_zh=zh, explanation_en=en)


def _industrial_findings(parcels, green, as_of, overrides) -> pd.DataFrame:
    spec = INDUSTRIAL_CONTROLS
    zid_all = parcels["zone_id"].to_numpy()
    per_zone = {k[0]: v for k, v in zone_params(spec, overrides, as_of=as_of,
                                                 keys=[(int(z), as_of.year) for z in pd.unique(zid_all)]).items()}
    prefixes = {z: str(v[0]["industrial_code_prefix"]) for z, v in per_zone.items()}
    codes = parcels["land_use_code"].astype(str)
    industrial = np.zeros(len(parcels), dtype=bool)
    for prefix in set(prefixes.values()):
        zones_with = [z for z, p in prefixes.items() if p == prefix]
        industrial |= np.isin(zid_all, zones_with) & codes.str.startswith(prefix).to_numpy()
    p = parcels[industrial]
    if p.empty:
        return concat_findings([])
    zid = p["zone_id"].to_numpy()

    def param(name):
        return pd.Series(zid).map({z: v[0][name] for z, v in per_zone.items()}).to_numpy(dtype=float)

    gmax, cmin, omax = param("green_max"), param("coverage_min"), param("office_living_max")
    built = per_row_isin(p["status"].to_numpy(), zid, {z: v[0]["built_statuses"] for z, v in per_zone.items()})
    pg = parcel_green(p, green, as_of, latest=latest_green(green, as_of), dedicated=np.zeros(len(p), dtype=bool))
    area = pg["area_m2"].to_numpy(dtype=float)
    ok_area = area > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(ok_area, pg["measured_green_m2"].to_numpy(dtype=float) / area, np.nan)
        c = np.where(ok_area, pg["building_footprint_m2"].to_numpy(dtype=float) / area, np.nan)
        o = np.where(ok_area, pg["office_living_area_m2"].to_numpy(dtype=float) / area, np.nan)
        g_bad = g > gmax * (1 + _TOL)
        c_bad = c < cmin * (1 - _TOL)
        o_bad = o > omax * (1 + _TOL)
    has_any = ~np.isnan(g) | ~np.isnan(c) | ~np.isnan(o)
    # unbuilt parcels with no figure yet are not assessed; built ones must have all three figures
    keep = built | has_any
    missing_any = np.isnan(g) | np.isnan(c) | np.isnan(o)
    outcome = np.select([g_bad, c_bad, o_bad, missing_any], ["green_above_max", "coverage_below_min",
                                                             "office_above_max", CANNOT_EVALUATE],
                        default="within_controls").astype(object)
    idx = np.flatnonzero(keep)
    g, c, o, gmax, cmin, omax = (x[idx] for x in (g, c, o, gmax, cmin, omax))
    g_bad, c_bad, o_bad, ok_area, out = g_bad[idx], c_bad[idx], o_bad[idx], ok_area[idx], outcome[idx]
    # the parcels with all three figures (nearly all) column-wise; the others one by one below
    code = g_bad.astype(int) * 4 + c_bad.astype(int) * 2 + o_bad.astype(int)
    combos = [[k for k, bad in (("green_ratio", a), ("coverage", b), ("office_share", c_)) if bad]
              for a in (False, True) for b in (False, True) for c_ in (False, True)]
    f = {"g": col.percents(g), "gs": col.choose(g_bad, ">", "≤"), "gl": col.each_distinct(gmax, pct),
         "c": col.percents(c), "cs": col.choose(c_bad, "<", "≥"), "cl": col.each_distinct(cmin, pct),
         "o": col.percents(o), "os": col.choose(o_bad, ">", "≤"), "ol": col.each_distinct(omax, pct)}
    dzh = col.sentence("绿地率 {g} {gs} {gl}，建筑系数 {c} {cs} {cl}，行政办公及生活服务设施用地占比 {o} {os} {ol}", **f)
    den = col.sentence("green ratio {g} {gs} {gl}; building coverage {c} {cs} {cl}; offices and living {o} {os} {ol}",
                       **f)
    violated = code > 0
    zh = col.choose(violated, col.sentence("不符合工业用地控制指标：{d}", d=dzh), col.sentence("符合工业用地控制指标：{d}", d=dzh))
    en = col.choose(violated, col.sentence("Industrial land controls not met: {d}", d=den),
                    col.sentence("Within the industrial land controls: {d}", d=den))
    area_i = area[idx]
    ev = col.json_objects({
        "green_ratio": col.j_float(g, 4), "coverage": col.j_float(c, 4), "office_share": col.j_float(o, 4),
        "green_max": col.j_float(gmax, 4), "coverage_min": col.j_float(cmin, 4),
        "office_living_max": col.j_float(omax, 4), "violations": col.j_lookup(code, combos),
        "missing": col.j_const([]), "area_m2": col.j_float(area_i, 1),
        "green_measured_on": col.j_date(pg["measured_on"].to_numpy()[idx])})
    complete = ~(np.isnan(g) | np.isnan(c) | np.isnan(o)) & ok_area
    partial = np.flatnonzero(~complete)
    if partial.size:
        zh, en, ev = _partial_industrial_texts(partial, out, code, combos, (g, c, o), (gmax, cmin, omax),
                                               (g_bad, c_bad, o_bad), ok_area, area_i,
                                               pg["measured_on"].to_numpy()[idx], zh, en, ev)
    ids = pg["id"].to_numpy()[idx]
    return findings(
        spec, as_of, [per_zone[int(z)][1] for z in zid[idx]], zone_id=zid[idx], parcel_id=ids,
        subject_type="parcel", subject_id=col.id_texts(ids), outcome=out, is_positive=out != "within_controls",
        evidence=col.evidence_column(ev), explanation_zh=col.text_column(zh), explanation_en=col.text_column(en))


def _partial_industrial_texts(rows, out, code, combos, shares, limits, bad, ok_area, area, measured_on, zh, en, ev):
    """The sentences and evidence of the industrial parcels lacking a figure (few), row by row."""
    g, c, o = (x[rows] for x in shares)
    g_s, c_s, o_s = pcts(g), pcts(c), pcts(o)
    gl, cl, ol = (col.each_distinct(x[rows], pct).to_pylist() for x in limits)
    g_sign, c_sign, o_sign = (np.where(b[rows], hi, lo).tolist() for b, hi, lo in zip(bad, (">", "<", ">"),
                                                                                    ("≤", "≥", "≤")))
    g_f, c_f, o_f = floats(g, 4), floats(c, 4), floats(o, 4)
    lim_f = [floats(x[rows], 4) for x in limits]
    area_f, days = floats(area[rows], 1), iso_list(measured_on[rows])
    zh_rows, en_rows, ev_rows = [], [], []
    for k, i in enumerate(rows.tolist()):
        violations = combos[int(code[i])]
        parts = [(lz, le) for v, lz, le in (
            (g_f[k], f"绿地率 {g_s[k]} {g_sign[k]} {gl[k]}", f"green ratio {g_s[k]} {g_sign[k]} {gl[k]}"),
            (c_f[k], f"建筑系数 {c_s[k]} {c_sign[k]} {cl[k]}", f"building coverage {c_s[k]} {c_sign[k]} {cl[k]}"),
            (o_f[k], f"行政办公及生活服务设施用地占比 {o_s[k]} {o_sign[k]} {ol[k]}",
             f"offices and living {o_s[k]} {o_sign[k]} {ol[k]}")) if v is not None]
        missing = ["area_m2"] if not ok_area[i] else [n for n, v in (
            ("green_ratio", g_f[k]), ("coverage", c_f[k]), ("office_share", o_f[k])) if v is None]
        dzh, den = "，".join(p[0] for p in parts), "; ".join(p[1] for p in parts)
        ev_rows.append({
            "green_ratio": g_f[k], "coverage": c_f[k], "office_share": o_f[k], "green_max": lim_f[0][k],
            "coverage_min": lim_f[1][k], "office_living_max": lim_f[2][k], "violations": violations,
            "missing": missing, "area_m2": area_f[k], "green_measured_on": days[k]})
        if out[i] == CANNOT_EVALUATE:
            zh_rows.append(f"无法评估：工业地块缺少{'、'.join(_NAMES_ZH[m] for m in missing)}（已知：{dzh or '无'}）")
            en_rows.append(f"Cannot evaluate: the industrial parcel lacks {', '.join(missing)} (known: {den or 'nothing'})")
        elif violations:
            zh_rows.append(f"不符合工业用地控制指标：{dzh}"
                           + (f"（缺{'、'.join(_NAMES_ZH[m] for m in missing)}）" if missing else ""))
            en_rows.append(f"Industrial land controls not met: {den}"
                           + (f" (missing {', '.join(missing)})" if missing else ""))
        else:
            zh_rows.append(f"符合工业用地控制指标：{dzh}")
            en_rows.append(f"Within the industrial land controls: {den}")
    return (col.replace_rows(zh, rows, zh_rows), col.replace_rows(en, rows, en_rows),
            col.replace_rows(ev, rows, col.json_texts(ev_rows)))


_NAMES_ZH = {"green_ratio": "绿地率", "coverage": "建筑系数", "office_share": "办公生活占比", "area_m2": "地块面积"}


def _cannot_zone_frame(zones, as_of, what) -> pd.DataFrame:
    if zones is None or zones.empty:
        return concat_findings([])
    n = len(zones)
    return findings(
        GREEN_BALANCE_ZONE, as_of, [param_provenance(GREEN_BALANCE_ZONE, {})] * n, zone_id=zones["id"].to_numpy(),
        parcel_id=None, subject_type="zone", subject_id=zones["id"].astype(str).to_numpy(), outcome=CANNOT_EVALUATE,
        is_positive=True, evidence=[{"missing": what}] * n, explanation_zh=[f"无法评估：缺少输入 {what}"] * n,
        explanation_en=[f"Cannot evaluate: missing {what}"] * n)


@dataclass(frozen=True)
class WhatIf:
    """The answer to "does a new project keep the zone in balance?"."""

    fits: bool
    zone_id: int
    area_m2: float
    green_ratio: float
    target: float
    margin_before_m2: float
    margin_after_m2: float
    min_green_ratio: float | None  # the lowest ratio that keeps the zone balanced (None: none does)
    explanation_zh: str
    explanation_en: str


def what_if_new_project(parcels: pd.DataFrame, green_areas: pd.DataFrame, zone_id: int, area_m2: float,
                        green_ratio: float, target: float | None = None, as_of: dt.date | None = None,
                        overrides: pd.DataFrame | None = None, industrial: bool = False) -> WhatIf:
    """Would a new project of ``area_m2`` with ``green_ratio`` keep the zone in balance?

    The new land joins the assessed area: margin after = margin now + area × (ratio − target).
    ``target`` defaults to the zone's ``target_ratio`` in force (overrides included). With
    ``industrial=True`` the answer also notes the 20% national cap on industrial parcels.

    Example:
        >>> import pandas as pd
        >>> p = pd.DataFrame({"id": [1], "zone_id": [3], "area_m2": [10_000.0], "land_use_code": ["100101"],
        ...                   "status": ["in_production"]})
        >>> g = pd.DataFrame({"parcel_id": [1], "measured_on": [pd.Timestamp("2026-01-05")],
        ...                   "green_area_m2": [1_400.0]})
        >>> what_if_new_project(p, g, 3, 10_000, 0.10, target=0.15, as_of=dt.date(2026, 6, 30)).fits
        False
    """
    as_of = as_of or dt.date.today()
    if not (area_m2 is not None and np.isfinite(area_m2) and area_m2 > 0):
        raise InputError(f"the new project's area must be a positive number of m², got {area_m2!r}")
    if not (green_ratio is not None and np.isfinite(green_ratio) and 0 <= green_ratio <= 1):
        raise InputError(f"the new project's green ratio must lie between 0 and 1 (e.g. 0.12), got {green_ratio!r}")
    values, _ = zone_params(GREEN_BALANCE, overrides, as_of=as_of, keys=[(int(zone_id), as_of.year)],
                            aliases=("green_balance_zone",))[(int(zone_id), as_of.year)]
    if target is None:
        target = float(values["target_ratio"])
    if not 0 <= target <= 1:
        raise InputError(f"the zone target must lie between 0 and 1, got {target!r}")
    acc = zone_green(parcels, green_areas, int(zone_id), as_of, target=target, overrides=overrides)
    after = acc.margin_m2 + area_m2 * (green_ratio - target)
    fits = after >= -_TOL * max(acc.assessed_area_m2 + area_m2, 1)
    g_min = target - acc.margin_m2 / area_m2
    min_ratio = None if g_min > 1 + _TOL else max(0.0, g_min)
    delta = area_m2 * (green_ratio - target)
    if min_ratio is None:
        need_zh, need_en = "即使绿地率 100% 也无法平衡", "not even 100% green would balance the zone"
    else:
        need_zh, need_en = f"保持平衡需绿地率至少 {pct(min_ratio, 2)}", f"balance needs at least {pct(min_ratio, 2)} green"
    zh = (f"园区目前余量 {num(acc.margin_m2)} m²（目标 {pct(target)}，截至 {as_of.isoformat()}）；新项目 "
          f"{num(area_m2)} m²、绿地率 {pct(green_ratio)}，{'增加' if delta >= 0 else '减少'}余量 {num(abs(delta))} m²，"
          f"之后余量 {num(after)} m²，{'仍可平衡' if fits else '不能平衡'}；{need_zh}")
    en = (f"The zone's margin is {num(acc.margin_m2)} m² (target {pct(target)}, as of {as_of.isoformat()}); "
          f"a new project of {num(area_m2)} m² at {pct(green_ratio)} green {'adds' if delta >= 0 else 'takes'} "
          f"{num(abs(delta))} m², leaving {num(after)} m²: "
          f"{'the zone stays balanced' if fits else 'the zone would be short'}; {need_en}")
    if industrial:
        cap = INDUSTRIAL_CONTROLS.param("green_max").default
        if green_ratio > cap:
            zh += f"；注意工业地块绿地率一般不超过 {pct(cap)}"
            en += f"; note that industrial parcels are normally capped at {pct(cap)} green"
        elif min_ratio is not None and min_ratio > cap:
            zh += f"；所需绿地率超过工业地块上限 {pct(cap)}，需另行安排专用绿地"
            en += f"; the ratio needed exceeds the {pct(cap)} industrial cap: dedicated green land is needed"
    return WhatIf(fits=bool(fits), zone_id=int(zone_id), area_m2=float(area_m2), green_ratio=float(green_ratio),
                  target=float(target), margin_before_m2=round(acc.margin_m2, 3), margin_after_m2=round(after, 3),
                  min_green_ratio=None if min_ratio is None else round(min_ratio, 6),
                  explanation_zh=zh, explanation_en=en)


@dataclass(frozen=True)
class ZoneWhatIf:
    """A what-if as people read it: the zone's green ratio and margin before and after a project,
    with the rule's answer (:class:`WhatIf`) and its sentence."""

    what_if: WhatIf
    parcel_id: int | None
    target: float
    ratio_before: float | None  # zone green / assessed area now (None: nothing assessed yet)
    ratio_after: float
    margin_before_m2: float
    margin_after_m2: float
    fits: bool
    explanation_zh: str
    explanation_en: str


def what_if_in_zone(parcels: pd.DataFrame, green_areas: pd.DataFrame, zone_id: int, area_m2: float,
                    green_ratio: float, parcel_id: int | None = None, as_of: dt.date | None = None,
                    overrides: pd.DataFrame | None = None, industrial: bool = False) -> ZoneWhatIf:
    """:func:`what_if_new_project` for a zone as it stands, on new land or on an existing parcel.

    On a parcel (``parcel_id``), the parcel's land and green leave the zone's accounting first and
    the project takes its place: for a parcel not yet counted (not built, not measured) the
    answer is :func:`what_if_new_project`'s; for a counted one, its current surplus or deficit
    is replaced. The zone's ratio is its green over the land assessed, before and after.

    Example:
        >>> p = pd.DataFrame({"id": [1, 2], "zone_id": [3, 3], "area_m2": [10_000.0, 4_000.0],
        ...                   "land_use_code": ["100101", "100101"], "status": ["in_production", "granted_unbuilt"]})
        >>> g = pd.DataFrame({"parcel_id": [1], "measured_on": [pd.Timestamp("2026-01-05")],
        ...                   "green_area_m2": [2_000.0]})
        >>> r = what_if_in_zone(p, g, 3, 4_000, 0.10, parcel_id=2, as_of=dt.date(2026, 6, 30))
        >>> r.fits, r.margin_before_m2, r.margin_after_m2, round(r.ratio_after, 4)
        (True, 500.0, 300.0, 0.1714)
    """
    as_of = as_of or dt.date.today()
    now = zone_green(parcels, green_areas, int(zone_id), as_of, overrides=overrides)
    rest = parcels if parcel_id is None else parcels[parcels["id"] != parcel_id]
    if parcel_id is not None and len(rest) == len(parcels):
        raise InputError(f"parcel {parcel_id} is not in the frame given")
    if not (rest["zone_id"] == zone_id).any():
        raise InputError(f"zone {zone_id} has no land besides parcel {parcel_id}: nothing to balance against")
    base = zone_green(rest, green_areas, int(zone_id), as_of, overrides=overrides)
    w = what_if_new_project(rest, green_areas, int(zone_id), area_m2, green_ratio, as_of=as_of,
                            overrides=overrides, industrial=industrial)
    ratio_before = now.zone_green_m2 / now.assessed_area_m2 if now.assessed_area_m2 > 0 else None
    ratio_after = (base.zone_green_m2 + area_m2 * green_ratio) / (base.assessed_area_m2 + area_m2)
    zh, en = w.explanation_zh, w.explanation_en
    if parcel_id is not None:
        code = str(parcels.loc[parcels["id"] == parcel_id, "code"].iloc[0]) if "code" in parcels else str(parcel_id)
        if base.assessed_area_m2 != now.assessed_area_m2:
            zh = (f"地块 {code} 现计入园区平衡（{num(now.margin_m2 - base.margin_m2)} m²），先移出该地块，"
                  f"园区余量由 {num(now.margin_m2)} m² 变为 {num(base.margin_m2)} m²；{zh}")
            en = (f"Parcel {code} counts in the zone's balance now ({num(now.margin_m2 - base.margin_m2)} m²); "
                  f"without it the zone's margin goes from {num(now.margin_m2)} m² to {num(base.margin_m2)} m². {en}")
        else:
            zh = f"地块 {code} 尚未计入园区平衡（未建成或未测量绿地）；{zh}"
            en = f"Parcel {code} is not yet counted in the zone's balance (not built or not measured). {en}"
    return ZoneWhatIf(what_if=w, parcel_id=parcel_id, target=w.target, ratio_before=ratio_before,
                      ratio_after=ratio_after, margin_before_m2=round(now.margin_m2, 3),
                      margin_after_m2=w.margin_after_m2, fits=w.fits, explanation_zh=zh, explanation_en=en)
