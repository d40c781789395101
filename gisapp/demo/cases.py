"""Synthetic cases for the demo (issue #20): one at every stage of the procedures, written through
the casework queries as a bureau admin would (so the database's rules check them and the audit
records them), dated before the demo's date (``DEMO_AS_OF``) so that as of that day some steps
are overdue, a fee is unpaid, another paid, a recovery and a swap are finished and an extension
has moved a grant's agreed start. Every case says it is synthetic in its note.

The parcels come from the demo's scenarios (gisapp.demo.records); a case whose scenario has no
parcel is left out. The extension's grant is loaded with its original agreed start
(:func:`original_start`), which the extension then moves to the date the scenario has, so the
loaded data ends as gisapp.demo.load.build_dataset built it, with one exception: the parcel
whose fee is unpaid (:func:`surviving_fee_parcel`) starts construction after the decision (a
progress report and its status, recorded as the zone office would), so that the idle rule shows
a fee that survives a later start (``idle_fee_due``, MLR Order No. 53 art. 14).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework import queries as q
from gisapp.casework.periods import first_day_after
from gisapp.db.context import Actor
from gisapp.demo import DEMO_AS_OF
from gisapp.queries import edits

NOTE = "合成演示数据（synthetic demo case）"
DEMO_ACTOR = Actor("demo-loader", "bureau_admin", ())


def day(offset: int) -> str:
    """The demo date moved by ``offset`` days, as the forms take it."""
    return (DEMO_AS_OF + dt.timedelta(days=offset)).isoformat()


def _first(frames: dict[str, pd.DataFrame], scenario: str, n: int = 1, *, where: Callable | None = None
           ) -> list[pd.Series]:
    """The first ``n`` parcels of a scenario with their grant, meeting ``where``: taken from the
    zones in turn (the first of each zone, then the second...), so the cases spread over zones."""
    parcels = frames["parcels"]
    grants = frames["land_grants"].drop_duplicates("parcel_id", keep="last").set_index("parcel_id")
    mine = parcels[parcels["scenario"] == scenario].sort_values("id")
    mine = mine.assign(turn=mine.groupby("zone_id").cumcount()).sort_values(["turn", "zone_id", "id"])
    out = []
    for _, p in mine.iterrows():
        if p["id"] not in grants.index:
            continue
        row = p.copy()
        for col in ("agreed_start_on", "granted_on", "price_wan"):
            row[col] = grants.loc[p["id"], col]
        if where is None or where(row):
            out.append(row)
        if len(out) == n:
            break
    return out


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def extension_parcel(frames: dict[str, pd.DataFrame]) -> pd.Series | None:
    """The parcel whose start period the demo extends: agreed start (the extended one) between
    110 days after the grant and 30 days before the demo date."""
    def fits(r):
        start, granted = _date(r["agreed_start_on"]), _date(r["granted_on"])
        return (start - granted).days >= 110 and start <= DEMO_AS_OF - dt.timedelta(days=30)
    found = _first(frames, "unbuilt_recent", where=fits)
    return found[0] if found else None


def surviving_fee_parcel(frames: dict[str, pd.DataFrame]) -> pd.Series | None:
    """The parcel whose idle-land fee the demo decides and leaves unpaid, and whose construction
    then starts (:data:`LATE_START` days from the demo date): the third confirmed idle parcel."""
    idle = _first(frames, "idle_confirmed", 3)
    return idle[2] if len(idle) == 3 else None


#: the day (from the demo date) the surviving fee's parcel starts construction, after its fee decision
LATE_START = -30


def original_start(row: pd.Series) -> dt.date:
    """The extension parcel's agreed start before the extension: 30 days after the grant."""
    return _date(row["granted_on"]) + dt.timedelta(days=30)


def _suspended_since(frames, parcel_id: int) -> dt.date | None:
    s = frames["construction_suspensions"]
    s = s[(s["parcel_id"] == parcel_id) & s["resumed_on"].isna()]
    return _date(s["suspended_from"].max()) if not s.empty else None


def _investigate(engine: Engine, code: str, start: int) -> None:
    """Investigation notice, reply, determination, publication, from ``start`` days (demo date)."""
    for step, offset, extra in (("investigation_notice", 0, {"doc_no": "闲调〔合成〕号"}),
                                ("user_reply", 20, {"result": "received"}),
                                ("determination", 30, {"doc_no": "闲认〔合成〕号"}),
                                ("publication", 35, {})):
        q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(start + offset), **extra})


