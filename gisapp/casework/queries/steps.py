"""Recording a step of a case (the zone office's work, or a bureau decision), and undoing the
last one. The database keeps the order of steps and who may record which
(sql/security/0900_casework.sql); the checks here are the procedure's rules that need the
parameters: the full years before a fee or a recovery decision, and the hearing request period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework.periods import first_day_after, full_years_passed
from gisapp.casework.queries.common import (
    Periods,
    StepResult,
    case_row,
    fail,
    insert_step,
    reason,
    step_definition,
    working,
)
from gisapp.db.context import Actor
from gisapp.queries.edit_form import MAX_NOTE, Form

#: decisions of Order No. 53 art. 14 and the full years (a parameter of the idle rule) before them
FULL_YEARS_BEFORE = {"fee_decision": "idle_years", "recovery_decision": "recovery_years"}


def step_form(conn: Connection, case: Any, data: Mapping[str, Any], step: str | None = None) -> dict[str, Any]:
    """The values of a step's form: ``step``, ``done_on``, ``result``, ``note``, ``doc_no``,
    ``issued_on`` (the document's date, default the step's)."""
    form = Form(data)
    step = step or form.choice("step", list(conn.execute(
        sa.text("SELECT step FROM land.case_pathway_steps WHERE pathway = :p"), {"p": case.pathway}).scalars()),
        required=True)
    values = {
        "step": step,
        "done_on": form.date("done_on", required=True),
        "result": form.text("result", max_len=40),
        "note": form.text("note", max_len=MAX_NOTE),
        "doc_no": form.text("doc_no", max_len=200),
        "issued_on": form.date("issued_on"),
    }
    form.check()
    return values


def check_decision_timing(conn: Connection, case: Any, step: str, decided_on: dt.date, periods: Periods) -> None:
    """A fee or recovery decision (Order No. 53 art. 14, 15): only once the idle land has been idle
    the full years, and not before the land user's hearing request period ended (unless a hearing
    was recorded)."""
    years_param = FULL_YEARS_BEFORE.get(step)
    if years_param is None:
        return
    values, _prov = periods.on(decided_on, case.zone_id)
    if case.idle_clock_from is None:
        fail("done_on", "case.err.no_clock")
    years = int(values[years_param])
    if not full_years_passed(case.idle_clock_from, years, decided_on):
        fail("done_on", "case.err.too_early", years=years,
             from_on=first_day_after(case.idle_clock_from, years).isoformat())
    notice_on = conn.execute(sa.text("SELECT done_on FROM land.case_steps WHERE case_id = :c AND step = 'hearing_notice'"),
                             {"c": case.id}).scalar()
    held = conn.execute(sa.text("SELECT 1 FROM land.case_steps WHERE case_id = :c AND step = 'hearing'"),
                        {"c": case.id}).scalar()
    if notice_on is not None and not held:
        window = periods.due(notice_on, "hearing_request_working_days", case.zone_id)
        if window is not None and decided_on <= window.due_on:
            fail("done_on", "case.err.hearing_window", due_on=window.due_on.isoformat())


def record_step(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """Record that a step of case ``code`` was done: ``step``, ``done_on`` (for a notice or a
    decision: the day it was served), ``result`` (where the step has results), ``note``,
    ``doc_no`` (the document's number), ``issued_on``. The step's due date is counted and stored
    with it. A fee decision goes through :func:`gisapp.casework.queries.money.decide_fee`, an
    extension's agreement through :func:`gisapp.casework.queries.extension.record_extension`
    (both are routed there).

    Example:
        >>> record_step(engine, editor, "XZ-2026-00001",                      # doctest: +SKIP
        ...             {"step": "investigation_notice", "done_on": "2026-03-02", "doc_no": "闲调〔2026〕1号"})
    """
    step = data.get("step")
    if step == "fee_decision":
        from gisapp.casework.queries.money import decide_fee

        return decide_fee(engine, actor, code, {"decided_on": data.get("issued_on") or data.get("done_on"),
                                                "served_on": data.get("done_on"), "doc_no": data.get("doc_no"),
                                                "note": data.get("note")})
    if step == "supplementary_agreement":
        from gisapp.casework.queries.extension import record_extension

        return record_extension(engine, actor, code, {**data, "agreed_on": data.get("done_on")})
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        v = step_form(conn, case, data)
        if step_definition(conn, case.pathway, v["step"]) is None:
            fail("step", "case.err.not_in_pathway")
        periods = Periods(conn)
        check_decision_timing(conn, case, v["step"], v["done_on"], periods)
        reason(conn, f"case {code}: {v['step']} on {v['done_on']}")
        return insert_step(conn, case, v["step"], v["done_on"], result=v["result"], note=v["note"],
                           doc_no=v["doc_no"], issued_on=v["issued_on"], periods=periods)


def undo_step(engine: Engine, actor: Actor, code: str, step: str, why: str) -> StepResult:
    """Delete a recorded step (a bureau admin's correction; refused while a later step depends on
    it, or once the case is closed). The audit keeps what it was."""
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        if not (why or "").strip():
            fail("reason", "edit.err.required")
        reason(conn, f"case {code}: {step} undone: {why}")
        row_id = conn.execute(sa.text("DELETE FROM land.case_steps WHERE case_id = :c AND step = :s RETURNING id"),
                              {"c": case.id, "s": step}).scalar()
        if row_id is None:
            from gisapp.queries.edit_errors import EditRefused

            raise EditRefused(f"case {code} has no recorded step {step} that {actor.username} ({actor.role}) may undo")
    return StepResult(code, "case_steps", row_id)
