"""Sign-in for the web app: Flask-Login sessions, argon2 passwords (gisapp.queries.users),
throttling after repeated failures, logout, and the guard that makes every page, Dash callback
and route check the session on the server.

The session cookie is HttpOnly and SameSite=Lax (so no other site can post with it), and Secure
when ``GISAPP_COOKIE_SECURE`` is set. It carries a random session id that must be open on the
server (auth.sessions): logout, a new password or a disabled account end it there, so a copy of
the cookie kept from before is worth nothing. The session is bound to the client that signed in
(address and user agent): its cookie presented by another client ends it. A session also
remembers the account's version, so any change to the account ends its sessions. Forms posted to
/login and /logout carry a per-session token as well.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from dash import Dash, Input, Output, dcc, html
from flask import Blueprint, Response, g, jsonify, redirect, render_template_string, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from gisapp.db.context import app_secret
from gisapp.db.engine import get_engine
from gisapp.i18n import LANGUAGES, t
from gisapp.queries.edits import Actor
from gisapp.queries.users import (
    Account,
    SignInRefused,
    SignInThrottled,
    authenticate,
    client_hash,
    end_session,
    find_session,
    get_account,
    open_session,
    session_key,
)
from gisapp.settings import Settings, get_settings
from gisapp.web.account_cache import account_cache, begin_watched_read, watched_read_listening
from gisapp.web.client_auth import client_account, client_refusal
from gisapp.web.engine import web_engine

SESSION_HOURS = 10
# Reachable without a session: the sign-in page itself, static assets, the health probe.
PUBLIC_PATHS = ("/login", "/logout", "/api/health", "/_favicon.ico")
PUBLIC_PREFIXES = ("/assets/",)

login_manager = LoginManager()
# Flask-Login's "strong" protection does nothing for permanent sessions (it only marks them not
# fresh), and ours are permanent: the session's client is checked on the server instead
# (_session_of_request), against what auth.sessions recorded at sign-in.
login_manager.session_protection = None
auth = Blueprint("auth", __name__)


class WebUser(UserMixin):
    """The signed-in account, as Flask-Login sees it."""

    def __init__(self, account: Account):
        self.account = account

    def get_id(self) -> str:
        # The version changes when the account is disabled or its password changes: old sessions end.
        return f"{self.account.id}:{self.account.version}"

    @property
    def actor(self) -> Actor:
        return Actor(self.account.username, self.account.role, self.account.zone_ids)


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    try:
        account_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    token = session.get("sid")
    if not isinstance(token, str) or not token:
        return None  # a cookie from before server-side sessions, or forged without an id
    key = session_key(token)
    engine = web_engine()
    cache = account_cache(engine)
    if request.method == "GET" and request.endpoint in CHECKED_AFTER_QUERY:
        kept = cache.peek(account_id)
        kept_session = cache.peek_session(key)
        if (
            kept is not None
            and kept_session is not None
            and kept[2] == kept_session[2]
            and not kept[0].disabled
            and kept[0].version == version
            and _session_fits(kept_session[0], account_id)
        ):
            # answered only if the query brings no news of a change (_confirm_account_after_query)
            g.gisapp_account_kept = (account_id, version, key, min(kept[1], kept_session[1]), kept[2])
            begin_watched_read()
            return WebUser(kept[0])
    if not _session_of_request(engine, cache, key, account_id):
        return None
    # from memory when the database has announced no change since (gisapp.web.account_cache)
    account = cache.get(account_id, lambda key: get_account(engine, key))
    if account is None or account.disabled or account.version != version:
        return None
    return WebUser(account)


def _client() -> bytes:
    return client_hash(request.remote_addr, request.headers.get("User-Agent"))


def _session_fits(record, account_id: int) -> bool:
    return record.user_id == account_id and record.current() and hmac.compare_digest(record.client_hash, _client())


def _session_of_request(engine, cache, key: bytes, account_id: int) -> bool:
    """Whether the request's session is open on the server, for this account and this client.
    A session presented by another client (a copied cookie) is ended: the next request of its
    own browser goes back to the sign-in page too, which is how its owner learns of it."""
    record = cache.session(key, lambda k: find_session(engine, k))
    if record is None or record.user_id != account_id or not record.current():
        return False
    if not hmac.compare_digest(record.client_hash, _client()):
        end_session(engine, key)
        return False
    return True


#: Read-only map routes whose answer is the same for every signed-in user: they take the account
#: from memory without the listener's round trip, and their own query on the viewport/tile pool
#: (listening too) tells whether any account changed before it (gisapp.web.account_cache). A
#: z16 viewport is 3-5 ms of SQL; the round trip was ~0.1 ms on a quiet machine, 0.5-1.5 ms on a
#: busy one (one more process to wake).
CHECKED_AFTER_QUERY = frozenset({"api.layer_features", "tiles.vector_tile"})


def _confirm_account_after_query(response: Response) -> Response:
    """Send the answer of a CHECKED_AFTER_QUERY route only if its account is still what it was:
    else look it up as any other request does, and refuse the request (as the guard would) when
    it no longer signs in."""
    kept = g.pop("gisapp_account_kept", None)
    if kept is None:
        return response
    account_id, version, key, verified_at, generation = kept
    engine = web_engine()
    cache = account_cache(engine)
    if cache.still_current(verified_at, generation, watched_read_listening()):
        return response
    if not _session_of_request(engine, cache, key, account_id):
        return _refusal()
    account = cache.get(account_id, lambda key: get_account(engine, key))
    if account is None or account.disabled or account.version != version:
        return _refusal()
    return response


# Other GIS clients (QGIS, GDAL, scripts) cannot fill in the sign-in page: their reads under
# /api, /tiles, /styles and /ogc may carry HTTP Basic credentials or a personal API token instead,
# for that request only (no session is made): gisapp.web.client_auth.
@login_manager.request_loader
def _load_user_from_request(req) -> WebUser | None:
    account = client_account(req)
    return WebUser(account) if account is not None else None


def current_actor() -> Actor | None:
    """The signed-in user of this request (None when nobody is signed in)."""
    if current_user and current_user.is_authenticated:
        return current_user.actor
    return None


def request_lang(settings: Settings | None = None) -> str:
    """``?lang=`` if given, else the configured default (Chinese)."""
    lang = request.args.get("lang") or (settings or get_settings()).language
    return lang if lang in LANGUAGES else "zh"


# -- the session cookie and the secret that signs it -----------------------------------------------


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    sent = request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, session.get("csrf", ""))


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


# -- the sign-in page --------------------------------------------------------------------------

# Jinja autoescapes every value: a user name with HTML in it is shown as text.
LOGIN_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ title }} · {{ app_title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/gisapp.css"><link rel="stylesheet" href="/assets/editing.css"></head>
<body class="login-page">
<main class="login-box">
  <h1>{{ app_title }}</h1>
  <h2>{{ title }}</h2>
  {% if error %}<p id="login-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
  <form id="login-form" method="post" action="/login?lang={{ lang }}">
    <input type="hidden" name="csrf" value="{{ csrf }}">
    <input type="hidden" name="next" value="{{ next }}">
    <label for="login-username">{{ username_label }}</label>
    <input id="login-username" name="username" autocomplete="username" required value="{{ username }}">
    <label for="login-password">{{ password_label }}</label>
    <input id="login-password" name="password" type="password" autocomplete="current-password" required>
    <button id="login-submit" type="submit">{{ submit }}</button>
  </form>
  <p class="login-lang">
    <a id="login-lang" href="/login?lang={{ other_lang }}&next={{ next | urlencode }}">{{ switch }}</a></p>
  <p class="synthetic-banner">{{ synthetic }}</p>
</main>
</body></html>"""


