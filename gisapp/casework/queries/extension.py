"""An extension of the start period by supplementary agreement (Order No. 53 art. 12 (1)): the
agreement's step, and the new agreed start that the database writes to the grant, where the idle
rule reads it (sql/security/0900_casework.sql); the grant's change queues the re-assessment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.periods import end_of_years
from gisapp.casework.queries.common import Periods, StepResult, case_row, fail, insert_step, reason, working
from gisapp.db.context import Actor
from gisapp.queries.edit_form import MAX_NOTE, Form


def record_extension(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """The supplementary agreement of case ``code`` (a bureau admin's): ``agreed_on`` (signed),
    ``new_start_on`` (the new agreed start date), ``new_completion_on``, ``latest_start_on`` (the
    end of the extended start period: at most ``extension_max_years`` full years from the new
    start, the default), ``doc_no``, ``note``.

    Example:
        >>> record_extension(engine, admin, "XZ-2026-00004", {"agreed_on": "2026-05-20",  # doctest: +SKIP
        ...     "new_start_on": "2026-09-01"})
    """
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        agreed_on = form.date("agreed_on", required=True)
        new_start = form.date("new_start_on", required=True, not_future=False)
        new_completion = form.date("new_completion_on", not_future=False)
        latest = form.date("latest_start_on", not_future=False)
        doc_no = form.text("doc_no", max_len=200)
        note = form.text("note", max_len=MAX_NOTE)
        form.check()
        grant = conn.execute(sa.text(
            "SELECT id, agreed_start_on, agreed_completion_on FROM land.land_grants "
            "WHERE id = coalesce(CAST(:g AS integer), (SELECT id FROM land.land_grants WHERE parcel_id = :p "
            "ORDER BY granted_on DESC, id DESC LIMIT 1))"), {"g": case.grant_id, "p": case.parcel_id}).first()
        if grant is None or grant.agreed_start_on is None:
            fail("grant", "case.err.no_grant")
        periods = Periods(conn)
        values, prov = periods.on(agreed_on, case.zone_id)
        cap = int(values["extension_max_years"])
        limit = end_of_years(new_start, cap)
        latest = latest or limit
        if latest > limit:
            fail("latest_start_on", "case.err.over_cap", limit=limit.isoformat(),
                 source=prov["extension_max_years"]["source"])
        reason(conn, f"case {code}: start period extended, agreed start {grant.agreed_start_on} -> {new_start}")
        step = insert_step(conn, case, "supplementary_agreement", agreed_on, note=note, doc_no=doc_no,
                           periods=periods)
        conn.execute(sa.text(
            "INSERT INTO land.case_extensions (case_id, step_id, grant_id, agreed_on, previous_start_on, "
            "previous_completion_on, new_start_on, new_completion_on, latest_start_on, cap_years, cap_source) "
            "VALUES (:c, :s, :g, :a, :ps, :pc, :ns, :nc, :l, :cap, :src)"),
            {"c": case.id, "s": step.row_id, "g": grant.id, "a": agreed_on, "ps": grant.agreed_start_on,
             "pc": grant.agreed_completion_on, "ns": new_start, "nc": new_completion, "l": latest, "cap": cap,
             "src": prov["extension_max_years"]["source"]})
    return StepResult(code, "case_steps", step.row_id)
