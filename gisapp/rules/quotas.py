"""Energy and major-pollutant quotas: the yearly ledger city -> district -> zone -> project,
balances, escalation to the city, the decision on a request, and the project energy review level
(docs/policy.md §5 "Energy and pollutant quotas"; SMPG GO [2021] No. 1, §1.5: the district guarantees the
quotas of its zones; what it cannot balance goes to the city).

Balance of an account (one year, one resource; entries recorded on or before the as-of date):

    balance = allocations and transfers in − allocations and transfers out − uses

An ``escalation`` entry (district -> city) records a shortfall passed up; it moves no quota.
Allocations the account receives on or after its first escalation, up to the amount escalated,
are the city's cover; the account's *own* quota is what it received otherwise. An account is
over quota when what it passed on and used exceeds its own quota (shortfall > 0):

- within_quota: no shortfall (the balance is >= 0);
- over_quota_escalated: the escalations cover the shortfall (the city decides on it); a district
  whose city cover came in shows a balance of exactly 0 (the demo's Songjiang);
- over_quota_not_escalated: part of the shortfall was never escalated (the demo's Fengxian).

So no balance is negative without a finding that says whether it was escalated.

Example:
    >>> import pandas as pd
    >>> acc = pd.DataFrame({"id": [1, 2], "year": 2025, "resource": "energy", "level": ["city", "district"],
    ...                     "parent_id": [None, 1], "name": ["上海市", "某区"]})
    >>> led = pd.DataFrame({"year": 2025, "resource": "energy", "entry_type": ["allocation", "use"],
    ...                     "from_account_id": [1, 2], "to_account_id": [2, None], "amount": [100.0, 120.0],
    ...                     "recorded_on": pd.to_datetime(["2025-01-10", "2025-06-30"])})
    >>> b = balances(acc, led, dt.date(2025, 12, 31)).loc[2]
    >>> float(b["balance"]), float(b["shortfall"]), b["outcome"]
    (-20.0, 20.0, 'over_quota_not_escalated')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gisapp.errors import InputError
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec
from gisapp.rules.common import concat_findings, findings, gc_paused, iso, num, zone_params

_OPINIONS = "SMPG GO [2021] No. 1 §1.5 (Shanghai opinions on the comprehensive bonded zones)"

QUOTA_BALANCE = RuleSpec(
    "quota_balance", "1.0", "能耗与主要污染物排放总量台账平衡", "Energy and pollutant quota balance",
    (Param("resources", ["energy", "cod", "nh3n", "so2", "nox", "vocs", "construction_land"],
           _OPINIONS + "; construction land for key projects: §1.3", dt.date(2021, 1, 15),
           "resources kept in the ledger (energy tce; pollutants t/yr; construction land ha)"),
     Param("tolerance", 0.0005, "ledger amounts are numeric(16, 3): half the last recorded digit",
           dt.date(2021, 1, 15), "amounts within this are equal"),
     Param("levels", ["city", "district", "zone", "project"], _OPINIONS, dt.date(2021, 1, 15),
           "account levels assessed")))

_REVIEW_SOURCE = ("draft national rule on project energy review (docs/policy.md §5): >= 5,000 tce/yr reviewed by "
                  "the province; < 1,000 tce and < 5 million kWh exempt (cf. 固定资产投资项目节能审查办法)")
ENERGY_REVIEW = RuleSpec(
    "energy_review", "1.0", "项目节能审查层级", "Project energy review level",
    (Param("provincial_min_tce", 5000.0, _REVIEW_SOURCE, dt.date(2023, 6, 1)),
     Param("exempt_below_tce", 1000.0, _REVIEW_SOURCE, dt.date(2023, 6, 1)),
     Param("exempt_below_kwh", 5_000_000.0, _REVIEW_SOURCE, dt.date(2023, 6, 1))))

SPECS: tuple[RuleSpec, ...] = (QUOTA_BALANCE,)
# quota_grants: the grants accounts are for, not the city's every grant (reading those cost a
# whole-city run ~2.5 s for a few hundred rows)
INPUTS: tuple[str, ...] = ("quota_accounts", "quota_ledger", "quota_grants")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = False
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 1

#: display names and units of land.quota_resources (migration 0001)
RESOURCES = {"energy": ("能耗", "energy", "tce"), "cod": ("化学需氧量", "COD", "t"), "nh3n": ("氨氮", "NH3-N", "t"),
             "so2": ("二氧化硫", "SO2", "t"), "nox": ("氮氧化物", "NOx", "t"), "vocs": ("挥发性有机物", "VOCs", "t"),
             "construction_land": ("用地指标", "construction land", "ha")}
_LEVEL_ZH = {"city": "市级", "district": "区级", "zone": "园区", "project": "项目"}
#: the units as the Chinese explanations name them (the evidence keeps the codes)
_UNIT_ZH = {"tce": "吨标准煤", "t": "吨", "ha": "公顷"}
_MOVES = ("allocation", "transfer")


def amt(x: float) -> str:
    """An amount for an explanation: thousands separated, up to the ledger's 3 decimals."""
    text = f"{x:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _sum_by(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame.groupby(key)["amount"].sum() if len(frame) else pd.Series(dtype=float)


