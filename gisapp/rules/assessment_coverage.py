"""Comprehensive regional evaluation coverage (区域评估; docs/policy.md §5; SMPG GO [2021] No. 1 §1.6): a
zone holds one set of assessments (environment, water resources, geological hazard, flood, soil
and water conservation ...) and a project inside a zone with valid coverage needs no separate one.

- per zone, on the as-of date: ``covered`` when every required kind has an assessment valid that
  day; ``not_covered`` when a kind was never assessed (or only later); ``expired`` when every gap
  is an assessment whose validity ended.
- per grant, on its grant date: the same test, so a project granted while the zone's
  assessments were valid is covered even if they expired later; grants made before the opinions
  took effect (2021-01-15) were assessed project by project: ``before_regime`` (not a finding to
  act on; an extension of the findings contract). They are counted in their zone's finding
  (``grants``) and get a finding of their own only with ``report_before_regime``.

``valid_to`` is the last day of validity (inclusive), as written on an assessment's approval.

Example:
    >>> import pandas as pd
    >>> a = pd.DataFrame({"zone_id": [1], "kind": ["flood"], "valid_from": [pd.Timestamp("2021-03-01")],
    ...                   "valid_to": [pd.Timestamp("2024-12-31")]})
    >>> kind_status(a, pd.Series([1, 1]), pd.Series(pd.to_datetime(["2024-12-31", "2025-01-01"])), "flood").tolist()
    ['valid', 'expired']
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gisapp.rules import columnar as col
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec
from gisapp.rules.common import concat_findings, findings, gc_paused, iso_list, zone_params

OPINIONS_IN_FORCE = dt.date(2021, 1, 15)
_SOURCE = ("SMPG GO [2021] No. 1 §1.6: one comprehensive regional evaluation per zone (environment, water, "
           "geological hazard ...); kinds as listed in docs/policy.md §5")

ASSESSMENT_COVERAGE = RuleSpec(
    "assessment_coverage", "1.0", "区域评估覆盖", "Regional assessment coverage",
    (Param("required_kinds", ["environment", "water_resources", "geological_hazard", "flood", "soil_water"],
           _SOURCE, OPINIONS_IN_FORCE, "assessment kinds a zone must hold"),
     Param("regime_from", OPINIONS_IN_FORCE.isoformat(), "SMPG GO [2021] No. 1 in force 2021-01-15",
           OPINIONS_IN_FORCE, "grants before this date were assessed project by project"),
     Param("report_before_regime", False,
           "design: grants made before the regime are counted in their zone's finding; one finding each would "
           "be most of the grants", OPINIONS_IN_FORCE, "give each grant before the regime its own finding")))

SPECS: tuple[RuleSpec, ...] = (ASSESSMENT_COVERAGE,)
INPUTS: tuple[str, ...] = ("zones", "zone_assessments", "land_grants")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 5

#: names of land.assessment_kinds (migration 0001)
KIND_NAMES = {"environment": ("环境影响评价", "environmental impact"), "water_resources": ("水资源论证", "water resources"),
              "geological_hazard": ("地质灾害危险性评估", "geological hazard"), "flood": ("洪水影响评价", "flood impact"),
              "soil_water": ("水土保持", "soil and water conservation"), "energy": ("节能评估", "energy conservation")}


def _zh(kind: str) -> str:
    return KIND_NAMES.get(kind, (kind, kind))[0]


def _en(kind: str) -> str:
    return KIND_NAMES.get(kind, (kind, kind))[1]


def kind_status(assessments: pd.DataFrame, zone_ids: pd.Series, days: pd.Series, kind: str) -> pd.Series:
    """For each (zone, day): 'valid', 'expired' (an assessment of ``kind`` ended before the day)
    or 'missing' (none, or only ones that start later)."""
    a = assessments[assessments["kind"] == kind]
    zones = zone_ids.to_numpy()
    day = pd.to_datetime(days).to_numpy().astype("datetime64[ns]")
    valid = np.zeros(len(zones), dtype=bool)
    expired = np.zeros(len(zones), dtype=bool)
    # a zone has a handful of assessments: each marks the rows of its zone (rows sorted by zone
    # once), instead of a merge of every row with its zone's assessments (1.8 s for 760k grants)
    order = np.argsort(zones, kind="stable")
    sorted_zones = zones[order]
    starts = pd.to_datetime(a["valid_from"]).to_numpy().astype("datetime64[ns]")
    ends = pd.to_datetime(a["valid_to"]).to_numpy().astype("datetime64[ns]")
    for z, start, end in zip(a["zone_id"].tolist(), starts, ends):
        rows = order[np.searchsorted(sorted_zones, z, "left"):np.searchsorted(sorted_zones, z, "right")]
        d = day[rows]
        open_ended = np.isnat(end)
        valid[rows] |= (start <= d) & (open_ended | (d <= end))
        if not open_ended:
            expired[rows] |= end < d
    return pd.Series(np.where(valid, "valid", np.where(expired, "expired", "missing")), index=zone_ids.index)


def _statuses(assessments, zone_ids, days, kinds) -> pd.DataFrame:
    return pd.DataFrame({k: kind_status(assessments, zone_ids, days, k) for k in kinds}, index=zone_ids.index)


def _outcome(st: pd.DataFrame) -> np.ndarray:
    missing = (st == "missing").any(axis=1).to_numpy()
    expired = (st == "expired").any(axis=1).to_numpy()
    return np.where(missing, "not_covered", np.where(expired, "expired", "covered")).astype(object)


def _texts(st: pd.DataFrame, kinds: list[str]):
    """Evidence and the kind lists in both languages, computed once per distinct status pattern."""
    codes = {"valid": "v", "expired": "e", "missing": "m"}
    pattern = pd.Series("", index=st.index)
    for k in kinds:
        pattern = pattern + st[k].map(codes)
    cache = {}
    for p in pd.unique(pattern):
        valid = [k for k, c in zip(kinds, p) if c == "v"]
        expired = [k for k, c in zip(kinds, p) if c == "e"]
        missing = [k for k, c in zip(kinds, p) if c == "m"]
        cache[p] = ({"kinds_valid": valid, "kinds_missing": missing, "kinds_expired": expired,
                     "kinds_required": kinds},
                    "、".join(_zh(k) for k in valid) or "无", "、".join(_zh(k) for k in missing + expired),
                    ", ".join(_en(k) for k in valid) or "none", ", ".join(_en(k) for k in missing + expired),
                    "、".join(_zh(k) for k in expired), ", ".join(_en(k) for k in expired))
    return pattern.to_numpy(), cache


@gc_paused
def evaluate(inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """``assessment_coverage`` findings per zone (on ``as_of``) and per grant (on its grant date)."""
    zones, assessments, grants = inputs.get("zones"), inputs.get("zone_assessments"), inputs.get("land_grants")
    if zones is None or zones.empty:
        return concat_findings([])
    keys = [(int(z), as_of.year) for z in zones["id"]]
    per_zone = {k[0]: v for k, v in zone_params(ASSESSMENT_COVERAGE, overrides, as_of=as_of, keys=keys).items()}
    if assessments is None:
        n = len(zones)
        return findings(
            ASSESSMENT_COVERAGE, as_of, [per_zone[int(z)][1] for z in zones["id"]], zone_id=zones["id"].to_numpy(),
            parcel_id=None, subject_type="zone", subject_id=zones["id"].astype(str).to_numpy(),
            outcome=CANNOT_EVALUATE, is_positive=True, evidence=[{"missing": "zone_assessments"}] * n,
            explanation_zh=["无法评估：缺少输入 zone_assessments（区域评估登记）"] * n,
            explanation_en=["Cannot evaluate: missing input zone_assessments (the regional assessment register)"] * n)
    frames = []
    # zones sharing a list of required kinds are evaluated together
    groups: dict[tuple, list[int]] = {}
    for z, (values, _) in per_zone.items():
        groups.setdefault(tuple(values["required_kinds"]), []).append(z)
    for kinds_t, zone_list in groups.items():
        kinds = list(kinds_t)
        zsel = zones[zones["id"].isin(zone_list)]
        quiet = [z for z in zone_list if not per_zone[z][0]["report_before_regime"]]
        g, counts = (_grant_findings(grants[grants["zone_id"].isin(zone_list)], assessments, kinds, as_of, per_zone,
                                     quiet)
                     if grants is not None and len(grants) else (concat_findings([]), pd.Series(dtype=int)))
        frames.append(_zone_findings(zsel, assessments, kinds, as_of, per_zone, counts))
        frames.append(g)
    return concat_findings(frames)


def _zone_findings(zones, assessments, kinds, as_of, per_zone, grant_counts: pd.Series) -> pd.DataFrame:
    zone_ids = zones["id"].reset_index(drop=True)
    st = _statuses(assessments, zone_ids, pd.Series([pd.Timestamp(as_of)] * len(zone_ids)), kinds)
    outcome = _outcome(st)
    pattern, cache = _texts(st, kinds)
    names = zones.set_index("id")
    day = as_of.isoformat()
    zh, en, ev = [], [], []
    for z, o, p in zip(zone_ids, outcome, pattern):
        evidence, v_zh, gap_zh, v_en, gap_en, _, _ = cache[p]
        ends = _last_ends(assessments, z, evidence["kinds_expired"])
        by = {o2: int(grant_counts.get((z, o2), 0)) for o2 in ("covered", "not_covered", "expired", "before_regime",
                                                              CANNOT_EVALUATE)}
        ev.append(evidence | {"on": day, "expired_on": ends, "grants": by})
        nz, ne = names.at[z, "name_zh"], names.at[z, "name_en"]
        g_zh = (f"；区内出让项目：出让时评估覆盖 {by['covered']} 宗，未覆盖 {by['not_covered']} 宗，已过期 {by['expired']}"
                f" 宗，制度施行前 {by['before_regime']} 宗")
        g_en = (f"; grants in the zone: covered when granted {by['covered']}, not covered {by['not_covered']}, "
                f"expired {by['expired']}, before the regime {by['before_regime']}")
        if o == "covered":
            zh.append(f"{nz} 截至 {day} 区域评估齐全有效（{v_zh}），区内项目无需单独评估{g_zh}")
            en.append(f"{ne}'s regional assessments are all valid on {day} ({v_en}); projects inside need none of "
                      f"their own{g_en}")
        elif o == "expired":
            when = "、".join(f"{_zh(k)} {d}" for k, d in ends.items())
            when_en = ", ".join(f"{_en(k)} on {d}" for k, d in ends.items())
            zh.append(f"{nz} 截至 {day} 区域评估已过期：{when} 到期；有效：{v_zh}{g_zh}")
            en.append(f"{ne}'s regional assessment expired before {day}: {when_en}; valid: {v_en}{g_en}")
        else:
            zh.append(f"{nz} 截至 {day} 区域评估不全，缺：{gap_zh}；有效：{v_zh}{g_zh}")
            en.append(f"{ne} lacks regional assessments on {day}: {gap_en}; valid: {v_en}{g_en}")
    return findings(
        ASSESSMENT_COVERAGE, as_of, [per_zone[int(z)][1] for z in zone_ids], zone_id=zone_ids.to_numpy(),
        parcel_id=None, subject_type="zone", subject_id=zone_ids.astype(str).to_numpy(), outcome=outcome,
        is_positive=outcome != "covered", evidence=ev, explanation_zh=zh, explanation_en=en)


def _last_ends(assessments, zone_id, kinds) -> dict[str, str]:
    out = {}
    for k in kinds:
        a = assessments[(assessments["zone_id"] == zone_id) & (assessments["kind"] == k)]
        if len(a):
            out[k] = pd.Timestamp(pd.to_datetime(a["valid_to"]).max()).date().isoformat()
    return out


def _grant_findings(grants, assessments, kinds, as_of, per_zone, quiet) -> tuple[pd.DataFrame, pd.Series]:
    """The grants' findings, except ``before_regime`` ones in the ``quiet`` zones, and the count of
    every grant's outcome per zone (those included)."""
    if grants.empty:
        return concat_findings([]), pd.Series(dtype=int)
    g = grants.reset_index(drop=True)
    granted = pd.to_datetime(g["granted_on"])
    regime = pd.to_datetime(g["zone_id"].map({z: v[0]["regime_from"] for z, v in per_zone.items()}))
    st = _statuses(assessments, g["zone_id"], granted.fillna(pd.Timestamp(as_of)), kinds)
    outcome = _outcome(st)
    before = (granted < regime).to_numpy()
    no_date = granted.isna().to_numpy()
    outcome[before] = "before_regime"
    outcome[no_date] = CANNOT_EVALUATE
    counts = pd.DataFrame({"zone_id": g["zone_id"].to_numpy(), "outcome": pd.Series(outcome, dtype=object)}
                          ).groupby(["zone_id", "outcome"]).size()
    # most grants predate the regime and get no finding of their own: write only the others
    kept = ~(before & ~no_date & g["zone_id"].isin(quiet).to_numpy())
    if not kept.all():
        g, granted, regime, st = (x[kept].reset_index(drop=True) for x in (g, granted, regime, st))
        outcome, no_date = outcome[kept], no_date[kept]
    pattern, cache = _texts(st, kinds)
    regime_days = iso_list(regime.to_numpy())
    # the sentence of a grant differs from its neighbours' only by its date: split each sentence at
    # the date once per (outcome, status pattern, regime date) and join the parts column-wise
    keys = pd.DataFrame({"o": outcome, "p": pattern, "r": regime_days})
    code = keys.groupby(["o", "p", "r"], dropna=False, sort=False).ngroup().to_numpy()
    firsts = keys.drop_duplicates().itertuples(index=False)  # in the order of their codes
    hits = [_grant_sentence(o, cache[p], r) for o, p, r in firsts]
    day = col.dates(granted.to_numpy())

    def part(k: int):
        return col.lookup(code, [h[k] for h in hits])

    zh = col.sentence("{a}{d}{b}", a=part(0), d=day, b=part(1))
    en = col.sentence("{a}{d}{b}", a=part(2), d=day, b=part(3))
    # {**the pattern's evidence, "granted_on": day}: its JSON without the closing brace, then the date
    heads = [col.json_texts([h[4]])[0].as_py()[:-1] + ("," if h[4] else "") for h in hits]
    ev = col.sentence('{head}"granted_on":{d}}}', head=col.lookup(code, heads), d=col.j_date(granted.to_numpy()))
    missing_date = np.flatnonzero(no_date)
    if missing_date.size:
        contract = (g["contract_no"] if "contract_no" in g else g["id"]).to_numpy()[missing_date].tolist()
        zh = col.replace_rows(zh, missing_date, [f"无法评估：出让合同 {c} 缺少出让日期" for c in contract])
        en = col.replace_rows(en, missing_date, [f"Cannot evaluate: grant {c} has no grant date" for c in contract])
    zh, en, ev = col.text_column(zh), col.text_column(en), col.evidence_column(ev)
    ids = g["id"].to_numpy()
    return findings(
        ASSESSMENT_COVERAGE, as_of, [per_zone[int(z)][1] for z in g["zone_id"]], zone_id=g["zone_id"].to_numpy(),
        parcel_id=g["parcel_id"].to_numpy(), subject_type="grant", subject_id=col.id_texts(ids), outcome=outcome,
        is_positive=np.isin(outcome, ["not_covered", "expired", CANNOT_EVALUATE]), evidence=ev,
        explanation_zh=zh, explanation_en=en), counts


def _grant_sentence(outcome: str, texts: tuple, regime_day: str | None) -> tuple:
    """(zh before the date, zh after, en before, en after, evidence) of a grant's finding."""
    evidence, v_zh, gap_zh, v_en, gap_en, exp_zh, exp_en = texts
    if outcome == "before_regime":
        return ("出让日期 ", f" 早于区域评估制度施行（{regime_day}），按项目单独评估管理", "Granted on ",
                f", before the regional assessment regime ({regime_day}): assessed as a project of its own", evidence)
    if outcome == "covered":
        return ("出让日期 ", f" 园区区域评估均有效（{v_zh}），项目无需单独评估", "On the grant date ",
                f" the zone's assessments were all valid ({v_en}): no separate assessment needed", evidence)
    if outcome == "expired":
        return ("出让日期 ", f" 园区{exp_zh}已过期，项目需单独开展；有效：{v_zh}", "On the grant date ",
                f" the zone's {exp_en} assessment had expired: the project needs its own; valid: {v_en}", evidence)
    return ("出让日期 ", f" 园区缺少{gap_zh}，项目需单独开展；有效：{v_zh}", "On the grant date ",
            f" the zone lacked {gap_en}: the project needs its own; valid: {v_en}", evidence)
