"""Per-mu (亩均) evaluation: indicators per parcel and year, a weighted score, classes A-D.

One finding per parcel that has enterprise metrics (or is in production), for the evaluation
year: the calendar year before the as-of date (annual statistics of a year are complete only
after it ends; parameter ``year_lag``).

- Indicators from ``land.enterprise_metrics`` and the parcel's area (mu = m² × 15 / 10,000):
  tax per mu, value added per mu, value added per tce, value added per t of emissions, labour
  productivity (value added per employee), R&D share of revenue (%). Small firms
  (``grading_category = 'small'``) are scored on tax per mu and tax per kWh only.
- Score = Σ weight × value / benchmark (weights 30/20/20/10/10/10, small firms 50/50: the
  Huangyan worked example, docs/policy.md §5). The benchmark of an indicator is the median among the
  graded firms of the zone and year (same scheme), unless overridden (parameter ``benchmarks``).
  A benchmark of zero, negative or missing cannot score: that indicator is left out, the finding
  says so, and the score is scaled to the full weight over the indicators that can be scored.
- Classes by rank within the zone and year: A if the share of graded firms ranked at or above
  the firm is at most 25%, B at most 70%, D if the share ranked at or below it is at most 5%
  (the bottom 5%), C otherwise (cuts are parameters). So A never holds more than 25% of the
  firms, A+B never more than 70%, D never more than 5% (rounded down).
- Tie rule: firms whose scores agree to 4 decimals share the best rank of their group, so a
  tie straddling a cut puts the whole group in the better class; no firm is classed below
  another with the same score. A class may then exceed its share by the size of the tie group.
- Categories ``startup`` and ``under_construction`` are not graded. Class D is the
  low-efficiency candidate (is_positive); the zone office confirms it.
- A firm missing a metric its scheme needs (or with a zero denominator: no energy use recorded,
  no employees) cannot be evaluated; the finding names the missing metrics.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gisapp.rules import columnar as col
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec, empty_findings
from gisapp.rules.common import (
    MU_PER_M2,
    ZoneParams,
    findings,
    format_each,
    gc_paused,
    ints_or_none,
)

HUANGYAN = "黄岩区亩均评价（docs/policy.md §5）"  # short: stored with every finding
RANK_SCHEME = "亩均分类 A25/B70/C95/D5（docs/policy.md §5）"
SINCE = dt.date(2018, 1, 1)

#: indicator -> (name zh, name en, unit)
INDICATORS = {
    "tax_per_mu": ("亩均税收", "tax per mu", "万元/亩"),
    "va_per_mu": ("亩均增加值", "value added per mu", "万元/亩"),
    "va_per_tce": ("单位能耗增加值", "value added per tce", "万元/tce"),
    "va_per_emission": ("单位排放增加值", "value added per t of emissions", "万元/t"),
    "labour_productivity": ("全员劳动生产率", "labour productivity", "万元/人"),
    "rd_share": ("研发经费占营业收入比重", "R&D share of revenue", "%"),
    "tax_per_kwh": ("单位电耗税收", "tax per kWh", "元/kWh"),
}
REGULAR_WEIGHTS = {
    "tax_per_mu": 30,
    "va_per_mu": 20,
    "va_per_tce": 20,
    "va_per_emission": 10,
    "labour_productivity": 10,
    "rd_share": 10,
}
SMALL_WEIGHTS = {"tax_per_mu": 50, "tax_per_kwh": 50}
# metrics each indicator needs (numerator, denominator); denominators must be > 0
NEEDS = {
    "tax_per_mu": ("tax_wan", "mu"),
    "va_per_mu": ("value_added_wan", "mu"),
    "va_per_tce": ("value_added_wan", "energy_tce"),
    "va_per_emission": ("value_added_wan", "emissions_t"),
    "labour_productivity": ("value_added_wan", "employees"),
    "rd_share": ("rd_spend_wan", "revenue_wan"),
    "tax_per_kwh": ("tax_wan", "electricity_kwh"),
}
NOT_GRADED = {"startup": ("初创企业", "a start-up"), "under_construction": ("在建企业", "under construction")}

SPEC = RuleSpec(
    "per_mu",
    "1.0",
    "亩均效益评价",
    "Per-mu evaluation",
    (
        Param("weights", REGULAR_WEIGHTS, HUANGYAN, SINCE, "indicator weights of regular firms"),
        Param("small_weights", SMALL_WEIGHTS, HUANGYAN, SINCE, "indicator weights of small firms"),
        Param(
            "benchmarks",
            {},
            "项目约定：本区当年中位数",
            SINCE,
            "indicator -> benchmark value; missing indicators use the zone-year median",
        ),
        Param(
            "class_cuts",
            [0.25, 0.70, 0.95],
            RANK_SCHEME,
            SINCE,
            "cumulative rank shares ending classes A, B, C (D is the rest)",
        ),
        Param("year_lag", 1, "项目约定", SINCE, "evaluation year = as-of year minus this"),
    ),
)
SPECS = (SPEC,)
INPUTS = ("parcels", "enterprise_metrics")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 13
OPTIONAL_INPUTS = ("metric_parcels",)
GRADED = ("regular", "small")
# metrics that are denominators: zero means "not recorded" for a firm, so it cannot be scored
POSITIVE = {"mu", "energy_tce", "emissions_t", "employees", "revenue_wan", "electricity_kwh"}
METRICS = [
    "revenue_wan",
    "tax_wan",
    "value_added_wan",
    "energy_tce",
    "electricity_kwh",
    "emissions_t",
    "employees",
    "rd_spend_wan",
]


@gc_paused
def evaluate(
    inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``per_mu`` findings for the evaluation year of ``as_of``."""
    parcels = inputs["parcels"]
    metrics = inputs["enterprise_metrics"]
    year = evaluation_year(as_of, overrides)
    # metric_parcels: the parcels with metrics of any year, given when ``metrics`` holds only the
    # evaluation year (assess reads only that one, see input_params)
    with_metrics = metrics["parcel_id"]
    if "metric_parcels" in inputs:
        with_metrics = pd.concat([with_metrics, inputs["metric_parcels"]["parcel_id"]], ignore_index=True)
    subjects = _subjects(parcels, with_metrics)
    if subjects.empty:
        return empty_findings()
    frame = _year_metrics(subjects, metrics, year)
    zp = ZoneParams(SPEC, overrides, as_of, frame["zone_id"], year)
    return _score_and_class(frame, year, zp, as_of)