def balances(accounts: pd.DataFrame, ledger: pd.DataFrame, as_of: dt.date, tolerance: float = 0.0005
             ) -> pd.DataFrame:
    """Every account's balance and verdict on ``as_of``, indexed by account id.

    Columns: quota_in, own_quota, city_cover, allocated_out, transferred_out, used, escalated,
    first_escalation_on, balance, shortfall, uncovered, has_inflow, outcome (within_quota,
    over_quota_escalated, over_quota_not_escalated, or cannot_evaluate for a root account
    whose own total was never recorded).
    """
    acc = accounts.set_index("id", drop=False)
    led = ledger.copy()
    if len(led):
        led = led[pd.to_datetime(led["recorded_on"]) <= pd.Timestamp(as_of)]
    led["amount"] = led["amount"].astype(float)
    moves = led[led["entry_type"].isin(_MOVES)]
    quota_in = _sum_by(moves.dropna(subset=["to_account_id"]), "to_account_id")
    alloc_out = _sum_by(moves[moves["entry_type"] == "allocation"].dropna(subset=["from_account_id"]),
                        "from_account_id")
    transfer_out = _sum_by(moves[moves["entry_type"] == "transfer"].dropna(subset=["from_account_id"]),
                           "from_account_id")
    used = _sum_by(led[led["entry_type"] == "use"], "from_account_id")
    esc = led[led["entry_type"] == "escalation"].dropna(subset=["from_account_id"])
    escalated = _sum_by(esc, "from_account_id")
    first_esc = esc.groupby("from_account_id")["recorded_on"].min() if len(esc) else pd.Series(dtype="datetime64[ns]")
    # what came in on or after an account's first escalation is the city's cover (up to the amount escalated)
    if len(first_esc):
        after = moves.dropna(subset=["to_account_id"])
        after = after[after["to_account_id"].isin(first_esc.index)]
        after = after[pd.to_datetime(after["recorded_on"]).to_numpy()
                      >= pd.to_datetime(after["to_account_id"].map(first_esc)).to_numpy()]
        cover_in = _sum_by(after, "to_account_id")
    else:
        cover_in = pd.Series(dtype=float)

    def col(series: pd.Series) -> np.ndarray:
        return acc["id"].map(series).fillna(0.0).to_numpy(dtype=float)

    out = pd.DataFrame(index=acc.index)
    out["quota_in"] = col(quota_in)
    out["allocated_out"] = col(alloc_out)
    out["transferred_out"] = col(transfer_out)
    out["used"] = col(used)
    out["escalated"] = col(escalated)
    out["first_escalation_on"] = acc["id"].map(first_esc) if len(first_esc) else pd.NaT
    out["city_cover"] = np.minimum(col(cover_in), out["escalated"].to_numpy())
    out["own_quota"] = out["quota_in"] - out["city_cover"]
    out["balance"] = out["quota_in"] - out["allocated_out"] - out["transferred_out"] - out["used"]
    demand = out["allocated_out"] + out["transferred_out"] + out["used"]
    shortfall = demand - out["own_quota"]
    out["shortfall"] = np.where(shortfall > tolerance, shortfall, 0.0)
    uncovered = out["shortfall"] - out["escalated"]
    out["uncovered"] = np.where(uncovered > tolerance, uncovered, 0.0)
    out["has_inflow"] = acc["id"].isin(quota_in.index).to_numpy()
    outcome = np.select([out["shortfall"] == 0, out["uncovered"] == 0],
                        ["within_quota", "over_quota_escalated"], default="over_quota_not_escalated").astype(object)
    # the city (the root) holds what no ledger entry gives it: without a recorded total it cannot be judged
    root = acc["parent_id"].isna().to_numpy() & ~out["has_inflow"].to_numpy()
    outcome[root] = CANNOT_EVALUATE
    out["outcome"] = outcome
    return out


