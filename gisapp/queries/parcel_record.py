"""One parcel as a person looks it up: attributes, what may be done with it, its status history,
its recorded changes (audit.change_log), and the parcel as it was on a chosen date.

Reads run ``acting_as`` the signed-in user, so what the database lets them see and edit is what
the page shows (``may_edit`` comes from the same function the row-level security policies use).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.errors import NotFoundError
from gisapp.i18n import label, t
from gisapp.queries.edits import Actor, acting_as
from gisapp.queries.review_effects import HISTORY_REVIEWS

# bookkeeping columns, not what a person changed
_NOISE = {"version", "updated_at", "updated_by", "area_m2"}


def _plain(row: sa.RowMapping | dict) -> dict:
    out = {}
    for key, value in dict(row).items():
        if isinstance(value, dt.datetime):
            value = value.isoformat(timespec="seconds")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif hasattr(value, "is_finite"):  # Decimal
            value = float(value)
        out[key] = value
    return out


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict]:
    return [_plain(r) for r in conn.execute(sa.text(sql), params).mappings()]


def parcel_record(engine: Engine, actor: Actor, code: str) -> dict:
    """Everything the parcel page shows about ``code``; NotFoundError if there is no such parcel.

    Example:
        >>> rec = parcel_record(engine, Actor("viewer", "bureau_viewer"), "WGQ-00001")  # doctest: +SKIP
        >>> rec["parcel"]["status"], rec["may_edit"]                                     # doctest: +SKIP
        ('low_efficiency', False)
    """
    with acting_as(engine, actor) as conn:
        found = (
            conn.execute(
                sa.text("""
            SELECT p.id, p.code, p.zone_id, z.code AS zone_code, z.name_zh AS zone_name_zh,
                z.name_en AS zone_name_en,
                   p.land_use_code, lu.name_zh AS land_use_zh, lu.name_en AS land_use_en,
                   p.status, s.name_zh AS status_zh, s.name_en AS status_en, p.status_since,
                   round(p.area_m2::numeric, 1) AS area_m2, p.floor_area_m2, p.enterprise_id,
                   e.name_zh AS enterprise_zh, e.name_en AS enterprise_en,
                   p.version, p.updated_at, p.updated_by, p.is_synthetic,
                   ST_AsGeoJSON(p.geom, 7)::text AS geometry,
                   auth.may_write_zone(p.zone_id) AS may_edit
            FROM land.parcels p
            JOIN land.zones z ON z.id = p.zone_id
            JOIN land.land_use_codes lu ON lu.code = p.land_use_code
            JOIN land.parcel_statuses s ON s.code = p.status
            LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
            WHERE p.code = :code"""),
                {"code": code},
            )
            .mappings()
            .first()
        )
        if found is None:
            raise NotFoundError(f"there is no parcel with the code {code!r}")
        parcel = _plain(found)
        pid = parcel["id"]
        parcel["geometry"] = json.loads(parcel["geometry"])
        record = {
            "parcel": parcel,
            "may_edit": bool(parcel.pop("may_edit")),
            "next_statuses": _rows(
                conn,
                """
                SELECT s.code, s.name_zh, s.name_en FROM land.parcel_status_transitions t
                JOIN land.parcel_statuses s ON s.code = t.to_status
                WHERE t.from_status = :status ORDER BY s.sort""",
                status=parcel["status"],
            ),
            "history": status_history(conn, pid),
            "findings": _rows(
                conn,
                """
                SELECT f.id, f.rule, f.rule_version, f.as_of, f.outcome, f.is_positive, f.explanation_zh,
                       f.explanation_en, f.review_status, f.review_reason,
                           f.reviewed_by, f.reviewed_at, f.version
                FROM rules.current_findings f WHERE f.parcel_id = :p
                  AND f.zone_key = (SELECT zone_id FROM land.parcels WHERE id = :p) ORDER BY f.rule, f.id""",
                p=pid,
            ),
            "grants": _rows(
                conn,
                """
                SELECT g.id, g.contract_no, g.supply_method, g.announced_on, g.granted_on, g.agreed_start_on,
                       g.agreed_completion_on, g.term_years, g.price_wan, g.total_investment_wan,
                       g.is_standardized, g.is_major_project, g.version
                FROM land.land_grants g WHERE g.parcel_id = :p ORDER BY g.granted_on, g.id""",
                p=pid,
            ),
            "requirements": _rows(
                conn,
                """
                SELECT r.id, r.grant_id, r.indicator, i.name_zh AS indicator_zh,
                    i.name_en AS indicator_en, i.unit,
                       r.review_stage, r.min_value, r.max_value, r.version
                FROM land.grant_requirements r JOIN land.land_grants g ON g.id = r.grant_id
                JOIN land.performance_indicators i ON i.code = r.indicator
                WHERE g.parcel_id = :p ORDER BY r.grant_id, r.review_stage, r.indicator""",
                p=pid,
            ),
            "progress": _rows(
                conn,
                """
                SELECT id, reported_on, started_on, should_develop_area_m2, developed_area_m2, invested_wan,
                       total_investment_wan, completed_on, accepted_on, version
                FROM land.construction_progress WHERE parcel_id = :p ORDER BY reported_on DESC LIMIT 10""",
                p=pid,
            ),
            "metrics": _rows(
                conn,
                """
                SELECT id, year, grading_category, revenue_wan, tax_wan, value_added_wan,
                    energy_tce, electricity_kwh,
                       emissions_t, employees, rd_spend_wan, version
                FROM land.enterprise_metrics WHERE parcel_id = :p ORDER BY year DESC LIMIT 10""",
                p=pid,
            ),
            "mixed_use": _rows(
                conn,
                """
                SELECT c.id, c.land_use_code, lu.name_zh, lu.name_en, c.floor_share_pct,
                    c.floor_area_m2, c.version
                FROM land.mixed_use_components c JOIN land.land_use_codes lu ON lu.code = c.land_use_code
                WHERE c.parcel_id = :p ORDER BY c.floor_share_pct DESC, c.land_use_code""",
                p=pid,
            ),
            # an approved mixed-use pilot (at most one per parcel): the page shows it as a badge
            "pilot": _rows(
                conn,
                "SELECT pilot_ref, approved_on, note FROM land.mixed_use_pilots WHERE parcel_id = :p",
                p=pid,
            ),
            "green": _rows(
                conn,
                """
                SELECT id, measured_on, green_area_m2, version FROM land.green_areas
                WHERE parcel_id = :p ORDER BY measured_on DESC LIMIT 10""",
                p=pid,
            ),
            "quota_accounts": _rows(
                conn,
                """
                SELECT a.id, a.year, a.resource, r.name_zh AS resource_zh,
                    r.name_en AS resource_en, r.unit, a.name
                FROM land.quota_accounts a JOIN land.land_grants g ON g.id = a.grant_id
                JOIN land.quota_resources r ON r.code = a.resource
                WHERE g.parcel_id = :p AND a.level = 'project' ORDER BY a.year DESC, a.resource""",
                p=pid,
            ),
            "quota_requests": _rows(
                conn,
                """
                SELECT q.id, q.year, q.resource, q.account_id, q.amount, q.requested_on,
                    q.status, q.decided_on,
                       q.note, q.version
                FROM land.quota_requests q JOIN land.quota_accounts a ON a.id = q.account_id
                JOIN land.land_grants g ON g.id = a.grant_id
                WHERE g.parcel_id = :p ORDER BY q.requested_on DESC, q.id DESC LIMIT 20""",
                p=pid,
            ),
            "changes": change_log(conn, pid),
            "reference": reference_codes(conn),
        }
    return record


def status_history(conn: Connection, parcel_id: int) -> list[dict]:
    """The parcel's status changes, newest first; a change a finding's review made (or took back)
    names the finding (``review_effect`` confirmed / withdrawn, ``review_finding``,
    ``review_outcome``)."""
    return _rows(
        conn,
        f"""
        SELECT h.id, h.from_status, fs.name_zh AS from_zh, fs.name_en AS from_en,
               h.to_status, ts.name_zh AS to_zh, ts.name_en AS to_en,
               h.changed_on, h.reason, h.note, h.changed_by, h.recorded_at,
               rv.review_effect, rv.review_finding, rv.review_outcome
        FROM land.parcel_status_history h
        LEFT JOIN land.parcel_statuses fs ON fs.code = h.from_status
        JOIN land.parcel_statuses ts ON ts.code = h.to_status
        {HISTORY_REVIEWS}
        WHERE h.parcel_id = :p ORDER BY h.changed_on DESC, h.id DESC""",
        p=parcel_id,
    )


def change_log(conn: Connection, parcel_id: int, limit: int = 50) -> list[dict]:
    """Recorded changes of the parcel and of the rows that point at it, newest first, each with
    the fields that changed (old -> new)."""
    rows = conn.execute(
        sa.text("""
        SELECT id, changed_at, table_schema, table_name, row_id, action, coalesce(app_user, db_user) AS who,
               db_user, reason, old_row, new_row
        FROM audit.change_log
        WHERE parcel_key = CAST(:p AS text)  -- the parcel's row and the rows with its parcel_id (1891)
        ORDER BY changed_at DESC, id DESC LIMIT :lim"""),
        {"p": parcel_id, "lim": limit},
    ).mappings()
    out = []
    for r in rows:
        old, new = r["old_row"] or {}, r["new_row"] or {}
        keys = [k for k in dict.fromkeys([*old, *new]) if k not in _NOISE and old.get(k) != new.get(k)]
        if r["action"] != "UPDATE":
            keys = [k for k in keys if k not in ("id", "parcel_id", "geom")]
        diff = {k: [old.get(k), new.get(k)] for k in keys}
        if "geom" in diff:  # WKT is long; say that it changed
            diff["geom"] = ["…", "…"]
        out.append(
            {
                "id": r["id"],
                "changed_at": r["changed_at"].isoformat(timespec="seconds"),
                "table": r["table_name"],
                "row_id": r["row_id"],
                "action": r["action"],
                "who": r["who"],
                "db_user": r["db_user"],
                "reason": r["reason"],
                "diff": diff,
            }
        )
    return out


#: the vocabulary (gisapp.i18n prefix) of the coded columns a change can touch; per table where
#: one column name means two things (a parcel's status, a quota request's status)
_VALUE_LABELS = {"status": "status", "from_status": "status", "to_status": "status", "supply_method": "supply",
                 "review_stage": "stage", "grading_category": "grading", "resource": "resource",
                 "review_status": "finding", "reason_code": "exempt_reason"}
_TABLE_VALUE_LABELS = {("quota_requests", "status"): "quota_request"}


def _change_value(table: str, column: str, value: object, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    prefix = _TABLE_VALUE_LABELS.get((table, column)) or _VALUE_LABELS.get(column)
    return label(prefix, value, lang) if prefix else str(value)


def change_text(change: dict, lang: str) -> tuple[str, str]:
    """(what was changed, which fields from what to what) of one ``change_log`` entry, in words
    of ``lang``: the record's kind, the action and the fields by their labels, coded values by
    theirs.

    Example:
        >>> change_text({"table": "parcels", "action": "UPDATE",
        ...              "diff": {"status": ["granted_unbuilt", "under_construction"]}}, "zh")
        ('地块 修改', '状态：供而未用 → 在建')
    """
    table = change["table"]
    what = f"{label('audit.table', table, lang)} {label('audit.action', change['action'], lang)}"
    sep = "：" if lang == "zh" else ": "
    fields = ("；" if lang == "zh" else "; ").join(
        f"{t('parcel.geometry', lang) if column == 'geom' else label('field', column, lang)}{sep}{_change_value(table, column, old, lang)} → "
        f"{_change_value(table, column, new, lang)}"
        for column, (old, new) in change["diff"].items())
    return what, fields


def reference_codes(conn: Connection) -> dict[str, list[dict]]:
    """Code lists the edit forms offer."""
    return {
        "land_use": _rows(conn, "SELECT code, name_zh, name_en FROM land.land_use_codes ORDER BY code"),
        "indicators": _rows(
            conn, "SELECT code, name_zh, name_en, unit FROM land.performance_indicators ORDER BY code"
        ),
        "statuses": _rows(conn, "SELECT code, name_zh, name_en FROM land.parcel_statuses ORDER BY sort"),
    }


def parcel_as_of(engine: Engine, actor: Actor, code: str, on: dt.date) -> dict:
    """The parcel as recorded at the end of ``on``.

    From audit.change_log: the values before the first change made after that day, or today's
    values when nothing changed since. Before row-level recording began for the parcel (e.g. a
    bulk load), only the status is known, from the status history's business dates.

    Returns:
        ``{"source": "audit" | "current" | "history" | "absent", "state": {...} | None,
        "recorded_since": iso timestamp | None}``
    """
    with acting_as(engine, actor) as conn:
        pid = conn.execute(sa.text("SELECT id FROM land.parcels WHERE code = :c"), {"c": code}).scalar()
        if pid is None:
            raise NotFoundError(f"there is no parcel with the code {code!r}")
        # one definition of "as recorded that day" for this page and the parcels layer as of a date
        # (audit.parcel_states, sql/views/0700_parcels_as_of.sql)
        found = conn.execute(
            sa.text("""
            SELECT source, old_row, history_status, history_status_since, recorded_since
            FROM audit.parcel_states(:on, CAST(ARRAY[:p] AS bigint[]))"""),
            {"p": pid, "on": on},
        ).first()
        since = found.recorded_since if found else None
        recorded_since = since.isoformat(timespec="seconds") if since else None
        if found is not None and found.source == "absent":
            return {"source": "absent", "state": None, "recorded_since": recorded_since}
        if found is not None and found.source == "history":
            status = (
                conn.execute(
                    sa.text("""
                SELECT s.code AS status, s.name_zh AS status_zh, s.name_en AS status_en,
                       CAST(:since AS date) AS status_since
                FROM land.parcel_statuses s WHERE s.code = :s"""),
                    {"s": found.history_status, "since": found.history_status_since},
                )
                .mappings()
                .first()
            )
            return {
                "source": "history",
                "state": _plain(status) if status else None,
                "recorded_since": recorded_since,
            }
        if found is None or found.source == "current":
            state = conn.execute(
                sa.text("SELECT to_jsonb(p) - 'geom' FROM land.parcels p WHERE id = :p"), {"p": pid}
            ).scalar()
            source = "current"
        else:
            state, source = found.old_row, "audit"
        state = {k: v for k, v in state.items() if k != "geom"}
        names = conn.execute(
            sa.text("SELECT name_zh, name_en FROM land.parcel_statuses WHERE code = :s"),
            {"s": state.get("status")},
        ).first()
        if names:
            state["status_zh"], state["status_en"] = names
        return {"source": source, "state": state, "recorded_since": recorded_since}
