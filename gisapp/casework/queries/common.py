"""What every casework query shares: one transaction as the signed-in user with the database's
refusals turned into messages (:func:`working`), the case a query is about (:func:`case_row`),
the parameters in force for a case on a day (:class:`Periods`), and labels for messages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework import params
from gisapp.casework.calendar import prc_calendar
from gisapp.casework.schedule import Due, due
from gisapp.db.context import Actor
from gisapp.errors import NotFoundError
from gisapp.queries.edit_errors import FieldProblem, ValidationFailed, editing
from gisapp.queries.edit_store import set_reason

#: the problems the casework triggers report (sql/security/0900_casework.sql), each a message key
#: case.err.<problem> of gisapp.i18n
CASE_PROBLEMS = {"step_order", "before_dependency", "after_dependent", "before_opened", "closed", "not_in_pathway",
                 "result", "unpaid", "steps_missing", "outcome_pathway", "has_dependent", "not_in_force",
                 # the parcel_split step is the split itself (sql/security/0940_parcel_split.sql)
                 "split_needed"}
#: values of those problems that are codes of a vocabulary: shown as their labels
_CODE_VALUES = {"missing": "case_step", "steps": "case_step", "dependency": "case_step", "dependent": "case_step",
                "allowed": "case_result", "purpose": "case_money", "pathway": "case_pathway"}


@dataclass(frozen=True)
class StepResult:
    """What a write did: the case, its version, and the row it wrote (table, id)."""

    case_code: str
    table: str
    row_id: int
    due_on: dt.date | None = None


def labels(prefix: str, codes: list[str] | str) -> dict[str, str]:
    """Codes as a ``{"zh": .., "en": ..}`` message value (gisapp.i18n.message shows it)."""
    from gisapp.i18n import label

    codes = [codes] if isinstance(codes, str) else list(codes)
    return {"zh": "、".join(label(prefix, c, "zh") for c in codes),
            "en": ", ".join(label(prefix, c, "en") for c in codes)}


def refusal_detail(exc: BaseException | None, known) -> dict | None:
    """The detail of a database refusal with SQLSTATE GA003 (the casework's and the split's
    triggers: a JSON object naming its ``problem``, the ``field`` and the values), when its
    problem is one of ``known``; None for any other error."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if getattr(orig, "sqlstate", None) != "GA003" or diag is None or not diag.message_detail:
        return None
    try:
        detail = json.loads(diag.message_detail)
    except ValueError:
        return None
    return detail if isinstance(detail, dict) and detail.get("problem") in known else None


def _case_problem(exc: BaseException | None) -> ValidationFailed | None:
    """A casework trigger's refusal (GA003 with one of CASE_PROBLEMS) as a message of its own."""
    detail = refusal_detail(exc, CASE_PROBLEMS)
    if detail is None:
        return None
    problem = detail["problem"]
    values = {k: (labels(_CODE_VALUES[k], v) if k in _CODE_VALUES and v else v)
              for k, v in detail.items() if k not in ("field", "problem")}
    return ValidationFailed({detail.get("field", "_form"): FieldProblem(f"case.err.{problem}", values)})


@contextmanager
def working(engine: Engine, actor: Actor, reason: str | None = None) -> Iterator[Connection]:
    """One transaction as ``actor`` (row-level security and the audit apply), committed on
    success; the database's refusals become ValidationFailed / EditRefused / NotFoundError /
    EditConflict (gisapp.queries.edit_errors), the casework triggers' with their own messages."""
    try:
        with editing(engine, actor, reason, table_hint="cases") as conn:
            yield conn
    except ValidationFailed as exc:
        mine = _case_problem(exc.__cause__)
        if mine is None:
            raise
        raise mine from exc.__cause__


def fail(field: str, key: str, **values: Any) -> None:
    """Refuse with one problem (a message key of gisapp.i18n) before anything is written."""
    raise ValidationFailed({field: FieldProblem(key, values)})


_CASE = sa.text("""
    SELECT c.*, p.code AS parcel_code, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en
    FROM land.cases c JOIN land.zones z ON z.id = c.zone_id LEFT JOIN land.parcels p ON p.id = c.parcel_id
    WHERE c.code = :code""")


