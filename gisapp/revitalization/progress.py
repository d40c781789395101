"""What the revitalization page shows (``/revitalization``), as frames: the stock per quarter by
kind against each zone's yearly target (from the snapshots and the ``revitalization`` parameters),
the open cases by stage, the overdue steps and the unpaid money (from the casework views, read as
the signed-in user: a zone editor sees its zones' cases only), and the zones' national results
with their rectification flags.

Example:
    >>> trend(engine, "waigaoqiao").columns.tolist()[:4]  # doctest: +SKIP
    ['quarter_end', 'quarter', 'kind', 'area_ha']
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.periods import is_overdue
from gisapp.casework.queries import next_steps
from gisapp.casework.queries.common import overrides as read_overrides
from gisapp.db.context import Actor, acting_as
from gisapp.revitalization.params import STOCK_KINDS, target
from gisapp.revitalization.quarters import quarter_name
from gisapp.revitalization.snapshots import snapshots


def as_of(engine: Engine) -> dt.date:
    """The day findings (and the overdue flags) are as of."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()


def trend(engine: Engine, zone: str | None = None) -> pd.DataFrame:
    """Area and parcels per quarter and kind (of ``zone``, or summed over every zone): quarter_end,
    quarter, kind, area_ha, parcels; oldest first, kinds in :data:`STOCK_KINDS` order."""
    frame = snapshots(engine, zone)
    if frame.empty:
        return pd.DataFrame(columns=["quarter_end", "quarter", "kind", "area_ha", "parcels"])
    out = frame.groupby(["quarter_end", "kind"], as_index=False).agg(area_ha=("area_ha", "sum"),
                                                                     parcels=("parcels", "sum"))
    out["quarter"] = out["quarter_end"].map(quarter_name)
    out["order"] = out["kind"].map({k: i for i, k in enumerate(STOCK_KINDS)})
    out = out.sort_values(["quarter_end", "order"]).drop(columns="order").reset_index(drop=True)
    out["area_ha"] = out["area_ha"].round(2)
    return out[["quarter_end", "quarter", "kind", "area_ha", "parcels"]]


def targets(engine: Engine, zone: str | None = None, on: dt.date | None = None) -> pd.DataFrame:
    """Each zone's target per year of the snapshots (and the year of ``on``), where one is set:
    zone_code, zone_name_zh, zone_name_en, year, target_ha, kinds, source, effective_from, the
    stock counted the target's way at the year's last snapshot (stock_ha, at ``stock_quarter``) and
    ``gap_ha`` (stock minus target: above zero, the zone is short of its target)."""
    with engine.connect() as conn:
        day = on or conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()
        overrides = read_overrides(conn)
        zones = pd.read_sql(sa.text("SELECT id, code, name_zh, name_en FROM land.zones "
                                    "WHERE CAST(:z AS text) IS NULL OR code = :z ORDER BY kind = 'benchmark', id"),
                            conn, params={"z": zone})
    shots = snapshots(engine, zone)
    years = sorted({q.year for q in shots["quarter_end"]} | {day.year})
    rows = []
    for z in zones.itertuples():
        for year in years:
            got = target(overrides, int(z.id), year, as_of=day)
            if got is None:
                continue
            mine = shots[(shots["zone_id"] == z.id) & shots["quarter_end"].map(lambda q, y=year: q.year == y)]
            last = max(mine["quarter_end"]) if not mine.empty else None
            stock = (float(mine[(mine["quarter_end"] == last) & mine["kind"].isin(got.kinds)]["area_ha"].sum())
                     if last else None)
            rows.append({"zone_code": z.code, "zone_name_zh": z.name_zh, "zone_name_en": z.name_en, "year": year,
                         "target_ha": round(got.hectares, 2), "kinds": list(got.kinds),
                         "stock_quarter": quarter_name(last) if last else None,
                         "stock_ha": None if stock is None else round(stock, 2),
                         "gap_ha": None if stock is None else round(stock - got.hectares, 2),
                         "source": got.source, "effective_from": got.effective_from})
    return pd.DataFrame(rows, columns=["zone_code", "zone_name_zh", "zone_name_en", "year", "target_ha", "kinds",
                                       "stock_quarter", "stock_ha", "gap_ha", "source", "effective_from"])


_STAGES = sa.text("""
    SELECT s.kind, s.stage, st.sort, count(*) AS cases
    FROM land.case_stage_now s JOIN land.zones z ON z.id = s.zone_id JOIN land.case_stages st ON st.code = s.stage
    WHERE s.closed_on IS NULL AND (CAST(:zone AS text) IS NULL OR z.code = :zone)
    GROUP BY s.kind, s.stage, st.sort ORDER BY st.sort, s.kind""")


def cases_by_stage(engine: Engine, actor: Actor, zone: str | None = None) -> pd.DataFrame:
    """Open cases the user may read, per kind and stage: kind, stage, cases (stage order)."""
    with acting_as(engine, actor) as conn:
        frame = pd.read_sql(_STAGES, conn, params={"zone": zone})
    return frame.drop(columns="sort")


def overdue_steps(engine: Engine, actor: Actor, zone: str | None = None, on: dt.date | None = None) -> pd.DataFrame:
    """The overdue steps of the open cases the user may read: case_code, kind, zone_code, step,
    due_on, days_overdue (most overdue first)."""
    steps = next_steps(engine, actor, as_of=on, zone=zone, overdue_only=True)
    with engine.connect() as conn:
        codes = dict(conn.execute(sa.text("SELECT id, code FROM land.zones")).all())
    frame = pd.DataFrame([{"case_code": s.case_code, "kind": s.kind, "zone_code": codes.get(s.zone_id), "step": s.step,
                           "due_on": s.due_on, "days_overdue": s.days_overdue} for s in steps],
                         columns=["case_code", "kind", "zone_code", "step", "due_on", "days_overdue"])
    return frame.sort_values(["days_overdue", "case_code"], ascending=[False, True]).reset_index(drop=True)


_UNPAID = sa.text("""
    SELECT c.code AS case_code, c.kind, z.code AS zone_code, p.code AS parcel_code, m.purpose, m.amount_wan,
           m.paid_wan, m.amount_wan - m.paid_wan AS outstanding_wan, m.due_on
    FROM land.case_money m JOIN land.cases c ON c.id = m.case_id JOIN land.zones z ON z.id = c.zone_id
    LEFT JOIN land.parcels p ON p.id = c.parcel_id
    WHERE m.payer = 'land_user' AND m.paid_wan < m.amount_wan AND (CAST(:zone AS text) IS NULL OR z.code = :zone)
    ORDER BY m.due_on NULLS LAST, c.code""")


def unpaid(engine: Engine, actor: Actor, zone: str | None = None, on: dt.date | None = None) -> pd.DataFrame:
    """Money a land user owes in the cases the user may read (decided, not paid in full, whether
    or not the case has closed: a fee stays due): case_code, kind, zone_code, parcel_code, purpose,
    amount_wan, paid_wan, outstanding_wan, due_on, overdue."""
    day = on or as_of(engine)
    with acting_as(engine, actor) as conn:
        frame = pd.read_sql(_UNPAID, conn, params={"zone": zone})
    for col in ("amount_wan", "paid_wan", "outstanding_wan"):
        frame[col] = pd.to_numeric(frame[col]).astype(float)
    frame["due_on"] = pd.to_datetime(frame["due_on"]).dt.date
    frame["overdue"] = [is_overdue(d if isinstance(d, dt.date) else None, day) for d in frame["due_on"]]
    return frame
