"""One error contract for every answer of the web app (issue 16).

- The JSON API (``/api/...``) and the tiles (``/tiles/...``) answer a client's mistake with a 4xx
  and ``{"error": <sentence>, "field": <name or null>}``, an unknown path with a JSON 404 (not
  Dash's page, which its catch-all route would serve), and a database that cannot be reached
  with a 503 and a sentence.
- Pages answer with a readable page in the user's language (``?lang=``, Chinese by default).
- Nothing ends in a bare 500: an unexpected error is logged with a short random id, and the
  answer gives that id, so a support call can find the traceback.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import psycopg
import sqlalchemy as sa
from dash import Dash
from flask import Flask, Response, current_app, jsonify, request
from jinja2 import Environment
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from gisapp.errors import InputError, NotFoundError
from gisapp.i18n import TEXTS, label, message, problem_texts, t
from gisapp.queries import edits
from gisapp.queries.parcel_record import _VALUE_LABELS as VALUE_VOCABULARY  # the change log's vocabularies
from gisapp.web.auth import request_lang
from gisapp.web.components import editor, when

logger = logging.getLogger("gisapp.web")

#: the app's JSON API, the vector tiles, the styles and the OGC API (gisapp.web.client_auth):
#: an unknown path under them is a JSON 404, never Dash's page
API_PREFIXES = ("/api/", "/tiles/", "/styles/", "/ogc/")
API_PATHS = ("/api", "/tiles", "/styles", "/ogc")
#: Dash's own endpoints (callbacks, layout) answer JSON too
JSON_PREFIXES = (*API_PREFIXES, "/_dash-")
#: what PostgreSQL cannot take in a text (NUL) and what UTF-8 cannot encode (a lone surrogate)
UNUSABLE_CHARS = re.compile("[\x00\ud800-\udfff]")
#: SQLSTATE classes that mean the database is away or refusing work for now, not that the request
#: was wrong: connection exceptions, operator intervention (shutdown, crash, cancelled by a
#: timeout), insufficient resources (too many connections, disk full)
UNREACHABLE_STATES = ("08", "57", "53")
#: seconds a client is told to wait before asking again when the database is away
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class EditFailure:
    """Why an edit was not saved, as both the JSON API and the parcel page tell it."""

    status: int
    message: str
    field: str | None = None
    #: a message per field (bad values)
    fields: dict[str, str] = dataclass_field(default_factory=dict)
    #: the record as it is now (a stale edit)
    current: dict | None = None


#: The edit errors a person can act on: everything else is a fault (database_answer, unexpected).
EDIT_ERRORS = (edits.ValidationFailed, edits.EditConflict, edits.EditRefused, NotFoundError)


def edit_failure(exc: Exception, lang: str) -> EditFailure:
    """The one mapping of an edit's refusal (one of EDIT_ERRORS) to an answer."""
    if isinstance(exc, edits.ValidationFailed):
        field = next((name for name in exc.problems if name != "_form"), None)
        return EditFailure(422, t("edit.failed", lang), field, problem_texts(exc.problems, lang))
    if isinstance(exc, edits.EditConflict):
        return EditFailure(409, conflict_message(exc.current, lang), current=exc.current)
    if isinstance(exc, edits.EditRefused):
        return EditFailure(403, t("edit.forbidden", lang, detail=str(exc)))
    return EditFailure(404, str(exc))


def saved_message(result: edits.EditResult, lang: str) -> str:
    """What the JSON API and the parcel page say after a save: saved, with the version, and what
    else the database did with it (a confirmed finding's status change)."""
    text = t("edit.saved", lang, version=result.version)
    if result.notice is None:
        return text
    return f"{text}{'' if lang == 'zh' else ' '}{message(result.notice.key, result.notice.values, lang)}"


#: a record's bookkeeping, never shown as what the other person changed
_BOOKKEEPING = {"id", "version", "updated_at", "updated_by", "is_synthetic", "geom", "source_crs"}


def conflict_message(current: dict, lang: str) -> str:
    """Who changed the record, when (Asia/Shanghai, to the minute) and its version now."""
    return t("edit.conflict", lang, by=editor(current.get("updated_by"), lang) or "?",
             at=when(current.get("updated_at")) or "?", version=current.get("version", "?"))


