"""What zone offices and the bureau change: parcel status, grants and their requirements,
construction progress, annual metrics, mixed-use shares, green area, quota requests, finding
reviews and parcel geometry; and the registry of these edits (:data:`EDIT_KINDS`), which the JSON
API and the parcel page's forms share.

Every edit runs in one transaction as the signed-in user (``acting_as``, gisapp.db.context): the
database's row-level security decides what may be written, and the audit records who and why.
The parts every edit uses live apart: reading the form (gisapp.queries.edit_form), the parcel and
the versioned save through the typed table map (gisapp.queries.edit_store, gisapp.models), and
what can go wrong, with the database's
refusals turned into it (gisapp.queries.edit_errors). A stale edit is refused with the current
values (:class:`EditConflict`), so no update is ever lost; bad values are refused field by field
(:class:`ValidationFailed`) before anything is written; any database refusal rolls the whole edit
back.

Example:
    >>> actor = Actor("wgq.office", "zone_editor", (1,))                          # doctest: +SKIP
    >>> change_status(engine, actor, "WGQ-00001", {"to_status": "in_production",  # doctest: +SKIP
    ...     "changed_on": "2026-07-01", "reason": "整改完成", "version": 1})
    EditResult(table='parcels', row_id=1, version=2, parcel_code='WGQ-00001', notice=None)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp import models
from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.queries.edit_errors import EditConflict, EditRefused, FieldProblem, ValidationFailed, editing
from gisapp.queries.edit_form import (
    MAX_GEOM_DEPTH,
    MAX_NOTE,
    MAX_REASON,
    UNSTORABLE,
    Form,
    flatten,
    nesting,
    parse_components,
    plain,
    shown,
)
from gisapp.queries.edit_store import (
    EditResult,
    codes_of,
    parcel_for_edit,
    reason_or,
    row_of_parcel,
    save_row,
    set_reason,
)
from gisapp.queries.review_effects import review_notice

__all__ = [
    "EDIT_KINDS", "Actor", "EditConflict", "EditKind", "EditRefused", "EditResult", "FieldProblem", "Form",
    "NotFoundError", "ValidationFailed", "acting_as", "change_status", "parse_components", "record_green_area",
    "record_metrics", "record_progress", "request_quota", "review_finding", "save_grant", "save_grant_requirement",
    "set_mixed_use", "update_geometry",
]

SHARE_TOLERANCE_PCT = 0.01  # shares are stored with 2 decimals

MUC = models.MixedUseComponent


# -- the edits -------------------------------------------------------------------------------


def change_status(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Move a parcel along its lifecycle (docs/policy.md §6): ``to_status``, ``changed_on``, ``reason``,
    ``note``, ``version`` (the version the editor started from).

    The allowed graph, the date order and the history row are the database's
    (land.change_parcel_status and its triggers), so psql users obey the same rules.
    """
    form = Form(data)
    with editing(engine, actor, table_hint="parcels") as conn:
        parcel = parcel_for_edit(conn, code)  # unknown or not allowed: said before any field
        to_status = form.choice("to_status", codes_of(conn, "parcel_statuses"), required=True)
        changed_on = form.date("changed_on", required=True)
        reason = form.text("reason", required=True, max_len=MAX_REASON)
        note = form.text("note", max_len=MAX_NOTE)
        version = form.integer("version", required=True, minimum=1)
        form.check()
        new_version = conn.execute(
            sa.text("SELECT land.change_parcel_status(:code, :to, :on, :reason, :note, :version)"),
            {
                "code": code,
                "to": to_status,
                "on": changed_on,
                "reason": reason,
                "note": note,
                "version": version,
            },
        ).scalar_one()
    return EditResult("parcels", parcel.id, new_version, code)