def _login_page(
    lang: str, error: str | None = None, status: int = 200, username: str = "", headers: dict | None = None
) -> Response:
    body = render_template_string(
        LOGIN_PAGE,
        lang=lang,
        other_lang="en" if lang == "zh" else "zh",
        title=t("auth.title", lang),
        app_title=t("app.title", lang),
        username_label=t("auth.username", lang),
        password_label=t("auth.password", lang),
        submit=t("auth.submit", lang),
        switch=t("lang.switch", lang),
        synthetic=t("app.synthetic", lang),
        error=error,
        csrf=csrf_token(),
        next=_safe_next(request.values.get("next")),
        username=username,
    )
    return Response(
        body, status=status, headers={"Cache-Control": "no-store", **(headers or {})}, mimetype="text/html"
    )


@auth.route("/login", methods=["GET", "POST"])
def login():
    lang = request_lang()
    if request.method == "GET":
        return _login_page(lang)
    if not csrf_ok():
        return _login_page(lang, t("auth.bad_form", lang), status=400)
    username = request.form.get("username", "")
    try:
        account = authenticate(get_engine(), username, request.form.get("password", ""), request.remote_addr)
    except SignInThrottled as exc:
        minutes = max(1, round(exc.retry_after / 60))
        return _login_page(
            lang,
            t("auth.throttled", lang, minutes=minutes),
            status=429,
            username=username,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except SignInRefused:
        return _login_page(lang, t("auth.refused", lang), status=401, username=username)
    session.clear()  # a fresh session: nothing from before sign-in carries over (fixation)
    sid = open_session(get_engine(), account.id, _client(), timedelta(hours=SESSION_HOURS))
    login_user(WebUser(account))
    session["sid"] = sid
    session.permanent = True
    csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@auth.route("/logout", methods=["GET", "POST"])
def logout():
    # GET only shows the page (a link elsewhere cannot sign anyone out); POST with the token signs out.
    if request.method == "POST" and csrf_ok():
        sid = session.get("sid")
        if isinstance(sid, str) and sid:
            # on the server: the cookie, wherever a copy of it is, signs nobody in any more
            end_session(get_engine(), session_key(sid))
        logout_user()
        session.clear()
        return redirect("/login")
    if not (current_user and current_user.is_authenticated):
        return redirect("/login")
    lang = request_lang()
    body = render_template_string(
        '<!doctype html><html><head><meta charset="utf-8"><title>{{ label }}</title>'
        '<link rel="stylesheet" href="/assets/gisapp.css"><link rel="stylesheet" href="/assets/editing.css">'
        '</head><body class="login-page"><main class="login-box">'
        '<form id="logout-form" method="post" action="/logout">'
        '<input type="hidden" name="csrf" value="{{ csrf }}">'
        '<button id="logout-submit" type="submit">{{ label }}</button></form></main></body></html>',
        label=t("auth.logout", lang),
        csrf=csrf_token(),
    )
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


# -- the guard ---------------------------------------------------------------------------------


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or request.endpoint == "static"


def require_session():
    """Every request but the public ones needs a signed-in user: pages redirect to the sign-in
    page, Dash callbacks (/_dash-update-component) and API routes answer 401."""
    if _is_public(request.path) or (current_user and current_user.is_authenticated):
        return None
    return _refusal()


def _refusal() -> Response:
    """What a request without a signed-in user gets: under the GIS clients' paths 401 with a Basic
    challenge (gisapp.web.client_auth.client_refusal), 401 for callbacks and writes, else a
    redirect to the sign-in page."""
    lang = request_lang()
    refused = client_refusal(request, lang)
    if refused is not None:
        return refused
    if request.path.startswith("/_dash-") or request.method != "GET":
        refused = jsonify(error=t("auth.required", lang), login="/login")
        refused.status_code = 401
        return refused
    return redirect(f"/login?next={request.full_path if request.query_string else request.path}")


def signed_in_label(lang: str) -> str | None:
    """"Signed in as <name> (<role>)" for the signed-in user; None when nobody is signed in."""
    actor = current_actor()
    if actor is None:
        return None
    return t("auth.signed_in_as", lang, name=current_user.account.display_name, role=t(f"role.{actor.role}", lang))


def user_bar(lang: str) -> list:
    """Who is signed in, and the sign-out button (a POST form with the session's token); the
    import page draws the same with gisapp.web.components.user_bar_html."""
    label = signed_in_label(lang)
    if label is None:
        return []
    from gisapp.web.components import page_url

    return [
        html.Span(label, id="app-user-name"),
        # personal API tokens: for QGIS, GDAL and scripts (gisapp.web.tokens_page)
        html.A(t("auth.tokens", lang), id="app-tokens", className="user-tokens", href=page_url("/account/tokens", lang)),
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf", value=csrf_token()),
                html.Button(t("auth.logout", lang), id="app-logout", type="submit"),
            ],
            action="/logout",
            method="POST",
            id="app-logout-form",
            className="logout-form",
        ),
    ]


def init_auth(app: Dash, settings: Settings | None = None) -> None:
    """Sign-in on ``app``'s Flask server: session cookie settings, the login routes, the guard,
    and the signed-in user's bar (``app-user`` in the layout)."""
    settings = settings or get_settings()
    server = app.server
    server.secret_key = app_secret(settings)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_NAME="gisapp_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # The cookie is signed again only when the session changes: a session lasts SESSION_HOURS
        # from sign-in (not from the last request), and a map request saves re-signing and
        # re-sending a cookie every time.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    from gisapp.web.sessions import KeptCookieSessionInterface

    server.session_interface = KeptCookieSessionInterface()
    login_manager.init_app(server)
    server.register_blueprint(auth)
    server.before_request(require_session)
    server.after_request(_confirm_account_after_query)

    @app.callback(Output("app-user", "children"), Input("_pages_location", "search"))
    def _fill_user_bar(search):
        # the language travels in the URL (?lang=en), as on every page
        lang = parse_qs((search or "").lstrip("?")).get("lang", [settings.language])[0]
        return user_bar(lang if lang in LANGUAGES else "zh")
