"""The signed-in user of a database transaction, established so that no SQL can forge it.

Row-level security and the audit read the user, role and zones of a transaction from
``auth.request_context``, a table only ``auth.begin_request`` (SECURITY DEFINER) writes. The app
signs the context with a key derived from its secret (HMAC-SHA256 over the user, role, zones,
the database session's process id and an expiry); the database holds the same key where only
the table owner can read it (``auth.context_key``, written by :func:`store_context_key` during
``gisapp migrate``) and checks the signature before recording anything. SQL that runs later in
the same session (a future injection bug) can neither set another user nor replay a context
into another session or transaction. docs/security.md describes the trust boundary.

Example:
    >>> with engine.begin() as conn:                                   # doctest: +SKIP
    ...     establish(conn, Actor("wgq.office", "zone_editor", (1,)))
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.settings import Settings, get_settings

#: The request role every signed-in transaction switches to (sql/security/0300_roles_and_rls.sql).
WEB_ROLE = "gisapp_web"
#: The login roles (names fixed: the SQL grants and policies name them; docs/security.md).
APP_ROLE = "gisapp_app"
ASSESSOR_ROLE = "gisapp_assessor"
#: A signed context is good for this long: enough for a slow import, useless to replay later.
CONTEXT_SECONDS = 3600
_KEY_PURPOSE = b"gisapp database request context v1"


@dataclass(frozen=True)
class Actor:
    """The signed-in user a transaction acts for (what the database's policies key on)."""

    username: str
    role: str
    zone_ids: tuple[int, ...] = ()


def app_secret(settings: Settings | None = None) -> str:
    """GISAPP_SECRET_KEY, or a random key kept in the data folder (so restarts keep sessions
    and ``gisapp migrate`` and the server agree on the database context key)."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    return _stored_secret(str(Path(settings.data_dir) / "web_secret_key"))


@lru_cache(maxsize=8)
def _stored_secret(file_name: str) -> str:
    """The secret kept in ``file_name``, made once when there is none (read once per process:
    every signed-in request signs with it)."""
    path = Path(file_name)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # written whole under a name of its own, then linked into place: several processes starting
    # at once all end up with the one key that won, never with a half-written file
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def context_key(settings: Settings | None = None) -> bytes:
    """The key contexts are signed with: derived from the app's secret, never the secret itself."""
    return _derived_key(app_secret(settings))


@lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def _zones_text(zone_ids) -> str:
    return ",".join(str(int(z)) for z in zone_ids)


def sign(actor: Actor, backend_pid: int, expires: int, key: bytes | None = None) -> str:
    """The signature ``auth.begin_request`` expects (see ``auth.context_text``)."""
    text = "\x1f".join([actor.username, actor.role, _zones_text(actor.zone_ids), str(backend_pid), str(expires)])
    return hmac.new(key or context_key(), text.encode(), hashlib.sha256).hexdigest()


def backend_pid(conn: Connection) -> int:
    """The process id of the database session behind ``conn`` (known to psycopg, no round trip)."""
    return conn.connection.driver_connection.info.backend_pid


def establish(conn: Connection, actor: Actor, reason: str | None = None, role: str = WEB_ROLE) -> None:
    """Switch ``conn``'s transaction to the request role and record ``actor`` as its verified user.

    Everything ends with the transaction (SET LOCAL), so a pooled connection never keeps another
    user's context. An actor without a name establishes nobody: the policies then allow nothing.
    """
    switch = "SELECT set_config('role', :role, true), set_config('gisapp.reason', :why, true)"
    values = {"role": role, "why": reason or ""}
    if actor.username:
        # one round trip: the role, the reason, and the context the database verifies
        expires = int(time.time()) + CONTEXT_SECONDS
        switch += ", auth.begin_request(:u, :r, CAST(:z AS integer[]), :e, :s)"
        values |= {"u": actor.username, "r": actor.role, "z": [int(z) for z in actor.zone_ids], "e": expires,
                   "s": sign(actor, backend_pid(conn), expires)}
    conn.execute(sa.text(switch), values)


def store_context_key(engine: Engine, settings: Settings | None = None) -> None:
    """Write the app's context key into the database (as its owner; ``gisapp migrate`` does it)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO auth.context_key (only_one, key) VALUES (true, :k) "
            "ON CONFLICT (only_one) DO UPDATE SET key = EXCLUDED.key, set_at = now() "
            "WHERE auth.context_key.key IS DISTINCT FROM EXCLUDED.key"), {"k": context_key(settings)})


def context_key_matches(engine: Engine, settings: Settings | None = None) -> bool:
    """Whether the database checks contexts with the same key this process signs with."""
    probe = f"gisapp db check {secrets.token_hex(8)}"
    signature = hmac.new(context_key(settings), probe.encode(), hashlib.sha256).hexdigest()
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT auth.context_key_matches(:p, :s)"),
                                 {"p": probe, "s": signature}).scalar())


@contextmanager
def acting_as(engine: Engine, actor: Actor, reason: str | None = None) -> Iterator[Connection]:
    """One transaction as the web role with ``actor`` as its verified user (committed on success).

    The context is signed by the app and checked by the database (gisapp.db.context), so the
    row-level security policies and the audit trust it and nothing any SQL could set.
    """
    with engine.begin() as conn:
        establish(conn, actor, reason)
        yield conn