def record_green_area(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Green area of a parcel measured on a date (``measured_on``, ``green_area_m2``)."""
    form = Form(data)
    with editing(engine, actor, table_hint="green_areas") as conn:
        parcel = parcel_for_edit(conn, code)
        measured_on = form.date("measured_on", required=True)
        area = form.number("green_area_m2", required=True, minimum=0)
        row_id = form.integer("id", minimum=1)
        version = form.integer("version", minimum=1)
        if area is not None and "green_area_m2" not in form.problems and area > Decimal(str(parcel.area_m2)):
            form.fail("green_area_m2", "green_exceeds", value=plain(area), area=f"{parcel.area_m2:.1f}")
        form.check()
        row_of_parcel(conn, "land.green_areas", row_id, parcel)
        set_reason(conn, reason_or(form, f"green area of {code} measured on {measured_on}"))
        return save_row(
            conn,
            "land.green_areas",
            {"parcel_id": parcel.id, "measured_on": measured_on, "green_area_m2": float(area)},
            row_id,
            version,
            code,
        )


def record_progress(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """A construction progress report (dates in order; developed area within the area to develop)."""
    form = Form(data)
    with editing(engine, actor, table_hint="construction_progress") as conn:
        parcel = parcel_for_edit(conn, code)
        v = {
            "parcel_id": parcel.id,
            "reported_on": form.date("reported_on", required=True),
            "started_on": form.date("started_on"),
            "should_develop_area_m2": form.number("should_develop_area_m2", minimum=0, exclusive=True),
            "developed_area_m2": form.number("developed_area_m2", minimum=0),
            "invested_wan": form.number("invested_wan", minimum=0),
            "total_investment_wan": form.number("total_investment_wan", minimum=0, exclusive=True),
            "completed_on": form.date("completed_on"),
            "accepted_on": form.date("accepted_on"),
        }
        row_id = form.integer("id", minimum=1)
        version = form.integer("version", minimum=1)
        form.order("started_on", "completed_on", v)
        form.order("completed_on", "accepted_on", v)
        form.order("started_on", "reported_on", v)
        should, developed = v["should_develop_area_m2"], v["developed_area_m2"]
        if should is not None and developed is not None and developed > should:
            form.fail("developed_area_m2", "developed_exceeds", limit=plain(should))
        form.check()
        row_of_parcel(conn, "land.construction_progress", row_id, parcel)
        set_reason(conn, reason_or(form, f"construction progress of {code} reported on {v['reported_on']}"))
        return save_row(conn, "land.construction_progress", v, row_id, version, code)


def record_metrics(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Annual metrics of the parcel's enterprise (per-mu evaluation inputs)."""
    form = Form(data)
    with editing(engine, actor, table_hint="enterprise_metrics") as conn:
        parcel = parcel_for_edit(conn, code)
        year = form.integer("year", required=True, minimum=1990, maximum=dt.date.today().year)
        v = {
            "parcel_id": parcel.id,
            "enterprise_id": parcel.enterprise_id,
            "year": year,
            "grading_category": form.choice(
                "grading_category", ("regular", "small", "startup", "under_construction")
            )
            or "regular",
            "revenue_wan": form.number("revenue_wan"),
            "tax_wan": form.number("tax_wan"),
            "value_added_wan": form.number("value_added_wan", minimum=None),  # a loss is negative
            "energy_tce": form.number("energy_tce"),
            "electricity_kwh": form.number("electricity_kwh"),
            "emissions_t": form.number("emissions_t"),
            "employees": form.integer("employees"),
            "rd_spend_wan": form.number("rd_spend_wan"),
        }
        row_id = form.integer("id", minimum=1)
        version = form.integer("version", minimum=1)
        if parcel.enterprise_id is None:
            form.fail("_form", "no_enterprise")
        form.check()
        row_of_parcel(conn, "land.enterprise_metrics", row_id, parcel)
        set_reason(conn, reason_or(form, f"metrics of {code} for {year}"))
        return save_row(conn, "land.enterprise_metrics", v, row_id, version, code)


def set_mixed_use(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Replace the parcel's mixed-use shares (``components``; they must sum to 100%).

    ``expected`` is what the editor started from: ``[[component id, version], ...]`` (empty for
    none); if the stored set differs, the edit is a conflict.
    """
    form = Form(data)
    with editing(engine, actor, table_hint="mixed_use_components") as conn:
        parcel = parcel_for_edit(conn, code)
        components = parse_components(data.get("components"), form)
        known = codes_of(conn, "land_use_codes")
        seen: set[str] = set()
        for use, _share in components:
            if use not in known:
                form.fail("components", "unknown_code", value=use[:20])
            elif use in seen:
                form.fail("components", "duplicate_use", value=use)
            seen.add(use)
        if not components and "components" not in form.problems:
            form.fail("components", "required")
        total = sum((s for _u, s in components), Decimal(0))
        if (
            components
            and abs(total - 100) > Decimal(str(SHARE_TOLERANCE_PCT))
            and "components" not in form.problems
        ):
            form.fail("components", "shares_sum", total=f"{total:.2f}".rstrip("0").rstrip("."))
        form.check()
        stored = {
            r.id: r
            for r in conn.execute(
                sa.select(MUC.id, MUC.version, MUC.land_use_code).where(MUC.parcel_id == parcel.id).with_for_update()
            )
        }
        try:
            expected = {int(i): int(v) for i, v in (data.get("expected") or [])}
        except (TypeError, ValueError):
            raise ValidationFailed({"expected": FieldProblem("edit.err.required", {})}) from None
        if expected != {i: r.version for i, r in stored.items()}:
            current = {
                "components": [
                    {"id": i, "land_use_code": r.land_use_code, "version": r.version}
                    for i, r in stored.items()
                ],
                "version": max((r.version for r in stored.values()), default=0),
                "updated_by": conn.execute(
                    sa.select(MUC.updated_by).where(MUC.parcel_id == parcel.id)
                    .order_by(MUC.updated_at.desc()).limit(1)
                ).scalar(),
            }
            raise EditConflict(f"the mixed-use shares of {code} changed since they were read", current)
        set_reason(conn, reason_or(form, f"mixed-use shares of {code}"))
        by_use = {r.land_use_code: r for r in stored.values()}
        for row in stored.values():
            if row.land_use_code not in seen:
                conn.execute(sa.delete(MUC).where(MUC.id == row.id))
        floor = conn.execute(
            sa.select(models.Parcel.floor_area_m2).where(models.Parcel.id == parcel.id)
        ).scalar()
        last = None
        for use, share in components:
            values = {
                "parcel_id": parcel.id,
                "land_use_code": use,
                "floor_share_pct": share,
                "floor_area_m2": round(floor * float(share) / 100, 1) if floor is not None else None,
            }
            old = by_use.get(use)
            last = save_row(
                conn,
                "land.mixed_use_components",
                values,
                old.id if old else None,
                old.version if old else None,
                code,
            )
        return last


def review_finding(engine: Engine, actor: Actor, finding_id: int, data: Mapping[str, Any]) -> EditResult:
    """Confirm or dismiss a rule's finding, with a reason (``decision``, ``reason``, ``version``).

    Confirming an outcome that means a status (idle land, per-mu class D) moves the parcel to it,
    or is refused when the lifecycle has no such step (``ValidationFailed`` at ``decision``);
    withdrawing the confirmation takes the change back if nobody changed the status since. The
    result's ``notice`` says which (docs/findings.md).
    """
    form = Form(data)
    with editing(engine, actor, table_hint="findings") as conn:
        decision = form.choice("decision", ("confirmed", "dismissed", "open"), required=True)
        reason = form.text("reason", required=decision != "open", max_len=MAX_REASON)
        version = form.integer("version", required=True, minimum=1)
        form.check()
        finding = conn.execute(
            sa.text(
                "SELECT f.id, p.code, auth.may_write_finding(f.zone_id, f.parcel_id) AS may, "
                "f.is_current, f.version, f.updated_at, f.updated_by "
                "FROM rules.findings_history f LEFT JOIN land.parcels p ON p.id = f.parcel_id WHERE f.id = :id"
            ),
            {"id": finding_id},
        ).first()
        if finding is None:
            raise NotFoundError(f"there is no finding {finding_id}")
        if not finding.is_current:
            # a later assessment replaced it: the review belongs on the current finding
            raise EditConflict(
                f"finding {finding_id} is no longer current: a later assessment replaced it",
                {"version": finding.version, "updated_at": finding.updated_at, "updated_by": finding.updated_by},
            )
        if not finding.may:
            raise EditRefused(
                f"{actor.username} ({actor.role}) may not review finding {finding_id}: "
                "it is outside the zones this user edits"
            )
        set_reason(conn, reason or f"reopen finding {finding_id}")
        # the database moves the parcel's status on a confirmation and takes it back on a
        # withdrawal (sql/security/0820_review_moves_status.sql); the notice says what it did
        saved = save_row(
            conn,
            "rules.findings",
            {
                "review_status": decision,
                "review_reason": reason if decision != "open" else None,
                "reviewed_by": actor.username if decision != "open" else None,
                "reviewed_at": dt.datetime.now(dt.UTC) if decision != "open" else None,
            },
            finding_id,
            version,
            finding.code,
        )
        return replace(saved, notice=review_notice(conn, finding_id))


def save_grant_requirement(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """A performance requirement of one of the parcel's grants (``grant_id``, ``indicator``,
    ``review_stage``, ``min_value`` / ``max_value``)."""
    form = Form(data)
    with editing(engine, actor, table_hint="grant_requirements") as conn:
        parcel = parcel_for_edit(conn, code)
        grant_id = form.integer("grant_id", required=True, minimum=1)
        indicator = form.choice("indicator", codes_of(conn, "performance_indicators"), required=True)
        stage = form.choice("review_stage", ("acceptance", "production", "periodic"), required=True)
        low = form.number("min_value", minimum=None)
        high = form.number("max_value", minimum=None)
        row_id = form.integer("id", minimum=1)
        version = form.integer("version", minimum=1)
        if low is None and high is None and not {"min_value", "max_value"} & form.problems.keys():
            form.fail("min_value", "one_bound")
        if low is not None and high is not None and low > high:
            form.fail("max_value", "min_max")
        if (
            grant_id is not None
            and conn.execute(
                sa.select(models.LandGrant.parcel_id).where(models.LandGrant.id == grant_id)
            ).scalar()
            != parcel.id
        ):
            form.fail("grant_id", "grant_parcel")
        form.check()
        if (
            row_id is not None
            and conn.execute(
                sa.select(models.GrantRequirement.grant_id).where(models.GrantRequirement.id == row_id)
            ).scalar()
            != grant_id
        ):
            raise ValidationFailed({"id": FieldProblem("edit.err.unknown_code", {"value": row_id})})
        set_reason(conn, reason_or(form, f"grant requirement {indicator} of {code}"))
        return save_row(
            conn,
            "land.grant_requirements",
            {
                "grant_id": grant_id,
                "indicator": indicator,
                "review_stage": stage,
                "min_value": low,
                "max_value": high,
            },
            row_id,
            version,
            code,
        )


def save_grant(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """A grant (contract) of the parcel: dates in their order, term 1-70 years, amounts >= 0."""
    form = Form(data)
    with editing(engine, actor, table_hint="land_grants") as conn:
        parcel = parcel_for_edit(conn, code)
        v = {
            "parcel_id": parcel.id,
            "enterprise_id": parcel.enterprise_id,
            "contract_no": form.text("contract_no", required=True, max_len=80),
            "supply_method": form.choice("supply_method", ("grant", "allocation", "lease")) or "grant",
            "announced_on": form.date("announced_on"),
            "granted_on": form.date("granted_on", required=True),
            "delivery_due_on": form.date("delivery_due_on", not_future=False),
            "delivered_on": form.date("delivered_on"),
            "agreed_start_on": form.date("agreed_start_on", not_future=False),
            "agreed_completion_on": form.date("agreed_completion_on", not_future=False),
            "term_years": form.integer("term_years", minimum=1, maximum=70),
            "price_wan": form.number("price_wan"),
            "total_investment_wan": form.number("total_investment_wan"),
            "is_standardized": form.flag("is_standardized"),
            "is_major_project": form.flag("is_major_project"),
            "industry": form.text("industry", max_len=200),
        }
        row_id = form.integer("id", minimum=1)
        version = form.integer("version", minimum=1)
        form.order("announced_on", "granted_on", v)
        form.order("granted_on", "delivery_due_on", v)
        form.order("granted_on", "delivered_on", v)
        form.order("agreed_start_on", "agreed_completion_on", v)
        form.check()
        row_of_parcel(conn, "land.land_grants", row_id, parcel)
        set_reason(conn, reason_or(form, f"grant {v['contract_no']} of {code}"))
        return save_row(conn, "land.land_grants", v, row_id, version, code)


def request_quota(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """A project's request for energy or pollutant quota (``account_id`` of one of the parcel's
    projects, ``amount`` > 0, ``requested_on``, ``note``); the bureau decides it."""
    form = Form(data)
    with editing(engine, actor, table_hint="quota_requests") as conn:
        parcel = parcel_for_edit(conn, code)
        account_id = form.integer("account_id", required=True, minimum=1)
        amount = form.number("amount", required=True, minimum=0, exclusive=True)
        requested_on = form.date("requested_on", required=True)
        note = form.text("note", max_len=MAX_NOTE)
        account = None
        if account_id is not None:
            account = conn.execute(
                sa.text(
                    "SELECT a.id, a.year, a.resource, g.parcel_id FROM land.quota_accounts a "
                    "LEFT JOIN land.land_grants g ON g.id = a.grant_id WHERE a.id = :a AND a.level = "
                    "'project'"
                ),
                {"a": account_id},
            ).first()
            if account is None or account.parcel_id != parcel.id:
                form.fail("account_id", "account_parcel")
        form.check()
        set_reason(conn, reason_or(form, f"quota request for {code}"))
        return save_row(
            conn,
            "land.quota_requests",
            {
                "year": account.year,
                "resource": account.resource,
                "account_id": account.id,
                "amount": amount,
                "requested_on": requested_on,
                "status": "pending",
                "note": note,
            },
            None,
            None,
            code,
        )


def update_geometry(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Reshape a parcel (``geom``: GeoJSON in EPSG:4490 lon/lat, ``reason``, ``version``).

    Valid, inside the zone's approved boundary in force, no overlap with neighbours beyond the
    tolerance: checked by land.parcel_geometry_problems (the one definition).
    """
    form = Form(data)
    geojson = data.get("geom")
    reason = form.text("reason", required=True, max_len=MAX_REASON)
    version = form.integer("version", required=True, minimum=1)
    text = None
    if geojson is None or (isinstance(geojson, str) and not geojson.strip()):
        form.fail("geom", "required")
    else:
        try:
            obj = json.loads(geojson) if isinstance(geojson, str) else geojson
            if isinstance(obj, Mapping) and obj.get("type") == "Feature":
                obj = obj.get("geometry") or {}
            if not isinstance(obj, Mapping):
                raise ValueError("a GeoJSON object is needed")
            if obj.get("type") not in ("Polygon", "MultiPolygon"):
                form.fail("geom", "geom_type", type=shown(obj.get("type"))[:30])
            coords = obj.get("coordinates")
            if nesting(coords, MAX_GEOM_DEPTH) > MAX_GEOM_DEPTH:
                form.fail("geom", "geom_too_deep", max=MAX_GEOM_DEPTH)
            elif not all(math.isfinite(float(x)) for x in flatten(coords)):
                raise ValueError("coordinates must be finite numbers")
            else:
                text = json.dumps({"type": obj["type"], "coordinates": coords})
        except RecursionError:  # a text nested deeper than the JSON reader goes
            form.fail("geom", "geom_too_deep", max=MAX_GEOM_DEPTH)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            form.fail("geom", "geom_parse", detail=UNSTORABLE.sub("\ufffd", str(exc)[:120]))
    form.check()
    with editing(engine, actor, table_hint="parcels") as conn:
        try:
            geom_sql = "ST_SetSRID(ST_GeomFromGeoJSON(:g), 4490)"
            new_version = conn.execute(
                sa.text(f"SELECT land.update_parcel_geometry(:code, {geom_sql}, :reason, :version)"),
                {"code": code, "g": text, "reason": reason, "version": version},
            ).scalar_one()
        except sa.exc.DataError as exc:  # PostGIS could not read the GeoJSON
            raise ValidationFailed(
                {"geom": FieldProblem("edit.err.geom_parse", {"detail": str(exc.orig).splitlines()[0][:120]})}
            ) from exc
        parcel_id = conn.execute(sa.select(models.Parcel.id).where(models.Parcel.code == code)).scalar_one()
    return EditResult("parcels", parcel_id, new_version, code)


# -- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditKind:
    """One kind of edit: its id (the JSON API's URL segment and the parcel page's form), the
    function that saves it, and its subject (a parcel by code, or a finding by id)."""

    id: str
    save: Callable[..., EditResult]
    subject: str = "parcel"


#: Every edit, once: the JSON API (gisapp.web.edit_api) and the parcel page's forms
#: (gisapp.web.forms) both take theirs from here.
EDIT_KINDS: dict[str, EditKind] = {
    kind.id: kind
    for kind in (
        EditKind("status", change_status),
        EditKind("grants", save_grant),
        EditKind("grant-requirements", save_grant_requirement),
        EditKind("progress", record_progress),
        EditKind("metrics", record_metrics),
        EditKind("mixed-use", set_mixed_use),
        EditKind("green-areas", record_green_area),
        EditKind("quota-requests", request_quota),
        EditKind("geometry", update_geometry),
        EditKind("review", review_finding, subject="finding"),
    )
}
