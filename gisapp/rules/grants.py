"""Standardized grants (标准地): performance review, notice period, term.

- ``grant_review`` (each standardized grant): the requirements of the stage of its latest review
  on or before the as-of date against the actual values of that review, per indicator: passed
  when ``min <= actual <= max`` (bounds inclusive; a missing bound is no bound). Any failure ->
  ``shortfall``; all passed -> ``passed``; requirements without an actual value and no failure ->
  ``cannot_evaluate`` naming them; no review yet -> ``not_reviewed``; no requirements recorded ->
  ``cannot_evaluate``.
- ``grant_notice`` (each standardized grant): days from announcement to grant against a minimum
  (default 30 days: the opinions ask the conditions to be published in advance, and a related
  item asks rules affecting firms to leave at least 30 days before taking effect, docs/policy.md §5).
  Exactly the minimum is enough. No announcement date -> ``not_announced``.
- ``grant_term`` (a report per zone, and each grant with something to report): Shanghai grants
  since 2014 run 20 years normally and up to 50 for major projects; the 2021 opinions prefer 50
  for major projects in the zones (``major_below_preferred``). Before 2014 the national maximum
  for industrial land (50 years) applies. A term above the maximum -> ``term_above_max``; no term
  -> ``cannot_evaluate``. Each zone gets one finding counting its grants by rule, term and
  verdict: ``terms_above_max`` when any grant is above its maximum, else ``terms_within_max``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection

import numpy as np
import pandas as pd

from gisapp.i18n import TEXTS, label
from gisapp.rules import columnar as col
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec, empty_findings
from gisapp.rules.common import ZoneParams, as_day, concat_findings, findings, gc_paused, iso_dates

OPINIONS_2021 = "沪规划资源规〔2021〕6号"  # short: stored with every finding
SINCE_2021 = dt.date(2021, 9, 20)

REVIEW = RuleSpec(
    "grant_review",
    "1.0",
    "标准地履约核验",
    "Standardized grant: performance review",
    (
        Param(
            "stages",
            ["acceptance", "production", "periodic"],
            OPINIONS_2021,
            SINCE_2021,
            "review stages checked (the latest review of these stages counts)",
        ),
    ),
)
NOTICE = RuleSpec(
    "grant_notice",
    "1.0",
    "标准地出让公告期",
    "Standardized grant: notice period",
    (
        Param(
            "notice_days_min",
            30,
            "提前公布；涉企规则≥30日（docs/policy.md §5）",
            SINCE_2021,
            "minimum days between announcement and grant",
        ),
    ),
)
TERM = RuleSpec(
    "grant_term",
    "2.0",  # 2.0: a report per zone; per grant only what is to report (no more term_ok per grant)
    "出让年限",
    "Grant term",
    (
        Param(
            "normal_max_years",
            20,
            "上海 2014 年起（docs/policy.md §5）",
            dt.date(2014, 1, 1),
            "maximum term of a normal grant",
        ),
        Param(
            "major_max_years",
            50,
            "上海 2014 年起（docs/policy.md §5）",
            dt.date(2014, 1, 1),
            "maximum term of a major project",
        ),
        Param(
            "major_preferred_years", 50, OPINIONS_2021, SINCE_2021, "term the zones prefer for major projects"
        ),
        Param(
            "rules_since",
            "2014-01-01",
            "上海 2014 年起（docs/policy.md §5）",
            dt.date(2014, 1, 1),
            "grants signed before this date are checked against the national maximum only",
        ),
        Param(
            "national_max_years",
            50,
            "国务院令第55号第十二条",
            dt.date(1990, 5, 19),
            "national maximum term of industrial land",
        ),
    ),
)
SPECS = (REVIEW, NOTICE, TERM)
INPUTS = ("land_grants", "grant_requirements", "grant_reviews")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 24
#: the review stages' names, as the parcel page and the forms show them (gisapp.i18n: one name each)
STAGE_ZH = {stage: TEXTS[f"stage.{stage}"]["zh"] for stage in ("acceptance", "production", "periodic")}
STAGE_EN = {stage: TEXTS[f"stage.{stage}"]["en"] for stage in ("acceptance", "production", "periodic")}


@gc_paused
def evaluate(
    inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None,
    rules: Collection[str] | None = None,
) -> pd.DataFrame:
    """Findings of ``grant_review``, ``grant_notice`` and ``grant_term`` as of ``as_of`` (of
    those in ``rules`` only, when given: a live re-assessment of a few parcels asks for the first
    two, and the term's zone report is a third of the module's time)."""
    day = as_day(as_of)
    grants = inputs["land_grants"]
    grants = grants[grants["granted_on"] <= day].reset_index(drop=True)
    wanted = [spec for spec in SPECS if rules is None or spec.name in rules]
    parts = [
        review_findings(grants, inputs["grant_requirements"], inputs["grant_reviews"], as_of, overrides)
        if REVIEW in wanted else empty_findings(),
        notice_findings(grants, as_of, overrides) if NOTICE in wanted else empty_findings(),
        term_findings(grants, as_of, overrides) if TERM in wanted else empty_findings(),
    ]
    parts = [p for p in parts if not p.empty]
    return concat_findings(parts) if parts else empty_findings()


def _findings(
    spec: RuleSpec, g: pd.DataFrame, zp: ZoneParams, as_of: dt.date, outcome, positive, evidence, zh, en
):
    frame = findings(
        spec,
        as_of,
        zp,
        zone_id=g["zone_id"].to_numpy(dtype="int64"),
        parcel_id=g["parcel_id"].to_numpy(dtype="int64"),
        subject_type="grant",
        subject_id=col.id_texts(g["id"]),
        outcome=outcome,
        is_positive=np.isin(outcome, [*positive, CANNOT_EVALUATE]),
        evidence=evidence,
        explanation_zh=zh,
        explanation_en=en,
    )
    return frame


def review_findings(
    grants: pd.DataFrame,
    reqs: pd.DataFrame,
    reviews: pd.DataFrame,
    as_of: dt.date,
    overrides: pd.DataFrame | None,
) -> pd.DataFrame:
    """``grant_review``: each standardized grant's latest review against its requirements."""
    day = as_day(as_of)
    g = grants[grants["is_standardized"].astype(bool)].reset_index(drop=True)
    if g.empty:
        return empty_findings()
    zp = ZoneParams(REVIEW, overrides, as_of, g["zone_id"])
    stages_ok = pd.DataFrame({"id": g["id"], "stages": zp.column("stages", None)})
    rv = reviews[reviews["reviewed_on"] <= day].merge(g[["id"]], left_on="grant_id", right_on="id")
    allowed = rv.merge(stages_ok, left_on="grant_id", right_on="id", suffixes=("", "_g"))
    keep = np.array(
        [st in ok for st, ok in zip(allowed["review_stage"].tolist(), allowed["stages"].tolist())], dtype=bool
    )
    rv = allowed[keep]
    # the latest review (date, then stage) of each grant
    latest = rv.sort_values(["grant_id", "reviewed_on"]).drop_duplicates("grant_id", keep="last")[
        ["grant_id", "review_stage", "reviewed_on"]
    ]
    g = g.merge(latest.rename(columns={"grant_id": "id"}), on="id", how="left")
    has_req = g["id"].isin(reqs["grant_id"]).to_numpy()
    reviewed = g["reviewed_on"].notna().to_numpy()

    # requirement rows of the reviewed stage, with the actual of that review
    req = reqs.merge(
        g[["id", "review_stage", "reviewed_on"]],
        left_on=["grant_id", "review_stage"],
        right_on=["id", "review_stage"],
        how="inner",
    )
    act = rv[["grant_id", "review_stage", "reviewed_on", "indicator", "actual_value"]]
    req = req.merge(act, on=["grant_id", "review_stage", "reviewed_on", "indicator"], how="left")
    actual = req["actual_value"].to_numpy(dtype="float64")
    lo = req["min_value"].to_numpy(dtype="float64")
    hi = req["max_value"].to_numpy(dtype="float64")
    known = ~np.isnan(actual)
    passed = known & (np.isnan(lo) | (actual >= lo)) & (np.isnan(hi) | (actual <= hi))
    req["passed"] = np.where(known, passed, None)
    req["failed"] = known & ~passed
    req["unknown"] = ~known
    req = req.sort_values(["grant_id", "indicator"], kind="stable")
    agg = req.groupby("grant_id").agg(
        failed=("failed", "sum"), unknown=("unknown", "sum"), n=("failed", "size")
    )
    g = g.merge(agg, left_on="id", right_index=True, how="left")
    failed = g["failed"].fillna(0).to_numpy() > 0
    unknown = g["unknown"].fillna(0).to_numpy() > 0
    stage_reqs = g["n"].fillna(0).to_numpy() > 0

    no_req = ~has_req
    no_stage_req = has_req & reviewed & ~stage_reqs
    outcome = np.select(
        [no_req, ~reviewed, no_stage_req, failed, unknown],
        [CANNOT_EVALUATE, "not_reviewed", CANNOT_EVALUATE, "shortfall", CANNOT_EVALUATE],
        "passed",
    )

    # per-indicator evidence and text, grouped by grant in one pass over the requirement rows
    items_by_grant: dict[int, list[dict]] = {}
    text_by_grant: dict[int, list[tuple[bool | None, str, str]]] = {}
    units = [u if isinstance(u, str) else "" for u in req["unit"].tolist()]
    cols = zip(
        req["grant_id"].tolist(),
        req["indicator"].tolist(),
        req["indicator_zh"].tolist(),
        req["indicator_en"].tolist(),
        units,
        req["min_value"].tolist(),
        req["max_value"].tolist(),
        req["actual_value"].tolist(),
        req["passed"].tolist(),
    )
    for gid, ind, ind_zh, ind_en, unit, mn, mx, a, ok in cols:
        # the explanations name the indicator and its unit as the pages do, never by code
        ind_en = ind_en if isinstance(ind_en, str) and ind_en else ind
        unit_zh = label("unit", unit, "zh") if unit else ""
        mn = None if math.isnan(mn) else mn
        mx = None if math.isnan(mx) else mx
        a = None if math.isnan(a) else a
        items_by_grant.setdefault(gid, []).append(
            {"indicator": ind, "required_min": mn, "required_max": mx, "actual": a, "passed": ok}
        )
        bound = (f"{mn:g}–{mx:g}" if mx is not None else f"≥ {mn:g}") if mn is not None else f"≤ {mx:g}"
        if a is None:
            text = (
                None,
                f"{ind_zh}未报实际值（要求 {bound}）",
                f"{ind_en} has no actual value (required {bound})",
            )
        else:
            text = (
                ok,
                f"{ind_zh} {a:g}{unit_zh}（要求 {bound}，{'达标' if ok else '未达标'}）",
                f"{ind_en} {a:g}{' ' + label('unit', unit, 'en') if unit else ''} "
                f"(required {bound}: {'passed' if ok else 'short'})",
            )
        text_by_grant.setdefault(gid, []).append(text)
    stage = g["review_stage"].tolist()
    reviewed_on = iso_dates(g["reviewed_on"])
    contract = g["contract_no"].tolist()
    as_of_s = day.date().isoformat()
    # the grants not reviewed yet (most of them) column-wise; the others one by one below
    contract_col = col.texts(g["contract_no"])
    zh_col = col.sentence("标准地出让合同 {c}：截至 {d} 尚无履约核验记录", c=contract_col, d=as_of_s)
    en_col = col.sentence("Standardized grant {c}: no performance review up to {d}", c=contract_col, d=as_of_s)
    evidence_col = col.json_objects({"stage": col.j_const(None), "reviewed_on": col.j_const(None),
                                     "contract_no": col.j_str(contract_col), "indicators": col.j_const([])})
    rows = np.flatnonzero(outcome != "not_reviewed")
    evidence, zh, en = [], [], []
    ids, outcomes, no_req_l, no_stage_l = g["id"].tolist(), outcome.tolist(), no_req.tolist(), no_stage_req.tolist()
    for i in rows.tolist():
        gid, out = ids[i], outcomes[i]
        items = items_by_grant.get(gid, [])
        st = stage[i] if isinstance(stage[i], str) else None
        evidence.append({"stage": st, "reviewed_on": reviewed_on[i], "contract_no": contract[i], "indicators": items})
        if no_req_l[i]:
            zh.append(f"无法核验：标准地出让合同 {contract[i]} 未登记履约指标要求")
            en.append(
                f"Cannot evaluate: standardized grant {contract[i]} has no performance requirements recorded"
            )
            continue
        stage_zh, stage_en = STAGE_ZH.get(st, st), STAGE_EN.get(st, st)
        if no_stage_l[i]:
            zh.append(f"无法核验：{reviewed_on[i]} {stage_zh}无对应阶段的指标要求")
            en.append(
                f"Cannot evaluate: the review of {reviewed_on[i]} ({stage_en}) has no requirements for that stage"
            )
            continue
        texts = text_by_grant.get(gid, [])
        # the stage by its one name (a suffix would make 达产复核 a second name, 达产复核核验)
        head_zh = f"{reviewed_on[i]} {stage_zh}"
        head_en = f"Review of {reviewed_on[i]} ({stage_en})"
        if out == "shortfall":  # the indicators that failed decide
            zh.append(f"{head_zh}未达标：" + "；".join(t[1] for t in texts if t[0] is False))
            en.append(f"{head_en} short: " + "; ".join(t[2] for t in texts if t[0] is False))
        elif out == "passed":
            zh.append(f"{head_zh}全部达标（{len(texts)} 项）：" + "；".join(t[1] for t in texts))
            en.append(f"{head_en} passed on all {len(texts)} indicators: " + "; ".join(t[2] for t in texts))
        else:
            zh.append(f"无法核验：{head_zh}缺少实际值：" + "；".join(t[1] for t in texts if t[0] is None))
            en.append(
                f"Cannot evaluate: {head_en} lacks actual values: "
                + "; ".join(t[2] for t in texts if t[0] is None)
            )
    evidence = col.evidence_column(col.replace_rows(evidence_col, rows, col.json_texts(evidence)))
    zh = col.text_column(col.replace_rows(zh_col, rows, zh))
    en = col.text_column(col.replace_rows(en_col, rows, en))
    return _findings(REVIEW, g, zp, as_of, outcome, ["shortfall", CANNOT_EVALUATE], evidence, zh, en)


