"""Reading cases: each open case's next steps with their due dates and whether they are overdue
as of a day (:func:`next_steps`), the cases with filters (:func:`list_cases`) and one case's
whole record (:func:`case_timeline`). Read as the signed-in user (row-level security: a zone
editor sees its zones' cases), or as the connection's role when ``actor`` is None.

"As of" defaults to the date findings are as of (``rules.live_as_of()``: today, or the date the
synthetic demo fixes), so the overdue flags agree with the findings next to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework.periods import is_overdue
from gisapp.casework.queries.common import Periods, case_row
from gisapp.db.context import Actor, acting_as


@dataclass(frozen=True)
class NextStep:
    """A step an open case can take now: its deadline (None: no period), whether it is overdue
    on ``as_of`` (an optional step, e.g. a hearing on request, is never overdue: its period is
    a window, and once it has closed the step is no longer listed), and how the deadline was
    counted (``period``)."""

    case_code: str
    kind: str
    pathway: str
    zone_id: int
    parcel_id: int | None
    step: str
    who: str
    optional: bool
    article: str
    period_starts_after: dt.date | None
    due_on: dt.date | None
    overdue: bool
    days_overdue: int
    period: dict | None


@dataclass(frozen=True)
class CaseSummary:
    """One row of the case list."""

    code: str
    kind: str
    pathway: str
    zone_code: str
    parcel_code: str | None
    opened_on: dt.date
    opened_via: str
    outcome: str | None
    closed_on: dt.date | None
    responsible_body: str
    steps_done: int
    next_steps: tuple[str, ...]
    next_due_on: dt.date | None
    overdue_steps: tuple[str, ...]
    money_due_wan: Decimal
    money_overdue_wan: Decimal


@dataclass(frozen=True)
class CaseTimeline:
    """A case's whole record: its facts, the steps done (oldest first, each with the deadline that
    applied and whether it was met), what is next, the money, documents and extensions."""

    case: dict[str, Any]
    steps: list[dict[str, Any]]
    next_steps: list[NextStep]
    money: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    extensions: list[dict[str, Any]]
    as_of: dt.date
    events: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def reading(engine: Engine, actor: Actor | None) -> Iterator[Connection]:
    if actor is None:
        with engine.connect() as conn:
            yield conn
    else:
        with acting_as(engine, actor) as conn:
            yield conn


def live_as_of(conn: Connection) -> dt.date:
    return conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()


_NEXT = """
    SELECT n.* FROM land.case_next_steps n JOIN land.zones z ON z.id = n.zone_id
    WHERE (CAST(:zone AS text) IS NULL OR z.code = :zone) AND (CAST(:case AS text) IS NULL OR n.case_code = :case)
    ORDER BY n.case_code, n.sort, n.step"""


def next_steps_on(conn: Connection, as_of: dt.date, zone: str | None = None, case: str | None = None,
                  periods: Periods | None = None) -> list[NextStep]:
    """:func:`next_steps` on an open connection."""
    periods = periods or Periods(conn)
    out = []
    for r in conn.execute(sa.text(_NEXT), {"zone": zone, "case": case}):
        deadline = periods.due(r.period_starts_after, r.period_param, r.zone_id)
        due_on = deadline.due_on if deadline else None
        if r.optional and is_overdue(due_on, as_of):
            continue  # an optional step's window (a hearing on request, an appeal) has closed
        late = not r.optional and is_overdue(due_on, as_of)
        out.append(NextStep(r.case_code, r.kind, r.pathway, r.zone_id, r.parcel_id, r.step, r.who, r.optional,
                            r.article, r.period_starts_after, due_on, late, (as_of - due_on).days if late else 0,
                            deadline.period if deadline else None))
    return out


def next_steps(engine: Engine, actor: Actor | None = None, *, as_of: dt.date | None = None, zone: str | None = None,
               case: str | None = None, overdue_only: bool = False) -> list[NextStep]:
    """Each open case's next steps (those whose dependencies are done), with due dates as the law
    counts them and the overdue flag as of ``as_of``.

    Example:
        >>> [s.step for s in next_steps(engine, as_of=dt.date(2026, 6, 30), overdue_only=True)][:1]  # doctest: +SKIP
        ['user_reply']
    """
    with reading(engine, actor) as conn:
        day = as_of or live_as_of(conn)
        steps = next_steps_on(conn, day, zone, case)
    return [s for s in steps if s.overdue] if overdue_only else steps


_MONEY = sa.text("""
    SELECT m.*, c.code AS case_code FROM land.case_money m JOIN land.cases c ON c.id = m.case_id
    WHERE CAST(:case AS text) IS NULL OR c.code = :case ORDER BY m.case_id, m.id""")


def _money_rows(conn: Connection, as_of: dt.date, case: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for m in conn.execute(_MONEY, {"case": case}).mappings():
        outstanding = m["amount_wan"] - m["paid_wan"]
        rows.append(dict(m) | {"outstanding_wan": outstanding,
                               "overdue": outstanding > 0 and is_overdue(m["due_on"], as_of)})
    return rows


_CASES = sa.text("""
    SELECT c.*, z.code AS zone_code, p.code AS parcel_code,
           (SELECT count(*) FROM land.case_steps s WHERE s.case_id = c.id) AS steps_done
    FROM land.cases c JOIN land.zones z ON z.id = c.zone_id LEFT JOIN land.parcels p ON p.id = c.parcel_id
    WHERE (CAST(:zone AS text) IS NULL OR z.code = :zone)
      AND (CAST(:kind AS text) IS NULL OR c.kind = :kind)
      AND (CAST(:pathway AS text) IS NULL OR c.pathway = :pathway)
      AND (CAST(:parcel AS text) IS NULL OR p.code = :parcel)
      AND (:state = 'all' OR (:state = 'open') = (c.closed_on IS NULL))
    ORDER BY c.opened_on, c.id""")


def list_cases(engine: Engine, actor: Actor | None = None, *, zone: str | None = None, kind: str | None = None,
               pathway: str | None = None, parcel: str | None = None, state: str = "open",
               overdue_only: bool = False, as_of: dt.date | None = None) -> list[CaseSummary]:
    """The cases the user may read, filtered: ``zone`` (code), ``kind``, ``pathway``, ``parcel``
    (code), ``state`` (open, closed, all), ``overdue_only`` (a step or money overdue as of ``as_of``).
    """
    if state not in ("open", "closed", "all"):
        from gisapp.errors import InputError

        raise InputError(f"state is open, closed or all, not {state!r}")
    with reading(engine, actor) as conn:
        day = as_of or live_as_of(conn)
        rows = conn.execute(_CASES, {"zone": zone, "kind": kind, "pathway": pathway, "parcel": parcel,
                                     "state": state}).all()
        upcoming: dict[str, list[NextStep]] = {}
        for s in next_steps_on(conn, day, zone):
            upcoming.setdefault(s.case_code, []).append(s)
        money: dict[str, list[dict]] = {}
        for m in _money_rows(conn, day):
            money.setdefault(m["case_code"], []).append(m)
    out = []
    for r in rows:
        nxt = upcoming.get(r.code, [])
        dues = [s.due_on for s in nxt if s.due_on and not s.optional]
        mine = money.get(r.code, [])
        summary = CaseSummary(
            r.code, r.kind, r.pathway, r.zone_code, r.parcel_code, r.opened_on, r.opened_via, r.outcome, r.closed_on,
            r.responsible_body, r.steps_done, tuple(s.step for s in nxt), min(dues) if dues else None,
            tuple(s.step for s in nxt if s.overdue),
            sum((m["outstanding_wan"] for m in mine if m["payer"] == "land_user"), Decimal(0)),
            sum((m["outstanding_wan"] for m in mine if m["overdue"]), Decimal(0)))
        if not overdue_only or summary.overdue_steps or summary.money_overdue_wan > 0:
            out.append(summary)
    return out


def case_timeline(engine: Engine, actor: Actor | None, code: str, *, as_of: dt.date | None = None) -> CaseTimeline:
    """Case ``code``'s record (NotFoundError when the user may not read it). ``events`` is the
    record in date order: opened, each step, each sum decided and paid, closed."""
    with reading(engine, actor) as conn:
        day = as_of or live_as_of(conn)
        case = dict(case_row(conn, code)._mapping)
        steps = [dict(r) for r in conn.execute(sa.text(
            "SELECT s.*, d.sort, d.who FROM land.case_steps s "
            "JOIN land.case_pathway_steps d ON d.pathway = s.pathway AND d.step = s.step "
            "WHERE s.case_id = :c ORDER BY s.done_on, d.sort, s.id"), {"c": case["id"]}).mappings()]
        for s in steps:
            s["late_days"] = max((s["done_on"] - s["due_on"]).days, 0) if s["due_on"] else 0
        upcoming = next_steps_on(conn, day, case=code)
        money = _money_rows(conn, day, code)
        documents = [dict(r) for r in conn.execute(sa.text(
            "SELECT * FROM land.case_documents WHERE case_id = :c ORDER BY issued_on, id"), {"c": case["id"]}).mappings()]
        extensions = [dict(r) for r in conn.execute(sa.text(
            "SELECT * FROM land.case_extensions WHERE case_id = :c ORDER BY agreed_on, id"), {"c": case["id"]}).mappings()]
    events = [{"on": case["opened_on"], "event": "opened", "via": case["opened_via"], "by": case["opened_by"]}]
    events += [{"on": s["done_on"], "event": "step", "step": s["step"], "result": s["result"], "due_on": s["due_on"],
                "late_days": s["late_days"], "by": s["done_by"], "article": s["article"]} for s in steps]
    for m in money:
        events.append({"on": m["decided_on"], "event": "money_decided", "purpose": m["purpose"],
                       "amount_wan": m["amount_wan"], "due_on": m["due_on"]})
        if m["paid_on"]:
            events.append({"on": m["paid_on"], "event": "money_paid", "purpose": m["purpose"],
                           "paid_wan": m["paid_wan"]})
    if case["closed_on"]:
        events.append({"on": case["closed_on"], "event": "closed", "outcome": case["outcome"], "by": case["closed_by"]})
    order = {"opened": 0, "step": 1, "money_decided": 2, "money_paid": 3, "closed": 4}
    events.sort(key=lambda e: (e["on"], order[e["event"]]))
    return CaseTimeline(case, steps, upcoming, money, documents, extensions, day, events)
