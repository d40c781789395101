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
from gisapp.rules.assess import prune_findings, run_assessment
from gisapp.rules.parcel_jobs import PatchDone, run_parcels_once
from gisapp.rules.registry import PARCEL_LOCAL_RULES

log = logging.getLogger(__name__)

#: the channel the queue's trigger notifies on every change (sql/security/0800_live_findings.sql)
CHANNEL = "gisapp_reassess"
#: how long the worker sleeps without a notification before it looks at the queue anyway
POLL_SECONDS = 5.0
#: the notifications (their payload names the work queued, sql/security/0800_live_findings.sql)
#: that wake a worker of each kind at once. The others of its kind ('zones settling' for the
#: zones worker, 'city' for the city worker) wake it only when it knows of nothing settling yet,
#: to learn when they will have settled: a worker woken by each of 20 saves a second would spend
#: its core on asking whether anything has settled.
WAKES = {"parcels": {"parcels"}, "zones": {"zones"}, "city": set(),
         "all": {"parcels", "zones", "zones settling", "city"}}
#: what each kind of worker takes (the payloads of its rows)
TAKES = {"parcels": {"parcels"}, "zones": {"zones", "zones settling"}, "city": {"city"},
         "all": WAKES["all"]}


@dataclass(frozen=True)
class Settle:
    """When a running worker takes changes that nobody's own findings wait for: once no change
    has come for ``quiet`` seconds, or once the oldest has waited ``max_wait``. A burst of saves
    is then one round, not one per save, and the cores stay with the people saving."""

    quiet: float
    max_wait: float


#: a zone whose queued changes the parcels worker has all covered (its parcels' own findings are
#: current; its ranks, balances and QA wait): five people saving statuses in one zone get it
#: re-ranked once a minute, not a zone run per save (a zone-wide run of 2,000 parcels costs half
#: a second of CPU, which the people saving would otherwise wait for)
ZONE_WIDE_SETTLE = Settle(quiet=3.0, max_wait=60.0)
#: the whole-city rules (zone performance ranks every zone, ~3 s at city scale; quota ledgers):
#: nearly every save feeds them, and a ranking of every zone a minute older misleads nobody
CITY_SETTLE = Settle(quiet=5.0, max_wait=60.0)

#: a group of queued rows (GROUP BY ...) that has settled (:class:`Settle`; :quiet, :max_wait)
_SETTLED = ("HAVING max(enqueued_at) <= clock_timestamp() - make_interval(secs => :quiet) "
            "OR min(enqueued_at) <= clock_timestamp() - make_interval(secs => :max_wait)")


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


