"""Accounts of the application (auth.users, auth.user_zones) and signing in.

Passwords are stored as argon2id hashes (argon2-cffi). Signing in is throttled with a back-off,
per account and address (``MAX_FAILURES`` guesses, then waits that double from ``BACKOFF_BASE``
up to ``BACKOFF_MAX``) and per account from anywhere (``MAX_ACCOUNT_FAILURES``, for guesses
spread over many addresses); a throttled attempt is refused whatever the password. Failures with
other user names count only against accounts never used from that address, and only from
``MAX_ADDRESS_FAILURES`` on (one password sprayed over many accounts): thirty guesses at random
names from one address (or from behind a proxy, where everyone shares one) lock nobody out, and
people who signed in from that address before are never slowed by others' failures. Every attempt is recorded in
auth.login_attempts.

A signed-in browser holds a session id (:func:`open_session`), checked against auth.sessions on
the server: logout, a new password or a disabled account end the session there, whatever the
cookie says.

Account changes go through the database's functions (auth.add_account, auth.set_account_disabled,
auth.set_account_password, auth.set_account_zones; sql/security/0710), which the CLI calls as the
owner and the web page (/admin/users) as the request role with the bureau admin's verified
context: the database refuses anyone else, and the tables' triggers audit every change. Sign-in
and sessions run as the app's login role, which may read accounts and write auth.login_attempts
and auth.sessions only (sql/security/0700).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine

from gisapp.db.context import Actor, establish
from gisapp.errors import GisappError, InputError, NotFoundError

ROLES = ("bureau_admin", "bureau_viewer", "zone_editor", "analyst")
USERNAME = re.compile(r"^[a-z0-9_.-]{3,40}$")
MIN_PASSWORD_LENGTH = 8
#: guesses for one account from one address before the back-off starts
MAX_FAILURES = 5
#: guesses for one account from all addresses together before it starts for everyone: high enough
#: that one address (which has MAX_FAILURES and a back-off) cannot reach it quickly alone
MAX_ACCOUNT_FAILURES = 20
#: failed sign-ins from one address, all accounts together, before that address is slowed down
#: for accounts it has never signed in to: one password tried against many accounts (spraying).
#: High, because behind a proxy a whole office shares the address; and accounts already used from
#: that address go on regardless, so a colleague who signed in there before is never locked out
MAX_ADDRESS_FAILURES = 100
#: the first wait; each further guess doubles it, up to BACKOFF_MAX
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_MAX = dt.timedelta(hours=1)
#: failures older than this (or before the last success) are forgotten
THROTTLE_MEMORY = dt.timedelta(hours=24)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class SignInRefused(GisappError):
    """Wrong user name or password, or a disabled account (deliberately not told apart)."""


class AccountChangeRefused(GisappError):
    """The database refused an account change: not a bureau admin's transaction (sql/security/0710)."""


