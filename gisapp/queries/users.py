"""Accounts of the application (auth.users, auth.user_zones) and signing in.

Passwords are stored as argon2id hashes (argon2-cffi). Signing in is throttled: after
``MAX_FAILURES`` failed attempts for one user name within ``THROTTLE_WINDOW`` (or
``MAX_FAILURES_PER_ADDRESS`` from one address), further attempts are refused until the window has
passed, whatever the password; every attempt is recorded in auth.login_attempts.

These functions run as the database owner: the web role has no privilege on auth.*.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine

from gisapp.errors import GisappError, InputError, NotFoundError

ROLES = ("bureau_admin", "bureau_viewer", "zone_editor", "analyst")
USERNAME = re.compile(r"^[a-z0-9_.-]{3,40}$")
MIN_PASSWORD_LENGTH = 8
MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 30
THROTTLE_WINDOW = dt.timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class SignInRefused(GisappError):
    """Wrong user name or password, or a disabled account (deliberately not told apart)."""


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
    actor: str = "gisapp-cli",
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
    with engine.begin() as conn:
        _set_actor(conn, actor, f"add user {username}")
        if conn.execute(sa.text("SELECT 1 FROM auth.users WHERE username = :u"), {"u": username}).first():
            raise InputError(f"a user named {username!r} already exists")
        zone_ids = _zone_ids(conn, zone_codes)
        user_id = conn.execute(
            sa.text(
                "INSERT INTO auth.users (username, display_name, password_hash, role) "
                "VALUES (:u, :d, :h, :r) RETURNING id"
            ),
            {"u": username, "d": display_name or username, "h": password_hash, "r": role},
        ).scalar_one()
        for zid in zone_ids:
            conn.execute(
                sa.text("INSERT INTO auth.user_zones (user_id, zone_id) VALUES (:u, :z)"),
                {"u": user_id, "z": zid},
            )
    return get_account(engine, user_id)


def _set_actor(conn: sa.Connection, actor: str, reason: str) -> None:
    conn.execute(
        sa.text("SELECT set_config('gisapp.user', :a, true), set_config('gisapp.reason', :r, true)"),
        {"a": actor, "r": reason},
    )


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


def set_disabled(engine: Engine, username: str, disabled: bool = True, actor: str = "gisapp-cli") -> Account:
    """Disable (or enable) an account; its open sessions end (the account's version changes)."""
    account = find_account(engine, username)
    with engine.begin() as conn:
        _set_actor(conn, actor, f"{'disable' if disabled else 'enable'} user {username}")
        conn.execute(
            sa.text("UPDATE auth.users SET disabled = :d WHERE id = :id"), {"d": disabled, "id": account.id}
        )
    return get_account(engine, account.id)


def set_password(engine: Engine, username: str, password: str, actor: str = "gisapp-cli") -> Account:
    """Set a new password; the account's open sessions end."""
    account = find_account(engine, username)
    password_hash = hash_password(password)
    with engine.begin() as conn:
        _set_actor(conn, actor, f"new password for {username}")
        conn.execute(
            sa.text("UPDATE auth.users SET password_hash = :h WHERE id = :id"),
            {"h": password_hash, "id": account.id},
        )
    return get_account(engine, account.id)


def set_user_zones(
    engine: Engine, username: str, zone_codes: tuple[str, ...], actor: str = "gisapp-cli"
) -> Account:
    """Bind a zone editor to exactly these zones (its open sessions end)."""
    account = find_account(engine, username)
    _check_role_zones(account.role, zone_codes)
    with engine.begin() as conn:
        _set_actor(conn, actor, f"zones of {username}: {', '.join(zone_codes)}")
        zone_ids = _zone_ids(conn, zone_codes)
        conn.execute(sa.text("DELETE FROM auth.user_zones WHERE user_id = :u"), {"u": account.id})
        for zid in zone_ids:
            conn.execute(
                sa.text("INSERT INTO auth.user_zones (user_id, zone_id) VALUES (:u, :z)"),
                {"u": account.id, "z": zid},
            )
        # the version is what sessions remember: a change of zones ends them
        conn.execute(
            sa.text("UPDATE auth.users SET display_name = display_name WHERE id = :u"), {"u": account.id}
        )
    return get_account(engine, account.id)


def _throttle_wait(conn: sa.Connection, username: str, remote_addr: str | None) -> int:
    """Seconds to wait before another attempt is heard (0: go ahead)."""
    row = conn.execute(
        sa.text("""
        WITH since AS (
            SELECT greatest(now() - CAST(:window AS interval),
                            coalesce((SELECT max(attempted_at) FROM auth.login_attempts
                                      WHERE username = :u AND succeeded), '-infinity')) AS t)
        SELECT (SELECT count(*) FROM auth.login_attempts, since
                WHERE username = :u AND NOT succeeded AND attempted_at > since.t) AS user_failures,
               (SELECT min(attempted_at) FROM (
                    SELECT attempted_at FROM auth.login_attempts, since
                    WHERE username = :u AND NOT succeeded AND attempted_at > since.t
                    ORDER BY attempted_at DESC LIMIT :max) last) AS user_oldest,
               (SELECT count(*) FROM auth.login_attempts
                WHERE remote_addr = :a AND NOT succeeded
                  AND attempted_at > now() - CAST(:window AS interval)) AS addr_failures,
               now() AS now"""),
        {
            "u": username,
            "a": remote_addr,
            "window": f"{int(THROTTLE_WINDOW.total_seconds())} seconds",
            "max": MAX_FAILURES,
        },
    ).one()
    waits = []
    if row.user_failures >= MAX_FAILURES:
        waits.append((row.user_oldest + THROTTLE_WINDOW - row.now).total_seconds())
    if remote_addr is not None and row.addr_failures >= MAX_FAILURES_PER_ADDRESS:
        waits.append(THROTTLE_WINDOW.total_seconds())
    return max(1, int(max(waits)) + 1) if waits else 0


def authenticate(
    engine: Engine, username: str, password: str, remote_addr: str | None = None, record_success: bool = True
) -> Account:
    """The account if the password is right; every attempt is recorded (successes only when
    ``record_success``: a GIS client sending credentials with every tile request would otherwise
    add a row per tile).

    Raises:
        SignInThrottled: too many recent failures for this user name or address.
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
                    "INSERT INTO auth.login_attempts (username, remote_addr, succeeded) VALUES (:u, :a, :s)"
                ),
                {"u": username, "a": remote_addr, "s": account is not None},
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