def run_once(engine: Engine, kind: str = "all", settle: bool = False) -> RoundDone | PatchDone | None:
    """Take everything of ``kind`` (:data:`KINDS`) queued that no other worker holds, re-assess it
    and delete it; None when nothing was queued (or, with ``settle``, nothing has settled). An
    error leaves the rows queued (the transaction rolls back). A parcels, a zones and a city
    worker run side by side (the last two take different advisory locks, gisapp.db.locks): an
    edit's own findings need wait neither for its zone's ranks nor for the city's ranking.
    ``settle`` (a zones or city worker that runs on): changes nobody's own findings wait for are
    taken once they settle (:data:`ZONE_WIDE_SETTLE`, :data:`CITY_SETTLE`)."""
    if kind == "parcels":
        return run_parcels_once(engine)
    t0 = time.perf_counter()
    local_rules, city_rules = rule_names_by_reach()
    with engine.connect() as claim, claim.begin():
        if kind == "zones":
            rows = _claim_zones(claim, settle)
        elif kind == "city" and settle:
            rows = claim.execute(sa.text(
                "SELECT id, zone_id, parcel_id, covered, rules FROM rules.reassess_queue WHERE zone_id IS NULL "
                f"AND EXISTS (SELECT 1 FROM rules.reassess_queue WHERE zone_id IS NULL {_SETTLED}) "
                "ORDER BY id FOR UPDATE SKIP LOCKED"), vars(CITY_SETTLE)).all()
        else:
            rows = claim.execute(sa.text(
                f"SELECT id, zone_id, parcel_id, covered, rules FROM rules.reassess_queue WHERE {KINDS[kind]} "
                "ORDER BY id FOR UPDATE SKIP LOCKED")).all()
        if not rows:
            return None
        zone_ids = sorted({r.zone_id for r in rows if r.zone_id is not None})
        done = RoundDone(zone_ids, any(r.zone_id is None for r in rows), len(rows))
        as_of = live_as_of(claim)
        # the zones first: an edit's own findings are current before the city-wide ones follow;
        # one run per set of rules the zones need
        plans: dict[tuple[str, ...], list[int]] = {}
        for zone in zone_ids:
            fed = _rules_fed([r for r in rows if r.zone_id == zone], local_rules, kind)
            plans.setdefault(fed, []).append(zone)
        for rules, zones in plans.items():
            codes = claim.execute(
                sa.text("SELECT code FROM land.zones WHERE id = ANY(:z) ORDER BY id"), {"z": zones}
            ).scalars().all()
            if rules and codes:
                done.run_ids.append(run_assessment(engine, as_of, codes, list(rules), workers=1).run_id)
        city_fed = _rules_fed([r for r in rows if r.zone_id is None], city_rules, kind)
        if city_fed:
            done.run_ids.append(run_assessment(engine, as_of, None, list(city_fed), workers=1).run_id)
        claim.execute(sa.text("DELETE FROM rules.reassess_queue WHERE id = ANY(:ids)"),
                      {"ids": [r.id for r in rows]})
    done.seconds = time.perf_counter() - t0
    return done


def _rules_fed(rows, rules: list[str], kind: str) -> tuple[str, ...]:
    """Which of ``rules`` the queued ``rows`` (of one zone, or the city's) must run again: for a
    change to parameters, the rules read with them (:func:`gisapp.rules.registry.rules_read_with`);
    for a zone whose change the parcels worker covered, its zone-wide rules (the parcel-local
    ones are patched; a worker of every kind patches nothing and runs them all); else all."""
    wanted: set[str] = set()
    for row in rows:
        if row.rules is not None:
            wanted |= registry.rules_read_with(row.rules)
        elif row.covered and row.parcel_id is None and kind != "all":
            wanted |= {r for r in rules if r not in PARCEL_LOCAL_RULES}
        else:
            wanted |= set(rules)
    return tuple(r for r in rules if r in wanted)


#: a round of zones whose changes are all covered by parcel jobs takes at most this many zones:
#: a change waiting for its zone's parcel-local rules (a parameter, an import) then waits for
#: one zone's round at most
COVERED_ZONES_PER_ROUND = 1


def _claim_zones(claim, settle: bool = False) -> list:
    """The zone rows a zones round takes (locked): every zone with a change its parcel-local
    rules still wait for (an uncovered row: a parameter, zone data, an import; shown as pending
    on its parcels' own findings), with their other rows (with ``settle``, without them: the
    uncovered change is not kept waiting by the ranks of saves, which follow in a round of their
    own once settled); else the rows of the few zones queued longest (changes the parcels worker
    has covered: only their ranks and balances wait), with ``settle`` only those whose changes
    have settled (:data:`ZONE_WIDE_SETTLE`)."""
    zone_rows = KINDS["zones"]
    alone = "AND NOT covered" if settle else ""
    rows = claim.execute(sa.text(
        f"SELECT id, zone_id, parcel_id, covered, rules FROM rules.reassess_queue WHERE {zone_rows} AND zone_id IN "
        f"(SELECT zone_id FROM rules.reassess_queue WHERE {zone_rows} AND NOT covered) {alone} "
        "ORDER BY id FOR UPDATE SKIP LOCKED")).all()
    if rows:
        return rows
    return claim.execute(sa.text(
        f"SELECT id, zone_id, parcel_id, covered, rules FROM rules.reassess_queue WHERE {zone_rows} AND zone_id IN "
        f"(SELECT zone_id FROM rules.reassess_queue WHERE {zone_rows} "
        f"GROUP BY zone_id {_SETTLED if settle else ''} ORDER BY min(id) LIMIT :n) "
        "ORDER BY id FOR UPDATE SKIP LOCKED"), {"n": COVERED_ZONES_PER_ROUND, **vars(ZONE_WIDE_SETTLE)}).all()


