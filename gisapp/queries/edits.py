"""What zone offices and the bureau change: parcel status, grants and their requirements,
construction progress, annual metrics, mixed-use shares, green area, quota requests, finding
reviews and parcel geometry.

Every edit runs in one transaction ``acting_as`` the signed-in user: the transaction switches to
the database role ``gisapp_web`` and sets the user's name, role and zones, so PostgreSQL's
row-level security (sql/security/0300_roles_and_rls.sql) decides what may be written, and the
audit trigger records who did it and why. Every edit of an existing row carries the version it
started from; a stale edit is refused with the current values (:class:`EditConflict`), so no update
is ever lost. Bad values are refused field by field (:class:`ValidationFailed`) before anything is
written, and any database refusal rolls the whole edit back.

Example:
    >>> actor = Actor("wgq.office", "zone_editor", (1,))                          # doctest: +SKIP
    >>> change_status(engine, actor, "WGQ-00001", {"to_status": "in_production",  # doctest: +SKIP
    ...     "changed_on": "2026-07-01", "reason": "整改完成", "version": 1})
    EditResult(table='parcels', row_id=1, version=2, parcel_code='WGQ-00001')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.context import Actor, establish
from gisapp.errors import GisappError, InputError, NotFoundError
from gisapp.i18n import t

SHARE_TOLERANCE_PCT = 0.01  # shares are stored with 2 decimals
MAX_REASON = 500
MAX_NOTE = 2000


# -- who is acting ---------------------------------------------------------------------------


@contextmanager
def acting_as(engine: Engine, actor: Actor, reason: str | None = None) -> Iterator[Connection]:
    """One transaction as the web role with ``actor`` as its verified user (committed on success).

    The context is signed by the app and checked by the database (gisapp.db.context), so the
    row-level security policies and the audit trust it and nothing any SQL could set.
    """
    with engine.begin() as conn:
        establish(conn, actor, reason)
        yield conn


# -- what can go wrong -----------------------------------------------------------------------


class FieldProblem(NamedTuple):
    """A message key of gisapp.i18n and its values, shown next to a form field.

    A value that depends on the language is a ``{"zh": ..., "en": ...}`` dict.
    """

    key: str
    values: dict

    def text(self, lang: str = "zh") -> str:
        values = {k: (v.get(lang, v.get("zh")) if isinstance(v, dict) else v) for k, v in self.values.items()}
        return t(self.key, lang, **values)


class ValidationFailed(InputError):
    """Bad values; ``problems`` maps each field (or ``_form``) to what is wrong with it."""

    def __init__(self, problems: Mapping[str, FieldProblem]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in self.messages("en").items()))

    def messages(self, lang: str = "zh") -> dict[str, str]:
        return {name: p.text(lang) for name, p in self.problems.items()}


class EditRefused(GisappError):
    """The user may not write this row (outside their zones, or a read-only role)."""


class EditConflict(GisappError):
    """The row changed since the editor read it; ``current`` holds its values now."""

    def __init__(self, message: str, current: Mapping[str, Any]):
        super().__init__(message)
        self.current = dict(current)

    def describe(self, lang: str = "zh") -> str:
        at = str(self.current.get("updated_at", ""))[:19].replace("T", " ")
        return t(
            "edit.conflict",
            lang,
            by=self.current.get("updated_by", "?"),
            at=at,
            version=self.current.get("version", "?"),
        )


@dataclass(frozen=True)
class EditResult:
    """What an edit wrote: the row and its new version."""

    table: str
    row_id: int
    version: int
    parcel_code: str | None = None


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
        if problem == "future":
            return ValidationFailed(
                {name: FieldProblem("edit.err.future", {"today": dt.date.today().isoformat()})}
            )
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
            {_constraint_field(diag, table_hint): FieldProblem("edit.err.future", {"today": dt.date.today().isoformat()})}
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


def _transition_refused(exc: sa.exc.DBAPIError, detail: dict) -> ValidationFailed:
    """The refused step, explained with the statuses' names in both languages."""
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