def _start_construction(engine: Engine, code: str, offset: int) -> None:
    """Construction on parcel ``code`` starts ``offset`` days from the demo date: a progress report
    ten days later and the parcel's status (idle -> under_construction), as the zone office
    records them. The fee decided before stays due (a later start ends the idleness, not the
    decision)."""
    reason = "合成演示数据：闲置费决定后开工（synthetic demo: construction started after the fee decision）"
    edits.record_progress(engine, DEMO_ACTOR, code, {"reported_on": day(offset + 10), "started_on": day(offset),
                                                     "reason": reason})
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version FROM land.parcels WHERE code = :c"), {"c": code}).scalar_one()
    edits.change_status(engine, DEMO_ACTOR, code, {"to_status": "under_construction", "changed_on": day(offset),
                                                   "reason": reason, "version": version})


def _open(engine, kind: str, parcel: str | None = None, zone: str | None = None, *, pathway: str | None = None,
          opened: int, clock: dt.date | None = None) -> str:
    data = {"kind": kind, "opened_on": day(opened), "note": NOTE}
    data |= {"parcel": parcel} if parcel else {"zone": zone}
    if pathway:
        data["pathway"] = pathway
    if clock:
        data["idle_clock_from"] = clock.isoformat()
    return q.open_case(engine, DEMO_ACTOR, data).case_code