def _seconds_until_settled(engine: Engine, kind: str) -> float | None:
    """How long until the first group of ``kind``'s rows (a zone's, the city's) that waits to
    settle is due; None: none waits."""
    # a zone with an uncovered change is no group that settles: it is taken at once
    settle, rows, waits = ((ZONE_WIDE_SETTLE, KINDS["zones"], "HAVING bool_and(covered)") if kind == "zones"
                           else (CITY_SETTLE, KINDS["city"], ""))
    with engine.connect() as conn:
        due = conn.execute(sa.text(
            "SELECT min(least(last + make_interval(secs => :quiet), first + make_interval(secs => :max_wait)) "
            "- clock_timestamp()) FROM (SELECT min(enqueued_at) AS first, max(enqueued_at) AS last "
            f"FROM rules.reassess_queue WHERE {rows} GROUP BY zone_id {waits}) g"), vars(settle)).scalar()
    return None if due is None else max(due.total_seconds(), 0.0)


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
    # the runs the live worker superseded go (reviewed findings, the current runs and the latest
    # few stay): a run per zone round under a day of edits is millions of rows that nobody reads,
    # and a findings table left to grow slows every run and page that reads it
    prune_findings(engine)
    return True


def settle_in() -> None:
    """For a process that will be a worker for good (`gisapp worker`): the rules' modules imported,
    then their objects (and the libraries') kept out of the collector's walks. A worker allocates
    a few hundred thousand objects a round, and each collection of the oldest generation would
    walk the whole interpreter again. Not for a process that does other things besides."""
    import gc

    registry.rule_modules()
    gc.collect()
    gc.freeze()


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
                while not stop.is_set() and (done := run_once(engine, kind, settle=True)) is not None:
                    log.info("%s", describe(done))
                settling = _seconds_until_settled(engine, kind) if kind in ("zones", "city") else None
            except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
                log.warning("a re-assessment round failed, retrying in %.0f s: %s", poll_seconds,
                            str(exc).splitlines()[0])
                stop.wait(poll_seconds)
                continue
            # sleep until a change to take now, queued changes have settled, or the poll (which
            # also catches the next day)
            wait = poll_seconds if settling is None else min(poll_seconds, settling + 0.05)
            _sleep_until_work(listener, kind, wait, settling_known=settling is not None)
    finally:
        listener.close()


def _sleep_until_work(listener: psycopg.Connection, kind: str, seconds: float, settling_known: bool) -> bool:
    """Wait up to ``seconds`` for a notification that wakes a worker of ``kind`` (:data:`WAKES`;
    one of the changes it settles, too, while it knows of none settling), then take the other
    notifications that came meanwhile: a burst is one round. True: woken; False: time is up."""
    end = time.monotonic() + seconds
    woken = False
    while not woken and (left := end - time.monotonic()) > 0:
        # the whole batch the first notification came in (one left unread would be lost)
        notes = list(listener.notifies(timeout=left, stop_after=1))
        if not notes:
            break
        woken = any(n.payload in WAKES[kind] or (not settling_known and n.payload in TAKES[kind]) for n in notes)
    for _ in listener.notifies(timeout=0):
        pass
    return woken


def _listen(engine: Engine) -> psycopg.Connection:
    raw = engine.raw_connection()
    conn = raw.driver_connection
    raw.detach()  # the worker's own connection for its life, never back in the pool
    conn.autocommit = True
    conn.execute(f"LISTEN {CHANNEL}")
    return conn
