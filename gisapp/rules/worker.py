"""Live findings: re-assess what changed, moments after it was committed (`gisapp worker`).

The database records, in the transaction of every change that feeds a rule, which zones it
touched and, for a change to a few parcels, which parcels (``rules.reassess_queue``, filled by the
statement triggers of sql/security/0800_live_findings.sql, so no path can change data without its
findings following). A parcels worker makes the parcels' own findings current first
(:mod:`gisapp.rules.parcel_jobs`, a fraction of a second); the zones worker then runs the zone's
rules, ranks and balances included.
The worker takes what is queued and runs the very code of the batch on it
(:func:`gisapp.rules.assess.run_assessment`): the zone-local rules for the zones queued, then the
whole-city rules (zone performance ranks every zone, quota ledgers span districts) when a change
fed them. Its findings are therefore the batch's, reviews carry over the same way, and
``gisapp assess`` stays the full reconciliation.

Taking work: the queued rows are locked (``FOR UPDATE SKIP LOCKED``) in a transaction that stays
open while they are assessed and deletes them at the end. A second worker takes other rows; a
worker that dies leaves its rows unlocked and queued, and the next one does them. The run reads
its own snapshot after the rows were taken, so every change they stand for is in it; rows queued
meanwhile wait for the next round. Bursts coalesce: whatever is queued when a round starts is one
run per kind, whether it stands for one edit or an import of 10,000 parcels.

Dates move findings too: once a day (the clock's day, Asia/Shanghai) the worker queues every zone
and the whole-city rules (:func:`queue_daily_pass`).

Example:
    >>> done = run_once(assessor_engine())  # doctest: +SKIP
    >>> done.zone_ids, done.city  # doctest: +SKIP
    ([3], True)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.rules import registry
from gisapp.rules.assess import run_assessment
from gisapp.rules.parcel_jobs import PatchDone, run_parcels_once
from gisapp.rules.registry import PARCEL_LOCAL_RULES

log = logging.getLogger(__name__)

#: the channel the queue's trigger notifies on every change (sql/security/0800_live_findings.sql)
CHANNEL = "gisapp_reassess"
#: how long the worker sleeps without a notification before it looks at the queue anyway
POLL_SECONDS = 5.0
#: a city worker rests this long after each round: the whole-city rules (~4 s at city scale) would
#: otherwise run back to back under a stream of edits and take the cores the zones' rounds need,
#: and a ranking of every zone a few seconds older misleads nobody
CITY_REST_SECONDS = 15.0


def rule_names_by_reach() -> tuple[list[str], list[str]]:
    """(rules whose findings for a zone depend on that zone alone, rules over the whole city)."""
    local: list[str] = []
    city: list[str] = []
    for module in registry.modules_for(None):
        (local if getattr(module, "ZONE_LOCAL", False) else city).extend(s.name for s in module.SPECS)
    return local, city


def live_as_of(conn) -> dt.date:
    """The date live findings are as of: the clock's fixed date, else today in Asia/Shanghai."""
    return conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()


@dataclass
class RoundDone:
    """What one round re-assessed: the zones, whether the whole-city rules ran, the runs."""

    zone_ids: list[int]
    city: bool
    queued_rows: int
    run_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0


#: which queued rows a worker takes: the parcels' (their parcel-local rules, patched in), the
#: zones' (zone-local rules), the city's, or all of them (a parcel's zone is then run whole)
KINDS = {"parcels": "parcel_id IS NOT NULL", "zones": "zone_id IS NOT NULL AND parcel_id IS NULL",
         "city": "zone_id IS NULL", "all": "true"}


def run_once(engine: Engine, kind: str = "all") -> RoundDone | PatchDone | None:
    """Take everything of ``kind`` (:data:`KINDS`) queued that no other worker holds, re-assess it
    and delete it; None when nothing was queued. An error leaves the rows queued (the transaction
    rolls back). A parcels, a zones and a city worker run side by side (the last two take
    different advisory locks, gisapp.db.locks): an edit's own findings need wait neither for its
    zone's ranks nor for the city's ranking."""
    if kind == "parcels":
        return run_parcels_once(engine)
    t0 = time.perf_counter()
    local_rules, city_rules = rule_names_by_reach()
    with engine.connect() as claim, claim.begin():
        rows = _claim_zones(claim) if kind == "zones" else claim.execute(
            sa.text(f"SELECT id, zone_id, parcel_id, covered FROM rules.reassess_queue WHERE {KINDS[kind]} "
                    "ORDER BY id FOR UPDATE SKIP LOCKED")
        ).all()
        if not rows:
            return None
        zone_ids = sorted({r.zone_id for r in rows if r.zone_id is not None})
        done = RoundDone(zone_ids, any(r.zone_id is None for r in rows), len(rows))
        as_of = live_as_of(claim)
        # the zones first: an edit's own findings are current before the city-wide ones follow.
        # A zone whose every change is covered by parcel jobs needs its zone-wide rules only: the
        # parcels worker does the parcel-local ones (a worker of every kind does them here)
        whole = zone_ids if kind == "all" else sorted({r.zone_id for r in rows if not r.covered})
        wide_rules = [r for r in local_rules if r not in PARCEL_LOCAL_RULES]
        for zones, rules in ((whole, local_rules), (sorted(set(zone_ids) - set(whole)), wide_rules)):
            codes = claim.execute(
                sa.text("SELECT code FROM land.zones WHERE id = ANY(:z) ORDER BY id"), {"z": zones}
            ).scalars().all()
            if codes:
                done.run_ids.append(run_assessment(engine, as_of, codes, rules, workers=1).run_id)
        if done.city:
            done.run_ids.append(run_assessment(engine, as_of, None, city_rules, workers=1).run_id)
        claim.execute(sa.text("DELETE FROM rules.reassess_queue WHERE id = ANY(:ids)"),
                      {"ids": [r.id for r in rows]})
    done.seconds = time.perf_counter() - t0
    return done


