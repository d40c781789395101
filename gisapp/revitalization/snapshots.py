"""Quarterly snapshots of the stock per zone (``rules.stock_snapshots``, migration 1870): the area
and the number of parcels of idle, low-efficiency, approved-unsupplied and supplied-unbuilt land,
counted from the current findings exactly as the dashboard counts them (the SQL of
gisapp.queries.dashboard: ``IDLE_ROWS``, the idle register of ``layers.idle_register_class``, and
``PER_MU_ROWS``), so a snapshot equals the dashboard's inventory on the day it was taken:

- idle: the register's idle land, suspected (not dismissed) or confirmed (the dashboard's
  ``IDLE_OUTCOMES``);
- low_efficiency: per-mu class D (the bottom of the evaluation);
- approved_unsupplied, supplied_unbuilt: the ``land_inventory`` rule's outcomes.

A snapshot records the quarter that ended last on or before the day findings are as of
(``rules.live_as_of()``): the findings must be as of a day from that quarter's end to before the
next quarter's end, for every zone (a run that did not reach the quarter's end says nothing of
it). Every zone gets a row per kind, zero where it has none, so a zone's trend has no holes. A
snapshot is taken once and kept: the database refuses to change or delete one for anyone but the
tables' owner (sql/security/0960_revitalization.sql) and audits every row.

Taken by `gisapp snapshot take` and by the live worker's daily pass on the first day a quarter has
ended (:func:`take_due_snapshot`, called from gisapp.rules.worker.queue_daily_pass).

Example:
    >>> taken = take_snapshot(owner_engine())  # doctest: +SKIP
    >>> taken.quarter, taken.zones  # doctest: +SKIP
    ('2026Q2', 14)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.errors import InputError
from gisapp.queries.dashboard import IDLE_OUTCOMES, IDLE_ROWS, PER_MU_ROWS
from gisapp.revitalization.params import STOCK_KINDS
from gisapp.revitalization.quarters import next_quarter_end, quarter_end_on_or_before, quarter_name

log = logging.getLogger(__name__)

#: the rules whose current findings a snapshot counts
COUNTED_RULES = ("idle_land", "land_inventory", "per_mu")
#: how a snapshot was taken (rules.stock_snapshots.taken_via)
VIAS = ("command", "daily_pass", "demo")

# each parcel of the stock with its kind (a parcel may be of two kinds: supplied but unbuilt, and
# idle; each kind counts it, as the dashboard's columns do)
_STOCK = f"""
    SELECT i.zid, CASE WHEN i.outcome = ANY (CAST(:idle_outcomes AS text[])) THEN 'idle' ELSE i.outcome END AS kind,
           i.area_m2
    FROM ({IDLE_ROWS}) i
    WHERE i.outcome = ANY (CAST(:idle_outcomes AS text[])) OR i.outcome IN ('approved_unsupplied', 'supplied_unbuilt')
    UNION ALL
    SELECT m.zid, 'low_efficiency', m.area_m2 FROM ({PER_MU_ROWS}) m WHERE m.outcome = 'class_d'"""

_INSERT = sa.text(f"""
    WITH stock AS ({_STOCK})
    INSERT INTO rules.stock_snapshots (quarter_end, zone_id, kind, parcels, area_m2, findings_as_of, taken_by,
                                       taken_via, note)
    SELECT :quarter_end, z.id, k.kind, count(s.zid), coalesce(sum(s.area_m2), 0), :as_of, :by, :via, :note
    FROM land.zones z CROSS JOIN unnest(CAST(:kinds AS text[])) AS k(kind)
    LEFT JOIN stock s ON s.zid = z.id AND s.kind = k.kind
    GROUP BY z.id, k.kind
    RETURNING zone_id, kind, parcels, area_m2""")

# the as-of days of the counted rules' current runs (a run per rule and zone; cheap at any scale)
_FINDINGS_AS_OF = sa.text("""
    SELECT min(r.as_of) AS first, max(r.as_of) AS last
    FROM rules.current_runs c JOIN rules.assessment_runs r ON r.id = c.run_id
    WHERE c.rule = ANY (:rules)""")


@dataclass(frozen=True)
class Taken:
    """A snapshot written: its quarter, the findings' day, the zones, and the totals per kind."""

    quarter_end: dt.date
    findings_as_of: dt.date
    zones: int
    totals: dict[str, tuple[int, float]]  # kind -> (parcels, m²)

    @property
    def quarter(self) -> str:
        return quarter_name(self.quarter_end)


class AlreadyTaken(InputError):
    """The quarter's snapshot exists: it is kept as it was taken."""


class NotYet(InputError):
    """The findings do not (yet) show the stock at the quarter's end."""


def live_as_of(conn: Connection) -> dt.date:
    return conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()


