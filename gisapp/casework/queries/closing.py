"""Closing a case with its outcome (a bureau admin's decision): the database refuses an outcome
of another pathway and one whose steps are not all done (land.case_outcomes.requires)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.queries.common import StepResult, case_row, reason, working
from gisapp.db.context import Actor
from gisapp.queries.edit_errors import EditRefused
from gisapp.queries.edit_form import MAX_NOTE, Form, today


def close_case(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """Close case ``code``: ``outcome``, ``closed_on`` (default today), ``freed_area_m2`` (the land
    the case gave back; default the parcel's area when the outcome frees land), ``note``."""
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        outcomes = dict(conn.execute(sa.text("SELECT code, frees_land FROM land.case_outcomes WHERE kind = :k"),
                                     {"k": case.kind}).all())
        outcome = form.choice("outcome", list(outcomes), required=True)
        closed_on = form.date("closed_on") or today()
        freed = form.number("freed_area_m2")
        note = form.text("note", max_len=MAX_NOTE)
        form.check()
        if freed is None and outcomes.get(outcome) and case.parcel_id is not None:
            freed = conn.execute(sa.text("SELECT area_m2 FROM land.parcels WHERE id = :p"), {"p": case.parcel_id}).scalar()
        reason(conn, f"case {code} closed: {outcome}" + (f" ({note})" if note else ""))
        changed = conn.execute(sa.text(
            "UPDATE land.cases SET outcome = :o, closed_on = :d, freed_area_m2 = :f, "
            "note = coalesce(:n, note) WHERE id = :id AND closed_on IS NULL"),
            {"o": outcome, "d": closed_on, "f": float(freed) if freed is not None else None, "n": note,
             "id": case.id}).rowcount
        if not changed:
            if case.closed_on is not None:
                from gisapp.casework.queries.common import fail

                fail("case", "case.err.closed", closed_on=case.closed_on.isoformat())
            raise EditRefused(f"{actor.username} ({actor.role}) may not close case {code}: that is the bureau's decision")
    return StepResult(code, "cases", case.id)
