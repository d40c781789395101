"""Sign-in for GIS clients (QGIS, GDAL, MapLibre pages, scripts) that cannot use the sign-in page.

Reads under /api, /tiles, /styles and /ogc (GET, HEAD and OPTIONS only: nothing a client sends
this way ever writes) may carry HTTP Basic credentials, checked against the same accounts and
argon2 hashes as the sign-in page and throttled the same way, or a personal API token
(gisapp.queries.tokens), as ``Authorization: Bearer <token>`` or as the Basic password (GDAL and
QGIS can only send Basic). The request then runs as that account, with its role and zones, as a
signed-in browser's would; no session is made.

A client sends its credentials with every tile: verifying an argon2 hash (~50 ms of CPU) each
time would cost more than the tile. A credential once verified is kept in this process's
account cache (gisapp.web.account_cache) under a keyed hash (never the password), and dropped
as soon as the database announces any account or token change: a new password, a disabled
account or a revoked token is refused on the next request.

Without valid credentials a non-browser client gets 401 with ``WWW-Authenticate: Basic``
(never a redirect to the sign-in page, which QGIS would follow to a page it cannot read); a
browser (it sends ``Sec-Fetch-Mode``) is not challenged, so that the web map's own requests never
make it pop up a password dialog, and a browser navigating to /ogc or /styles pages is sent to
the sign-in page as for every other page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Request, Response, g, jsonify, redirect

from gisapp.i18n import t
from gisapp.queries.tokens import looks_like_token, token_key, token_user
from gisapp.queries.users import Account, SignInRefused, SignInThrottled, authenticate, get_account
from gisapp.web.account_cache import account_cache
from gisapp.web.engine import web_engine

#: the paths GIS clients read (the web app's own API, vector tiles, styles, OGC API)
CLIENT_PREFIXES = ("/api", "/tiles", "/styles", "/ogc")
#: pages a browser may navigate to under them (an unauthenticated one goes to the sign-in page)
PAGE_PREFIXES = ("/styles", "/ogc")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REALM = "gisapp"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'
#: keys the verified credentials kept in memory: random per process, so the keys are useless elsewhere
_SALT = secrets.token_bytes(32)


def is_client_path(path: str, prefixes: tuple[str, ...] = CLIENT_PREFIXES) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def is_browser(req: Request) -> bool:
    """True for a request a browser makes (every current browser sends Sec-Fetch-Mode)."""
    return "Sec-Fetch-Mode" in req.headers


def client_account(req: Request) -> Account | None:
    """The account the request's Basic credentials or API token sign in, or None.

    Only reads under :data:`CLIENT_PREFIXES`. A throttled user name is noted in ``g`` (the
    refusal then says when to try again).
    """
    auth = req.authorization
    if auth is None or req.method not in SAFE_METHODS or not is_client_path(req.path):
        return None
    if auth.type == "bearer":
        return _token_account(auth.token or "", None)
    if auth.type != "basic":
        return None
    username = (auth.username or "").strip().lower()
    password = auth.password or ""
    if looks_like_token(password):
        return _token_account(password, username)
    return _password_account(req, username, password)


def _account(user_id: int | None) -> Account | None:
    if user_id is None:
        return None
    engine = web_engine()
    account = account_cache(engine).get(user_id, lambda key: get_account(engine, key))
    return account if account is not None and not account.disabled else None


def _token_account(token: str, username: str | None) -> Account | None:
    engine = web_engine()
    key = b"token\0" + token_key(token)
    account = _account(account_cache(engine).credential(key, lambda _k: token_user(engine, token_key(token))))
    if account is None or (username and username != account.username):
        return None  # a token is its own user's: sent as Basic, with that user's name
    return account


def _password_account(req: Request, username: str, password: str) -> Account | None:
    engine = web_engine()
    key = hmac.new(_SALT, b"password\0" + username.encode("utf-8", "surrogatepass") + b"\0"
                   + password.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def verify(_key: bytes) -> int | None:
        try:
            # checked and throttled as a sign-in; successes are not logged (one per tile)
            return authenticate(engine, username, password, req.remote_addr, record_success=False).id
        except SignInThrottled as exc:
            g.gisapp_client_throttled = exc.retry_after
        except SignInRefused:
            pass
        return None

    return _account(account_cache(engine).credential(key, verify))


def client_refusal(req: Request, lang: str) -> Response | None:
    """The answer to a client path without a signed-in user: 401 with a Basic challenge (429 when
    throttled), no challenge for a browser, the sign-in page for a browser navigating to a page;
    None for paths that are not the clients'."""
    if not is_client_path(req.path):
        return None
    if is_browser(req) and req.headers.get("Sec-Fetch-Mode") == "navigate" and req.method == "GET" \
            and is_client_path(req.path, PAGE_PREFIXES):
        return redirect(f"/login?next={req.full_path if req.query_string else req.path}")
    retry_after = g.pop("gisapp_client_throttled", None)
    if retry_after:
        refused = jsonify(error=t("auth.throttled", lang, minutes=max(1, round(retry_after / 60))))
        refused.status_code = 429
        refused.headers["Retry-After"] = str(retry_after)
    else:
        refused = jsonify(error=t("auth.client_required", lang), login="/login")
        refused.status_code = 401
        if not is_browser(req):
            refused.headers["WWW-Authenticate"] = CHALLENGE
    refused.headers["Cache-Control"] = "no-store"
    return refused