def _shown(column: str, value: object, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list):  # the mixed-use components
        return ", ".join(str(v.get("land_use_code", v)) if isinstance(v, dict) else _shown(column, v, lang)
                         for v in value)
    if column.endswith("_at"):
        return when(value)
    if column.endswith("_by"):
        return editor(value, lang)
    vocabulary = VALUE_VOCABULARY.get(column)
    return label(vocabulary, value, lang) if vocabulary else str(value)


def _same(seen: object, now: object) -> bool:
    if isinstance(seen, int | float) and isinstance(now, int | float) and not isinstance(now, bool):
        return math.isclose(seen, now, abs_tol=0.05)  # the page shows areas to 0.1 m²
    return seen == now


def conflict_changes(current: dict, lang: str, seen: dict | None = None) -> list[tuple[str, str]]:
    """The other person's change in a stale edit as ``(label, value)`` pairs a person reads: the
    labelled fields of the record as it is now (none of its bookkeeping or internal ids), only
    those that differ from ``seen`` (the record as the editor's page showed it) when it is the
    same record.

    Example:
        >>> conflict_changes({"code": "P-1", "status": "idle", "area_m2": 9.5, "is_synthetic": True},
        ...                  "en", {"code": "P-1", "status": "in_production", "area_m2": 9.5})
        [('Status', 'Idle (confirmed)')]
    """
    compare = seen is not None and "code" in current and seen.get("code") == current.get("code")
    out = []
    for column, value in current.items():
        if column in _BOOKKEEPING or column.endswith("_id") or f"field.{column}" not in TEXTS:
            continue
        if compare and (column not in seen or _same(seen[column], value)):
            continue
        out.append((label("field", column, lang), _shown(column, value, lang)))
    return out


def wants_json(path: str | None = None) -> bool:
    """True for the API, the tiles and Dash's own endpoints (their clients read JSON, not pages)."""
    path = request.path if path is None else path
    return path in API_PATHS or path.startswith(JSON_PREFIXES)


def unusable_char(text: str) -> str | None:
    """``U+0000`` or ``U+D800``-style name of the first character no database text may hold."""
    found = UNUSABLE_CHARS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def json_error(status: int, message: str, field: str | None = None, **extra) -> Response:
    """The contract's JSON answer: ``{"error": message, "field": field, ...}``, never cached."""
    resp = jsonify(error=message, field=field, **extra)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