# -- reading a form --------------------------------------------------------------------------


#: A number a form takes is smaller than this in size. The largest real values are far below it
#: (a year's electricity of a big plant in kWh, amounts in 万元, areas in m²), the numeric columns
#: hold at most 16 digits, and a float8 column keeps whole units only up to 2**53 (about 9e15):
#: anything larger is a slip of the keyboard or a probe, refused with a sentence, not by the database.
MAX_NUMBER = Decimal("1e15")
#: the integer columns the forms write are PostgreSQL ``integer`` (int4)
MAX_INT4 = 2**31 - 1
#: PostgreSQL texts cannot hold NUL, and UTF-8 cannot encode a lone surrogate
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _shown(value: Any) -> str:
    """``value`` as a message may quote it: short, and nothing a reply or a page cannot carry."""
    if isinstance(value, Mapping):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, int) and abs(value) >= 10**40:
        return "…"  # (and Python refuses to write out an int of more than 4300 digits)
    return _UNSTORABLE.sub("\ufffd", str(value)[:40])


def _kind(value: Any) -> dict[str, str]:
    """What a value of the wrong type is, in both languages (for a message)."""
    key = (
        "list" if isinstance(value, list | tuple)
        else "object" if isinstance(value, Mapping)
        else "boolean" if isinstance(value, bool)
        else "number" if isinstance(value, int | float | Decimal)
        else "other"
    )
    return {lang: t(f"error.type.{key}", lang) for lang in ("zh", "en")}


def _invisible(text: str) -> bool:
    # strip() leaves zero-width spaces, joiners and the byte-order mark (Unicode category Cf):
    # a reason made of them alone says nothing either
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