class SignInThrottled(GisappError):
    """Too many failed attempts: wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    """One user of the application, with the zones a zone editor edits."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    version: int
    zone_ids: tuple[int, ...] = ()
    zone_codes: tuple[str, ...] = ()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` after checking it is long enough."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


_ACCOUNT_SQL = """
    SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.version,
           coalesce(array_agg(z.id ORDER BY z.id) FILTER (WHERE z.id IS NOT NULL), '{}') AS zone_ids,
           coalesce(array_agg(z.code ORDER BY z.id) FILTER (WHERE z.id IS NOT NULL), '{}') AS zone_codes,
           u.password_hash
    FROM auth.users u
    LEFT JOIN auth.user_zones uz ON uz.user_id = u.id
    LEFT JOIN land.zones z ON z.id = uz.zone_id
    WHERE {where}
    GROUP BY u.id
    ORDER BY u.username
"""


def _account_sql(where: str) -> str:
    # not str.format: the SQL holds '{}' literals
    return _ACCOUNT_SQL.replace("{where}", where)


def _account(row) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        disabled=row.disabled,
        version=row.version,
        zone_ids=tuple(row.zone_ids),
        zone_codes=tuple(row.zone_codes),
    )


def _zone_ids(conn: sa.Connection, zone_codes: list[str] | tuple[str, ...]) -> list[int]:
    found = dict(
        conn.execute(
            sa.text("SELECT code, id FROM land.zones WHERE code = ANY(:c)"), {"c": list(zone_codes)}
        ).all()
    )
    unknown = [c for c in zone_codes if c not in found]
    if unknown:
        known = conn.execute(sa.text("SELECT string_agg(code, ', ' ORDER BY id) FROM land.zones")).scalar()
        raise InputError(f"unknown zone code(s): {', '.join(unknown)}; known zones: {known}")
    return [found[c] for c in zone_codes]


def _check_role_zones(role: str, zone_codes) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if role == "zone_editor" and not zone_codes:
        raise InputError("a zone_editor must be bound to at least one zone (give --zone CODE)")
    if role != "zone_editor" and zone_codes:
        raise InputError(f"only a zone_editor is bound to zones; a {role} sees and edits per its role")


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    zone_codes: tuple[str, ...] = (),
    display_name: str | None = None,
    actor: str | Actor = "gisapp-cli",
) -> Account:
    """Create an account.

    Example:
        >>> add_user(engine, "wgq.office", "s3cret-pass", "zone_editor",  # doctest: +SKIP
        ...          ("waigaoqiao_ftz",))
    """
    if not USERNAME.match(username or ""):
        raise InputError(f"user name {username!r} must be 3-40 characters of a-z, 0-9, '_', '.', '-'")
    _check_role_zones(role, zone_codes)
    password_hash = hash_password(password)
    # the friendly messages first; the database checks the same again (and a name taken meanwhile)
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM auth.users WHERE username = :u"), {"u": username}).first():
            raise InputError(f"a user named {username!r} already exists")
        _zone_ids(conn, zone_codes)
    user_id = _change(engine, actor, "SELECT auth.add_account(:u, :d, :h, :r, CAST(:z AS text[]))",
                      {"u": username, "d": display_name or username, "h": password_hash, "r": role,
                       "z": list(zone_codes)})
    return get_account(engine, user_id)


def _change(engine: Engine, actor: str | Actor, sql: str, values: dict[str, Any]) -> Any:
    """Run one of the account functions of sql/security/0710 in a transaction of its own.

    ``actor`` is a signed-in user of the app (:class:`gisapp.db.context.Actor`: the transaction
    runs as the request role with that user's verified context, on the app's engine) or, for the
    owner's CLI, the name written to the audit (``gisapp.user``).
    """
    try:
        with engine.begin() as conn:
            if isinstance(actor, Actor):
                establish(conn, actor)
            else:
                conn.execute(sa.text("SELECT set_config('gisapp.user', :a, true)"), {"a": actor})
            return conn.execute(sa.text(sql), values).scalar()
    except sa.exc.DBAPIError as exc:
        raise _refusal(exc) from exc


def _refusal(exc: sa.exc.DBAPIError) -> Exception:
    """The database's refusal of an account change as the error a person reads."""
    state = getattr(exc.orig, "sqlstate", None)
    diag = getattr(exc.orig, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc.orig or exc)).strip()
    if state == "42501":
        return AccountChangeRefused(message)
    if state == "GA404":
        return NotFoundError(message)
    if state == "GA003":
        return InputError(message)
    if state == "23505":
        return InputError(f"that user name is taken ({message})")
    return exc


def get_account(engine: Engine, user_id: int) -> Account | None:
    """The account with this id (disabled or not), or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(_account_sql("u.id = :id")), {"id": user_id}).first()
    return _account(row) if row else None


def find_account(engine: Engine, username: str) -> Account:
    """The account with this user name, or NotFoundError."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(_account_sql("u.username = :u")), {"u": username}).first()
    if row is None:
        raise NotFoundError(f"there is no user named {username!r} (see `gisapp users list`)")
    return _account(row)


def list_users(engine: Engine) -> list[Account]:
    """Every account, by user name."""
    with engine.connect() as conn:
        return [_account(r) for r in conn.execute(sa.text(_account_sql("true")))]


def set_disabled(
    engine: Engine, username: str, disabled: bool = True, actor: str | Actor = "gisapp-cli"
) -> Account:
    """Disable (or enable) an account; disabling ends its open sessions on the server."""
    account = find_account(engine, username)
    _change(engine, actor, "SELECT auth.set_account_disabled(:u, :d)", {"u": username, "d": disabled})
    return get_account(engine, account.id)


def set_password(engine: Engine, username: str, password: str, actor: str | Actor = "gisapp-cli") -> Account:
    """Set a new password; the account's open sessions end (deleted on the server)."""
    account = find_account(engine, username)
    password_hash = hash_password(password)
    _change(engine, actor, "SELECT auth.set_account_password(:u, :h)", {"u": username, "h": password_hash})
    return get_account(engine, account.id)


def set_user_zones(
    engine: Engine, username: str, zone_codes: tuple[str, ...], actor: str | Actor = "gisapp-cli"
) -> Account:
    """Bind a zone editor to exactly these zones (its open sessions end)."""
    account = find_account(engine, username)
    _check_role_zones(account.role, zone_codes)
    with engine.connect() as conn:
        _zone_ids(conn, zone_codes)
    _change(engine, actor, "SELECT auth.set_account_zones(:u, CAST(:z AS text[]))",
            {"u": username, "z": list(zone_codes)})
    return get_account(engine, account.id)


def last_sign_ins(engine: Engine) -> dict[str, dt.datetime]:
    """When each account last signed in through the sign-in page (auth.login_attempts; a GIS
    client's per-request credentials are not recorded)."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT username, max(attempted_at) FROM auth.login_attempts WHERE succeeded GROUP BY username")).all())


# -- server-side sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    """An open session as the server holds it (auth.sessions)."""

    user_id: int
    client_hash: bytes
    expires_at: dt.datetime

    def current(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at > (now or dt.datetime.now(dt.UTC))


def session_key(token: str) -> bytes:
    """What auth.sessions holds for a session id: its SHA-256 (the id itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def client_hash(remote_addr: str | None, user_agent: str | None) -> bytes:
    """The client a session is bound to: its address and user agent, hashed."""
    return hashlib.sha256(f"{remote_addr or ''}|{user_agent or ''}".encode("utf-8", "surrogatepass")).digest()


def open_session(engine: Engine, user_id: int, client: bytes, lifetime: dt.timedelta) -> str:
    """A new session for ``user_id`` bound to ``client`` (:func:`client_hash`): its id, for the
    signed cookie. The account's expired sessions are cleared on the way."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM auth.sessions WHERE user_id = :u AND expires_at <= now()"), {"u": user_id}
        )
        conn.execute(
            sa.text(
                "INSERT INTO auth.sessions (token_hash, user_id, client_hash, expires_at) "
                "VALUES (:k, :u, :c, now() + CAST(:life AS interval))"
            ),
            {"k": session_key(token), "u": user_id, "c": client,
             "life": f"{int(lifetime.total_seconds())} seconds"},
        )
    return token


def find_session(engine: Engine, key: bytes) -> SessionRecord | None:
    """The open session whose id hashes to ``key`` (:func:`session_key`), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT user_id, client_hash, expires_at FROM auth.sessions "
                    "WHERE token_hash = :k AND expires_at > now()"),
            {"k": key},
        ).first()
    return SessionRecord(row.user_id, bytes(row.client_hash), row.expires_at) if row else None


def end_session(engine: Engine, key: bytes) -> None:
    """End the session whose id hashes to ``key`` (logout); nothing if it has ended already."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM auth.sessions WHERE token_hash = :k"), {"k": key})


def _end_sessions_of(conn: sa.Connection, user_id: int) -> None:
    conn.execute(sa.text("DELETE FROM auth.sessions WHERE user_id = :u"), {"u": user_id})


def _backoff(failures: int, allowed: int) -> dt.timedelta:
    """The wait after ``failures`` guesses when ``allowed`` are free: BACKOFF_BASE, doubled for
    each guess beyond the first one over, at most BACKOFF_MAX."""
    doublings = min(failures - allowed, 16)  # 2**16 x 5 min is far past the cap already
    return min(BACKOFF_BASE * 2**doublings, BACKOFF_MAX)


def _throttle_wait(conn: sa.Connection, username: str, remote_addr: str | None) -> int:
    """Seconds to wait before another attempt is heard (0: go ahead)."""
    row = conn.execute(
        sa.text("""
        WITH mine AS (
            SELECT remote_addr IS NOT DISTINCT FROM :a AS here, succeeded, attempted_at
            FROM auth.login_attempts
            WHERE username = :u AND NOT throttled AND attempted_at > now() - CAST(:memory AS interval)),
        last_ok AS (
            SELECT coalesce(max(attempted_at) FILTER (WHERE succeeded), '-infinity') AS anywhere,
                   coalesce(max(attempted_at) FILTER (WHERE succeeded AND here), '-infinity') AS here
            FROM mine)
        SELECT count(*) FILTER (WHERE NOT m.succeeded AND m.here AND m.attempted_at > o.here) AS pair_failures,
               max(m.attempted_at) FILTER (WHERE NOT m.succeeded AND m.here AND m.attempted_at > o.here)
                   AS pair_last,
               count(*) FILTER (WHERE NOT m.succeeded AND m.attempted_at > o.anywhere) AS account_failures,
               max(m.attempted_at) FILTER (WHERE NOT m.succeeded AND m.attempted_at > o.anywhere) AS account_last,
               EXISTS (SELECT 1 FROM auth.login_attempts a
                       WHERE a.username = :u AND a.remote_addr = :a AND a.succeeded) AS known_here,
               (SELECT count(*) FROM auth.login_attempts a
                WHERE a.remote_addr = :a AND NOT a.succeeded AND NOT a.throttled
                  AND a.attempted_at > now() - CAST(:memory AS interval)) AS address_failures,
               (SELECT max(a.attempted_at) FROM auth.login_attempts a
                WHERE a.remote_addr = :a AND NOT a.succeeded AND NOT a.throttled
                  AND a.attempted_at > now() - CAST(:memory AS interval)) AS address_last,
               now() AS now
        FROM mine m, last_ok o"""),
        {"u": username, "a": remote_addr, "memory": f"{int(THROTTLE_MEMORY.total_seconds())} seconds"},
    ).one()
    waits = [0.0]
    if row.pair_failures >= MAX_FAILURES:
        waits.append((row.pair_last + _backoff(row.pair_failures, MAX_FAILURES) - row.now).total_seconds())
    if row.account_failures >= MAX_ACCOUNT_FAILURES:
        waits.append(
            (row.account_last + _backoff(row.account_failures, MAX_ACCOUNT_FAILURES) - row.now).total_seconds()
        )
    if remote_addr is not None and not row.known_here and row.address_failures >= MAX_ADDRESS_FAILURES:
        waits.append(
            (row.address_last + _backoff(row.address_failures, MAX_ADDRESS_FAILURES) - row.now).total_seconds()
        )
    wait = max(waits)
    return int(wait) + 1 if wait > 0 else 0


def authenticate(
    engine: Engine, username: str, password: str, remote_addr: str | None = None, record_success: bool = True
) -> Account:
    """The account if the password is right; every attempt is recorded (successes only when
    ``record_success``: a GIS client sending credentials with every tile request would otherwise
    add a row per tile).

    Raises:
        SignInThrottled: too many recent failures for this account from this address, or from
            everywhere.
        SignInRefused: wrong user name or password, or the account is disabled.
    """
    username = (username or "").strip().lower()[:80]
    password = password or ""
    with engine.begin() as conn:
        # One attempt at a time per user name, so parallel guesses cannot slip past the count.
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext('gisapp.login:' || :u))"), {"u": username}
        )
        wait = _throttle_wait(conn, username, remote_addr)
        account = None
        if not wait:
            row = conn.execute(sa.text(_account_sql("u.username = :u")), {"u": username}).first()
            stored = row.password_hash if row else _DUMMY_HASH
            try:
                ok = _hasher.verify(stored, password) and row is not None and not row.disabled
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
            if ok:
                # no rehash here: the app's login role may not write accounts (docs/security.md);
                # `gisapp users passwd` stores a hash with the current parameters
                account = _account(row)
        if account is None or record_success:
            conn.execute(
                sa.text(
                    "INSERT INTO auth.login_attempts (username, remote_addr, succeeded, throttled) "
                    "VALUES (:u, :a, :s, :t)"
                ),
                {"u": username, "a": remote_addr, "s": account is not None, "t": bool(wait)},
            )
    if wait:
        minutes = max(1, round(wait / 60))
        raise SignInThrottled(
            f"too many failed sign-ins for {username!r}; try again in about {minutes} minute(s)",
            retry_after=wait,
        )
    if account is None:
        raise SignInRefused("wrong user name or password")
    return account


# Accounts made for `gisapp demo` on synthetic data only (one per role, zone editors for two zones).
DEMO_ACCOUNTS = (
    ("demo.admin", "bureau_admin", ()),
    ("demo.viewer", "bureau_viewer", ()),
    ("demo.wgq", "zone_editor", ("waigaoqiao_ftz",)),
    ("demo.yangshan", "zone_editor", ("yangshan",)),
    ("demo.analyst", "analyst", ()),
)


def ensure_demo_accounts(engine: Engine, secrets_file: Path) -> list[str]:
    """Demo accounts for the synthetic dataset, with random passwords kept in ``secrets_file``
    (mode 600) so that `gisapp demo` can say how to sign in each time it starts.

    Does nothing (returns []) unless the database holds synthetic demo data.
    """
    from gisapp.queries.meta import is_synthetic

    if not is_synthetic(engine):
        return []
    known: dict[str, str] = {}
    if secrets_file.exists():
        for line in secrets_file.read_text(encoding="utf-8").splitlines():
            name, _, password = line.partition(" ")
            if name and password:
                known[name] = password
    existing = {a.username: a for a in list_users(engine)}
    for name, role, zones in DEMO_ACCOUNTS:
        if name in existing and existing[name].zone_codes != zones:
            # a demo reload (`load-demo --replace`) empties the zone bindings
            set_user_zones(engine, name, zones, actor="gisapp-demo")
        if name in known and name in existing:
            continue
        known[name] = secrets.token_urlsafe(9)
        if name in existing:
            set_password(engine, name, known[name], actor="gisapp-demo")
        else:
            add_user(
                engine,
                name,
                known[name],
                role,
                zones,
                display_name=f"{name}（演示 demo）",
                actor="gisapp-demo",
            )
    secrets_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(f"{name} {known[name]}\n" for name, _r, _z in DEMO_ACCOUNTS))
    return [
        f"  {name:<14} {known[name]:<14} {role}{' ' + ','.join(zones) if zones else ''}"
        for name, role, zones in DEMO_ACCOUNTS
    ]