def notice_findings(grants: pd.DataFrame, as_of: dt.date, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """``grant_notice``: announcement-to-grant days of each standardized grant."""
    g = grants[grants["is_standardized"].astype(bool)].reset_index(drop=True)
    if g.empty:
        return empty_findings()
    zp = ZoneParams(NOTICE, overrides, as_of, g["zone_id"])
    required = zp.column("notice_days_min", "int64")
    days = (g["granted_on"] - g["announced_on"]).dt.days.to_numpy(dtype="float64")
    announced = ~np.isnan(days)
    outcome = np.where(
        ~announced, "not_announced", np.where(days >= required, "notice_ok", "notice_too_short")
    )
    ok = outcome == "notice_ok"
    ann, granted, contract = col.dates(g["announced_on"]), col.dates(g["granted_on"]), col.texts(g["contract_no"])
    fields = {"a": ann, "gr": granted, "d": col.fixed(days, 0), "r": col.fixed(required, 0), "c": contract}
    announced_zh = col.sentence("{a} 公告、{gr} 出让，公告期 {d} 天，{v}要求的 {r} 天", v=col.choose(ok, "不少于", "少于"),
                                **fields)
    announced_en = col.sentence("Announced {a}, granted {gr}: {d} days of notice, {v} the required {r} days",
                                v=col.choose(ok, "at least", "less than"), **fields)
    zh = col.choose(announced, announced_zh,
                    col.sentence("标准地出让合同 {c}（{gr} 出让）无出让条件公告日期，未能证明提前公布", **fields))
    en = col.choose(announced, announced_en,
                    col.sentence("Standardized grant {c} (granted {gr}) has no announcement date: advance notice "
                                 "not shown", **fields))
    evidence = col.json_objects({
        "announced_on": col.j_date(g["announced_on"]), "granted_on": col.j_date(g["granted_on"]),
        "notice_days": col.j_int(days), "required_days": col.j_int(required), "contract_no": col.j_str(contract)})
    return _findings(NOTICE, g, zp, as_of, outcome, ["notice_too_short", "not_announced"],
                     col.evidence_column(evidence), col.text_column(zh), col.text_column(en))


def term_findings(grants: pd.DataFrame, as_of: dt.date, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """``grant_term`` as a report: one finding per zone counting its grants' terms against their
    maximum and the zones' preference, and one per grant only where there is something to say
    (above the maximum, a major project below the preferred term, no term recorded).

    The opinions ask for the term rules "as a report"; a finding per grant within its maximum
    (three in four grants of a city) would repeat the zone's count grant by grant.
    """
    g = grants.reset_index(drop=True)
    if g.empty:
        return empty_findings()
    zp = ZoneParams(TERM, overrides, as_of, g["zone_id"])
    term, verdict = _term_verdicts(g, zp)
    exceptions = np.flatnonzero(verdict["outcome"] != "term_ok")
    return pd.concat(
        [_grant_term_findings(g, overrides, as_of, term, verdict, exceptions),
         _zone_term_report(g, overrides, as_of, term, verdict)],
        ignore_index=True,
    )


def _term_verdicts(g: pd.DataFrame, zp: ZoneParams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each grant's term (NaN when not recorded) and its verdict: outcome, maximum, preferred
    term, whether the Shanghai rule (not the national one) applies, and whether it is major."""
    normal_max = zp.column("normal_max_years")
    major_max = zp.column("major_max_years")
    preferred = zp.column("major_preferred_years")
    national = zp.column("national_max_years")
    since = pd.to_datetime(pd.Series(zp.column("rules_since", None))).to_numpy()
    term = g["term_years"].to_numpy(dtype="float64")
    major = g["is_major_project"].astype(bool).to_numpy()
    local = g["granted_on"].to_numpy() >= since
    limit = np.where(local, np.where(major, major_max, normal_max), national)
    known = ~np.isnan(term)
    above = known & (term > limit)
    below_pref = known & ~above & local & major & (term < preferred)
    outcome = np.select(
        [~known, above, below_pref], [CANNOT_EVALUATE, "term_above_max", "major_below_preferred"], "term_ok"
    )
    return term, {"outcome": outcome, "limit": limit, "preferred": preferred, "local": local, "major": major}


def _grant_term_findings(g, overrides, as_of, term, verdict, rows: np.ndarray) -> pd.DataFrame:
    """The per-grant findings of ``rows`` (the grants with something to report)."""
    if rows.size == 0:
        return empty_findings()
    g = g.iloc[rows].reset_index(drop=True)
    zp = ZoneParams(TERM, overrides, as_of, g["zone_id"])
    outcome = verdict["outcome"][rows]
    limit, local, major = verdict["limit"][rows], verdict["local"][rows], verdict["major"][rows]
    preferred = verdict["preferred"][rows]
    granted = iso_dates(g["granted_on"])
    contract = g["contract_no"].tolist()
    term_l = [None if math.isnan(t) else int(t) for t in term[rows].tolist()]
    # the arrays hold Python bools and floats once .tolist()-ed: no per-row conversion needed
    major_l, limit_l, local_l = major.tolist(), limit.tolist(), local.tolist()
    pref_l = np.where(major & local, preferred, np.nan).tolist()
    rules_l = np.where(local, "shanghai_2014", "national").astype(object).tolist()
    evidence = [
        {
            "term_years": t,
            "is_major_project": m,
            "max_years": lm,
            "preferred_years": p if m and lc else None,
            "granted_on": gr,
            "rules": r,
            "contract_no": c,
        }
        for t, m, lm, p, lc, gr, r, c in zip(term_l, major_l, limit_l, pref_l, local_l, granted, rules_l, contract)
    ]
    # a sentence depends on the row only through its grant date or contract number: the rest is
    # written once per (outcome, term, major, maximum, preference, rules) and reused
    sentences: dict[tuple, tuple[str, str, str, str, str | None]] = {}
    zh, en = [], []
    for key, gr, c in zip(
        zip(outcome.tolist(), term_l, major_l, limit_l, preferred.tolist(), local_l), granted, contract
    ):
        parts = sentences.get(key)
        if parts is None:
            parts = sentences[key] = _term_sentence(*key)
        slot = parts[4]
        if slot is None:
            zh.append(parts[0])
            en.append(parts[2])
        else:
            value = gr if slot == "granted_on" else c
            zh.append(f"{parts[0]}{value}{parts[1]}")
            en.append(f"{parts[2]}{value}{parts[3]}")
    return _findings(
        TERM, g, zp, as_of, outcome, ["major_below_preferred", "term_above_max"], evidence, zh, en
    )


def _zone_term_report(g, overrides, as_of, term, verdict) -> pd.DataFrame:
    """One ``grant_term`` finding per zone: its grants counted by the rule that applies, the
    term-year distribution, and how many are above their maximum, below the preferred term of a
    major project, or without a term. ``terms_above_max`` when any grant is above its maximum."""
    outcome, local, major = verdict["outcome"], verdict["local"], verdict["major"]
    frame = pd.DataFrame({
        "zone_id": g["zone_id"].to_numpy(dtype="int64"),
        "normal": local & ~major, "major": local & major, "national": ~local,
        "above": outcome == "term_above_max", "below_preferred": outcome == "major_below_preferred",
        "no_term": outcome == CANNOT_EVALUATE, "term": term,
    })
    counts = frame.groupby("zone_id")[["normal", "major", "national", "above", "below_preferred", "no_term"]].sum()
    counts["grants"] = frame.groupby("zone_id").size()
    years = frame.dropna(subset=["term"]).groupby(["zone_id", "term"]).size()
    zone_ids = counts.index.to_numpy(dtype="int64")
    zp = ZoneParams(TERM, overrides, as_of, zone_ids)
    limits = {k: zp.column(k).tolist() for k in ("normal_max_years", "major_max_years", "major_preferred_years",
                                                  "national_max_years")}
    since_l = zp.column("rules_since", None).tolist()
    by_zone_years: dict[int, dict[int, int]] = {}
    for (z, t), n in years.items():
        by_zone_years.setdefault(int(z), {})[int(t)] = int(n)
    day = as_of.isoformat()
    evidence, zh, en = [], [], []
    for i, (z, row) in enumerate(zip(zone_ids.tolist(), counts.to_dict("records"))):
        c = {k: int(v) for k, v in row.items()}
        p = {k: float(v[i]) for k, v in limits.items()}
        since = str(since_l[i])
        by_years = by_zone_years.get(z, {})
        evidence.append({
            "grants": c["grants"], "normal_grants": c["normal"], "major_grants": c["major"],
            "national_rule_grants": c["national"], "above_max": c["above"],
            "major_below_preferred": c["below_preferred"], "no_term": c["no_term"],
            "within_max": c["grants"] - c["above"] - c["no_term"],
            "term_ok": c["grants"] - c["above"] - c["no_term"] - c["below_preferred"],
            "by_term_years": {str(t): n for t, n in sorted(by_years.items())},
            "normal_max_years": p["normal_max_years"], "major_max_years": p["major_max_years"],
            "preferred_years": p["major_preferred_years"], "national_max_years": p["national_max_years"],
            "rules_since": since,
        })
        dist_zh = "、".join(f"{t} 年 {n:,} 宗" for t, n in sorted(by_years.items())) or "无"
        dist_en = ", ".join(f"{t} years × {n:,}" for t, n in sorted(by_years.items())) or "none"
        zh.append(
            f"截至 {day} 已出让 {c['grants']:,} 宗：{since} 起出让的一般项目 {c['normal']:,} 宗（最长 "
            f"{p['normal_max_years']:g} 年）、重大项目 {c['major']:,} 宗（最长 {p['major_max_years']:g} 年，"
            f"综保区倾向 {p['major_preferred_years']:g} 年，低于倾向 {c['below_preferred']:,} 宗），此前出让 "
            f"{c['national']:,} 宗（国家规定最长 {p['national_max_years']:g} 年）；超过最长年限 {c['above']:,} 宗，"
            f"未登记年限 {c['no_term']:,} 宗；年限分布：{dist_zh}")
        en.append(
            f"As of {day}, {_count(c['grants'], 'grant')}: {_count(c['normal'], 'normal grant')} since {since} "
            f"(maximum {p['normal_max_years']:g} years), {_count(c['major'], 'major project')} (maximum "
            f"{p['major_max_years']:g}, "
            f"preferred {p['major_preferred_years']:g}; {c['below_preferred']:,} below it), {c['national']:,} "
            f"granted earlier (national maximum {p['national_max_years']:g}); {c['above']:,} above their maximum, "
            f"{c['no_term']:,} without a term; terms: {dist_en}")
    above = counts["above"].to_numpy() > 0
    report_outcome = np.where(above, "terms_above_max", "terms_within_max")
    return findings(
        TERM, as_of, zp, zone_id=zone_ids, parcel_id=None, subject_type="zone",
        subject_id=[str(z) for z in zone_ids.tolist()], outcome=report_outcome, is_positive=above,
        evidence=evidence, explanation_zh=zh, explanation_en=en,
    )


def _count(n: int, noun: str) -> str:
    """``n`` with its noun, plural unless one ("1 grant", "1,234 grants")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _term_sentence(
    o: str, t: int | None, m: bool, lm: float, p: float, lc: bool
) -> tuple[str, str, str, str, str | None]:
    """(zh before the slot, zh after, en before, en after, slot) of a ``grant_term`` sentence.

    The slot is the row's ``granted_on`` or ``contract_no`` that goes between the parts, or None
    when the sentence is the first part alone.
    """
    kind_zh, kind_en = ("重大项目", "major project") if m else ("一般项目", "normal grant")
    basis_zh = "上海 2014 年起规定" if lc else "国家规定（2014 年前出让）"
    basis_en = "Shanghai rule since 2014" if lc else "national rule (granted before 2014)"
    if o == CANNOT_EVALUATE:
        return (
            "无法判定：出让合同 ",
            " 未登记出让年限",
            "Cannot evaluate: grant contract ",
            " has no term recorded",
            "contract_no",
        )
    if o == "term_above_max":
        return (
            f"{kind_zh}出让年限 {t} 年，超过{basis_zh}的最长 {lm:g} 年（",
            " 出让）",
            (f"{kind_en[0].upper()}{kind_en[1:]} granted for {t} years, above the {basis_en} maximum of "
            f"{lm:g} years (granted "),
            ")",
            "granted_on",
        )
    if o == "major_below_preferred":
        return (
            f"重大项目出让年限 {t} 年，低于综保区倾向的 {p:g} 年（最长 {lm:g} 年，",
            " 出让）",
            f"Major project granted for {t} years, below the {p:g} years the zones prefer (maximum {lm:g}, granted ",
            ")",
            "granted_on",
        )
    return (
        f"{kind_zh}出让年限 {t} 年，不超过{basis_zh}的最长 {lm:g} 年",
        "",
        (f"{kind_en[0].upper()}{kind_en[1:]} granted for {t} years, within the {basis_en} maximum of "
        f"{lm:g} years"),
        "",
        None,
    )
