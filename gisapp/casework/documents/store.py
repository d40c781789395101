"""Documents kept with their case: render the documents a case issued (those without a file,
or one asked for again), give a number (文号) to one issued without, store the .docx in
``land.case_document_files`` (sql/migrations/1840), and read a stored file back. Writes run as
the signed-in user through the casework's one transaction (row-level security and the audit
apply: a zone editor renders its zones' documents, a bureau admin any)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework.documents.context import document_context
from gisapp.casework.documents.render import render, source, template_digest, template_for
from gisapp.casework.queries.common import case_row, reason, working
from gisapp.casework.queries.reading import reading
from gisapp.db.context import Actor
from gisapp.errors import NotFoundError
from gisapp.i18n import label
from gisapp.queries.meta import is_synthetic


@dataclass(frozen=True)
class StoredFile:
    """A document's newest file."""

    document_id: int
    file_id: int
    filename: str
    content: bytes
    sha256: str
    rendered_at: object
    rendered_by: str


def filename(case_code: str, kind: str, document_id: int) -> str:
    """``XZ-2026-00001_征缴土地闲置费决定书_12.docx``."""
    return f"{case_code}_{label('case_document', kind, 'zh')}_{document_id}.docx"


def _render_one(conn: Connection, case, document_id: int, kind: str, synthetic: bool) -> int:
    template, prefix = template_for(kind, case.kind)
    conn.execute(sa.text("SELECT land.give_case_document_number(:d, :p)"), {"d": document_id, "p": prefix})
    context = document_context(conn, document_id, synthetic=synthetic, authorities=source().get("authorities", {}))
    data = render(template, context)
    return conn.execute(sa.text(
        "INSERT INTO land.case_document_files (document_id, case_id, filename, content, sha256, template, "
        "template_sha256, synthetic) VALUES (:d, :c, :f, :b, '', :t, :ts, :s) RETURNING id"),
        {"d": document_id, "c": case.id, "f": filename(case.code, kind, document_id), "b": data,
         "t": template.name, "ts": template_digest(template), "s": synthetic}).scalar_one()


def generate_documents(engine: Engine, actor: Actor, code: str, document_id: int | None = None,
                       again: bool = False) -> list[int]:
    """Render and store the documents of case ``code`` that have no file yet (or, with
    ``document_id`` and ``again``, that one anew); returns the new files' ids.

    Example:
        >>> generate_documents(engine, editor, "XZ-2026-00001")  # doctest: +SKIP
        [7]
    """
    synthetic = is_synthetic(engine)
    made = []
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        docs = conn.execute(sa.text(
            "SELECT d.id, d.kind, EXISTS (SELECT 1 FROM land.case_document_files f WHERE f.document_id = d.id) AS has "
            "FROM land.case_documents d WHERE d.case_id = :c AND (CAST(:d AS bigint) IS NULL OR d.id = :d) "
            "ORDER BY d.issued_on, d.id"), {"c": case.id, "d": document_id}).all()
        if document_id is not None and not docs:
            raise NotFoundError(f"case {code} has no document {document_id}")
        for d in docs:
            if d.has and not again:
                continue
            reason(conn, f"case {code}: {d.kind} rendered")
            made.append(_render_one(conn, case, d.id, d.kind, synthetic))
    return made


def stored_file(engine: Engine, actor: Actor | None, code: str, document_id: int) -> StoredFile:
    """The newest file of document ``document_id`` of case ``code`` (NotFoundError when the user
    may not read the case, or the document has no file)."""
    with reading(engine, actor) as conn:
        case = case_row(conn, code)
        row = conn.execute(sa.text(
            "SELECT f.* FROM land.case_document_files f WHERE f.case_id = :c AND f.document_id = :d "
            "ORDER BY f.id DESC LIMIT 1"), {"c": case.id, "d": document_id}).first()
    if row is None:
        raise NotFoundError(f"document {document_id} of case {code} has no file")
    return StoredFile(document_id, row.id, row.filename, bytes(row.content), row.sha256, row.rendered_at,
                      row.rendered_by)


def case_files(conn: Connection, case_id: int) -> dict[int, dict]:
    """Each document's newest file (without its bytes) and how many renderings it had."""
    rows = conn.execute(sa.text(
        "SELECT DISTINCT ON (document_id) document_id, id, filename, sha256, octet_length(content) AS size, "
        "rendered_at, rendered_by, count(*) OVER (PARTITION BY document_id) AS renderings "
        "FROM land.case_document_files WHERE case_id = :c ORDER BY document_id, id DESC"), {"c": case_id}).mappings()
    return {r["document_id"]: dict(r) for r in rows}