def case_row(conn: Connection, code: str) -> Any:
    """The case ``code`` as the user may read it (NotFoundError otherwise: a case outside a zone
    editor's zones is not said to exist)."""
    row = conn.execute(_CASE, {"code": code}).first()
    if row is None:
        raise NotFoundError(f"there is no case {code}")
    return row


def step_definition(conn: Connection, pathway: str, step: str) -> Any:
    return conn.execute(sa.text("SELECT * FROM land.case_pathway_steps WHERE pathway = :p AND step = :s"),
                        {"p": pathway, "s": step}).first()


def overrides(conn: Connection) -> pd.DataFrame:
    """rules.parameter_overrides, as the parameter mechanism reads it."""
    # the value as JSON text, as the rules' loader reads it (gisapp.queries.rule_inputs)
    return pd.read_sql(sa.text("SELECT rule, name, value::text AS value, zone_id, year, source, effective_from "
                               "FROM rules.parameter_overrides"), conn)


class Periods:
    """The casework parameters in force for a zone on a day (read once per transaction), and
    the due date of a step from the day its period starts."""

    def __init__(self, conn: Connection):
        self._overrides = overrides(conn)
        self._cache: dict[tuple[int | None, dt.date], tuple[dict, dict]] = {}

    def on(self, day: dt.date, zone_id: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
        key = (zone_id, day)
        if key not in self._cache:
            self._cache[key] = params.provenance(self._overrides, as_of=day, zone_id=zone_id)
        return self._cache[key]

    def due(self, starts_after: dt.date | None, param: str | None, zone_id: int | None) -> Due | None:
        """The deadline of ``param`` from ``starts_after`` (None without a period or a start); the
        values are those in force on the day the period starts."""
        if param is None or starts_after is None:
            return None
        values, prov = self.on(starts_after, zone_id)
        return due(starts_after, param, values, prov, prc_calendar())


def period_start(conn: Connection, case: Any, definition: Any) -> dt.date | None:
    """The day a step's period starts after: its anchor's date, or the case's opening."""
    if definition.anchor is None:
        return case.opened_on
    return conn.execute(sa.text("SELECT done_on FROM land.case_steps WHERE case_id = :c AND step = :s"),
                        {"c": case.id, "s": definition.anchor}).scalar()


def insert_step(conn: Connection, case: Any, step: str, done_on: dt.date, *, result: str | None = None,
                note: str | None = None, doc_no: str | None = None, issued_on: dt.date | None = None,
                periods: Periods | None = None) -> StepResult:
    """Record a step of ``case`` with the due date its period gives (the database checks the
    order, the result, the money it settles), and the document it issues."""
    definition = step_definition(conn, case.pathway, step)
    if definition is None:
        fail("step", "case.err.not_in_pathway")
    periods = periods or Periods(conn)
    deadline = periods.due(period_start(conn, case, definition), definition.period_param, case.zone_id)
    row_id = conn.execute(sa.text(
        "INSERT INTO land.case_steps (case_id, pathway, step, done_on, due_on, period, result, done_by, note, article) "
        "VALUES (:c, :p, :s, :d, :due, CAST(:period AS jsonb), :r, '', :n, '') RETURNING id"),
        {"c": case.id, "p": case.pathway, "s": step, "d": done_on, "due": deadline and deadline.due_on,
         "period": json.dumps(deadline.period, ensure_ascii=False) if deadline else None, "r": result,
         "n": note}).scalar_one()
    if definition.document:
        conn.execute(sa.text("INSERT INTO land.case_documents (case_id, step_id, kind, doc_no, issued_on) "
                             "VALUES (:c, :s, :k, :n, :d)"),
                     {"c": case.id, "s": row_id, "k": definition.document, "n": doc_no, "d": issued_on or done_on})
    return StepResult(case.code, "case_steps", row_id, deadline and deadline.due_on)


def reason(conn: Connection, text: str) -> None:
    set_reason(conn, text[:500])
