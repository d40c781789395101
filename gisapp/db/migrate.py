"""The migrator: numbered forward-only migrations, then re-applied views and security.

``sql/migrations/NNNN_verb_object.sql`` run once each, in order, each in its own transaction,
recorded with a SHA-256 checksum in ``gisapp_meta.migrations``. A migration changed after it ran
stops everything with a message: schema changes go forward in a new file. ``sql/views`` and
``sql/security`` are idempotent and re-applied on every run, in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db import locks
from gisapp.db.context import store_context_key
from gisapp.errors import MigrationError
from gisapp.settings import Settings

MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")
ADVISORY_LOCK_KEY = locks.MIGRATION  # one migrator at a time
log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    reapplied: list[str] = field(default_factory=list)

    def describe(self) -> str:
        new = ", ".join(self.applied) if self.applied else "none"
        return (f"migrations applied now: {new}; already applied: {len(self.already)}; "
                f"views and security re-applied: {len(self.reapplied)} files")


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migration_files(sql_dir: Path) -> list[Path]:
    files = sorted((sql_dir / "migrations").glob("*.sql"))
    for path in files:
        if not MIGRATION_NAME.match(path.name):
            raise MigrationError(f"{path}: migration files are named NNNN_verb_object.sql")
    numbers = [p.name[:4] for p in files]
    dupes = {n for n in numbers if numbers.count(n) > 1}
    if dupes:
        raise MigrationError(f"two migrations share the number(s) {', '.join(sorted(dupes))} in {sql_dir}")
    return files


def _run_sql(conn: sa.Connection, path: Path) -> None:
    # Straight to psycopg without parameters: it then runs several statements at once and
    # leaves '%' in the SQL text alone (SQLAlchemy's exec_driver_sql would not).
    try:
        conn.connection.driver_connection.execute(path.read_text(encoding="utf-8"))
    except psycopg.Error as exc:
        raise MigrationError(f"{path.name} failed: {str(exc).strip()}") from exc


def migrate(engine: Engine, sql_dir: Path, settings: Settings | None = None) -> MigrationReport:
    """Bring the database to the current schema; safe to run any number of times.

    ``engine`` connects as the tables' owner. At the end the app's request-context key
    (derived from ``settings``' secret) is stored, so the app's signed contexts verify.
    """
    report = MigrationReport()
    files = migration_files(sql_dir)
    # One connection throughout: the advisory lock belongs to its session.
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        conn.commit()
        try:
            # and no assessment meanwhile: re-applying the views locks them, which deadlocked with
            # a running assessment's reads (the run failed); the migration waits for the run instead
            for key in locks.ASSESSMENTS:
                if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                    log.warning("waiting for the running assessment (gisapp assess, gisapp worker) to finish "
                                "before migrating")
                    conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            with conn.begin():
                conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS gisapp_meta")
                conn.exec_driver_sql(
                    "CREATE TABLE IF NOT EXISTS gisapp_meta.migrations ("
                    " filename text PRIMARY KEY, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())")
                applied = dict(conn.execute(
                    sa.text("SELECT filename, checksum FROM gisapp_meta.migrations")).all())

            for path in files:
                digest = checksum(path)
                if path.name in applied:
                    if applied[path.name] != digest:
                        raise MigrationError(
                            f"{path.name} was changed after it was applied to this database "
                            f"(recorded checksum {applied[path.name][:12]}…, file now {digest[:12]}…). "
                            "Applied migrations must not change: restore the file and put the change "
                            "in a new, higher-numbered migration.")
                    report.already.append(path.name)
                    continue
                with conn.begin():
                    _run_sql(conn, path)
                    conn.execute(sa.text(
                        "INSERT INTO gisapp_meta.migrations (filename, checksum) VALUES (:f, :c)"),
                        {"f": path.name, "c": digest})
                report.applied.append(path.name)

            with conn.begin():
                for sub in ("views", "security"):
                    for path in sorted((sql_dir / sub).glob("*.sql")):
                        _run_sql(conn, path)
                        report.reapplied.append(f"{sub}/{path.name}")
        finally:
            if conn.in_transaction():
                conn.rollback()
            for key in reversed(locks.ASSESSMENTS):
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()
    store_context_key(engine, settings)
    return report
