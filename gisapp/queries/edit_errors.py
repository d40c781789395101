"""What can go wrong with an edit, and the database's refusals turned into it: bad values by
field (:class:`ValidationFailed`), not allowed (:class:`EditRefused`), a stale edit with the
current values (:class:`EditConflict`). The messages are keys of gisapp.i18n with their values
(a :class:`gisapp.errors.Term` for a label), rendered in the user's language by the web layer
(:func:`gisapp.i18n.problem_texts`): nothing here builds a sentence for a person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.context import Actor, acting_as
from gisapp.errors import GisappError, InputError, NotFoundError


class FieldProblem(NamedTuple):
    """A message key of gisapp.i18n and its values, shown next to a form field
    (:func:`gisapp.i18n.message`: a Term value is a label, a ``{"zh": .., "en": ..}`` dict a value
    that depends on the language)."""

    key: str
    values: dict


class ValidationFailed(InputError):
    """Bad values; ``problems`` maps each field (or ``_form``) to what is wrong with it."""

    def __init__(self, problems: Mapping[str, FieldProblem]):
        self.problems = dict(problems)
        # for logs and tracebacks; people read gisapp.i18n.problem_texts(problems, lang)
        super().__init__("; ".join(f"{name}: {p.key}" for name, p in self.problems.items()))


class EditRefused(GisappError):
    """The user may not write this row (outside their zones, or a read-only role)."""


class EditConflict(GisappError):
    """The row changed since the editor read it; ``current`` holds its values now."""

    def __init__(self, message: str, current: Mapping[str, Any]):
        super().__init__(message)
        self.current = dict(current)


def _detail(exc: sa.exc.DBAPIError) -> dict:
    diag = getattr(exc.orig, "diag", None)
    try:
        return json.loads(diag.message_detail) if diag and diag.message_detail else {}
    except ValueError:
        return {}


def _constraint_field(diag, table_hint: str | None) -> str:
    """The form field a constraint is about (``<table>_<column>_check`` -> column)."""
    name = (diag.constraint_name or "") if diag else ""
    table = (diag.table_name or table_hint or "") if diag else (table_hint or "")
    if diag and diag.column_name:
        return diag.column_name
    core = name.removeprefix(f"{table}_")
    for suffix in ("_check", "_fkey", "_key", "_finite", "_not_future"):
        core = core.removesuffix(suffix)
    return core if core and not core.startswith("check") else "_form"


def _geometry_problem(p: dict) -> FieldProblem:
    kind = p.get("problem")
    values = {k: v for k, v in p.items() if k != "problem"}
    if kind == "overlap":
        values["neighbours"] = ", ".join(
            f"{n['code']} ({n['overlap_m2']} m²)" for n in p.get("neighbours", [])
        )
    mapping = {
        "empty": "geom_empty",
        "srid": "geom_srid",
        "type": "geom_type",
        "invalid": "geom_invalid",
        "no_boundary": "geom_no_boundary",
        "outside_boundary": "geom_outside",
        "overlap": "geom_overlap",
    }
    return FieldProblem(
        f"edit.err.{mapping.get(kind, 'geom_invalid')}", values | {"reason": values.get("reason", kind)}
    )


def _translate(exc: sa.exc.DBAPIError, table_hint: str | None = None) -> Exception:
    """The database's refusal as an error of this module (messages a person can act on)."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = (diag.message_primary if diag else None) or str(orig).strip().splitlines()[0]
    detail = _detail(exc)
    if state == "42501":
        return EditRefused(primary)
    if state == "GA409":
        return EditConflict(primary, detail)
    if state == "GA404":
        return NotFoundError(primary)
    if state == "GA002":
        return _transition_refused(exc, detail)
    if state == "GA003":
        name = detail.get("field", "_form")
        if name == "geom" and detail.get("problems"):
            return ValidationFailed(
                {"geom": _geometry_problem(detail["problems"][0])}
                | {f"geom.{i}": _geometry_problem(p) for i, p in enumerate(detail["problems"][1:], 1)}
            )
        problem = detail.get("problem")
        if problem == "required":
            return ValidationFailed({name: FieldProblem("edit.err.required", {})})
        if problem == "same_status":
            return ValidationFailed({name: FieldProblem("edit.err.same_status", {"since": str(detail.get("since"))})})
        if problem == "shares_sum":
            total = Decimal(str(detail.get("total")))
            return ValidationFailed(
                {name: FieldProblem("edit.err.shares_sum", {"total": f"{total:.2f}".rstrip("0").rstrip(".")})}
            )
        if problem == "before_current":
            return ValidationFailed(
                {name: FieldProblem("edit.err.before_current", {"since": detail.get("since")})}
            )
        return ValidationFailed({name: FieldProblem("edit.err.constraint", {"constraint": primary})})
    if state == "23514" and diag and (diag.constraint_name or "").endswith("_finite"):
        return ValidationFailed(
            {_constraint_field(diag, table_hint): FieldProblem("edit.err.not_number", {"value": "∞"})}
        )
    if state == "23514" and diag and (diag.constraint_name or "").endswith("_not_future"):
        return ValidationFailed(
            {_constraint_field(diag, table_hint): FieldProblem("edit.err.future", {"today": _shanghai_today()})}
        )
    if state == "23514":  # check_violation
        return ValidationFailed(
            {
                _constraint_field(diag, table_hint): FieldProblem(
                    "edit.err.constraint", {"constraint": diag.constraint_name if diag else primary}
                )
            }
        )
    if state == "23505":  # unique_violation
        return ValidationFailed(
            {"_form": FieldProblem("edit.err.duplicate", {"what": diag.constraint_name if diag else ""})}
        )
    if state == "23503":  # foreign_key_violation
        return ValidationFailed(
            {
                _constraint_field(diag, table_hint): FieldProblem(
                    "edit.err.unknown_code", {"value": (diag.message_detail or "") if diag else ""}
                )
            }
        )
    return exc


