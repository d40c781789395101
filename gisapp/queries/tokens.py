"""Personal read-only API tokens (auth.api_tokens, migration 1860): for GIS clients that cannot
use the sign-in page. A token is shown once, when it is made; the database keeps its SHA-256
only. It reads what its account may read (the account's role and zones) and never writes
(gisapp.web.client_auth accepts it on GET, HEAD and OPTIONS only); a disabled account's tokens
sign nobody in. Tokens are created and revoked through the database's functions
(sql/security/0930_api_tokens.sql), by their own user in the web app (/account/tokens) or by
the owner's CLI (`gisapp tokens`), and audited.

Example:
    >>> token = new_token()
    >>> token.startswith(TOKEN_PREFIX) and len(token_key(token)) == 32
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db.context import Actor
from gisapp.errors import InputError
from gisapp.queries.users import _change, find_account

#: every token starts so: a Basic password that does is checked as a token, never as a password
TOKEN_PREFIX = "gisapp_"
MAX_LABEL = 80


@dataclass(frozen=True)
class TokenInfo:
    """One token as its owner sees it (never the token itself)."""

    id: int
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def looks_like_token(text: str | None) -> bool:
    return bool(text) and text.startswith(TOKEN_PREFIX)


def token_key(token: str) -> bytes:
    """What auth.api_tokens holds for ``token``: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _label(label: str | None) -> str:
    text = (label or "").strip()
    if not 1 <= len(text) <= MAX_LABEL:
        raise InputError(f"a token needs a name of 1 to {MAX_LABEL} characters (what it is for, e.g. 'QGIS')")
    return text


def create_token(engine: Engine, username: str, label: str, actor: str | Actor = "gisapp-cli") -> tuple[int, str]:
    """Make a token for ``username``: ``(id, token)``; the token is not kept anywhere.

    ``actor``: the signed-in user (who may make tokens for themselves only) or, for the owner's
    CLI, the name the audit records.
    """
    text = _label(label)
    find_account(engine, username)  # a friendly NotFoundError first
    token = new_token()
    token_id = _change(engine, actor, "SELECT auth.create_api_token(:u, :h, :l)",
                       {"u": username, "h": token_key(token), "l": text})
    return int(token_id), token


def revoke_token(engine: Engine, username: str, token_id: int, actor: str | Actor = "gisapp-cli") -> None:
    """Revoke one of ``username``'s tokens (nothing happens to one revoked already)."""
    _change(engine, actor, "SELECT auth.revoke_api_token(:u, :i)", {"u": username, "i": int(token_id)})


def list_tokens(engine: Engine, username: str) -> list[TokenInfo]:
    """``username``'s tokens, the newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT t.id, t.label, t.created_at, t.revoked_at FROM auth.api_tokens t "
            "JOIN auth.users u ON u.id = t.user_id WHERE u.username = :u ORDER BY t.created_at DESC, t.id DESC"),
            {"u": username}).all()
    return [TokenInfo(r.id, r.label, r.created_at, r.revoked_at) for r in rows]


def token_user(engine: Engine, key: bytes) -> int | None:
    """The id of the enabled account whose active token hashes to ``key``, or None."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT t.user_id FROM auth.api_tokens t JOIN auth.users u ON u.id = t.user_id "
            "WHERE t.token_hash = :k AND t.revoked_at IS NULL AND NOT u.disabled"), {"k": key}).scalar()