@gc_paused
def evaluate(inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """One ``quota_balance`` finding per account of the years up to ``as_of``."""
    accounts, ledger = inputs.get("quota_accounts"), inputs.get("quota_ledger")
    values, prov = zone_params(QUOTA_BALANCE, overrides, as_of=as_of, keys=[(None, as_of.year)])[(None, as_of.year)]
    if accounts is None or ledger is None:
        missing = [n for n, f in (("quota_accounts", accounts), ("quota_ledger", ledger)) if f is None]
        return findings(
            QUOTA_BALANCE, as_of, [prov], zone_id=[None], parcel_id=[None], subject_type="account",
            subject_id=["ledger"], outcome=[CANNOT_EVALUATE], is_positive=[True],
            evidence=[{"missing": missing}], explanation_zh=[f"无法评估：缺少输入 {', '.join(missing)}"],
            explanation_en=[f"Cannot evaluate: missing input {', '.join(missing)}"])
    accounts = accounts[(accounts["year"] <= as_of.year) & accounts["resource"].isin(values["resources"])
                        & accounts["level"].isin(values["levels"])]
    if accounts.empty:
        return concat_findings([])
    b = balances(accounts, ledger, as_of, float(values["tolerance"]))
    acc = accounts.set_index("id", drop=False).loc[b.index]
    grants = inputs.get("quota_grants")
    zone_of_grant = grants.set_index("id")["zone_id"] if grants is not None and len(grants) else pd.Series(dtype=float)
    parcel_of_grant = grants.set_index("id")["parcel_id"] if grants is not None and len(grants) else pd.Series(
        dtype=float)
    zone_id = acc["zone_id"].astype("Float64").fillna(acc["grant_id"].map(zone_of_grant).astype("Float64"))
    parcel_id = acc["grant_id"].map(parcel_of_grant)
    zh, en, ev = [], [], []
    for a, r in zip(acc.itertuples(index=False), b.itertuples(index=False)):
        rzh, ren, unit = RESOURCES.get(a.resource, (a.resource, a.resource, ""))
        head_zh = f"{a.year} 年{_LEVEL_ZH.get(a.level, a.level)}账户「{a.name}」{rzh}（{_UNIT_ZH.get(unit, unit)}）"
        head_en = f"{a.year} {ren} ({unit}) of the {a.level} account '{a.name}'"
        esc_day = iso(r.first_escalation_on)
        ev.append({"year": int(a.year), "resource": a.resource, "level": a.level, "unit": unit,
                   "balance": round(r.balance, 3), "quota_in": round(r.quota_in, 3), "own_quota": round(r.own_quota, 3),
                   "city_cover": round(r.city_cover, 3), "allocated_out": round(r.allocated_out, 3),
                   "transferred_out": round(r.transferred_out, 3), "used": round(r.used, 3),
                   "escalated": round(r.escalated, 3), "first_escalation_on": esc_day,
                   "shortfall": round(r.shortfall, 3), "uncovered": round(r.uncovered, 3),
                   "parent_account_id": None if pd.isna(a.parent_id) else int(a.parent_id)})
        flows = [(r.allocated_out, "下拨", "allocated"), (r.transferred_out, "转出", "transferred"),
                 (r.used, "使用", "used")]
        out_zh = "、".join(f"{zh_} {amt(v)}" for v, zh_, _ in flows if v > 0) or "未下拨、未使用"
        out_en = ", ".join(f"{en_} {amt(v)}" for v, _, en_ in flows if v > 0) or "nothing allocated or used"
        if r.outcome == CANNOT_EVALUATE:
            zh.append(f"无法评估：{head_zh}没有记录总量（台账中没有计入该账户的下达），已{out_zh}")
            en.append(f"Cannot evaluate: {head_en} has no recorded total (no ledger entry gives it quota); "
                      f"it {out_en}")
        elif r.outcome == "within_quota":
            zh.append(f"{head_zh}：下达 {amt(r.quota_in)}，{out_zh}，余额 {amt(r.balance)}，未超配额"
                      f"（截至 {as_of.isoformat()}）")
            en.append(f"{head_en}: received {amt(r.quota_in)}, {out_en}, balance {amt(r.balance)}: "
                      f"within quota (as of {as_of.isoformat()})")
        elif r.outcome == "over_quota_escalated":
            cover_zh = f"，市统筹追加 {amt(r.city_cover)}" if r.city_cover > 0 else "，待市统筹"
            cover_en = f"; the city added {amt(r.city_cover)}" if r.city_cover > 0 else "; awaiting the city"
            zh.append(f"{head_zh}：本级配额 {amt(r.own_quota)}，{out_zh}，超出 {amt(r.shortfall)}；"
                      f"已于 {esc_day} 报市统筹 {amt(r.escalated)}，覆盖缺口{cover_zh}，余额 {amt(r.balance)}")
            en.append(f"{head_en}: own quota {amt(r.own_quota)}, {out_en}, over by {amt(r.shortfall)}; "
                      f"{amt(r.escalated)} escalated to the city on {esc_day}, covering the shortfall{cover_en}; "
                      f"balance {amt(r.balance)}")
        else:
            esc_zh = f"仅报市统筹 {amt(r.escalated)}" if r.escalated > 0 else "无报市统筹记录"
            esc_en = f"only {amt(r.escalated)} was escalated" if r.escalated > 0 else "no escalation is recorded"
            zh.append(f"{head_zh}：本级配额 {amt(r.own_quota)}，{out_zh}，余额 {amt(r.balance)}，超出 "
                      f"{amt(r.shortfall)}，{esc_zh}，{amt(r.uncovered)} 未报市统筹（截至 {as_of.isoformat()}）")
            en.append(f"{head_en}: own quota {amt(r.own_quota)}, {out_en}, balance {amt(r.balance)}, over by "
                      f"{amt(r.shortfall)}; {esc_en}, {amt(r.uncovered)} not escalated to the city "
                      f"(as of {as_of.isoformat()})")
    outcome = b["outcome"].to_numpy()
    return findings(
        QUOTA_BALANCE, as_of, [prov] * len(b),
        zone_id=[None if pd.isna(z) else int(z) for z in zone_id],
        parcel_id=[None if pd.isna(p) else int(p) for p in parcel_id], subject_type="account",
        subject_id=acc["id"].astype(str).to_numpy(), outcome=outcome,
        is_positive=np.isin(outcome, ["over_quota_not_escalated", CANNOT_EVALUATE]),
        evidence=ev, explanation_zh=zh, explanation_en=en)


@dataclass(frozen=True)
class QuotaDecision:
    """What happens to a request: ``grant`` from the district's remaining balance or ``escalate``
    the shortfall to the city."""

    decision: str
    account_id: int
    amount: float
    available: float
    shortfall: float
    drawn_from: tuple[tuple[int, float], ...]  # (account id, amount) from the nearest level up
    explanation_zh: str
    explanation_en: str


def request_quota(accounts: pd.DataFrame, ledger: pd.DataFrame, account_id: int, amount: float,
                  as_of: dt.date | None = None) -> QuotaDecision:
    """Decide a request for ``amount`` by ``account_id`` (a project or zone account).

    The request is met from the remaining balances up the chain, nearest first (the zone, then
    the district): what the district and its zone hold unallocated. Beyond that the district
    cannot balance it and the shortfall is escalated to the city (SMPG GO [2021] No. 1 §1.5).

    Example:
        >>> import pandas as pd
        >>> acc = pd.DataFrame({"id": [1, 2, 3], "year": 2025, "resource": "energy",
        ...                     "level": ["city", "district", "project"], "parent_id": [None, 1, 2],
        ...                     "name": ["市", "区", "项目"]})
        >>> led = pd.DataFrame({"year": 2025, "resource": "energy", "entry_type": ["allocation"],
        ...                     "from_account_id": [1], "to_account_id": [2], "amount": [100.0],
        ...                     "recorded_on": pd.to_datetime(["2025-01-10"])})
        >>> d = request_quota(acc, led, 3, 130.0, as_of=dt.date(2025, 9, 1))
        >>> d.decision, d.available, d.shortfall
        ('escalate', 100.0, 30.0)
    """
    as_of = as_of or dt.date.today()
    if amount is None or not np.isfinite(amount) or amount <= 0:
        raise InputError(f"the amount requested must be a positive number, got {amount!r}")
    acc = accounts.set_index("id", drop=False)
    if account_id not in acc.index:
        raise InputError(f"there is no quota account {account_id}")
    me = acc.loc[account_id]
    if me["level"] == "city":
        raise InputError("the city account is the top of the ledger; it cannot request quota")
    b = balances(accounts, ledger, as_of)
    chain, parent = [], me["parent_id"]
    while pd.notna(parent) and int(parent) in acc.index:
        up = acc.loc[int(parent)]
        if up["level"] == "city":
            break
        chain.append(int(parent))
        if up["level"] == "district":
            break
        parent = up["parent_id"]
    if me["level"] == "district":
        chain = [int(account_id)]
    drawn, left = [], float(amount)
    for a in chain:
        take = min(max(float(b.at[a, "balance"]), 0.0), left)
        if take > 0:
            drawn.append((a, round(take, 3)))
            left -= take
    available = sum(max(float(b.at[a, "balance"]), 0.0) for a in chain)
    rzh, ren, unit = RESOURCES.get(me["resource"], (me["resource"], me["resource"], ""))
    names = " → ".join(str(acc.at[a, "name"]) for a in chain) or "—"
    unit_zh = _UNIT_ZH.get(unit, unit)
    if left <= 0.0005:
        decision, shortfall = "grant", 0.0
        zh = (f"申请 {rzh} {amt(amount)} {unit_zh}：{names} 尚余 {amt(available)} {unit_zh}，可在区内平衡，予以下达"
              f"（截至 {as_of.isoformat()}）")
        en = (f"Request for {amt(amount)} {unit} of {ren}: {names} still hold {amt(available)} {unit}; "
              f"the district can balance it: grant (as of {as_of.isoformat()})")
    else:
        decision, shortfall = "escalate", round(left, 3)
        zh = (f"申请 {rzh} {amt(amount)} {unit_zh}：{names} 仅余 {amt(available)} {unit_zh}，缺口 {amt(left)} {unit_zh}"
              f" 区内无法平衡，报市统筹（截至 {as_of.isoformat()}）")
        en = (f"Request for {amt(amount)} {unit} of {ren}: {names} hold only {amt(available)} {unit}; "
              f"the shortfall of {amt(left)} {unit} cannot be balanced in the district: escalate to the city "
              f"(as of {as_of.isoformat()})")
    return QuotaDecision(decision=decision, account_id=int(account_id), amount=float(amount),
                         available=round(available, 3), shortfall=shortfall, drawn_from=tuple(drawn),
                         explanation_zh=zh, explanation_en=en)


@dataclass(frozen=True)
class EnergyReview:
    """The review a fixed-asset project's energy use calls for."""

    level: str  # provincial_review | local_review | exempt | undetermined
    annual_tce: float
    annual_kwh: float | None
    explanation_zh: str
    explanation_en: str


def energy_review_level(annual_tce: float, annual_kwh: float | None = None) -> EnergyReview:
    """The energy review level of a project from its annual consumption.

    >= 5,000 tce/yr: reviewed by the province; < 1,000 tce **and** < 5 million kWh: no separate
    review; otherwise reviewed locally. Without the electricity figure a project under 1,000 tce
    cannot be declared exempt (``undetermined``).

    Example:
        >>> energy_review_level(5000).level, energy_review_level(999, 4_999_999).level
        ('provincial_review', 'exempt')
    """
    p = {x.name: x.default for x in ENERGY_REVIEW.params}
    if annual_tce is None or not np.isfinite(annual_tce) or annual_tce < 0:
        raise InputError(f"annual energy use must be a non-negative number of tce, got {annual_tce!r}")
    if annual_kwh is not None and (not np.isfinite(annual_kwh) or annual_kwh < 0):
        raise InputError(f"annual electricity use must be a non-negative number of kWh, got {annual_kwh!r}")
    tce, kwh = float(annual_tce), None if annual_kwh is None else float(annual_kwh)
    prov_min, ex_tce, ex_kwh = p["provincial_min_tce"], p["exempt_below_tce"], p["exempt_below_kwh"]
    kwh_zh = "" if kwh is None else f"、年用电 {num(kwh, 0)} kWh"
    kwh_en = "" if kwh is None else f" and {num(kwh, 0)} kWh"
    if tce >= prov_min:
        level = "provincial_review"
        zh = f"年综合能耗 {num(tce)} tce ≥ {num(prov_min, 0)} tce，由省级节能审查机关审查"
        en = f"{num(tce)} tce/yr >= {num(prov_min, 0)} tce: energy review by the province"
    elif tce < ex_tce and kwh is not None and kwh < ex_kwh:
        level = "exempt"
        zh = (f"年综合能耗 {num(tce)} tce < {num(ex_tce, 0)} tce{kwh_zh} < {num(ex_kwh, 0)} kWh，"
              "不单独进行节能审查")
        en = f"{num(tce)} tce{kwh_en} are below {num(ex_tce, 0)} tce and {num(ex_kwh, 0)} kWh: no separate review"
    elif tce < ex_tce and kwh is None:
        level = "undetermined"
        zh = f"年综合能耗 {num(tce)} tce < {num(ex_tce, 0)} tce，但缺少年用电量，无法判断是否免于节能审查"
        en = f"{num(tce)} tce/yr is below {num(ex_tce, 0)} tce but the electricity use is missing: exemption unknown"
    else:
        level = "local_review"
        zh = f"年综合能耗 {num(tce)} tce{kwh_zh}，不足 {num(prov_min, 0)} tce 且不符合免审条件，由地方节能审查"
        en = (f"{num(tce)} tce{kwh_en}: below {num(prov_min, 0)} tce and not exempt: energy review by the local "
              "authority")
    return EnergyReview(level=level, annual_tce=tce, annual_kwh=kwh, explanation_zh=zh, explanation_en=en)