# Rendered outside Flask's templates: their context processors would look up the signed-in user
# in the database, which may be the very fault being reported. Autoescaped: a path or message with
# HTML in it is shown as text.
ERROR_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ title }} · {{ app_title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/gisapp.css"><link rel="stylesheet" href="/assets/editing.css"></head>
<body class="login-page error-page">
<main class="login-box">
  <h1>{{ app_title }}</h1>
  <h2>{{ title }}</h2>
  <p id="error-message" class="form-error" role="alert">{{ message }}</p>
  <p><a id="error-home" href="/?lang={{ lang }}">{{ home }}</a></p>
</main>
</body></html>""")


def error_page(status: int, message: str, lang: str) -> Response:
    body = ERROR_PAGE.render(
        lang=lang,
        title=t("error.page_title", lang),
        app_title=t("app.title", lang),
        message=message,
        home=t("error.page_home", lang),
    )
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def answer(status: int, message: str, field: str | None = None, **extra) -> Response:
    """JSON for the API and the tiles, a page for everything else."""
    if wants_json():
        return json_error(status, message, field, **extra)
    return error_page(status, message, request_lang())


# -- database faults ---------------------------------------------------------------------------


def _driver_error(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def _primary(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc).strip()
    return (text.splitlines() or [""])[0][:200]


def database_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database is away (down, restarting, out of connections)."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection came free: overloaded
        return True
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = _driver_error(exc)
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(orig, "sqlstate", None)
    # no SQLSTATE: the client library itself lost or could not open the connection
    return state is None or state.startswith(UNREACHABLE_STATES)


def database_answer(exc: BaseException, lang: str) -> Response | None:
    """The answer to a database error: 503 when it is away, 4xx when it refused a value the
    request sent; None when ``exc`` is neither (an unexpected error)."""
    if database_unreachable(exc):
        logger.warning("database unreachable on %s %s: %s", request.method, request.path, _primary(_driver_error(exc)))
        resp = answer(503, t("error.db_down", lang))
        resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return resp
    orig = _driver_error(exc)
    state = getattr(orig, "sqlstate", None) or ""
    status = 400 if request.method in ("GET", "HEAD") else 422
    if isinstance(exc, sa.exc.DataError) or isinstance(orig, psycopg.DataError) or state.startswith("22"):
        return answer(status, t("error.db_value", lang, detail=_primary(orig)))
    if state.startswith("54"):  # program limit exceeded: a statement too complex, a value too big
        return answer(status, t("error.db_limit", lang, detail=_primary(orig)))
    return None


def unexpected(exc: BaseException, lang: str) -> Response:
    """Log ``exc`` with a short id and answer 500 with a sentence that gives the id."""
    error_id = secrets.token_hex(4)
    logger.error("unexpected error %s on %s %s", error_id, request.method, request.path, exc_info=exc)
    return answer(500, t("error.unexpected", lang, error_id=error_id), error_id=error_id)


# -- the handlers --------------------------------------------------------------------------------


def _handle_http(exc: HTTPException) -> Response | HTTPException:
    original = getattr(exc, "original_exception", None)
    if original is not None and not isinstance(original, HTTPException):
        # Flask wraps an error raised where no handler ran (an after_request hook) in a 500
        return _handle_exception(original)
    if exc.code is None:
        return exc
    lang = request_lang()
    if isinstance(exc, MethodNotAllowed) and wants_json() and not _has_route(request.path):
        exc = NotFound()
    if exc.code == 404 and wants_json():
        return json_error(404, t("error.unknown_path", lang, path=request.path[:120]))
    key = f"error.http.{exc.code}"
    if key in TEXTS:
        detail = t(key, lang, method=request.method)
    else:
        detail = exc.name
    resp = answer(exc.code, t("error.http", lang, code=exc.code, detail=detail))
    for name, value in exc.get_headers():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            resp.headers[name] = value
    return resp


def _handle_exception(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    lang = request_lang()
    if isinstance(exc, NotFoundError):
        return answer(404, str(exc))
    if isinstance(exc, InputError):
        return answer(400 if request.method in ("GET", "HEAD") else 422, str(exc), getattr(exc, "field", None))
    db = database_answer(exc, lang)
    if db is not None:
        return db
    if isinstance(exc, UnicodeError):  # a lone surrogate reached a database driver or an encoder
        return answer(400 if request.method in ("GET", "HEAD") else 422,
                      t("error.bad_char_in_request", lang, field="?", char="U+D800-U+DFFF"))
    if isinstance(exc, RecursionError):  # a nested value deeper than any code here can walk
        logger.warning("nesting too deep on %s %s", request.method, request.path)
        return answer(422, t("error.json_too_deep", lang))
    return unexpected(exc, lang)


def _has_route(path: str) -> bool:
    """True when a route of the app (not Dash's catch-all page route) serves ``path`` by some method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    catchall = current_app.config.get("GISAPP_DASH_CATCHALL")
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            rule, _args = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != catchall:
            return True
    return False


def _check_api_request() -> Response | None:
    """Under the clients' paths (/api, /tiles, /styles, /ogc): a JSON 404 where only Dash's page
    route would answer, and a 400
    for a path segment or query parameter no database text can hold (NUL, a lone surrogate)."""
    path = request.path
    if not (path in API_PATHS or path.startswith(API_PREFIXES)):
        return None
    rule = request.url_rule
    if rule is not None and rule.endpoint == current_app.config.get("GISAPP_DASH_CATCHALL"):
        raise NotFound()
    values = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    for name, value in values:
        char = unusable_char(value) if isinstance(value, str) else None
        if char:
            return json_error(400, t("error.bad_char_in_request", request_lang(), field=name, char=char), name)
    return None


def init_errors(app: Dash) -> None:
    """Register the contract on ``app``'s Flask server (after the sign-in guard, so an unknown
    API path tells nothing to someone not signed in)."""
    server: Flask = app.server
    server.config["GISAPP_DASH_CATCHALL"] = app.config.routes_pathname_prefix + "<path:path>"
    server.register_error_handler(HTTPException, _handle_http)
    server.register_error_handler(Exception, _handle_exception)
    server.before_request(_check_api_request)
