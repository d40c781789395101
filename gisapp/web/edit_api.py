"""JSON endpoints for edits, for scripts and other clients (the parcel page calls the same
``gisapp.queries.edits`` functions from its callbacks). Adapters only: read the JSON body, call
the edit as the signed-in user, shape the answer.

Answers: 200 ``{"ok": true, "table", "id", "version"}``; 401 not signed in (the guard);
403 not allowed; 404 unknown parcel or record; 409 stale edit with ``current`` values;
415 the body is not JSON; 400 the body is not a JSON object; 422 ``{"field": name, "fields":
{field: message}}`` for bad values (and for a body nested too deeply or holding a number no
column can hold); 503 the database cannot be reached; 500 with an ``error_id`` for anything
unforeseen. Every refusal has ``error`` (a sentence) and ``field`` (gisapp.web.errors).
Only JSON bodies are read, so a form on another site cannot post here (and the session cookie is
SameSite=Lax besides).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import problem_texts, t
from gisapp.queries import edits
from gisapp.queries.parcel_record import parcel_as_of, parcel_record
from gisapp.web.auth import current_actor, request_lang
from gisapp.web.errors import (
    EDIT_ERRORS,
    database_answer,
    edit_failure,
    json_error,
    saved_message,
    unexpected,
)

edit_api = Blueprint("edit_api", __name__, url_prefix="/api/edits")

#: the edits of a parcel, by the id in their URL (gisapp.queries.edits.EDIT_KINDS)
PARCEL_EDITS: dict[str, Callable] = {
    kind.id: kind.save for kind in edits.EDIT_KINDS.values() if kind.subject == "parcel"
}


#: digits of a JSON integer the body may hold: Python refuses to read more than 4300 at all (a
#: longer one is refused for the whole body; a shorter one too large for its column is refused on
#: its field by the edit's form)
MAX_JSON_INT_DIGITS = 4000


def _no_store(resp, status: int = 200):
    resp.headers["Cache-Control"] = "no-store"
    return resp, status


class _NotFinite(ValueError):
    """A JSON number no column can hold (``1e400`` reads as infinity, ``NaN``, 10^40)."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


def _short_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise _NotFinite(f"{text[:12]}…")
    return int(text)


def _refuse_constant(text: str):
    raise _NotFinite(text)


def _json_body(lang: str) -> dict | Response:
    """The edit's JSON object, or the answer refusing the body (nothing is written)."""
    if not request.is_json:
        return json_error(415, t("error.not_json", lang))
    try:
        body = json.loads(
            request.get_data(),
            parse_float=_finite_float,
            parse_int=_short_int,
            parse_constant=_refuse_constant,
        )
    except _NotFinite as exc:
        return json_error(422, t("error.json_not_finite", lang, value=str(exc)[:40]))
    except RecursionError:
        return json_error(422, t("error.json_too_deep", lang))
    except ValueError:  # not JSON, or not UTF-8
        return json_error(400, t("error.not_json", lang))
    if not isinstance(body, dict):
        return json_error(400, t("error.not_json", lang))
    return body


def _run(edit: Callable, *args):
    lang = request_lang()
    body = _json_body(lang)
    if isinstance(body, Response):
        return _no_store(body, body.status_code)
    try:
        result = edit(get_engine(), current_actor(), *args, body)
    except EDIT_ERRORS as exc:
        failure = edit_failure(exc, lang)
        extra = {"fields": failure.fields} if failure.status == 422 else {}
        if failure.current is not None:
            extra["current"] = failure.current
        return _no_store(json_error(failure.status, failure.message, failure.field, **extra), failure.status)
    except sa.exc.DBAPIError as exc:
        # a refusal the edit did not foresee: a value beyond a column (422), the database away
        # (503), or a fault to look into (500 with the id of the logged traceback)
        answer = database_answer(exc, lang) or unexpected(exc, lang)
        return _no_store(answer, answer.status_code)
    return _no_store(
        jsonify(
            ok=True,
            table=result.table,
            id=result.row_id,
            version=result.version,
            message=saved_message(result, lang),
        )
    )


@edit_api.post("/parcels/<code>/<kind>")
def edit_parcel(code: str, kind: str):
    edit = PARCEL_EDITS.get(kind)
    if edit is None:
        message = t("error.unknown_edit", request_lang(), kind=kind[:40], known=", ".join(PARCEL_EDITS))
        return _no_store(json_error(404, message, "kind"), 404)
    return _run(edit, code)


@edit_api.post("/findings/<int:finding_id>/review")
def review_finding(finding_id: int):
    return _run(edits.EDIT_KINDS["review"].save, finding_id)


@edit_api.get("/parcels/<code>")
def parcel(code: str):
    """The parcel with what the signed-in user may do with it (``may_edit``, ``next_statuses``)."""
    try:
        record = parcel_record(get_engine(), current_actor(), code)
    except NotFoundError as exc:
        return _no_store(json_error(404, str(exc), "code"), 404)
    return _no_store(jsonify(record))


@edit_api.get("/parcels/<code>/as-of/<on>")
def parcel_on(code: str, on: str):
    form = edits.Form({"on": on})
    day = form.date("on", required=True, not_future=False)
    if form.problems:
        message = problem_texts(form.problems, request_lang())["on"]
        return _no_store(json_error(400, message, "on"), 400)
    try:
        return _no_store(jsonify(parcel_as_of(get_engine(), current_actor(), code, day)))
    except NotFoundError as exc:
        return _no_store(json_error(404, str(exc), "code"), 404)