def _shanghai_today() -> str:
    """The database's "today" (Shanghai's calendar day, migration 1300)."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _transition_refused(exc: sa.exc.DBAPIError, detail: dict) -> ValidationFailed:
    """The refused step, explained with the statuses' names in both languages; a confirmation
    refused because the parcel cannot take the confirmed status (sql/security/0820) at the
    review's decision, naming the parcel."""
    labels = _STATUS_LABELS_CACHE
    allowed = detail.get("allowed") or []

    def label(code: str) -> dict[str, str]:
        return labels.get(code, {"zh": code, "en": code})

    values = {
        "from_label": label(detail.get("from", "")),
        "to_label": label(detail.get("to", "")),
        "allowed": {
            "zh": "、".join(label(a)["zh"] for a in allowed) or "—",
            "en": ", ".join(label(a)["en"] for a in allowed) or "—",
        },
    }
    if "finding" in detail:
        values |= {"parcel": detail.get("parcel", ""), "finding": detail["finding"]}
        return ValidationFailed({"decision": FieldProblem("edit.err.review_transition", values)})
    return ValidationFailed({"to_status": FieldProblem("edit.err.transition", values)})


_STATUS_LABELS_CACHE: dict[str, dict[str, str]] = {}


def status_labels(conn: Connection) -> dict[str, dict[str, str]]:
    """{status code: {"zh": ..., "en": ...}} from land.parcel_statuses."""
    if not _STATUS_LABELS_CACHE:
        for code, zh, en in conn.execute(sa.text("SELECT code, name_zh, name_en FROM land.parcel_statuses")):
            _STATUS_LABELS_CACHE[code] = {"zh": zh, "en": en}
    return _STATUS_LABELS_CACHE


@contextmanager
def editing(
    engine: Engine, actor: Actor, reason: str | None = None, table_hint: str | None = None
) -> Iterator[Connection]:
    """``acting_as`` with the database's refusals turned into this module's errors."""
    try:
        with acting_as(engine, actor, reason) as conn:
            status_labels(conn)
            yield conn
    except sa.exc.DBAPIError as exc:
        translated = _translate(exc, table_hint)
        if translated is exc:
            raise
        raise translated from exc
