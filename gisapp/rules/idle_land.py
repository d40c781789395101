"""Idle land (闲置土地, MLR Order No. 53, in force 2012-07-01) and the land inventories.

Rule ``idle_land`` (one finding per granted parcel, latest grant signed on or before the as-of
date; parcels already reclaimed or exited are out of scope):

- *not started* (``idle_not_started``): development has not started (no start date on or before
  the as-of date in the latest progress report) and one full year has passed since the agreed
  start date (约定动工开发日期) of the grant contract;
- *stalled* (``idle_stalled``): started, but the developed area is below 1/3 of the area that
  should be developed **or** the investment made is below 25% of the total, **and** development
  has been suspended for one full year. The suspension is the one open on the as-of date: a
  parcel that resumed and was suspended again counts from its latest suspension;
- ``exempt``: idle by the above, but an exemption (art. 8 reason code) is active on the as-of
  date, or the land's delivery is overdue (below); such land is handled by negotiation, not
  disposal;
- the fee is 20% of the grant price once idle (art. 14); after two full years the parcel is a
  candidate for recovery without compensation. For stalled land both periods run from the
  suspension, for not-started land from the agreed start date, each moved as follows
  (:mod:`gisapp.rules.idle_clock`; docs/policy.md §5.1);
- ``idle_fee_due``: not idle on the as-of date (construction started late, an extension gave a
  new start...), but an idle-land fee decided in a case on the parcel is neither paid in full
  nor revoked: a later start ends the idleness, not the decision. Land that is idle, exempt or
  cannot be evaluated keeps that outcome; its evidence (``fee_decision``) and sentence carry the
  fee all the same, and a fee paid or revoked is said so (:mod:`gisapp.rules.idle_cases`).

What cases decided (:mod:`gisapp.rules.idle_cases`): an extension by supplementary agreement
(art. 12(1)) gives the grant a new agreed start date, from which the clock runs; the days the
land was delivered late up to the agreement's day are in that negotiated date, so they do not
move it again. Due 2022-01-01, delivered 2022-07-01 (181 days late), extension agreed 2022-05-01
with a new start of 2023-03-01: the 120 days up to 2022-05-01 are absorbed, the 61 after it
move the new start to 2023-05-01, and the year ends at the end of 2024-05-01.

Land not delivered as agreed (art. 8(1)), from the grant's delivery due and delivery dates, with
no exemption recorded by hand:

- *delivered late*: the agreed start moves by the days of the delay (delivered − due), and the
  years count from the moved date. Due 2022-01-01, delivered 2022-07-01 (181 days late), agreed
  start 2022-03-01: the year counts from 2022-08-29 and ends at the end of 2023-08-29. The delay,
  not the later of the agreed start and the delivery, because the agreed start leaves the user
  time after delivery to prepare (art. 22 asks contracts to leave it; with no agreed start, art. 22
  counts one year from the actual delivery): counting from the delivery day would take that time
  away, or nothing at all when the land came late but before the agreed start;
- *not delivered*, the due date passed (overdue from the day after it): no clock runs; the land
  is ``exempt`` where it would otherwise be idle, ``not_idle`` before, both saying it waits for
  delivery. A delivery date after the as-of date is not known on it. Before its due date,
  undelivered land is judged as any other.

A finished exemption pauses the clock, it does not restart it and is not ignored: its days
after the clock's start, if it began on or before the period's last day, are not counted, so
the period ends that many days later. Agreed start 2022-03-01 and an exemption 2022-06-01 to
2022-11-30 (183 days): the year ends at the end of 2023-08-31 (restarting would give 2023-11-30,
ignoring it 2023-03-01). Art. 8 takes only the government's time out of the user's period; a new
start agreed by negotiation (art. 12(1)) is a new agreed start date. While an exemption lasts the
clock stands still, so the land is ``exempt`` if it is idle counting only the finished ones, and
``not_idle`` otherwise. Overlapping exemptions count each day once; one that begins after the
period ended does not reopen it (it still pauses the two years of recovery if they run). A zone
whose ``exempt_reasons`` leave a reason out neither exempts nor pauses for it, and without
``land_not_delivered`` late delivery moves nothing.

"One full year" is counted by calendar as the Civil Code counts periods (arts. 201-203; see
:func:`gisapp.rules.common.anniversary`): the starting day is not counted and the year ends at
24:00 on the corresponding day of the next year. Agreed start 2022-03-01: the year ends at the
end of 2023-03-01, so the parcel is idle as of 2023-03-02 (not yet as of 2023-03-01). A start
on 29 February ends its year on 28 February of a common year (the month has no 29th), so the
land is idle from 1 March. A share exactly at its threshold (1/3, 25%) is not below it; shares
are compared with a tolerance of 1e-9 so that 1/3 held as a decimal does not flip an exact third.

Rule ``land_inventory``: parcels marked approved but not supplied (批而未供), and parcels granted
on or before the as-of date where development has not started (供而未用), with their area and since
when. Both outcomes are positives (inventories to work down).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gisapp.i18n import TEXTS, label
from gisapp.rules import columnar as col
from gisapp.rules import idle_cases, idle_clock
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec, empty_findings
from gisapp.rules.common import (
    MU_PER_M2,
    ZoneParams,
    as_day,
    concat_findings,
    findings,
    fmt_share,
    format_each,
    gc_paused,
    iso_dates,
    round_list,
)

ORDER_53 = "国土资源部令第53号"  # 闲置土地处置办法; sources are short: stored with every finding
IN_FORCE = dt.date(2012, 7, 1)
NOT_DELIVERED = "land_not_delivered"  # art. 8(1); known from the grant's delivery dates too
EXEMPT_REASONS = [
    "land_not_delivered",
    "plan_revision",
    "state_policy",
    "petition",
    "military_relic",
    "government_act",
    "force_majeure",
]

IDLE = RuleSpec(
    "idle_land",
    "1.2",  # 1.1: late or missing delivery and finished exemptions move the clock; 1.2: what cases decided
    "闲置土地认定",
    "Idle land (MLR Order No. 53)",
    (
        Param(
            "idle_years",
            1,
            f"{ORDER_53}第二条",
            IN_FORCE,
            "full years after the agreed start date without a start",
        ),
        Param(
            "develop_share_min",
            1 / 3,
            f"{ORDER_53}第二条",
            IN_FORCE,
            "developed area / area that should be developed, below which started land may be idle",
        ),
        Param(
            "invest_share_min",
            0.25,
            f"{ORDER_53}第二条",
            IN_FORCE,
            "investment made / total investment, below which started land may be idle",
        ),
        Param(
            "suspension_years",
            1,
            f"{ORDER_53}第二条",
            IN_FORCE,
            "full years of suspension that make started land idle",
        ),
        Param(
            "fee_rate",
            0.20,
            f"{ORDER_53}第十四条（一）",
            IN_FORCE,
            "idle-land fee as a share of the grant price",
        ),
        Param(
            "recovery_years",
            2,
            f"{ORDER_53}第十四条（二）",
            IN_FORCE,
            "full years after which the land may be recovered without compensation",
        ),
        Param(
            "exempt_reasons",
            EXEMPT_REASONS,
            f"{ORDER_53}第八条",
            IN_FORCE,
            "exemption reason codes that exempt land from idle-land disposal and whose days pause its "
            "clock; with land_not_delivered, late or missing delivery on the grant counts without a record",
        ),
    ),
)
INVENTORY = RuleSpec(
    "land_inventory",
    "1.0",
    "批而未供与供而未用",
    "Approved-unsupplied and supplied-unbuilt land",
    (
        Param(
            "out_of_scope_statuses",
            ["reclaimed", "exited"],
            "项目约定",
            IN_FORCE,
            "parcel statuses not counted as supplied-but-unbuilt",
        ),
    ),
)

SPECS = (IDLE, INVENTORY)
INPUTS = ("parcels", "land_grants", "construction_progress", "construction_suspensions", "idle_exemptions",
          "case_extensions", "idle_fee_decisions")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 17
# Land back in public hands: Order 53 no longer applies to the former holder.
OUT_OF_SCOPE = ("reclaimed", "exited")
# statuses that say development started, so a missing start date is a data gap, not "not started"
STARTED_STATUSES = ("under_construction", "completed", "in_production", "low_efficiency", "transferred")
#: outcomes that call for action: idle land, a decided fee still due, and gaps in the data
POSITIVE = ("idle_not_started", "idle_stalled", "idle_fee_due", CANNOT_EVALUATE)


@gc_paused
def evaluate(
    inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Findings of ``idle_land`` and ``land_inventory`` as of ``as_of``."""
    state = parcel_state(inputs, as_of)
    cases = {"extensions": idle_cases.frame_or_empty(inputs, "case_extensions", idle_cases.EXTENSION_COLUMNS),
             "fees": idle_cases.frame_or_empty(inputs, "idle_fee_decisions", idle_cases.FEE_COLUMNS)}
    parts = [
        idle_findings(state, inputs["idle_exemptions"], as_of, overrides, **cases),
        inventory_findings(inputs["parcels"], state, as_of, overrides),
    ]
    parts = [p for p in parts if not p.empty]
    return concat_findings(parts) if parts else empty_findings()


