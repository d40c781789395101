"""The versioned save of an edit: the parcel it is about (checked and locked by the database),
a row inserted or updated only if still at the version the editor started from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gisapp.errors import NotFoundError
from gisapp.queries.edit_errors import EditConflict, FieldProblem, ValidationFailed
from gisapp.queries.edit_form import MAX_REASON, Form


@dataclass(frozen=True)
class EditResult:
    """What an edit wrote: the row and its new version."""

    table: str
    row_id: int
    version: int
    parcel_code: str | None = None


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
    row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().first()
    if row is None:
        return None
    return {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
        for k, v in row.items()
        if k != "geom"
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
        current = current_row(conn, table, row_id)
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
    return current_row(conn, table, row_id) if row_id is not None else None


def row_of_parcel(conn: Connection, table: str, row_id: int | None, parcel: ParcelRef) -> None:
    """An edited row must belong to the parcel the form is about."""
    if row_id is None:
        return
    owner = conn.execute(sa.text(f"SELECT parcel_id FROM {table} WHERE id = :id"), {"id": row_id}).scalar()
    if owner is None:
        raise NotFoundError(f"there is no record {row_id} in {table}")
    if owner != parcel.id:
        raise ValidationFailed({"id": FieldProblem("edit.err.unknown_code", {"value": row_id})})


def reason_or(form: Form, default: str) -> str:
    return form.text("reason", max_len=MAX_REASON) or default


def codes_of(conn: Connection, table: str) -> set[str]:
    # table names come from this module only
    return set(conn.execute(sa.text(f"SELECT code FROM land.{table}")).scalars())


def set_reason(conn: Connection, reason: str) -> None:
    conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true)"), {"r": reason})


_DOUBLE_COLUMNS = {"should_develop_area_m2", "developed_area_m2", "green_area_m2", "floor_area_m2"}


def floats_for_double_columns(values: dict) -> dict:
    """Decimals bound for double-precision columns as floats (numeric columns keep Decimal)."""
    return {
        k: (float(v) if isinstance(v, Decimal) and k in _DOUBLE_COLUMNS else v) for k, v in values.items()
    }