def load_demo_cases(engine: Engine, frames: dict[str, pd.DataFrame]) -> list[str]:
    """Write the synthetic cases; returns their codes."""
    codes: list[str] = []
    idle = _first(frames, "idle_confirmed", 3)
    if len(idle) == 3:
        # the investigation notice is late: opened 36 days before the demo date, due after 30
        codes.append(_open(engine, "idle_land_disposal", idle[0]["code"], opened=-36))
        # the notice served, the land user's 30 days to reply have passed without a record
        late = _open(engine, "idle_land_disposal", idle[1]["code"], opened=-70)
        q.record_step(engine, DEMO_ACTOR, late, {"step": "investigation_notice", "done_on": day(-55),
                                                 "doc_no": "闲调〔合成〕2号"})
        codes.append(late)
        # a fee decided and served, due 30 days later, unpaid as of the demo date
        unpaid = _open(engine, "idle_land_disposal", idle[2]["code"], opened=-160)
        _investigate(engine, unpaid, -150)
        q.record_step(engine, DEMO_ACTOR, unpaid, {"step": "hearing_notice", "done_on": day(-110)})
        q.decide_fee(engine, DEMO_ACTOR, unpaid, {"decided_on": day(-80), "served_on": day(-78),
                                                  "doc_no": "征缴〔合成〕1号"})
        _start_construction(engine, idle[2]["code"], LATE_START)
        codes.append(unpaid)
    # stalled land in disposal: a fee paid in full (closed), and one paid in part (not yet due)
    ripe = DEMO_AS_OF - dt.timedelta(days=90)
    disposal = [r for r in _first(frames, "in_disposal", 10)
                if (since := _suspended_since(frames, r["id"])) and first_day_after(since, 1) <= ripe][:2]
    for k, row in enumerate(disposal):
        clock = _suspended_since(frames, row["id"])
        code = _open(engine, "idle_land_disposal", row["code"], opened=-150, clock=clock)
        _investigate(engine, code, -140)
        q.record_step(engine, DEMO_ACTOR, code, {"step": "hearing_notice", "done_on": day(-100)})
        q.record_step(engine, DEMO_ACTOR, code, {"step": "hearing", "done_on": day(-95), "result": "waived"})
        fee = q.decide_fee(engine, DEMO_ACTOR, code, {"decided_on": day(-90 + 60 * k), "served_on": day(-88 + 60 * k),
                                                      "doc_no": f"征缴〔合成〕{k + 2}号"})
        amount = q.case_timeline(engine, DEMO_ACTOR, code).money[0]["amount_wan"]
        if k == 0:
            q.record_payment(engine, DEMO_ACTOR, code, {"paid_wan": str(amount), "paid_on": day(-70), "settle": True})
            q.close_case(engine, DEMO_ACTOR, code, {"outcome": "fee_collected", "closed_on": day(-60), "note": NOTE})
        else:
            q.record_payment(engine, DEMO_ACTOR, code, {"paid_wan": str((amount / 2).quantize(amount)),
                                                        "paid_on": day(-20)})
        codes.append(code)
        assert fee.due_on is not None
    # a recovery without compensation, finished: the registration cancelled by announcement
    reclaimed = _first(frames, "reclaimed")
    if reclaimed:
        code = _open(engine, "idle_land_disposal", reclaimed[0]["code"], pathway="idle_recovery", opened=-400)
        _investigate(engine, code, -390)
        q.record_step(engine, DEMO_ACTOR, code, {"step": "hearing_notice", "done_on": day(-345)})
        for step, offset, extra in (("recovery_approval", -320, {}),
                                    ("recovery_decision", -300, {"doc_no": "收回〔合成〕1号"}),
                                    ("registration_cancelled", -260, {"result": "announced"})):
            q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(offset), **extra})
        q.close_case(engine, DEMO_ACTOR, code, {"outcome": "recovered", "closed_on": day(-250), "note": NOTE})
        codes.append(code)
    # an extension by supplementary agreement: the grant's agreed start moves to the scenario's
    row = extension_parcel(frames)
    if row is not None:
        start = _date(row["agreed_start_on"])
        first = original_start(row)
        opened = (first - DEMO_AS_OF).days + 20
        code = _open(engine, "idle_land_disposal", row["code"], pathway="idle_extension", opened=opened)
        _investigate(engine, code, opened + 5)
        q.record_step(engine, DEMO_ACTOR, code, {"step": "disposal_plan_approved", "done_on": day(opened + 50)})
        q.record_extension(engine, DEMO_ACTOR, code, {"agreed_on": day(opened + 60), "new_start_on": start.isoformat(),
                                                      "doc_no": "补充协议〔合成〕1号", "note": NOTE})
        q.close_case(engine, DEMO_ACTOR, code, {"outcome": "extended", "closed_on": day(opened + 61), "note": NOTE})
        codes.append(code)
    # a finished swap of low-efficiency land for quality property (the land went to the zone)
    swapped = _first(frames, "transferred")
    if swapped:
        code = _open(engine, "low_efficiency_exit", swapped[0]["code"], pathway="le_quality_property_swap",
                     opened=-330)
        for step, offset in (("enterprise_notified", -320), ("enterprise_plan", -280), ("swap_agreement", -200),
                             ("property_delivered", -150), ("registration_transferred", -120)):
            q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(offset)})
        q.close_case(engine, DEMO_ACTOR, code, {"outcome": "swapped", "closed_on": day(-110), "note": NOTE})
        codes.append(code)
    # low-efficiency land on its way out: a repurchase being valued, a voluntary exit with its
    # compensation agreed and not yet paid
    low = _first(frames, "low_efficiency_confirmed", 2)
    if len(low) == 2:
        code = _open(engine, "low_efficiency_exit", low[0]["code"], pathway="le_market_repurchase", opened=-150)
        for step, offset in (("enterprise_notified", -140), ("enterprise_plan", -90), ("valuation", -40)):
            q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(offset)})
        codes.append(code)
        code = _open(engine, "low_efficiency_exit", low[1]["code"], pathway="le_voluntary_exit", opened=-200)
        for step, offset in (("enterprise_notified", -190), ("enterprise_plan", -150), ("exit_agreement", -60)):
            q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(offset), "doc_no": None})
        q.decide_money(engine, DEMO_ACTOR, code, {"purpose": "compensation", "payer": "government",
                                                  "amount_wan": "480.00", "basis": "退出协议约定补偿（合成）",
                                                  "decided_on": day(-60), "due_on": day(30)})
        codes.append(code)
    # a zone below the eastern-region average: explanation and plan reported, two years to rectify
    zones = frames["zones"]
    if "jiading" in set(zones["code"]):
        code = _open(engine, "zone_rectification", zone="jiading", pathway="zr_rectification", opened=-330)
        for step, offset in (("evaluation_notified", -320), ("explanation_submitted", -300),
                             ("plan_reported", -250)):
            q.record_step(engine, DEMO_ACTOR, code, {"step": step, "done_on": day(offset)})
        codes.append(code)
    return codes