def parcel_state(inputs: dict[str, pd.DataFrame], as_of: dt.date) -> pd.DataFrame:
    """One row per parcel with a grant signed by ``as_of``: the grant, the latest progress report
    up to ``as_of`` and the suspension open on ``as_of``."""
    day = as_day(as_of)
    parcels = inputs["parcels"][["id", "zone_id", "status", "area_m2"]].rename(columns={"id": "parcel_id"})
    grants = inputs["land_grants"]
    grants = grants[grants["granted_on"] <= day].sort_values(["parcel_id", "granted_on", "id"])
    grants = grants.drop_duplicates("parcel_id", keep="last")[
        ["parcel_id", "id", "contract_no", "granted_on", "delivery_due_on", "delivered_on", "agreed_start_on",
         "price_wan"]
    ].rename(columns={"id": "grant_id"})
    state = grants.merge(parcels, on="parcel_id", how="inner")

    prog = inputs["construction_progress"]
    prog = prog[prog["reported_on"] <= day].sort_values(["parcel_id", "reported_on"])
    prog = prog.drop_duplicates("parcel_id", keep="last")[
        [
            "parcel_id",
            "reported_on",
            "started_on",
            "should_develop_area_m2",
            "developed_area_m2",
            "invested_wan",
            "total_investment_wan",
        ]
    ]
    state = state.merge(prog, on="parcel_id", how="left")

    susp = inputs["construction_suspensions"]
    susp = susp[susp["suspended_from"] <= day].sort_values(["parcel_id", "suspended_from"])
    latest = susp.drop_duplicates("parcel_id", keep="last")
    latest = latest[latest["resumed_on"].isna() | (latest["resumed_on"] > day)]
    state = state.merge(
        latest[["parcel_id", "suspended_from"]].rename(columns={"suspended_from": "suspended_since"}),
        on="parcel_id",
        how="left",
    )

    state["started"] = state["started_on"].notna() & (state["started_on"] <= day)
    return state.reset_index(drop=True)