#: a round of zones whose changes are all covered by parcel jobs takes at most this many zones:
#: a change waiting for its zone's parcel-local rules then waits for a short round at most
COVERED_ZONES_PER_ROUND = 2


def _claim_zones(claim) -> list:
    """The zone rows a zones round takes (locked): every zone with a change its parcel-local
    rules still wait for (an uncovered row: a parameter, zone data, an import; shown as pending
    on its parcels' own findings), with all their rows; else the rows of the few zones queued
    longest (changes the parcels worker has covered: only their ranks and balances wait)."""
    zone_rows = KINDS["zones"]
    rows = claim.execute(sa.text(
        f"SELECT id, zone_id, parcel_id, covered FROM rules.reassess_queue WHERE {zone_rows} AND zone_id IN "
        f"(SELECT zone_id FROM rules.reassess_queue WHERE {zone_rows} AND NOT covered) "
        "ORDER BY id FOR UPDATE SKIP LOCKED")).all()
    if rows:
        return rows
    return claim.execute(sa.text(
        f"SELECT id, zone_id, parcel_id, covered FROM rules.reassess_queue WHERE {zone_rows} AND zone_id IN "
        f"(SELECT zone_id FROM rules.reassess_queue WHERE {zone_rows} GROUP BY zone_id ORDER BY min(id) LIMIT :n) "
        "ORDER BY id FOR UPDATE SKIP LOCKED"), {"n": COVERED_ZONES_PER_ROUND}).all()


def describe(done: RoundDone | PatchDone) -> str:
    """One line saying what a round did."""
    if isinstance(done, PatchDone):
        return (f"re-assessed the parcel-local rules of {len(done.parcel_ids)} parcel(s) in zones {done.zone_ids}: "
                f"{done.patched} finding(s) current, from {done.queued_rows} queued change(s) in {done.seconds:.2f} s")
    return (f"re-assessed zones {done.zone_ids}{' and the whole city' if done.city else ''} "
            f"from {done.queued_rows} queued change(s) in {done.seconds:.2f} s")


def queue_daily_pass(engine: Engine) -> bool:
    """Once per day of the clock, queue every zone and the whole-city rules: what the date alone
    changes (anniversaries of agreed start dates, deadlines, validity periods). True if queued."""
    with engine.begin() as conn:
        today = live_as_of(conn)
        due = conn.execute(
            sa.text(
                "UPDATE rules.assessment_clock SET daily_pass_on = :d "
                "WHERE daily_pass_on IS NULL OR daily_pass_on < :d RETURNING daily_pass_on"
            ),
            {"d": today},
        ).first()
        if due is None:
            return False
        conn.execute(
            sa.text(
                "INSERT INTO rules.reassess_queue (zone_id, source) "
                "SELECT id, 'daily pass' FROM land.zones UNION ALL SELECT NULL, 'daily pass'"
            )
        )
    # a quarter that has ended is recorded as the findings show it, before today's runs move them
    from gisapp.revitalization.snapshots import take_due_snapshot

    take_due_snapshot(engine)
    return True


def run_forever(engine: Engine, stop: threading.Event | None = None, poll_seconds: float = POLL_SECONDS,
                kind: str = "all") -> None:
    """Re-assess what is queued of ``kind`` whenever something is (woken by the queue's
    notification, or every ``poll_seconds``), until ``stop`` is set. A failed round is logged and
    retried."""
    stop = stop or threading.Event()
    listener = _listen(engine)
    try:
        while not stop.is_set():
            try:
                if kind in ("zones", "all"):
                    queue_daily_pass(engine)
                while not stop.is_set() and (done := run_once(engine, kind)) is not None:
                    log.info("%s", describe(done))
                    if kind == "city":
                        stop.wait(CITY_REST_SECONDS)
            except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
                log.warning("a re-assessment round failed, retrying in %.0f s: %s", poll_seconds,
                            str(exc).splitlines()[0])
                stop.wait(poll_seconds)
                continue
            # sleep until the next change (or the poll, which also catches the next day)
            for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                break
            for _ in listener.notifies(timeout=0):  # a burst is one round
                pass
    finally:
        listener.close()


def _listen(engine: Engine) -> psycopg.Connection:
    raw = engine.raw_connection()
    conn = raw.driver_connection
    raw.detach()  # the worker's own connection for its life, never back in the pool
    conn.autocommit = True
    conn.execute(f"LISTEN {CHANNEL}")
    return conn
