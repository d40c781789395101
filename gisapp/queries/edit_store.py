"""The versioned save of an edit: the parcel it is about (checked and locked by the database),
a row inserted or updated only if still at the version the editor started from.

Rows are read and written through the typed table map (:mod:`gisapp.models`): each value is
bound with its column's type, and a column the map does not know is refused before any SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.engine import Connection

from gisapp import models
from gisapp.errors import GisappError, NotFoundError
from gisapp.queries.edit_errors import EditConflict, FieldProblem, ValidationFailed
from gisapp.queries.edit_form import MAX_REASON, Form


@dataclass(frozen=True)
class EditResult:
    """What an edit wrote: the row and its new version."""

    table: str
    row_id: int
    version: int
    parcel_code: str | None = None
    #: what else the database did with it, said after the save (a message key and its values:
    #: a confirmed finding that moved its parcel's status, gisapp.queries.review_effects)
    notice: FieldProblem | None = None


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


def current_row(conn: Connection, table: str, row_id: int) -> dict | None:
    """The stored row ``row_id`` of ``table`` (dates as ISO text, without geometry), None if gone."""
    t = models.table_of(table)
    shown = [c for c in t.c if not isinstance(c.type, Geometry)]
    row = conn.execute(sa.select(*shown).where(t.c.id == row_id)).mappings().first()
    if row is None:
        return None
    return {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row.items()}


def typed_values(t: sa.Table, values: dict) -> dict:
    """``values`` for the columns of ``t``: a Decimal from the form is bound as a float for a
    double-precision column (numeric columns keep it exact); an unknown column is a bug."""
    unknown = values.keys() - t.c.keys()
    if unknown:
        raise GisappError(f"{t.fullname} has no column(s) {', '.join(sorted(unknown))}")
    return {
        k: float(v) if isinstance(v, Decimal) and isinstance(t.c[k].type, sa.Float) else v
        for k, v in values.items()
    }


def save_row(
    conn: Connection,
    table: str,
    values: dict,
    row_id: int | None,
    version: int | None,
    parcel_code: str | None = None,
) -> EditResult:
    """Insert a new row, or update ``row_id`` only if it is still at ``version``."""
    t = models.table_of(table)
    values = typed_values(t, values)
    if row_id is None:
        try:
            with conn.begin_nested():
                new_id, new_version = conn.execute(
                    sa.insert(t).values(values).returning(t.c.id, t.c.version)
                ).one()
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
        return EditResult(t.name, new_id, new_version, parcel_code)
    if version is None:
        raise ValidationFailed({"version": FieldProblem("edit.err.required", {})})
    row = conn.execute(
        sa.update(t).where(t.c.id == row_id, t.c.version == version).values(values).returning(t.c.id, t.c.version)
    ).first()
    if row is None:
        current = current_row(conn, table, row_id)
        if current is None:
            raise NotFoundError(f"there is no record {row_id} in {table}")
        raise EditConflict(
            f"{table} {row_id} changed since version {version} (now {current.get('version')})", current
        )
    return EditResult(t.name, row[0], row[1], parcel_code)


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
    t = models.table_of(table)
    same_key = [t.c[c] == values[c] for c in key.columns]
    # the condition is the index's own, from the catalogue
    condition = [sa.text(f"({key.condition})")] if key.condition else []
    row_id = conn.execute(sa.select(t.c.id).where(*same_key, *condition)).scalar()
    return current_row(conn, table, row_id) if row_id is not None else None


def row_of_parcel(conn: Connection, table: str, row_id: int | None, parcel: ParcelRef) -> None:
    """An edited row must belong to the parcel the form is about."""
    if row_id is None:
        return
    t = models.table_of(table)
    owner = conn.execute(sa.select(t.c.parcel_id).where(t.c.id == row_id)).scalar()
    if owner is None:
        raise NotFoundError(f"there is no record {row_id} in {table}")
    if owner != parcel.id:
        raise ValidationFailed({"id": FieldProblem("edit.err.unknown_code", {"value": row_id})})


def reason_or(form: Form, default: str) -> str:
    return form.text("reason", max_len=MAX_REASON) or default


def codes_of(conn: Connection, table: str) -> set[str]:
    """The codes of a reference table of ``land`` (statuses, land uses, indicators)."""
    t = models.table_of(f"land.{table}")
    return set(conn.execute(sa.select(t.c.code)).scalars())


def set_reason(conn: Connection, reason: str) -> None:
    conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true)"), {"r": reason})