def due_quarter(conn: Connection, on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(the quarter end a snapshot on ``on`` records, the findings' as-of day), or NotYet / InputError
    with the reason when the current findings cannot show that quarter's end."""
    today = live_as_of(conn)
    on = on or today
    if on > today:
        raise InputError(f"findings are as of {today} (gisapp clock): they cannot show the stock on {on}")
    end = quarter_end_on_or_before(on)
    first, last = conn.execute(_FINDINGS_AS_OF, {"rules": list(COUNTED_RULES)}).one()
    if first is None:
        raise NotYet(f"there are no current findings of {', '.join(COUNTED_RULES)}: run `gisapp assess` first")
    if first < end:
        raise NotYet(f"some current findings are as of {first}, before the quarter {quarter_name(end)} ended on "
                     f"{end}: they do not show its end yet (run `gisapp assess`, or wait for the worker)")
    if last >= next_quarter_end(end):
        raise InputError(f"the current findings are as of {last}, after the next quarter ended: they say nothing "
                         f"of the stock at the end of {quarter_name(end)} ({end})")
    return end, last


def taken_already(conn: Connection, quarter_end: dt.date) -> dict | None:
    row = conn.execute(sa.text(
        "SELECT min(taken_at) AS taken_at, min(taken_by) AS taken_by FROM rules.stock_snapshots "
        "WHERE quarter_end = :q HAVING count(*) > 0"), {"q": quarter_end}).mappings().first()
    return dict(row) if row else None


def take_snapshot(engine: Engine, on: dt.date | None = None, *, via: str = "command",
                  by: str | None = None, note: str | None = None) -> Taken:
    """Count the stock per zone and kind from the current findings and keep it as the snapshot of
    the quarter that ended last on or before ``on`` (default: the day findings are as of).

    AlreadyTaken when that quarter has its snapshot, NotYet when the findings do not reach the
    quarter's end. ``by``: who took it (default: the database role).
    """
    if via not in VIAS:
        raise InputError(f"a snapshot is taken via one of {', '.join(VIAS)}, not {via!r}")
    try:
        with engine.begin() as conn:
            end, as_of = due_quarter(conn, on)
            if (done := taken_already(conn, end)) is not None:
                raise AlreadyTaken(f"the snapshot of {quarter_name(end)} ({end}) was taken on "
                                   f"{done['taken_at']:%Y-%m-%d %H:%M} by {done['taken_by']}: it is kept as it was")
            conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true)"),
                         {"r": f"quarterly stock snapshot {quarter_name(end)} ({via})"})
            rows = conn.execute(_INSERT, {
                "quarter_end": end, "as_of": as_of, "by": by or conn.execute(sa.text("SELECT current_user")).scalar(),
                "via": via, "note": note, "kinds": list(STOCK_KINDS), "idle_outcomes": list(IDLE_OUTCOMES),
            }).all()
    except sa.exc.IntegrityError as exc:  # another process took it meanwhile
        if "stock_snapshots_quarter_end_zone_id_kind_key" in str(exc.orig):
            raise AlreadyTaken(f"the snapshot of {quarter_name(end)} ({end}) was taken meanwhile") from None
        raise
    totals: dict[str, tuple[int, float]] = {k: (0, 0.0) for k in STOCK_KINDS}
    for r in rows:
        n, area = totals[r.kind]
        totals[r.kind] = (n + r.parcels, area + r.area_m2)
    return Taken(end, as_of, len({r.zone_id for r in rows}), totals)


def take_due_snapshot(engine: Engine) -> Taken | None:
    """The live worker's hook (once per day of the clock): take the snapshot of the quarter that
    ended last, if it has none and the findings show its end; otherwise do nothing. Never raises
    for a snapshot that is taken already or not due yet (the next day tries again)."""
    try:
        taken = take_snapshot(engine, via="daily_pass", by="live worker (daily pass)")
    except (AlreadyTaken, NotYet) as exc:
        log.debug("no quarterly snapshot today: %s", exc)
        return None
    except InputError as exc:
        log.warning("no quarterly snapshot today: %s", exc)
        return None
    log.info("quarterly stock snapshot %s taken for %d zones (findings as of %s)", taken.quarter, taken.zones,
             taken.findings_as_of)
    return taken


def snapshots(engine: Engine, zone: str | None = None) -> pd.DataFrame:
    """Every snapshot (of ``zone``, a zone code, or all): quarter_end, zone_id, zone_code, kind,
    parcels, area_ha, findings_as_of, taken_at, taken_by, taken_via, note; oldest first."""
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(
            "SELECT s.quarter_end, s.zone_id, z.code AS zone_code, s.kind, s.parcels, s.area_m2 / 1e4 AS area_ha, "
            "s.findings_as_of, s.taken_at, s.taken_by, s.taken_via, s.note "
            "FROM rules.stock_snapshots s JOIN land.zones z ON z.id = s.zone_id "
            "WHERE CAST(:zone AS text) IS NULL OR z.code = :zone "
            "ORDER BY s.quarter_end, z.id, s.kind"), conn, params={"zone": zone})
    frame["quarter_end"] = pd.to_datetime(frame["quarter_end"]).dt.date
    return frame