def idle_findings(
    state: pd.DataFrame, exemptions: pd.DataFrame, as_of: dt.date, overrides: pd.DataFrame | None,
    extensions: pd.DataFrame | None = None, fees: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``idle_land`` findings of the parcels in ``state`` (see :func:`parcel_state`), with the
    parcels' ``exemptions`` (``land.idle_exemptions``), and the ``extensions`` agreed and idle-land
    ``fees`` decided in their cases (frames ``case_extensions``, ``idle_fee_decisions``; None:
    none)."""
    s = state[~state["status"].isin(OUT_OF_SCOPE)].reset_index(drop=True)
    if s.empty:
        return empty_findings()
    day = as_day(as_of)
    # an extension agreed after the date is not known on it: the agreed start is then the one it replaced
    ext = idle_cases.extensions(s["grant_id"], s["agreed_start_on"],
                                idle_cases.empty(idle_cases.EXTENSION_COLUMNS) if extensions is None else extensions,
                                day)
    s = s.assign(agreed_start_on=ext.agreed_start)
    decided = idle_cases.fee_decisions(s["parcel_id"], s["grant_id"],
                                       idle_cases.empty(idle_cases.FEE_COLUMNS) if fees is None else fees, day)
    zp = ZoneParams(IDLE, overrides, as_of, s["zone_id"])
    idle_years = zp.column("idle_years", "int64")
    susp_years = zp.column("suspension_years", "int64")
    recov_years = zp.column("recovery_years", "int64")
    dev_min = zp.column("develop_share_min")
    inv_min = zp.column("invest_share_min")
    fee_rate = zp.column("fee_rate")
    exempt_codes = zp.column("exempt_reasons", None)

    started = s["started"].to_numpy()
    no_start_date = s["agreed_start_on"].isna().to_numpy()
    status_says_started = s["status"].isin(STARTED_STATUSES).to_numpy()
    suspended = s["suspended_since"].notna().to_numpy()

    # art. 8(1): land the government delivered late moves the agreed start by the delay; land not
    # delivered by its due date has no clock until delivery (a zone that does not count late
    # delivery as a cause, by the exempt_reasons parameter, counts from the agreed start)
    delivery_counts = zp.derived(lambda v: NOT_DELIVERED in v["exempt_reasons"], "bool") & ~started
    late_days, overdue = idle_clock.delivery(s["delivery_due_on"], s["delivered_on"], day)
    late_days = np.where(delivery_counts, late_days, 0)
    # art. 12(1): the new agreed start of an extension was negotiated knowing the delay so far
    absorbed = idle_cases.absorbed_delay(late_days, s["delivery_due_on"], ext.agreed_on)
    late_days = late_days - absorbed
    overdue &= delivery_counts
    active, pauses = _exemptions(s, exemptions, day, exempt_codes)

    # not started: the clock runs from the agreed start (moved by late delivery); stalled: from the
    # open suspension; either pauses for the finished exemptions (the active one decides below)
    moved_start = s["agreed_start_on"] + pd.to_timedelta(late_days, unit="D")
    base = moved_start.where(~s["started"], s["suspended_since"])
    years = np.where(started, susp_years, idle_years)
    idle_due, paused = idle_clock.period_end(base, years, pauses)
    recovery_due, _ = idle_clock.period_end(base, recov_years, pauses)
    clock_from = base + pd.to_timedelta(paused, unit="D")
    full_period = (idle_due < day).fillna(False).to_numpy(dtype=bool)
    recovery = (recovery_due < day).fillna(False).to_numpy(dtype=bool)

    tol = 1e-9
    dev_share = (s["developed_area_m2"] / s["should_develop_area_m2"]).to_numpy(dtype="float64")
    inv_share = (s["invested_wan"] / s["total_investment_wan"]).to_numpy(dtype="float64")
    dev_low = dev_share < dev_min - tol
    inv_low = inv_share < inv_min - tol
    shares_unknown = np.isnan(dev_share) | np.isnan(inv_share)

    cannot_start = no_start_date & ~started
    cannot_status = ~started & status_says_started
    cannot_shares = started & suspended & full_period & ~(dev_low | inv_low) & shares_unknown
    cannot = cannot_start | cannot_status | cannot_shares
    idle_not_started = ~cannot & ~started & full_period
    idle_stalled = ~cannot & started & suspended & full_period & (dev_low | inv_low)
    idle = idle_not_started | idle_stalled
    # an exemption in force on the date (recorded, or the overdue delivery) exempts idle land
    recorded = pd.notna(active["reason_code"])
    exempt = idle & (recorded | overdue)
    # a fee decided in a case stays due after the idleness ended (a later start, an extension):
    # land not idle on the date whose fee is unpaid and not revoked is idle_fee_due
    outcome = np.select(
        [cannot, exempt, idle_not_started, idle_stalled, decided.due],
        [CANNOT_EVALUATE, "exempt", "idle_not_started", "idle_stalled", "idle_fee_due"],
        "not_idle",
    )
    reason = np.where(recorded, active["reason_code"], np.where(overdue, NOT_DELIVERED, None))
    overdue_from = (s["delivery_due_on"] + pd.Timedelta(days=1)).to_numpy(dtype="datetime64[ns]")
    exempt_from = pd.Series(np.where(recorded, active["from_on"],
                                     np.where(overdue, overdue_from, np.datetime64("NaT"))))

    price = s["price_wan"].to_numpy(dtype="float64")
    fee = np.where(idle & ~exempt, np.round(price * fee_rate, 2), np.nan)
    # land no longer idle: the fee due is what is unpaid of the one decided
    fee = np.where(outcome == "idle_fee_due", decided.outstanding, fee)
    idle_since = (idle_due + pd.Timedelta(days=1)).where(pd.Series(idle), pd.NaT)
    recovery_from = (recovery_due + pd.Timedelta(days=1)).where(pd.Series(idle & ~exempt & recovery), pd.NaT)
    delivered_on = s["delivered_on"].where(s["delivered_on"] <= day, pd.NaT)
    clock_from = clock_from.where(pd.Series(~overdue), pd.NaT)  # no clock until delivery

    ev = {
        "grant_id": s["grant_id"].astype("int64").tolist(),
        "contract_no": s["contract_no"].tolist(),
        "agreed_start_on": iso_dates(s["agreed_start_on"]),
        "started_on": iso_dates(s["started_on"].where(s["started"], pd.NaT)),
        "suspended_since": iso_dates(s["suspended_since"]),
        "developed_share": round_list(dev_share, 4),
        "invested_share": round_list(inv_share, 4),
        "period_ends_on": iso_dates(idle_due),
        "idle_since": iso_dates(idle_since),
        "price_wan": round_list(price, 2),
        "fee_wan": round_list(fee, 2),
        "recovery_candidate": (idle & ~exempt & recovery).tolist(),
        "recovery_from": iso_dates(recovery_from),
        "exemption_reason": reason.tolist(),
        "exempt_from": iso_dates(exempt_from),
        "delivery_due_on": iso_dates(s["delivery_due_on"]),
        "delivered_on": iso_dates(delivered_on),
        "clock_from": iso_dates(clock_from),
    }
    moved = (late_days > 0) | (paused > 0) | overdue
    evidence = col.json_objects({
        "grant_id": col.j_int(s["grant_id"]),
        "contract_no": col.j_str(s["contract_no"]),
        "agreed_start_on": col.j_date(s["agreed_start_on"]),
        "started_on": col.j_date(s["started_on"].where(s["started"], pd.NaT)),
        "suspended_since": col.j_date(s["suspended_since"]),
        "developed_share": col.j_float(dev_share, 4),
        "invested_share": col.j_float(inv_share, 4),
        "period_ends_on": col.j_date(idle_due),
        "idle_since": col.j_date(idle_since),
        "price_wan": col.j_float(price, 2),
        "fee_wan": col.j_float(fee, 2),
        "recovery_candidate": col.j_bool(idle & ~exempt & recovery),
        "recovery_from": col.j_date(recovery_from),
        "exemption_reason": col.j_str(ev["exemption_reason"]),
        "exempt_from": col.j_date(exempt_from),
        "clock": _clock_evidence(moved, clock_from, s["delivery_due_on"], delivered_on, late_days, overdue, paused),
    })
    evidence = col.evidence_column(idle_cases.with_case_keys(evidence, ext, s["agreed_start_on"], absorbed, decided,
                                                             day))
    flags = {
        "cannot_start": cannot_start,
        "cannot_status": cannot_status,
        "dev_low": dev_low,
        "inv_low": inv_low,
        "overdue": overdue,
        "recorded": recorded,
    }
    shares = {"developed": dev_share, "invested": inv_share}
    clock = {"late_days": late_days, "paused": paused, "reason_zh": active["reason_zh"],
             "reason_en": active["reason_en"]}
    # the sentences of land not idle first, then what the cases decided
    zh, en = _explain(s, ev, shares, np.where(outcome == "idle_fee_due", "not_idle", outcome), day, zp, flags, clock)
    _explain_cases(zh, en, outcome, ~started & ~cannot, ext, absorbed, decided, ev["agreed_start_on"], day)
    frame = findings(
        IDLE,
        as_of,
        zp,
        zone_id=s["zone_id"].astype("int64").to_numpy(),
        parcel_id=s["parcel_id"].astype("int64").to_numpy(),
        subject_type="parcel",
        subject_id=col.id_texts(s["parcel_id"]),
        outcome=outcome,
        is_positive=np.isin(outcome, POSITIVE),
        evidence=evidence,
        explanation_zh=zh,
        explanation_en=en,
    )
    return frame


def _clock_evidence(moved, clock_from, due_on, delivered_on, late_days, overdue, paused) -> pa.Array:
    """The evidence key ``clock``: null where the period runs from the agreed start (or the
    suspension) as it is; else what moved it and the day it counts from (null while the land
    waits for delivery). An object only for the few rows it concerns: a million findings
    otherwise carry ~150 bytes more each."""
    n = len(moved)
    rows = np.flatnonzero(moved)
    out = pc.fill_null(pa.nulls(n, pa.string()), "null")
    if rows.size == 0:
        return out
    late = late_days[rows]
    obj = col.json_objects({
        "from": col.j_date(clock_from.iloc[rows]),
        "delivery_due_on": col.j_date(due_on.iloc[rows]),
        "delivered_on": col.j_date(delivered_on.iloc[rows]),
        "delivery_delay_days": col.j_int(np.where(late > 0, late, np.nan)),
        "delivery_overdue": col.j_bool(overdue[rows]),
        "paused_days": col.j_int(paused[rows]),
    })
    return col.replace_rows(out, rows, obj)


def _exemptions(
    s: pd.DataFrame, exemptions: pd.DataFrame, day: pd.Timestamp, exempt_codes: np.ndarray
) -> tuple[dict[str, np.ndarray], idle_clock.Pauses]:
    """The exemptions of the parcels of ``s`` whose reason exempts in the parcel's zone: per row
    the first one in force on ``day`` (arrays reason_code, reason_zh, reason_en: None where none;
    from_on: NaT), and the finished ones as the clock's pauses."""
    rows = pd.Index(s["parcel_id"]).get_indexer(exemptions["parcel_id"])
    exempting = np.array([r >= 0 and c in exempt_codes[r]
                          for r, c in zip(rows.tolist(), exemptions["reason_code"].tolist())], dtype=bool)
    ex = exemptions[exempting].assign(row=rows[exempting])
    begun = (ex["from_on"] <= day).to_numpy()
    over = (ex["to_on"].notna() & (ex["to_on"] < day)).to_numpy()
    now = ex[begun & ~over].sort_values(["row", "from_on"], kind="stable").drop_duplicates("row")
    at = now["row"].to_numpy()
    active: dict[str, np.ndarray] = {}
    for c in ("reason_code", "reason_zh", "reason_en"):
        active[c] = np.full(len(s), None, dtype=object)
        active[c][at] = now[c].to_numpy(dtype=object)
    active["from_on"] = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    active["from_on"][at] = now["from_on"].to_numpy(dtype="datetime64[ns]")
    done = ex[begun & over]
    return active, idle_clock.merged_pauses(done["row"], done["from_on"], done["to_on"])


def _yz(n: int) -> str:
    return {1: "一", 2: "两", 3: "三"}.get(n, str(n))


def _ye(n: int) -> str:
    return {1: "one full year", 2: "two full years", 3: "three full years"}.get(n, f"{n} full years")


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def _per_row(zp: ZoneParams, name: str, fmt) -> list[str]:
    """A parameter formatted for text, per row (formatted once per zone)."""
    return zp.derived(lambda v: fmt(v[name]), None).tolist()


def _explain(
    s: pd.DataFrame,
    ev: dict,
    shares: dict[str, np.ndarray],
    outcome: np.ndarray,
    day: pd.Timestamp,
    zp: ZoneParams,
    flags: dict[str, np.ndarray],
    clock: dict,
) -> tuple[list[str], list[str]]:
    """One sentence in Chinese and English per parcel naming the dates, numbers and thresholds.

    Built per outcome with list comprehensions over the rows of that outcome (fast enough for a
    million parcels); every number shown is the one that decided. Where late delivery or
    exemptions moved the clock, the sentence says by how much and from when it counts (the
    vocabulary's ``idle.*`` texts).
    """
    n = len(s)
    as_of = day.date().isoformat()
    zh: list[str] = [""] * n
    en: list[str] = [""] * n
    dmin = _per_row(zp, "develop_share_min", fmt_share)
    imin = _per_row(zp, "invest_share_min", fmt_share)
    rate = _per_row(zp, "fee_rate", lambda v: f"{v * 100:g}%")
    nyz, nye = _per_row(zp, "idle_years", _yz), _per_row(zp, "idle_years", _ye)
    syz, sye = _per_row(zp, "suspension_years", _yz), _per_row(zp, "suspension_years", _ye)
    ryz, rye = _per_row(zp, "recovery_years", _yz), _per_row(zp, "recovery_years", _ye)
    # the shares as the evidence rounds them, each distinct share formatted once
    dsh = format_each(np.round(shares["developed"], 4), _pct)
    ish = format_each(np.round(shares["invested"], 4), _pct)
    start, started_on, susp = ev["agreed_start_on"], ev["started_on"], ev["suspended_since"]
    due, since, fee, rec_from = ev["period_ends_on"], ev["idle_since"], ev["fee_wan"], ev["recovery_from"]
    contract = ev["contract_no"]
    status = s["status"].tolist()

    def rows(mask: np.ndarray) -> list[int]:
        return np.flatnonzero(mask).tolist()

    def put(idx: list[int], texts_zh, texts_en) -> None:
        for i, z, e in zip(idx, texts_zh, texts_en):
            zh[i], en[i] = z, e

    # what moved the clock, for the few rows it moved: late delivery and paused exemption days
    # (land still waiting for delivery has no clock: its sentences say so instead)
    late, paused = clock["late_days"], clock["paused"]
    moved = ((late > 0) | (paused > 0)) & ~flags["overdue"]
    delivery_due, delivered, clock_from = ev["delivery_due_on"], ev["delivered_on"], ev["clock_from"]
    moved_zh: dict[int, str] = {}
    moved_en: dict[int, str] = {}
    for i in rows(moved):
        parts = [(k, v) for k, v in (("idle.moved.delivery", late[i]), ("idle.moved.paused", paused[i])) if v > 0]
        for lang, out in (("zh", moved_zh), ("en", moved_en)):
            out[i] = TEXTS["idle.moved.and"][lang].join(
                TEXTS[k][lang].format(days=v, due=delivery_due[i], delivered=delivered[i]) for k, v in parts
            )
    not_delivered = {lang: label("exempt_reason", NOT_DELIVERED, lang) for lang in ("zh", "en")}

    cannot = outcome == CANNOT_EVALUATE
    idx = rows(cannot & flags["cannot_start"])
    put(
        idx,
        [f"无法判定：出让合同 {contract[i]} 缺少约定动工开发日期" for i in idx],
        [f"Cannot evaluate: grant contract {contract[i]} has no agreed start date" for i in idx],
    )
    idx = rows(cannot & ~flags["cannot_start"] & flags["cannot_status"])
    put(
        idx,
        [f"无法判定：地块状态为“{status[i]}”，但截至 {as_of} 无实际动工日期的进度记录" for i in idx],
        [
            f"Cannot evaluate: status is {status[i]} but no progress report up to {as_of} gives a start date"
            for i in idx
        ],
    )
    idx = rows(cannot & ~flags["cannot_start"] & ~flags["cannot_status"])
    put(
        idx,
        [
            f"无法判定：自 {susp[i]} 起中止开发满{syz[i]}年，但缺少应开发面积/已开发面积或投资额数据"
            f"（开发面积占比 {dsh[i]}、投资占比 {ish[i]}）"
            for i in idx
        ],
        [
            f"Cannot evaluate: suspended since {susp[i]} for {sye[i]}, but the developed area or investment "
            f"figures are missing (developed share {dsh[i]}, invested share {ish[i]})"
            for i in idx
        ],
    )

    # the idle condition, for idle and exempt parcels
    cond = np.isin(outcome, ["idle_not_started", "idle_stalled", "exempt"])
    not_started = np.array([v is None for v in started_on], dtype=bool)
    cond_zh: dict[int, str] = {}
    cond_en: dict[int, str] = {}
    for i in rows(cond & not_started & ~moved):
        cond_zh[i] = f"约定开工日期 {start[i]} 起满{nyz[i]}年未动工（截至 {as_of}）"
        cond_en[i] = f"Not started {nye[i]} after the agreed start date {start[i]} (as of {as_of})"
    for i in rows(cond & not_started & moved):
        for lang, out, years, text in (("zh", cond_zh, nyz, moved_zh), ("en", cond_en, nye, moved_en)):
            out[i] = TEXTS["idle.cond.not_started_moved"][lang].format(
                start=start[i], moved=text[i], clock_from=clock_from[i], years=years[i], as_of=as_of
            )
    dev_low, inv_low = flags["dev_low"], flags["inv_low"]
    for i in rows(cond & ~not_started):
        low_zh = "、".join(
            x
            for x, f in (
                (f"开发面积占比 {dsh[i]} 低于 {dmin[i]}", dev_low[i]),
                (f"投资占比 {ish[i]} 低于 {imin[i]}", inv_low[i]),
            )
            if f
        )
        low_en = " and ".join(
            x
            for x, f in (
                (f"developed share {dsh[i]} below {dmin[i]}", dev_low[i]),
                (f"invested share {ish[i]} below {imin[i]}", inv_low[i]),
            )
            if f
        )
        cond_zh[i] = (
            f"已于 {started_on[i]} 动工但{low_zh}，且自 {susp[i]} 起中止开发满{syz[i]}年（截至 {as_of}）"
        )
        cond_en[i] = (
            f"Started on {started_on[i]} but {low_en}, and suspended since {susp[i]} for {sye[i]} "
            f"(as of {as_of})"
        )
        if moved[i]:
            cond_zh[i] += TEXTS["idle.suffix.paused"]["zh"].format(moved=moved_zh[i], end=due[i])
            cond_en[i] += TEXTS["idle.suffix.paused"]["en"].format(moved=moved_en[i], end=due[i])
    recorded, overdue = flags["recorded"], flags["overdue"]
    idx = rows((outcome == "exempt") & ~recorded)
    put(
        idx,
        *(
            [
                TEXTS["idle.exempt.not_delivered"][lang].format(
                    cond=conds[i], due=delivery_due[i], as_of=as_of, reason=not_delivered[lang]
                )
                for i in idx
            ]
            for lang, conds in (("zh", cond_zh), ("en", cond_en))
        ),
    )
    idx = rows((outcome == "exempt") & recorded)
    reason_zh, reason_en, ex_from = clock["reason_zh"], clock["reason_en"], ev["exempt_from"]
    put(
        idx,
        [
            f"{cond_zh[i]}，但因“{reason_zh[i]}”（自 {ex_from[i]} 起）不予认定闲置，应协商处置"
            for i in idx
        ],
        [
            f"{cond_en[i]}, but exempt: {reason_en[i]} (since {ex_from[i]}); to be settled by negotiation"
            for i in idx
        ],
    )
    idx = rows(np.isin(outcome, ["idle_not_started", "idle_stalled"]))
    put(
        idx,
        [
            f"{cond_zh[i]}，自 {since[i]} 起构成闲置"
            + (
                f"；按出让价款 {rate[i]} 应征闲置费 {fee[i]:.1f} 万元"
                if fee[i] is not None
                else "；出让价款缺失，闲置费无法计算"
            )
            + (f"；已满{ryz[i]}年（{rec_from[i]} 起），可无偿收回" if rec_from[i] else "")
            for i in idx
        ],
        [
            f"{cond_en[i]}: idle since {since[i]}"
            + (
                f"; idle-land fee at {rate[i]} of the grant price: {fee[i]:.1f} wan yuan"
                if fee[i] is not None
                else "; grant price missing, the idle-land fee cannot be computed"
            )
            + (
                f"; {rye[i]} passed (from {rec_from[i]}): candidate for recovery without compensation"
                if rec_from[i]
                else ""
            )
            for i in idx
        ],
    )

    not_idle = outcome == "not_idle"
    idx = rows(not_idle & not_started & overdue)
    put(
        idx,
        *(
            [
                TEXTS["idle.not_idle.awaiting_delivery"][lang].format(
                    start=start[i], due=delivery_due[i], as_of=as_of, reason=not_delivered[lang]
                )
                for i in idx
            ]
            for lang in ("zh", "en")
        ),
    )
    idx = rows(not_idle & not_started & ~overdue & moved)
    put(
        idx,
        *(
            [
                TEXTS["idle.not_idle.moved"][lang].format(
                    start=start[i], moved=text[i], clock_from=clock_from[i], years=years[i], end=due[i], as_of=as_of
                )
                for i in idx
            ]
            for lang, text, years in (("zh", moved_zh, nyz), ("en", moved_en, nye))
        ),
    )
    idx = rows(not_idle & not_started & ~overdue & ~moved)
    put(
        idx,
        [f"约定开工日期 {start[i]}，满{nyz[i]}年之期至 {due[i]} 届满，截至 {as_of} 尚未满期" for i in idx],
        [
            f"Agreed start date {start[i]}; the period of {nye[i]} ends on {due[i]}, not yet over as of "
            f"{as_of}"
            for i in idx
        ],
    )
    no_susp = np.array([v is None for v in susp], dtype=bool)
    idx = rows(not_idle & ~not_started & no_susp)
    put(
        idx,
        [f"已于 {started_on[i]} 动工，截至 {as_of} 无中止开发" for i in idx],
        [f"Started on {started_on[i]}; not suspended as of {as_of}" for i in idx],
    )
    running = np.array([d is not None and d >= as_of for d in due], dtype=bool)
    idx = rows(not_idle & ~not_started & ~no_susp & running)
    put(
        idx,
        [
            f"已于 {started_on[i]} 动工，自 {susp[i]} 起中止开发，满{syz[i]}年之期至 {due[i]} 届满，"
            f"截至 {as_of} 尚未满期"
            for i in idx
        ],
        [
            f"Started on {started_on[i]}; suspended since {susp[i]}, the period of {sye[i]} ends on "
            f"{due[i]}, "
            f"not yet over as of {as_of}"
            for i in idx
        ],
    )
    for i in rows(not_idle & ~not_started & ~no_susp & running & moved):
        zh[i] += TEXTS["idle.suffix.moved"]["zh"].format(moved=moved_zh[i])
        en[i] += TEXTS["idle.suffix.moved"]["en"].format(moved=moved_en[i])
    idx = rows(not_idle & ~not_started & ~no_susp & ~running)
    put(
        idx,
        [
            f"已于 {started_on[i]} 动工，虽自 {susp[i]} 起中止开发满{syz[i]}年，但开发面积占比 {dsh[i]}"
            f"（标准 {dmin[i]}）、投资占比 {ish[i]}（标准 {imin[i]}）均未低于标准"
            for i in idx
        ],
        [
            f"Started on {started_on[i]}; suspended since {susp[i]} for {sye[i]}, but neither share is "
            f"below its "
            f"threshold (developed share {dsh[i]}, threshold {dmin[i]}; invested share {ish[i]}, threshold "
            f"{imin[i]})"
            for i in idx
        ],
    )
    # an exemption in force on land not idle (yet): the clock is paused while it lasts
    ex_from = ev["exempt_from"]
    for i in rows(not_idle & recorded & (not_started | (~no_susp & running))):
        zh[i] += TEXTS["idle.suffix.exempt_now"]["zh"].format(since=ex_from[i], reason=clock["reason_zh"][i])
        en[i] += TEXTS["idle.suffix.exempt_now"]["en"].format(since=ex_from[i], reason=clock["reason_en"][i])
    return zh, en


def _explain_cases(
    zh: list[str],
    en: list[str],
    outcome: np.ndarray,
    not_started: np.ndarray,
    ext: idle_cases.Extensions,
    absorbed: np.ndarray,
    fees: idle_cases.Fees,
    start: list[str | None],
    day: pd.Timestamp,
) -> None:
    """Add to the sentences what the parcels' cases decided (the vocabulary's ``idle.extended*``
    and ``idle.fee.*`` texts): for land not started, the extension whose negotiated date the clock
    runs from (and the late delivery that date accounts for); for every parcel, the idle-land fee
    decided, due, paid or revoked, with the case's code."""
    as_of = day.date().isoformat()
    agreed, previous = iso_dates(ext.agreed_on), iso_dates(ext.previous_start)
    for i in np.flatnonzero(ext.in_force & not_started).tolist():
        for lang, out in (("zh", zh), ("en", en)):
            out[i] += TEXTS["idle.extended"][lang].format(agreed=agreed[i], case=ext.case_code[i],
                                                          previous=previous[i], start=start[i])
            if absorbed[i] > 0:
                out[i] += TEXTS["idle.extended.absorbed"][lang].format(days=int(absorbed[i]))
    rows = np.flatnonzero(fees.decided)
    if rows.size == 0:
        return
    decided_on, due_on = iso_dates(fees.decided_on), iso_dates(fees.due_on)
    paid_on, revoked_on = iso_dates(fees.paid_on), iso_dates(fees.revoked_on)
    outstanding = fees.outstanding
    for i in rows.tolist():
        status = fees.status[i]
        key = {"paid": "idle.fee.paid", "revoked": "idle.fee.revoked"}.get(
            status, "idle.fee.due_not_idle" if outcome[i] == "idle_fee_due" else "idle.fee.due")
        for lang, out in (("zh", zh), ("en", en)):
            out[i] += TEXTS[key][lang].format(
                case=fees.case_code[i], decided=decided_on[i], amount=f"{fees.amount[i]:.2f}",
                due=due_on[i] or "—", outstanding=f"{outstanding[i]:.2f}", as_of=as_of, paid_on=paid_on[i],
                revoked_on=revoked_on[i], step=label("case_step", fees.revoked_by[i], lang))


def inventory_findings(
    parcels: pd.DataFrame, state: pd.DataFrame, as_of: dt.date, overrides: pd.DataFrame | None
) -> pd.DataFrame:
    """``land_inventory``: approved-unsupplied parcels and granted parcels not started by ``as_of``."""
    day = as_day(as_of)
    granted = set(state["parcel_id"].tolist())
    unsupplied = parcels[(parcels["status"] == "approved_unsupplied") & ~parcels["id"].isin(granted)]
    zp_all = ZoneParams(INVENTORY, overrides, as_of, state["zone_id"])
    out_statuses = zp_all.column("out_of_scope_statuses", None)
    unbuilt_mask = ~state["started"].to_numpy() & np.array(
        [st not in outs for st, outs in zip(state["status"].tolist(), out_statuses)], dtype=bool
    )
    unbuilt = state[unbuilt_mask]
    frames = []
    if not unsupplied.empty:
        since = col.dates(unsupplied["status_since"])
        area = np.round(unsupplied["area_m2"].to_numpy(dtype="float64"), 1)
        ha, mu = col.fixed(area / 10000, 2), col.fixed(area * MU_PER_M2, 1)
        known = unsupplied["status_since"].notna().to_numpy()
        zp = ZoneParams(INVENTORY, overrides, as_of, unsupplied["zone_id"])
        f = findings(
            INVENTORY,
            as_of,
            zp,
            zone_id=unsupplied["zone_id"].astype("int64").to_numpy(),
            parcel_id=unsupplied["id"].astype("int64").to_numpy(),
            subject_type="parcel",
            subject_id=col.id_texts(unsupplied["id"]),
            outcome="approved_unsupplied",
            is_positive=True,
            evidence=col.evidence_column(col.json_objects({
                "area_m2": col.j_float(area, 1), "since": col.j_date(unsupplied["status_since"]),
                "land_use_code": col.j_str(unsupplied["land_use_code"])})),
            explanation_zh=col.text_column(col.sentence(
                "批而未供：{ha} 公顷（{mu} 亩）{since}", ha=ha, mu=mu,
                since=col.choose(known, col.sentence("，自 {d} 起", d=since), "，起始日期未记录"))),
            explanation_en=col.text_column(col.sentence(
                "Approved but not supplied: {ha} ha ({mu} mu){since}", ha=ha, mu=mu,
                since=col.choose(known, col.sentence(", since {d}", d=since), ", start date not recorded"))),
        )
        frames.append(f)
    if not unbuilt.empty:
        area = np.round(unbuilt["area_m2"].to_numpy(dtype="float64"), 1)
        days = (day - unbuilt["granted_on"]).dt.days.to_numpy(dtype="float64")
        fields = {"ha": col.fixed(area / 10000, 2), "mu": col.fixed(area * MU_PER_M2, 1),
                  "d": col.dates(unbuilt["granted_on"]), "n": col.fixed(days, 0), "day": day.date().isoformat()}
        zp = ZoneParams(INVENTORY, overrides, as_of, unbuilt["zone_id"])
        f = findings(
            INVENTORY,
            as_of,
            zp,
            zone_id=unbuilt["zone_id"].astype("int64").to_numpy(),
            parcel_id=unbuilt["parcel_id"].astype("int64").to_numpy(),
            subject_type="parcel",
            subject_id=col.id_texts(unbuilt["parcel_id"]),
            outcome="supplied_unbuilt",
            is_positive=True,
            evidence=col.evidence_column(col.json_objects({
                "area_m2": col.j_float(area, 1), "since": col.j_date(unbuilt["granted_on"]),
                "grant_id": col.j_int(unbuilt["grant_id"]), "days": col.j_int(days)})),
            explanation_zh=col.text_column(col.sentence(
                "供而未用：{ha} 公顷（{mu} 亩），{d} 出让，截至 {day} 已 {n} 天未动工", **fields)),
            explanation_en=col.text_column(col.sentence(
                "Supplied but not built: {ha} ha ({mu} mu), granted on {d}, not started {n} days later as of {day}",
                **fields)),
        )
        frames.append(f)
    return concat_findings(frames) if frames else empty_findings()
