"""Zone performance evaluation (综合保税区发展绩效评估; docs/policy.md §5; SMPG GO [2021] No. 1 §3.5): annual
indicators per zone, the land indicators computed from the parcels, a weighted score, national and
regional ranks, the class of the method in force that year, rectification and exit-risk flags.

**An estimate**: it ranks only the zones this database holds (Shanghai's), so "nationally" here
makes class A the top two of Shanghai. The class a zone receives is the published national result,
recorded per year with its source (land.zone_national_results, gisapp.revitalization.rectification,
which raises the rectification flags); this rule's title, explanations and the dashboard say
"estimate" wherever its class is shown.

What is known and what is assumed:

- categories and weights: scale 50%, quality 20%, development and use 10% are the known weights
  (docs/policy.md §5); **ASSUMPTION**: the remaining 20% is split evenly, innovation 10% and compliance
  10%, under both the 2020 trial and the 2024 revised method. ``bonus_penalty`` indicators are
  added to the score as points.
- land indicators (category ``development``), computed for year Y at E = min(31 Dec Y, as-of):
  *share of the approved planning area accepted* = area of parcels whose completion was accepted
  (``construction_progress.accepted_on``) on or before E / the zone's approved area;
  *development rate of the fenced area* = area of parcels whose construction had started on or
  before E / area of the approved boundary in force on E. The parcel areas per zone and year are
  summed set-based in SQL (frame ``performance_land``: each parcel's first start and acceptance);
  this module adds the years up to E.
- every zone is scored and ranked, whatever zones a run reports (``gisapp assess --zone``): the
  ``performance_*`` frames are not restricted to the zones asked for.
- normalisation: each indicator is scaled over the zones scored that year to 0-100, min-max
  (``lower_is_better`` indicators reversed, e.g. customs violations; all-equal values give 100);
  a category's score is the mean of its indicators; the score is the weighted mean of the
  categories that have indicators that year, plus bonus/penalty points.
- ranks: "national" is over the zones in this database (Shanghai's, unless others are loaded),
  regional within ``zones.region``; ties share the better rank. Class by national rank: A if
  rank <= cut_A × N (2024 method: A = top 20%), B if rank <= cut_B × N, else C; the B/C cut is an
  **ASSUMPTION** (70%), a parameter per method.
- rectification: score below the regional average; exit risk: among the bottom 5 regionally and
  nationally in each of 2 consecutive years (as reported; all three are parameters).
- The year assessed is the last full year before the as-of date (``year_lag`` = 1).

Example:
    >>> classify(pd.Series([90.0, 80.0, 70.0, 60.0, 50.0]), (0.2, 0.7)).tolist()
    ['A', 'B', 'B', 'C', 'C']
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from gisapp.i18n import label
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec
from gisapp.rules.common import concat_findings, findings, fnum, gc_paused, num, pct, zone_params

_KNOWN = "customs zone performance evaluation method (docs/policy.md §5): scale 50%, quality 20%, development 10%"
_ASSUMED = "ASSUMPTION (weights not found): the remaining 20% split evenly between innovation and compliance"
_WEIGHTS = {"scale": 0.5, "quality": 0.2, "development": 0.1, "innovation": 0.1, "compliance": 0.1}

ZONE_PERFORMANCE = RuleSpec(
    "zone_performance", "1.0", "综合保税区发展绩效评估（本库估算）", "Zone performance evaluation (estimate)",
    (Param("weights", {"2020_trial": dict(_WEIGHTS), "2024_revised": dict(_WEIGHTS)}, f"{_KNOWN}; {_ASSUMED}",
           dt.date(2020, 1, 1), "category weights per method version"),
     Param("class_cuts", {"2020_trial": [0.2, 0.7], "2024_revised": [0.2, 0.7]},
           "2024 method: class A = top 20% nationally (docs/policy.md §5); the 2020 cuts and the B/C cut at 70% are "
           "an ASSUMPTION (not found)", dt.date(2024, 1, 1), "national rank shares ending classes A and B"),
     Param("lower_is_better", ["customs_violations"], "indicator definitions (violations count against a zone)",
           dt.date(2020, 1, 1), "indicators where a lower value is better"),
     Param("exit_bottom_n", 5, "exit as reported: bottom 5 regionally and nationally two years running "
           "(docs/policy.md §5)", dt.date(2024, 1, 1), "bottom places that count towards exit"),
     Param("exit_years", 2, "exit as reported (docs/policy.md §5)", dt.date(2024, 1, 1), "consecutive years"),
     Param("exit_scope", "national_and_regional", "exit as reported (docs/policy.md §5)", dt.date(2024, 1, 1),
           "national | regional | national_and_regional"),
     Param("year_lag", 1, "annual evaluation of the last full year", dt.date(2020, 1, 1),
           "years between the as-of year and the year assessed")))

SPECS: tuple[RuleSpec, ...] = (ZONE_PERFORMANCE,)
# ``zones``: the zones to report; the ``performance_*`` frames hold every zone (ranks need them all)
INPUTS: tuple[str, ...] = ("zones", "performance_zones", "performance_values", "performance_land",
                           "zone_boundary_history", "performance_methods")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = False
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 3

LAND_INDICATORS = ("accepted_share", "development_rate")
_REGION_ZH = {"east": "东部", "central_west": "中西部"}
_REGION_EN = {"east": "east", "central_west": "centre-west"}
_TOL = 1e-9


def classify(scores: pd.Series, cuts) -> pd.Series:
    """Class A/B/C from scores by national rank: A if rank <= cut_A × N, B if <= cut_B × N.

    Ties share the better rank, so tied zones at a cut share the better class.
    """
    n = int(scores.notna().sum())
    rank = scores.rank(ascending=False, method="min")
    cut_a, cut_b = float(cuts[0]), float(cuts[1])
    out = np.where(rank <= cut_a * n + _TOL, "A", np.where(rank <= cut_b * n + _TOL, "B", "C")).astype(object)
    out[scores.isna().to_numpy()] = None
    return pd.Series(out, index=scores.index)


def method_in_force(methods: pd.DataFrame, year: int) -> str | None:
    """The evaluation method in force for ``year`` (the latest effective on or before 31 Dec)."""
    if methods is None or methods.empty:
        return None
    eff = pd.to_datetime(methods["effective_from"])
    ok = methods[eff <= pd.Timestamp(year, 12, 31)]
    if ok.empty:
        return None
    return str(ok.loc[pd.to_datetime(ok["effective_from"]).idxmax(), "code"])


def land_indicators(zones: pd.DataFrame, land: pd.DataFrame, boundaries: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """Per zone on ``on``: accepted and developed parcel area, approved and boundary area, and the
    two land indicators (NaN where a denominator is missing or zero).

    ``land`` is the ``performance_land`` frame: parcel area per zone, event ('accepted' /
    'started') and the year it happened, events up to the as-of date only; areas are summed over
    the years up to ``on``.
    """
    out = pd.DataFrame(index=pd.Index(zones["id"].to_numpy(), name="zone_id"))
    upto = land[land["year"] <= on.year] if land is not None and len(land) else None
    for event, col in (("accepted", "accepted_area_m2"), ("started", "developed_area_m2")):
        if upto is None:
            out[col] = 0.0
            continue
        sums = upto[upto["event"] == event].groupby("zone_id")["area_m2"].sum()
        out[col] = sums.reindex(out.index).fillna(0.0).astype(float)
    out["approved_area_m2"] = zones.set_index("id")["approved_area_m2"].reindex(out.index).astype(float)
    day = pd.Timestamp(on)
    b = boundaries if boundaries is not None else pd.DataFrame(columns=["zone_id", "valid_from", "valid_to", "area_m2"])
    in_force = b[(pd.to_datetime(b["valid_from"]) <= day)
                 & (b["valid_to"].isna() | (pd.to_datetime(b["valid_to"]) > day))]
    out["boundary_area_m2"] = in_force.groupby("zone_id")["area_m2"].sum().reindex(out.index).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["accepted_share"] = np.where(out["approved_area_m2"] > 0,
                                         out["accepted_area_m2"] / out["approved_area_m2"], np.nan)
        out["development_rate"] = np.where(out["boundary_area_m2"] > 0,
                                           out["developed_area_m2"] / out["boundary_area_m2"], np.nan)
    return out


def score_year(inputs: dict[str, pd.DataFrame], year: int, as_of: dt.date,
               overrides: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Scores, ranks, classes and flags of every zone for ``year`` (one row per zone).

    Returns the frame and the context (method, parameters and their provenance, indicator set).
    A zone missing an indicator others have is not scored (``missing`` names what it lacks).
    """
    zones = inputs["performance_zones"]
    values, prov = zone_params(ZONE_PERFORMANCE, overrides, as_of=as_of, keys=[(None, year)])[(None, year)]
    method = method_in_force(inputs.get("performance_methods"), year)
    on = min(dt.date(year, 12, 31), as_of)
    land = land_indicators(zones, inputs.get("performance_land"), inputs.get("zone_boundary_history"), on)
    iv = inputs["performance_values"]
    iv = iv[iv["year"] == year]
    out = pd.DataFrame(index=pd.Index(zones["id"].to_numpy(), name="zone_id"))
    out["region"] = zones.set_index("id")["region"].reindex(out.index)
    out = out.join(land)
    ctx = {"year": year, "method": method, "values": values, "prov": prov, "on": on, "indicators": [],
           "categories": {}}
    out["score"] = np.nan
    out["missing"] = None
    if method is None or iv.empty:
        out["missing"] = (f"no evaluation method in force in {year}" if method is None
                          else f"indicator values for {year}")
        return out, ctx
    weights = {c: float(w) for c, w in values["weights"].get(method, _WEIGHTS).items()}
    plain = iv[iv["category"] != "bonus_penalty"]
    wide = plain.pivot_table(index="zone_id", columns="indicator", values="value", aggfunc="last")
    category_of = dict(zip(plain["indicator"], plain["category"]))
    for name in LAND_INDICATORS:
        wide[name] = land[name].reindex(wide.index) if len(wide) else np.nan
        category_of[name] = "development"
    wide = wide.reindex(out.index)
    indicators = sorted(wide.columns)
    complete = wide.notna().all(axis=1)
    out["missing"] = [None if ok else ", ".join(c for c in indicators if pd.isna(wide.at[z, c]))
                      for z, ok in zip(wide.index, complete)]
    scored = wide[complete]
    lower = set(values["lower_is_better"])
    norm = pd.DataFrame(index=scored.index)
    for c in indicators:
        v = scored[c].astype(float)
        lo, hi = v.min(), v.max()
        if not np.isfinite(hi - lo) or hi - lo <= _TOL * max(abs(hi), 1):
            norm[c] = 100.0
        else:
            norm[c] = 100 * ((hi - v) if c in lower else (v - lo)) / (hi - lo)
    cats = {c: [i for i in indicators if category_of.get(i) == c] for c in weights}
    used = {c: w for c, w in weights.items() if cats[c] and w > 0}
    total_w = sum(used.values())
    cat_scores = pd.DataFrame({c: norm[cats[c]].mean(axis=1) for c in used}, index=scored.index)
    bonus = iv[iv["category"] == "bonus_penalty"].groupby("zone_id")["value"].sum()
    score = (sum(cat_scores[c] * w for c, w in used.items()) / total_w if total_w else pd.Series(0.0, scored.index))
    score = score + bonus.reindex(scored.index).fillna(0.0)
    out.loc[scored.index, "score"] = score.round(6)
    for c in used:
        out.loc[scored.index, f"cat_{c}"] = cat_scores[c]
    s = out["score"]
    n = int(s.notna().sum())
    out["n_national"] = n
    out["rank_national"] = s.rank(ascending=False, method="min")
    out["rank_national_low"] = s.rank(ascending=False, method="max")
    out["rank_regional"] = s.groupby(out["region"]).rank(ascending=False, method="min")
    out["rank_regional_low"] = s.groupby(out["region"]).rank(ascending=False, method="max")
    out["n_regional"] = s.groupby(out["region"]).transform("count")
    out["regional_average"] = s.groupby(out["region"]).transform("mean")
    cuts = values["class_cuts"].get(method, [0.2, 0.7])
    out["class"] = classify(s, cuts)
    out["rectification"] = s < out["regional_average"] - _TOL
    bottom_n = int(values["exit_bottom_n"])
    nat_bottom = out["rank_national_low"] > out["n_national"] - bottom_n
    reg_bottom = out["rank_regional_low"] > out["n_regional"] - bottom_n
    scope = values["exit_scope"]
    out["bottom"] = (nat_bottom & reg_bottom if scope == "national_and_regional"
                     else nat_bottom if scope == "national" else reg_bottom) & s.notna()
    ctx.update(indicators=indicators, categories={c: cats[c] for c in used}, weights=used, cuts=cuts,
               normalised=norm, raw=wide)
    return out, ctx