def evaluation_year(as_of: dt.date, overrides: pd.DataFrame | None = None) -> int:
    """The year whose metrics are graded: the as-of year minus the city-wide ``year_lag``."""
    lag = ZoneParams(SPEC, overrides, as_of, np.array([0]))
    return as_of.year - int(lag.first()["year_lag"])


def input_params(as_of: dt.date, overrides: pd.DataFrame | None = None) -> dict:
    """What `gisapp assess` may restrict this module's input frames to: the evaluation year's
    metrics (a third of the rows at city scale; the other years only name subjects, which
    ``metric_parcels`` gives)."""
    return {"metric_years": [evaluation_year(as_of, overrides)]}


def _subjects(parcels: pd.DataFrame, with_metrics: pd.Series) -> pd.DataFrame:
    """Parcels with metrics in any year, and parcels in production or marked low-efficiency."""
    ids = pd.Index(with_metrics.unique()).union(
        parcels.loc[parcels["status"].isin(["in_production", "low_efficiency"]), "id"]
    )
    p = parcels[parcels["id"].isin(ids)][["id", "zone_id", "area_m2", "status"]]
    return p.rename(columns={"id": "parcel_id"}).reset_index(drop=True)


def _year_metrics(subjects: pd.DataFrame, metrics: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per subject parcel with the year's metrics summed over its enterprises."""
    m = metrics[metrics["year"] == year]
    if m["parcel_id"].duplicated().any():
        # several firms on one parcel: graded firms are summed; the parcel is graded as regular
        # if any of them is, as small if all graded ones are small
        graded = m[m["grading_category"].isin(GRADED)]
        sums = graded.groupby("parcel_id")[METRICS].sum(min_count=1)
        cat = graded.groupby("parcel_id")["grading_category"].agg(
            lambda c: "regular" if (c == "regular").any() else "small"
        )
        ungraded = m[~m["parcel_id"].isin(graded["parcel_id"])].drop_duplicates("parcel_id")
        firm = graded.groupby("parcel_id")["enterprise_id"].first()
        agg = pd.concat(
            [
                sums.assign(grading_category=cat, enterprise_id=firm).reset_index(),
                ungraded[["parcel_id", "grading_category", "enterprise_id", *METRICS]],
            ],
            ignore_index=True,
        )
    else:
        agg = m[["parcel_id", "grading_category", "enterprise_id", *METRICS]]
    out = subjects.merge(agg, on="parcel_id", how="left")
    out["mu"] = out["area_m2"] * MU_PER_M2
    return out


def _indicator_values(f: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each indicator's value, and whether its inputs are usable (present, denominator > 0)."""
    values, usable = {}, {}
    for ind, (num, den) in NEEDS.items():
        a = f[num].to_numpy(dtype="float64")
        b = f[den].to_numpy(dtype="float64")
        ok = ~np.isnan(a) & ~np.isnan(b) & (b > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(ok, a / b, np.nan)
        if ind == "rd_share":
            v = v * 100
        elif ind == "tax_per_kwh":
            v = v * 10_000  # 万元 -> 元
        values[ind], usable[ind] = v, ok
    return values, usable


def _score_and_class(f: pd.DataFrame, year: int, zp: ZoneParams, as_of: dt.date) -> pd.DataFrame:
    n = len(f)
    cat = f["grading_category"].to_numpy(dtype=object)
    has_metrics = ~pd.isna(cat)
    graded = np.isin(cat, GRADED)
    small = cat == "small"
    values, _usable = _indicator_values(f)
    # the weight of each indicator per row, by the firm's scheme (resolved once per zone)
    weight = {
        ind: np.where(
            small,
            zp.derived(lambda v, i=ind: v["small_weights"].get(i, 0)),
            zp.derived(lambda v, i=ind: v["weights"].get(i, 0)),
        )
        for ind in NEEDS
    }
    # metrics a firm's scheme needs and lacks (missing, or a zero denominator)
    lacking = {}
    for metric in METRICS + ["mu"]:
        needed = np.zeros(n, dtype=bool)
        for ind, pair in NEEDS.items():
            if metric in pair:
                needed |= weight[ind] > 0
        v = f[metric].to_numpy(dtype="float64")
        bad = np.isnan(v) | ((v <= 0) if metric in POSITIVE else False)
        lacking[metric] = graded & needed & bad
    any_lacking = np.logical_or.reduce(list(lacking.values()))
    missing = {i: [m for m in lacking if lacking[m][i]] for i in np.flatnonzero(any_lacking).tolist()}
    complete = graded & ~any_lacking

    # benchmarks: override, else the zone-year median of the complete graded firms of the scheme
    zone = f["zone_id"].to_numpy(dtype="int64")
    bench, overridden = {}, {}
    for ind in NEEDS:
        med = (
            pd.Series(np.where(complete, values[ind], np.nan))
            .groupby([zone, small])
            .transform("median")
            .to_numpy()
        )
        has_ov = zp.derived(
            lambda v, i=ind: isinstance(v["benchmarks"], dict) and i in v["benchmarks"], "bool"
        )
        ov = zp.derived(
            lambda v, i=ind: (
                (v["benchmarks"] or {}).get(i, np.nan) if isinstance(v["benchmarks"], dict) else np.nan
            )
        )
        bench[ind] = np.where(has_ov, ov, med)
        overridden[ind] = has_ov

    total_w = np.zeros(n)
    scored_w = np.zeros(n)
    acc = np.zeros(n)
    scored = {}
    for ind in NEEDS:
        w = weight[ind]
        b = bench[ind]
        can = (w > 0) & ~np.isnan(b) & (b > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            acc += np.where(can, w * values[ind] / b, 0.0)
        total_w += w
        scored_w += np.where(can, w, 0.0)
        scored[ind] = can
    ok = complete & (scored_w > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(ok, acc * total_w / scored_w, np.nan)

    # rank within zone among the firms that could be scored
    cuts = zp.column("class_cuts", None)
    rank, count, cls = rank_classes(np.where(ok, score, np.nan), zone, cuts)
    outcome = np.where(ok, cls, np.where(has_metrics & ~graded, "not_graded", CANNOT_EVALUATE))

    parts = {
        "values": values,
        "bench": bench,
        "weight": weight,
        "scored": scored,
        "overridden": overridden,
        "score": score,
        "rank": rank,
        "count": count,
        "total_w": total_w,
        "scored_w": scored_w,
    }
    ev, zh, en = _evidence_and_text(f, year, outcome, small, missing, zp, parts)
    frame = findings(
        SPEC,
        as_of,
        zp,
        zone_id=zone,
        parcel_id=f["parcel_id"].to_numpy(dtype="int64"),
        subject_type="parcel",
        subject_id=col.id_texts(f["parcel_id"]),
        outcome=outcome,
        is_positive=np.isin(outcome, ["class_d", CANNOT_EVALUATE]),
        evidence=ev,
        explanation_zh=zh,
        explanation_en=en,
    )
    return frame


def rank_classes(score: np.ndarray, group: np.ndarray, cuts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank (1 = best), graded count and class of each score within its group.

    ``cuts`` is one ``[a, b, c]`` for all rows or one per row. NaN scores are not ranked (class
    ''). A if the share ranked at or above is <= a, B if <= b, D if the share ranked at or below
    is <= 1 - c, C otherwise. Scores equal to 4 decimals share the best rank of their group.

    Example:
        >>> rank_classes(np.array([9.0, 8.0, 8.0, 1.0]), np.zeros(4), [0.25, 0.7, 0.95])[2].tolist()
        ['class_a', 'class_b', 'class_b', 'class_c']
    """
    score = np.asarray(score, dtype="float64")
    n = score.size
    if n == 0:
        return np.empty(0), np.empty(0, dtype="int64"), np.empty(0, dtype=object)
    if len(cuts) == 3 and not isinstance(cuts[0], (list, tuple, np.ndarray)):
        cuts = [cuts] * n
    ok = ~np.isnan(score)
    key = np.round(score, 4)
    rank = pd.Series(np.where(ok, -key, np.nan)).groupby(group).rank(method="min").to_numpy()
    count = pd.Series(ok.astype(int)).groupby(group).transform("sum").to_numpy()
    cut_a = np.array([c[0] for c in cuts], dtype="float64")
    cut_b = np.array([c[1] for c in cuts], dtype="float64")
    cut_c = np.array([c[2] for c in cuts], dtype="float64")
    eps = 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        above = rank / count  # share ranked at or above the firm (itself included)
        below = (count - rank + 1) / count  # share ranked at or below it
    cls = np.select(
        [~ok, above <= cut_a + eps, above <= cut_b + eps, below <= (1 - cut_c) + eps],
        ["", "class_a", "class_b", "class_d"],
        "class_c",
    )
    return rank, count, cls


def _position(outcome: str, cut) -> tuple[str, str]:
    """Where a class sits, as people say it (前 25% / top 25%)."""
    share = {"class_a": cut[0], "class_b": cut[1], "class_c": cut[2]}.get(outcome)
    if share is None:
        return f"末 {100 - cut[2] * 100:g}%", f"bottom {100 - cut[2] * 100:g}%"
    return f"前 {share * 100:g}%", f"top {share * 100:g}%"


def _flagged(names: list[str], flags: dict[str, np.ndarray], n: int) -> list[list[str]]:
    """Per row, the names whose flag is set (fast when, as usual, none is)."""
    out: list[list[str]] = [[] for _ in range(n)]
    for name in names:
        for k in np.flatnonzero(flags[name]).tolist():
            out[k].append(name)
    return out


CLASS_TEXT = {
    "class_a": ("A 类", "class A"),
    "class_b": ("B 类", "class B"),
    "class_c": ("C 类", "class C"),
    "class_d": ("D 类", "class D"),
}


def _evidence_and_text(
    f: pd.DataFrame,
    year: int,
    outcome: np.ndarray,
    small: np.ndarray,
    missing: dict[int, list[str]],
    zp: ZoneParams,
    parts: dict,
) -> tuple[col.EvidenceArray, list, list]:
    """The evidence column and the two explanations, built per outcome with list comprehensions
    (the graded rows' evidence column-wise)."""
    n = len(f)
    ev: list = [None] * n
    graded_ev: list[tuple[np.ndarray, object]] = []  # (rows, their evidence as JSON text)
    zh: list[str] = [""] * n
    en: list[str] = [""] * n
    cat = f["grading_category"].tolist()
    ent = ints_or_none(f["enterprise_id"])

    def put(idx, evs, zhs, ens):
        for i, e, z, x in zip(idx, evs, zhs, ens):
            ev[i], zh[i], en[i] = e, z, x

    # cannot evaluate: no metrics of the year, metrics missing, or nothing to score against
    idx = np.flatnonzero(outcome == CANNOT_EVALUATE).tolist()
    evs, zhs, ens = [], [], []
    for i in idx:
        miss = missing.get(i) or (
            [] if cat[i] == cat[i] and cat[i] is not None else [f"enterprise_metrics {year}"]
        )
        evs.append(
            {
                "year": year,
                "category": cat[i] if isinstance(cat[i], str) else None,
                "enterprise_id": ent[i],
                "missing": miss,
            }
        )
        if not isinstance(cat[i], str):
            zhs.append(f"无法评价：缺少 {year} 年企业指标数据（enterprise_metrics）")
            ens.append(f"Cannot evaluate: no enterprise metrics for {year}")
        elif i in missing:
            zhs.append(f"无法评价：{year} 年指标缺失或为零：{'、'.join(miss)}")
            ens.append(f"Cannot evaluate: {year} metrics missing or zero: {', '.join(miss)}")
        else:
            zhs.append(f"无法评价：{year} 年本区各指标基准均为 0 或缺失，无可计分指标")
            ens.append(f"Cannot evaluate: every indicator benchmark of the zone in {year} is zero or missing")
    put(idx, evs, zhs, ens)

    idx = np.flatnonzero(outcome == "not_graded").tolist()
    put(
        idx,
        [{"year": year, "category": cat[i], "enterprise_id": ent[i]} for i in idx],
        [
            f"{year} 年为{NOT_GRADED.get(cat[i], (cat[i],))[0]}（{cat[i]}），按规定不参与亩均评价分类"
            for i in idx
        ],
        [
            f"In {year} the firm is {NOT_GRADED.get(cat[i], (cat[i], cat[i]))[1]} ({cat[i]}): not graded by "
            f"the "
            "per-mu evaluation"
            for i in idx
        ],
    )

    # graded: one comprehension per scheme and indicator, then the texts
    score = np.round(parts["score"], 2)
    rank, count = parts["rank"], parts["count"]
    above = np.round(rank / np.where(count > 0, count, 1), 4)
    # "top 25%" etc. per class, formatted once per zone
    pos = {
        o: (
            zp.derived(lambda v, o=o: _position(o, v["class_cuts"])[0], None),
            zp.derived(lambda v, o=o: _position(o, v["class_cuts"])[1], None),
        )
        for o in CLASS_TEXT
    }
    out_l = outcome.tolist()
    for scheme_small in (False, True):
        mask = np.isin(outcome, list(CLASS_TEXT)) & (small == scheme_small)
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            continue
        inds = [ind for ind in NEEDS if (parts["weight"][ind][idx] > 0).any()]
        il = idx.tolist()
        unscored = _flagged(
            inds, {ind: (parts["weight"][ind][idx] > 0) & ~parts["scored"][ind][idx] for ind in inds}, len(il)
        )
        scheme = "small" if scheme_small else "regular"
        rk_l, ct_l = rank[idx].astype(int).tolist(), count[idx].astype(int).tolist()
        # the evidence column-wise (a nested object per indicator); the overridden benchmarks as
        # one of the 2^k subsets of the indicators, each written once
        overridden = sum(parts["overridden"][ind][idx].astype(int) << k for k, ind in enumerate(inds))
        subsets = [[ind for k, ind in enumerate(inds) if code >> k & 1] for code in range(2 ** len(inds))]
        graded_ev.append((idx, col.json_objects({
            "year": col.j_const(year), "category": col.j_str(f["grading_category"].to_numpy()[idx]),
            "enterprise_id": col.j_int(f["enterprise_id"].iloc[idx]), "scheme": col.j_const(scheme),
            "score": col.j_float(score[idx], None), "rank": col.j_int(rank[idx]),
            "graded_in_zone": col.j_int(count[idx]), "percentile": col.j_float(above[idx], None),
            "indicators": col.json_objects({ind: col.json_objects({
                "value": col.j_float(parts["values"][ind][idx], 4),
                "benchmark": col.j_float(parts["bench"][ind][idx], 4),
                "weight": col.j_float(parts["weight"][ind][idx], None),
                "scored": col.j_bool(parts["scored"][ind][idx])}) for ind in inds}),
            "benchmarks_overridden": col.j_lookup(overridden, subsets)})))
        evs = [None] * len(il)
        # scores and shares repeat a lot once rounded: format each distinct one once ("nan" as an
        # f-string would write it, though graded rows always have both)
        sc_t = format_each(score[idx], lambda x: f"{x:.1f}", "nan")
        ab_t = format_each(above[idx], lambda x: f"{x * 100:.1f}", "nan")
        lab_zh, lab_en = _class_labels(outcome[idx], pos, idx)
        zhs = [
            f"{year} 年亩均评价得分 {s_}（本区第 {r_}/{c_} 名，前 {a_}%），{lz}"
            for s_, r_, c_, a_, lz in zip(sc_t, rk_l, ct_l, ab_t, lab_zh)
        ]
        ens = [
            f"{year} per-mu score {s_} (rank {r_} of {c_} in the zone, top {a_}%): {le}"
            for s_, r_, c_, a_, le in zip(sc_t, rk_l, ct_l, ab_t, lab_en)
        ]
        for k, (i, un) in enumerate(zip(il, unscored)):
            if un:
                sw, tw = parts["scored_w"][i], parts["total_w"][i]
                zhs[k] += (
                    f"；{'、'.join(INDICATORS[u][0] for u in un)}基准为 0 或缺失，不计分，"
                    f"得分按其余 {sw:g} 分权重折算为 {tw:g} 分制"
                )
                ens[k] += (
                    f"; benchmark of {', '.join(INDICATORS[u][1] for u in un)} is zero or missing: not "
                    f"scored, score scaled from the remaining weight {sw:g} to {tw:g}"
                )
            if out_l[i] == "class_d":
                zhs[k] += "；列为低效用地候选，待区管理机构认定"
                ens[k] += "; low-efficiency land candidate, to be confirmed by the zone office"
        put(il, evs, zhs, ens)
    evidence = col.json_texts(ev)
    for rows, text in graded_ev:
        evidence = col.replace_rows(evidence, rows, text)
    return col.evidence_column(evidence), zh, en


def _class_labels(outcome: np.ndarray, pos: dict, idx: np.ndarray) -> tuple[list[str], list[str]]:
    """Per graded row, its class and position as written ("A 类（前 25%）", "class A (top 25%)").

    ``pos`` holds per-row position texts of each class (one per zone, see ``_position``); each
    distinct (class, position) label is written once.
    """
    zh = np.empty(idx.size, dtype=object)
    en = np.empty(idx.size, dtype=object)
    for o, (name_zh, name_en) in CLASS_TEXT.items():
        rows = np.flatnonzero(outcome == o)
        if rows.size == 0:
            continue
        p_zh, p_en = pos[o][0][idx[rows]].tolist(), pos[o][1][idx[rows]].tolist()
        t_zh = {p: f"{name_zh}（{p}）" for p in set(p_zh)}
        t_en = {p: f"{name_en} ({p})" for p in set(p_en)}
        zh[rows] = [t_zh[p] for p in p_zh]
        en[rows] = [t_en[p] for p in p_en]
    return zh.tolist(), en.tolist()
