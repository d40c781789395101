"""The engine (made once per process and URL) and transaction helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.context import APP_ROLE, ASSESSOR_ROLE
from gisapp.errors import SetupError
from gisapp.settings import Settings, get_settings


def _psycopg(url: str) -> str:
    # Accept plain postgresql:// URLs; we talk psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def database_url(settings: Settings | None = None, *, owner: bool = False, role: str = "app") -> str:
    """The URL in use for a role: ``app`` (the web app's login), ``owner`` (the tables' owner) or
    ``assessor`` (`gisapp assess`). ``owner=True`` is ``role="owner"``.

    On the local cluster the roles are gisapp_app, the superuser and gisapp_assessor (no password:
    the cluster trusts local connections); an external database gives each URL
    (GISAPP_DATABASE_URL, GISAPP_OWNER_DATABASE_URL, GISAPP_ASSESSOR_DATABASE_URL; the last two
    default to the owner's, the owner's to the app's).
    """
    settings = settings or get_settings()
    role = "owner" if owner else role
    if settings.database_url:
        owner_url = settings.owner_database_url or settings.database_url
        url = {"app": settings.database_url, "owner": owner_url,
               "assessor": settings.assessor_database_url or owner_url}[role]
        return _psycopg(url)
    from gisapp.db.cluster import LocalCluster

    cluster = LocalCluster(settings)
    user = {"app": APP_ROLE, "owner": None, "assessor": ASSESSOR_ROLE}[role]
    return cluster.url(user=user)


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, future=True)


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine of the app's login role (least privilege: the web app, notebooks)."""
    return _engine_for(database_url(settings))


def owner_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine of the tables' owner: migrations, loads, accounts."""
    return _engine_for(database_url(settings, owner=True))


def assessor_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine of the assessment's role: reads everything, writes findings."""
    return _engine_for(database_url(settings, role="assessor"))


def check_connection(engine: Engine) -> None:
    """Raise a SetupError with a sentence when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "role" in reason and "does not exist" in reason:
            raise SetupError(f"Cannot sign in to the database at {where}: {reason}. The app's login role is "
                             "made by `gisapp migrate` on the local cluster; on an external database an "
                             "administrator creates it (docs/security.md).") from exc
        raise SetupError(f"Cannot reach the database at {where}: {reason}. Is it running? "
                         "For the local one run `gisapp db up`; for an external one check GISAPP_DATABASE_URL."
                         ) from exc


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection inside one transaction, committed on success, rolled back on error."""
    engine = engine or get_engine()
    with engine.begin() as conn:
        yield conn