@gc_paused
def evaluate(inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """One ``zone_performance`` finding per zone for the last full year before ``as_of``."""
    zones = inputs.get("zones")
    if zones is None or zones.empty:
        return concat_findings([])
    base, _ = zone_params(ZONE_PERFORMANCE, overrides, as_of=as_of, keys=[(None, as_of.year)])[(None, as_of.year)]
    year = as_of.year - int(base["year_lag"])
    missing_frames = [n for n in ("performance_zones", "performance_values", "performance_land")
                      if inputs.get(n) is None]
    if missing_frames:
        what = ", ".join(missing_frames)
        return _cannot(zones, as_of, year, base, {"missing": what}, f"缺少输入 {what}", f"missing input {what}")
    cur, ctx = score_year(inputs, year, as_of, overrides)
    values = ctx["values"]
    exit_years = int(values["exit_years"])
    history = [cur]
    for back in range(1, exit_years):
        prev, _ = score_year(inputs, year - back, as_of, overrides)
        history.append(prev)
    method, cuts = ctx["method"], ctx.get("cuts")
    names = zones.set_index("id")
    zh, en, ev, outcomes = [], [], [], []
    report = [z for z in zones["id"].tolist() if z in cur.index]
    for z in report:
        r = cur.loc[z]
        name_zh, name_en = names.at[z, "name_zh"], names.at[z, "name_en"]
        land_ev = {"accepted_share": fnum(r["accepted_share"]), "development_rate": fnum(r["development_rate"]),
                   "accepted_area_m2": fnum(r["accepted_area_m2"]), "approved_area_m2": fnum(r["approved_area_m2"]),
                   "developed_area_m2": fnum(r["developed_area_m2"]), "boundary_area_m2": fnum(r["boundary_area_m2"]),
                   "computed_on": ctx["on"].isoformat()}
        if pd.isna(r["score"]):
            outcomes.append(CANNOT_EVALUATE)
            ev.append({"year": year, "method": method, "score": None, "rank_national": None, "rank_regional": None,
                       "missing": r["missing"], "land": land_ev})
            zh.append(f"无法评估：{name_zh} {year} 年绩效评估缺少 {r['missing']}")
            en.append(f"Cannot evaluate: {name_en}'s {year} performance evaluation lacks {r['missing']}")
            continue
        bottoms = [bool(h.at[z, "bottom"]) if z in h.index and pd.notna(h.at[z, "score"]) else None for h in history]
        exit_risk = all(b is True for b in bottoms)
        cls = r["class"]
        outcome = "exit_risk" if exit_risk else "rectification" if r["rectification"] else f"class_{cls.lower()}"
        outcomes.append(outcome)
        n, rn, rr, nr = int(r["n_national"]), int(r["rank_national"]), int(r["rank_regional"]), int(r["n_regional"])
        region = r["region"]
        ev.append({
            "year": year, "method": method, "score": round(float(r["score"]), 2), "rank_national": rn,
            "n_national": n, "rank_regional": rr, "n_regional": nr, "region": region, "class": cls,
            "class_cuts": cuts, "regional_average": round(float(r["regional_average"]), 2),
            "rectification": bool(r["rectification"]), "exit_risk": exit_risk,
            "bottom_by_year": {str(year - k): b for k, b in enumerate(bottoms)},
            "categories": {c: round(float(r[f"cat_{c}"]), 2) for c in ctx["categories"]},
            "weights": ctx["weights"],
            "indicators": {i: {"value": fnum(ctx["raw"].at[z, i]), "normalised": round(float(ctx["normalised"].at[z, i]), 2)}
                           for i in ctx["indicators"]},
            "land": land_ev})
        a_places = math.floor(float(cuts[0]) * n + _TOL)
        # the method by its name; the rank gives the class, and the sentence ends on the verdict,
        # which for exit risk or rectification is that flag, not the class
        head_zh = (f"{name_zh} {year} 年（{label('method', method, 'zh')}）综合得分 {num(float(r['score']), 1)}，"
                   f"库内全国 {n} 个园区第 {rn} 名、{_REGION_ZH.get(region, region)}第 {rr}/{nr} 名，"
                   f"A 类为前 {pct(cuts[0])}（前 {a_places} 名），按库内排名估算属 {cls} 类（估算，非国家公布结果）")
        head_en = (f"{name_en} scored {num(float(r['score']), 1)} in {year} ({label('method', method, 'en')}): "
                   f"rank {rn} of {n} zones nationally (in this database), {rr} of {nr} in the "
                   f"{_REGION_EN.get(region, region)} region; class A is the top {pct(cuts[0])} ({a_places} places): "
                   f"an estimated class {cls} by this rank (an estimate, not the published national result)")
        avg = num(float(r["regional_average"]), 1)
        tail_zh = f"；土地指标：验收面积占比 {pct(r['accepted_share'])}，围网开发率 {pct(r['development_rate'])}"
        tail_en = (f"; land: {pct(r['accepted_share'])} of the approved area accepted, {pct(r['development_rate'])} "
                   "of the fenced area developed")
        if exit_risk:
            yrs = "、".join(str(year - k) for k in range(exit_years))
            zh.append(f"{head_zh}；但 {yrs} 年连续位列倒数 {values['exit_bottom_n']} 名，结论为退出风险（不论等级）"
                      f"{tail_zh}")
            en.append(f"{head_en}; but in the bottom {values['exit_bottom_n']} in each of {yrs.replace('、', ', ')}: "
                      f"the verdict is exit risk, whatever the class{tail_en}")
        elif r["rectification"]:
            zh.append(f"{head_zh}；但低于{_REGION_ZH.get(region, region)}平均分 {avg}，结论为限期整改{tail_zh}")
            en.append(f"{head_en}; but below the regional average of {avg}: the verdict is rectification{tail_en}")
        else:
            zh.append(f"{head_zh}；不低于{_REGION_ZH.get(region, region)}平均分 {avg}，估算结论为 {cls} 类{tail_zh}")
            en.append(f"{head_en}; not below the regional average of {avg}: the estimated verdict is class {cls}"
                      f"{tail_en}")
    outcomes = np.array(outcomes, dtype=object)
    return findings(
        ZONE_PERFORMANCE, as_of, [ctx["prov"]] * len(report), zone_id=report, parcel_id=None,
        subject_type="zone", subject_id=[str(z) for z in report], outcome=outcomes,
        is_positive=np.isin(outcomes, ["rectification", "exit_risk", CANNOT_EVALUATE]),
        evidence=ev, explanation_zh=zh, explanation_en=en)


def _cannot(zones, as_of, year, prov_values, evidence, why_zh, why_en) -> pd.DataFrame:
    n = len(zones)
    _, prov = zone_params(ZONE_PERFORMANCE, None, as_of=as_of, keys=[(None, year)])[(None, year)]
    return findings(
        ZONE_PERFORMANCE, as_of, [prov] * n, zone_id=zones["id"].to_numpy(), parcel_id=None, subject_type="zone",
        subject_id=zones["id"].astype(str).to_numpy(), outcome=CANNOT_EVALUATE, is_positive=True,
        evidence=[{"year": year, **evidence}] * n, explanation_zh=[f"无法评估：{year} 年绩效评估{why_zh}"] * n,
        explanation_en=[f"Cannot evaluate: the {year} performance evaluation has {why_en}"] * n)
