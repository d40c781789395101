"""Opening a case by hand (a bureau admin's decision; a confirmed finding opens one by itself,
sql/security/0900_casework.sql) and changing its pathway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.queries.common import StepResult, case_row, fail, reason, working
from gisapp.db.context import Actor
from gisapp.queries.edit_form import MAX_NOTE, Form, today


def _codes(conn, sql: str, **values) -> list[str]:
    return list(conn.execute(sa.text(sql), values).scalars())


def open_case(engine: Engine, actor: Actor, data: Mapping[str, Any]) -> StepResult:
    """Open a case: ``kind``, ``pathway`` (default: the kind's first), ``parcel`` (its code) for a
    parcel's case or ``zone`` (its code) for a zone's, ``opened_on`` (default: today),
    ``responsible_body`` (default: the kind's), ``idle_clock_from`` (default: the grant's agreed
    start date, for idle land), ``note``.

    Example:
        >>> open_case(engine, admin, {"kind": "idle_land_disposal", "parcel": "WGQ-00012"})  # doctest: +SKIP
        StepResult(case_code='XZ-2026-00031', table='cases', row_id=31, due_on=None)
    """
    form = Form(data)
    with working(engine, actor, "case opened by hand") as conn:
        kind = form.choice("kind", _codes(conn, "SELECT code FROM land.case_kinds"), required=True)
        pathways = _codes(conn, "SELECT code FROM land.case_pathways WHERE kind = :k ORDER BY sort", k=kind or "")
        pathway = form.choice("pathway", pathways) or (pathways[0] if pathways else None)
        parcel_code = form.text("parcel", max_len=100)
        zone_code = form.text("zone", max_len=100)
        opened_on = form.date("opened_on") or today()
        body = form.text("responsible_body", max_len=200)
        clock_from = form.date("idle_clock_from")
        note = form.text("note", max_len=MAX_NOTE)
        form.check()
        parcel = zone_id = grant = None
        if parcel_code:
            parcel = conn.execute(sa.text("SELECT id, zone_id FROM land.parcels WHERE code = :c"),
                                  {"c": parcel_code}).first()
            if parcel is None:
                fail("parcel", "parcel.not_found", code=parcel_code)
            zone_id = parcel.zone_id
            grant = conn.execute(sa.text(
                "SELECT id, agreed_start_on FROM land.land_grants WHERE parcel_id = :p AND granted_on <= :d "
                "ORDER BY granted_on DESC, id DESC LIMIT 1"), {"p": parcel.id, "d": opened_on}).first()
        elif zone_code:
            zone_id = conn.execute(sa.text("SELECT id FROM land.zones WHERE code = :c"), {"c": zone_code}).scalar()
            if zone_id is None:
                fail("zone", "edit.err.unknown_code", value=zone_code)
        else:
            fail("parcel", "edit.err.required")
        if kind == "idle_land_disposal" and clock_from is None and grant is not None:
            clock_from = grant.agreed_start_on
        reason(conn, f"case opened by hand ({kind}, {parcel_code or zone_code})")
        row = conn.execute(sa.text(
            "INSERT INTO land.cases (code, kind, pathway, parcel_id, zone_id, grant_id, idle_clock_from, "
            "responsible_body, opened_on, opened_by, opened_via, note) "
            "VALUES ('', :k, :p, :parcel, :z, :g, :clock, coalesce(:body, ''), :on, :by, 'hand', :note) "
            "RETURNING id, code"),
            {"k": kind, "p": pathway, "parcel": parcel and parcel.id, "z": zone_id, "g": grant and grant.id,
             "clock": clock_from, "body": body, "on": opened_on, "by": "", "note": note}).one()
    return StepResult(row.code, "cases", row.id)


def set_pathway(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """Change an open case's pathway (``pathway``, ``reason``): a bureau decision, e.g. after the
    investigation found a government cause (negotiated disposal instead of the fee). Steps
    already recorded stay in the record; the new pathway's order applies from now on."""
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        pathway = form.choice("pathway", _codes(conn, "SELECT code FROM land.case_pathways WHERE kind = :k",
                                                 k=case.kind), required=True)
        why = form.text("reason", required=True)
        form.check()
        reason(conn, f"pathway of case {code}: {case.pathway} -> {pathway}: {why}")
        changed = conn.execute(sa.text("UPDATE land.cases SET pathway = :p WHERE id = :id"),
                               {"p": pathway, "id": case.id}).rowcount
        if not changed:
            from gisapp.queries.edit_errors import EditRefused

            raise EditRefused(f"{actor.username} ({actor.role}) may not change the pathway of case {code}: "
                              "that is the bureau's decision")
    return StepResult(code, "cases", case.id)
