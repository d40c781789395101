"""What the case pages read besides the casework queries (gisapp.casework.queries.reading): a
case's whole page (its record, the steps of its pathway in order with their state, the choices
its forms offer, its documents' files and its audit trail), the cases of a parcel (for the
parcel page and the map's panel), and the choices of the case list's filters. Read as the
signed-in user: row-level security decides which cases exist for them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework.documents.store import case_files
from gisapp.casework.queries.reading import case_timeline, reading
from gisapp.db.context import Actor

#: the case tables whose rows carry the case's id (the audit trail follows them)
CHILD_TABLES = ("case_steps", "case_money", "case_documents", "case_extensions", "case_document_files")
#: rows of the audit trail a page shows at most
AUDIT_ROWS = 200


def stages(engine: Engine, actor: Actor | None) -> dict[str, str]:
    """Each readable case's stage (land.case_stage_now: the stage of the latest step recorded,
    ``opened`` before the first), by case code."""
    with reading(engine, actor) as conn:
        return dict(conn.execute(sa.text("SELECT case_code, stage FROM land.case_stage_now")).all())


@dataclass(frozen=True)
class Choices:
    """The codes the case pages offer: kinds, pathways (with their kind), steps, outcomes."""

    kinds: list[str]
    pathways: list[tuple[str, str]]
    steps: list[str]
    stages: list[str]
    outcomes: list[tuple[str, str, str | None]]


def choices(engine: Engine) -> Choices:
    with engine.connect() as conn:
        kinds = list(conn.execute(sa.text("SELECT code FROM land.case_kinds ORDER BY sort")).scalars())
        pathways = [tuple(r) for r in conn.execute(sa.text(
            "SELECT p.code, p.kind FROM land.case_pathways p JOIN land.case_kinds k ON k.code = p.kind "
            "ORDER BY k.sort, p.sort"))]
        steps = list(conn.execute(sa.text(
            "SELECT step FROM land.case_pathway_steps GROUP BY step ORDER BY min(sort), step")).scalars())
        stage_codes = list(conn.execute(sa.text("SELECT code FROM land.case_stages ORDER BY sort")).scalars())
        outcomes = [tuple(r) for r in conn.execute(sa.text(
            "SELECT kind, code, pathway FROM land.case_outcomes ORDER BY kind, pathway NULLS LAST, code"))]
    return Choices(kinds, pathways, steps, stage_codes, outcomes)


def _pathway_steps(conn: Connection, pathway: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT d.step, d.sort, d.who, d.optional, d.article, d.document, d.results, d.settles, d.record, "
        "coalesce((SELECT array_agg(x.depends_on ORDER BY x.depends_on) FROM land.case_step_dependencies x "
        "WHERE x.pathway = d.pathway AND x.step = d.step), '{}') AS depends_on "
        "FROM land.case_pathway_steps d WHERE d.pathway = :p ORDER BY d.sort, d.step"), {"p": pathway}).mappings()]


def audit_trail(conn: Connection, case_id: int, limit: int = AUDIT_ROWS) -> list[dict[str, Any]]:
    """Every recorded change of the case and of its rows, newest first (what the database's
    audit trigger wrote: who, when, the row before and after)."""
    return [dict(r) for r in conn.execute(sa.text("""
        SELECT id, changed_at, table_name, row_id, action, coalesce(app_user, db_user) AS who, old_row, new_row
        FROM audit.change_log
        WHERE case_key = CAST(:c AS text) AND table_schema = 'land'  -- the case's row and its rows' (1891)
          AND (table_name = 'cases' OR table_name = ANY (:children))
        ORDER BY changed_at DESC, id DESC LIMIT :lim"""), {"c": case_id, "children": list(CHILD_TABLES),
                                                              "lim": limit}).mappings()]


def case_page(engine: Engine, actor: Actor | None, code: str, as_of: dt.date | None = None) -> dict[str, Any]:
    """Everything the page of case ``code`` shows (NotFoundError when the user may not read it)."""
    timeline = case_timeline(engine, actor, code, as_of=as_of)
    case = timeline.case
    with reading(engine, actor) as conn:
        rights = conn.execute(sa.text("SELECT auth.may_write_zone(:z) AS write, auth.may_write_all() AS decide"),
                              {"z": case["zone_id"]}).mappings().one()
        steps = _pathway_steps(conn, case["pathway"])
        pathways = list(conn.execute(sa.text("SELECT code FROM land.case_pathways WHERE kind = :k ORDER BY sort"),
                                     {"k": case["kind"]}).scalars())
        outcomes = list(conn.execute(sa.text(
            "SELECT code FROM land.case_outcomes WHERE kind = :k AND (pathway IS NULL OR pathway = :p) "
            "ORDER BY pathway NULLS LAST, code"), {"k": case["kind"], "p": case["pathway"]}).scalars())
        files = case_files(conn, case["id"])
        trail = audit_trail(conn, case["id"])
        stage = conn.execute(sa.text("SELECT stage FROM land.case_stage_now WHERE case_id = :c"),
                             {"c": case["id"]}).scalar()
        finding = None
        if case.get("finding_id"):
            finding = conn.execute(sa.text("SELECT id, rule, outcome, as_of, explanation_zh, explanation_en "
                                           "FROM rules.findings WHERE id = :f"), {"f": case["finding_id"]}
                                   ).mappings().first()
        grant = conn.execute(sa.text("SELECT contract_no, agreed_start_on, price_wan FROM land.land_grants "
                                     "WHERE id = :g"), {"g": case.get("grant_id")}).mappings().first()
    done = {s["step"]: s for s in timeline.steps}
    upcoming = {s.step: s for s in timeline.next_steps}
    rows = []
    for d in steps:
        state = "done" if d["step"] in done else "next" if d["step"] in upcoming else "later"
        rows.append({**d, "state": state, "record": done.get(d["step"]), "next": upcoming.get(d["step"])})
    # steps recorded under an earlier pathway stay in the record
    rows += [{"step": s["step"], "state": "done", "record": s, "next": None, "who": s.get("who"), "optional": False,
              "article": s["article"], "results": None, "document": None, "depends_on": []}
             for s in timeline.steps if s["step"] not in {d["step"] for d in steps}]
    return {"timeline": timeline, "case": case, "steps": rows, "pathways": pathways, "outcomes": outcomes,
            "files": files, "audit": trail, "stage": stage, "finding": dict(finding) if finding else None,
            "grant": dict(grant) if grant else None,
            "may_write": bool(rights["write"]), "may_decide": bool(rights["decide"])}


def parcel_cases(engine: Engine, actor: Actor | None, parcel_code: str) -> list[dict[str, Any]]:
    """The cases of a parcel, open ones first, each with the finding that opened it (rule and
    confirmation time, which a later run's carried-over finding shares)."""
    with reading(engine, actor) as conn:
        return [dict(r) for r in conn.execute(sa.text("""
            SELECT c.code, c.kind, c.pathway, c.opened_on, c.opened_via, c.closed_on, c.outcome, c.finding_id,
                   c.finding_rule, c.finding_outcome, c.finding_reviewed_at,
                   (SELECT n.step FROM land.case_next_steps n WHERE n.case_id = c.id AND NOT n.optional
                    ORDER BY n.sort, n.step LIMIT 1) AS next_step
            FROM land.cases c JOIN land.parcels p ON p.id = c.parcel_id
            WHERE p.code = :p ORDER BY c.closed_on IS NOT NULL, c.opened_on DESC, c.id DESC"""),
            {"p": parcel_code}).mappings()]


def case_of_finding(cases: list[dict[str, Any]], finding: dict[str, Any]) -> str | None:
    """The code of the case a confirmed finding opened: the same finding, or a later run's that
    carried its confirmation over (same rule, same confirmation time)."""
    if finding.get("review_status") != "confirmed":
        return None
    reviewed = str(finding.get("reviewed_at") or "")[:19]
    for c in cases:
        if c["finding_id"] == finding.get("id") or (
                c["finding_rule"] == finding.get("rule") and c["finding_reviewed_at"] is not None
                and c["finding_reviewed_at"].isoformat(timespec="seconds")[:19] == reviewed):
            return c["code"]
    return None