class Form:
    """Reads values a person typed, collecting one problem per field (nothing is written)."""

    def __init__(self, data: Mapping[str, Any] | None):
        self.data = dict(data or {})
        self.problems: dict[str, FieldProblem] = {}

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
            if _invisible(value):
                return None
        return None if value is None or (isinstance(value, str) and value == "") else value

    def fail(self, name: str, key: str, **values: Any) -> None:
        self.problems.setdefault(name, FieldProblem(f"edit.err.{key}", values))

    def _single(self, name: str, value: Any, key: str) -> bool:
        """False (and ``name`` refused with ``key``) for a list or an object where one value belongs."""
        if isinstance(value, list | tuple | Mapping):
            self.fail(name, key, value=_shown(value), type=_kind(value))
            return False
        return True

    def text(self, name: str, required: bool = False, max_len: int = MAX_REASON) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            self.fail(name, "not_text", type=_kind(value))
            return None
        if isinstance(value, int) and abs(value) >= 10**max_len:
            self.fail(name, "too_long", max=max_len)
            return None
        value = str(value)
        bad = _UNSTORABLE.search(value)
        if bad:
            self.fail(name, "bad_char", char=f"U+{ord(bad.group()):04X}")
            return None
        if len(value) > max_len:
            self.fail(name, "too_long", max=max_len)
        return value

    def number(
        self,
        name: str,
        required: bool = False,
        minimum: float | None = 0.0,
        exclusive: bool = False,
        maximum: float | None = None,
    ) -> Decimal | None:
        """A finite decimal smaller than MAX_NUMBER in size; by default areas, amounts and
        counts may not be negative."""
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not self._single(name, value, "not_number"):
            self.fail(name, "not_number", value=_shown(value))
            return None
        try:
            number = Decimal(value) if isinstance(value, int) else Decimal(str(value).replace(",", ""))
        except InvalidOperation:
            number = None
            try:  # an exponent beyond even Decimal's range is still a number, and too large
                if math.isinf(float(str(value).replace(",", ""))):
                    number = Decimal("Infinity")
            except ValueError:
                pass
            if number is None:
                self.fail(name, "not_number", value=_shown(value))
                return None
        if number.is_nan():
            self.fail(name, "not_number", value=_shown(value))
            return None
        if number.is_infinite() or abs(number) >= MAX_NUMBER:
            self.fail(name, "too_large", max=f"{MAX_NUMBER:,f}")
            return None
        if minimum is not None:
            if exclusive and number <= minimum:
                self.fail(name, "min_exclusive", min=_plain(minimum))
            elif not exclusive and number < minimum:
                self.fail(name, "negative" if minimum == 0 else "min", min=_plain(minimum))
        if maximum is not None and number > maximum:
            self.fail(name, "max", max=_plain(maximum))
        return number

    def integer(
        self, name: str, required: bool = False, minimum: int | None = 0, maximum: int | None = None
    ) -> int | None:
        """A whole number that fits an ``integer`` column (MAX_INT4)."""
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not self._single(name, value, "not_integer"):
            self.fail(name, "not_integer", value=_shown(value))
            return None
        try:
            # Decimal reads "1e3" and any count of digits (int() stops at 4300 of them)
            number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
        except InvalidOperation:
            self.fail(name, "not_integer", value=_shown(value))
            return None
        if number.is_nan() or (number.is_finite() and number != number.to_integral_value()):
            self.fail(name, "not_integer", value=_shown(value))
            return None
        if minimum is not None and number < minimum:
            self.fail(name, "negative" if minimum == 0 else "min", min=minimum)
            return None
        if maximum is not None and number > maximum:
            self.fail(name, "max", max=maximum)
            return None
        if number.is_infinite() or abs(number) > MAX_INT4:
            self.fail(name, "too_large", max=f"{MAX_INT4 + 1:,}")
            return None
        return int(number)

    def date(self, name: str, required: bool = False, not_future: bool = True) -> dt.date | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, dt.date):
            day = value
        else:
            if not self._single(name, value, "not_date"):
                return None
            # YYYY-MM-DD, or a date picker's YYYY-MM-DDT00:00:00
            text = str(value)
            try:
                if len(text) > 10 and text[10] not in "T ":
                    raise ValueError(text)
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                self.fail(name, "not_date", value=_shown(text))
                return None
        if not_future and day > dt.date.today():
            self.fail(name, "future", today=dt.date.today().isoformat())
        return day

    def choice(self, name: str, allowed, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if not self._single(name, value, "unknown_code") or str(value) not in allowed:
            self.fail(name, "unknown_code", value=_shown(value))
            return None
        return str(value)

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        return value in (True, 1, "1", "true", "on", "yes")

    def order(self, earlier: str, later: str, values: Mapping[str, Any]) -> None:
        """``later`` may not be before ``earlier`` (both dates, when both are given)."""
        first, second = values.get(earlier), values.get(later)
        if first is not None and second is not None and second < first:
            label = f"field.{earlier}"
            self.fail(
                later,
                "date_order",
                other={"zh": t(label, "zh"), "en": t(label, "en")},
                other_value=first.isoformat(),
            )

    def check(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


def _plain(number: float | Decimal) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def _codes(conn: Connection, table: str) -> set[str]:
    # table names come from this module only
    return set(conn.execute(sa.text(f"SELECT code FROM land.{table}")).scalars())


# -- shared steps ----------------------------------------------------------------------------


@dataclass
class ParcelRef:
    id: int
    code: str
    zone_id: int
    version: int
    status: str
    area_m2: float
    enterprise_id: int | None


def parcel_for_edit(conn: Connection, code: str) -> ParcelRef:
    """The parcel, after the database checked it exists and the actor may edit it."""
    row = conn.execute(
        sa.text(
            "SELECT (p).id, (p).code, (p).zone_id, (p).version, (p).status, (p).area_m2, (p).enterprise_id "
            "FROM land.parcel_for_edit(:code) AS p"
        ),
        {"code": code},
    ).one()
    return ParcelRef(*row)


def _current_row(conn: Connection, table: str, row_id: int) -> dict | None:
    row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().first()
    if row is None:
        return None
    return {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
        for k, v in row.items()
        if k != "geom"
    }


def _save_row(
    conn: Connection,
    table: str,
    values: dict,
    row_id: int | None,
    version: int | None,
    parcel_code: str | None = None,
) -> EditResult:
    """Insert a new row, or update ``row_id`` only if it is still at ``version``."""
    cols = list(values)
    if row_id is None:
        sql = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
            "RETURNING id, version"
        )
        try:
            with conn.begin_nested():
                new_id, new_version = conn.execute(sa.text(sql), values).one()
        except sa.exc.IntegrityError as exc:
            current = _row_in_the_way(conn, table, exc, values)
            if current is None:
                raise
            # someone saved the same record (same parcel and date, same use...) first
            raise EditConflict(
                f"{table}: a record with these values was saved by {current.get('updated_by')} "
                f"(version {current.get('version')})",
                current,
            ) from exc
        return EditResult(table.split(".")[-1], new_id, new_version, parcel_code)
    if version is None:
        raise ValidationFailed({"version": FieldProblem("edit.err.required", {})})
    sets = ", ".join(f"{c} = :{c}" for c in cols)
    row = conn.execute(
        sa.text(f"UPDATE {table} SET {sets} WHERE id = :_id AND version = :_version RETURNING id, version"),
        values | {"_id": row_id, "_version": version},
    ).first()
    if row is None:
        current = _current_row(conn, table, row_id)
        if current is None:
            raise NotFoundError(f"there is no record {row_id} in {table}")
        raise EditConflict(
            f"{table} {row_id} changed since version {version} (now {current.get('version')})", current
        )
    return EditResult(table.split(".")[-1], row[0], row[1], parcel_code)


def _row_in_the_way(conn: Connection, table: str, exc: sa.exc.IntegrityError, values: dict) -> dict | None:
    """The stored row whose unique key the refused INSERT of ``values`` repeated, if that is why
    (a unique constraint, or a partial unique index with its condition)."""
    diag = getattr(exc.orig, "diag", None)
    if getattr(exc.orig, "sqlstate", None) != "23505" or diag is None or not diag.constraint_name:
        return None
    key = conn.execute(
        sa.text(
            "SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns, "
            "       pg_get_expr(i.indpred, i.indrelid) AS condition "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE c.relname = :n AND i.indrelid = CAST(:t AS regclass) GROUP BY i.indpred, i.indrelid"
        ),
        {"n": diag.constraint_name, "t": table},
    ).first()
    if key is None or not key.columns or not set(key.columns) <= values.keys():
        return None
    # the condition is the index's own, from the catalogue
    where = " AND ".join([f"{c} = :{c}" for c in key.columns] + ([f"({key.condition})"] if key.condition else []))
    row_id = conn.execute(
        sa.text(f"SELECT id FROM {table} WHERE {where}"), {c: values[c] for c in key.columns}
    ).scalar()
    return _current_row(conn, table, row_id) if row_id is not None else None


def _row_of_parcel(conn: Connection, table: str, row_id: int | None, parcel: ParcelRef) -> None:
    """An edited row must belong to the parcel the form is about."""
    if row_id is None:
        return
    owner = conn.execute(sa.text(f"SELECT parcel_id FROM {table} WHERE id = :id"), {"id": row_id}).scalar()
    if owner is None:
        raise NotFoundError(f"there is no record {row_id} in {table}")
    if owner != parcel.id:
        raise ValidationFailed({"id": FieldProblem("edit.err.unknown_code", {"value": row_id})})


def _reason(form: Form, default: str) -> str:
    return form.text("reason", max_len=MAX_REASON) or default


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
        to_status = form.choice("to_status", _codes(conn, "parcel_statuses"), required=True)
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
            form.fail("green_area_m2", "green_exceeds", value=_plain(area), area=f"{parcel.area_m2:.1f}")
        form.check()
        _row_of_parcel(conn, "land.green_areas", row_id, parcel)
        _set_reason(conn, _reason(form, f"green area of {code} measured on {measured_on}"))
        return _save_row(
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
            form.fail("developed_area_m2", "developed_exceeds", limit=_plain(should))
        form.check()
        _row_of_parcel(conn, "land.construction_progress", row_id, parcel)
        _set_reason(conn, _reason(form, f"construction progress of {code} reported on {v['reported_on']}"))
        return _save_row(conn, "land.construction_progress", _floats(v), row_id, version, code)


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
        _row_of_parcel(conn, "land.enterprise_metrics", row_id, parcel)
        _set_reason(conn, _reason(form, f"metrics of {code} for {year}"))
        return _save_row(conn, "land.enterprise_metrics", _floats(v), row_id, version, code)


def parse_components(
    text: str | list | None, form: Form, name: str = "components"
) -> list[tuple[str, Decimal]]:
    """Mixed-use shares from lines ``<land-use code> <share>`` (or a list of pairs / dicts)."""
    items: list = []
    if isinstance(text, list | tuple):
        for n, d in enumerate(text, start=1):
            if isinstance(d, Mapping):
                items.append((d.get("land_use_code"), d.get("floor_share_pct")))
            elif isinstance(d, list | tuple) and len(d) == 2:
                items.append(tuple(d))
            else:  # a bare number, a text or a triple where a pair belongs
                form.fail(name, "share_line", line=n, value=_shown(d))
                return []
    elif isinstance(text, str):
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.strip().replace("%", " ").replace("，", " ").replace(",", " ")
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                form.fail(name, "share_line", line=n, value=_shown(line))
                return []
            items.append((parts[0], parts[1]))
    elif text is not None:
        form.fail(name, "share_line", line=1, value=_shown(text))
        return []
    out = []
    for n, (code, share) in enumerate(items, start=1):
        if isinstance(code, bool) or not isinstance(code, str | int) or _UNSTORABLE.search(str(code)):
            form.fail(name, "share_line", line=n, value=_shown(code))
            return []
        sub = Form({"share": share})
        value = sub.number("share", required=True, minimum=0, exclusive=True, maximum=100)
        if sub.problems:
            problem = sub.problems["share"]
            form.problems.setdefault(name, problem)
            return []
        out.append((str(code).strip(), value))
    return out


def set_mixed_use(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """Replace the parcel's mixed-use shares (``components``; they must sum to 100%).

    ``expected`` is what the editor started from: ``[[component id, version], ...]`` (empty for
    none); if the stored set differs, the edit is a conflict.
    """
    form = Form(data)
    with editing(engine, actor, table_hint="mixed_use_components") as conn:
        parcel = parcel_for_edit(conn, code)
        components = parse_components(data.get("components"), form)
        known = _codes(conn, "land_use_codes")
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
                sa.text(
                    "SELECT id, version, land_use_code FROM land.mixed_use_components WHERE parcel_id = "
                    ":p FOR UPDATE"
                ),
                {"p": parcel.id},
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
                    sa.text(
                        "SELECT updated_by FROM land.mixed_use_components WHERE parcel_id = :p "
                        "ORDER BY updated_at DESC LIMIT 1"
                    ),
                    {"p": parcel.id},
                ).scalar(),
            }
            raise EditConflict(f"the mixed-use shares of {code} changed since they were read", current)
        _set_reason(conn, _reason(form, f"mixed-use shares of {code}"))
        by_use = {r.land_use_code: r for r in stored.values()}
        for row in stored.values():
            if row.land_use_code not in seen:
                conn.execute(sa.text("DELETE FROM land.mixed_use_components WHERE id = :id"), {"id": row.id})
        floor = conn.execute(
            sa.text("SELECT floor_area_m2 FROM land.parcels WHERE id = :p"), {"p": parcel.id}
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
            last = _save_row(
                conn,
                "land.mixed_use_components",
                values,
                old.id if old else None,
                old.version if old else None,
                code,
            )
        return last


def review_finding(engine: Engine, actor: Actor, finding_id: int, data: Mapping[str, Any]) -> EditResult:
    """Confirm or dismiss a rule's finding, with a reason (``decision``, ``reason``, ``version``)."""
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
        _set_reason(conn, reason or f"reopen finding {finding_id}")
        return _save_row(
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


def save_grant_requirement(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> EditResult:
    """A performance requirement of one of the parcel's grants (``grant_id``, ``indicator``,
    ``review_stage``, ``min_value`` / ``max_value``)."""
    form = Form(data)
    with editing(engine, actor, table_hint="grant_requirements") as conn:
        parcel = parcel_for_edit(conn, code)
        grant_id = form.integer("grant_id", required=True, minimum=1)
        indicator = form.choice("indicator", _codes(conn, "performance_indicators"), required=True)
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
                sa.text("SELECT parcel_id FROM land.land_grants WHERE id = :g"), {"g": grant_id}
            ).scalar()
            != parcel.id
        ):
            form.fail("grant_id", "grant_parcel")
        form.check()
        if (
            row_id is not None
            and conn.execute(
                sa.text("SELECT grant_id FROM land.grant_requirements WHERE id = :i"), {"i": row_id}
            ).scalar()
            != grant_id
        ):
            raise ValidationFailed({"id": FieldProblem("edit.err.unknown_code", {"value": row_id})})
        _set_reason(conn, _reason(form, f"grant requirement {indicator} of {code}"))
        return _save_row(
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
        _row_of_parcel(conn, "land.land_grants", row_id, parcel)
        _set_reason(conn, _reason(form, f"grant {v['contract_no']} of {code}"))
        return _save_row(conn, "land.land_grants", v, row_id, version, code)


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
        _set_reason(conn, _reason(form, f"quota request for {code}"))
        return _save_row(
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
                form.fail("geom", "geom_type", type=_shown(obj.get("type"))[:30])
            coords = obj.get("coordinates")
            if _nesting(coords, MAX_GEOM_DEPTH) > MAX_GEOM_DEPTH:
                form.fail("geom", "geom_too_deep", max=MAX_GEOM_DEPTH)
            elif not all(math.isfinite(float(x)) for x in _flatten(coords)):
                raise ValueError("coordinates must be finite numbers")
            else:
                text = json.dumps({"type": obj["type"], "coordinates": coords})
        except RecursionError:  # a text nested deeper than the JSON reader goes
            form.fail("geom", "geom_too_deep", max=MAX_GEOM_DEPTH)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            form.fail("geom", "geom_parse", detail=_UNSTORABLE.sub("\ufffd", str(exc)[:120]))
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
        parcel_id = conn.execute(
            sa.text("SELECT id FROM land.parcels WHERE code = :c"), {"c": code}
        ).scalar_one()
    return EditResult("parcels", parcel_id, new_version, code)


#: lists in GeoJSON coordinates: a MultiPolygon's polygons, their rings, positions, numbers
MAX_GEOM_DEPTH = 4


def _nesting(value: Any, limit: int) -> int:
    """How deeply lists nest in ``value``, counted level by level (not by recursion, which a
    hostile value nested a thousand deep would exhaust), up to ``limit + 1``."""
    depth, level = 0, [value]
    while True:
        lists = [v for v in level if isinstance(v, list | tuple)]
        if not lists:
            return depth
        depth += 1
        if depth > limit:
            return depth
        level = [item for v in lists for item in v]


def _flatten(coords) -> Iterator[float]:
    if isinstance(coords, list | tuple):
        for c in coords:
            yield from _flatten(c)
    else:
        yield coords


def _set_reason(conn: Connection, reason: str) -> None:
    conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true)"), {"r": reason})


_DOUBLE_COLUMNS = {"should_develop_area_m2", "developed_area_m2", "green_area_m2", "floor_area_m2"}


def _floats(values: dict) -> dict:
    """Decimals bound for double-precision columns as floats (numeric columns keep Decimal)."""
    return {
        k: (float(v) if isinstance(v, Decimal) and k in _DOUBLE_COLUMNS else v) for k, v in values.items()
    }


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
