"""JSON endpoints for edits, for scripts and other clients (the parcel page calls the same
``gisapp.queries.edits`` functions from its callbacks). Adapters only: read the JSON body, call
the edit as the signed-in user, shape the answer.

Answers: 200 ``{"ok": true, "table", "id", "version"}``; 401 not signed in (the guard);
403 not allowed; 404 unknown parcel or record; 409 stale edit with ``current`` values;
415 the body is not JSON; 422 ``{"fields": {field: message}}`` for bad values.
Only JSON bodies are read, so a form on another site cannot post here (and the session cookie is
SameSite=Lax besides).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, request

from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import t
from gisapp.queries import edits
from gisapp.queries.parcel_record import parcel_as_of, parcel_record
from gisapp.web.auth import current_actor, request_lang

edit_api = Blueprint("edit_api", __name__, url_prefix="/api/edits")

PARCEL_EDITS: dict[str, Callable] = {
    "status": edits.change_status,
    "green-areas": edits.record_green_area,
    "progress": edits.record_progress,
    "metrics": edits.record_metrics,
    "mixed-use": edits.set_mixed_use,
    "grants": edits.save_grant,
    "grant-requirements": edits.save_grant_requirement,
    "quota-requests": edits.request_quota,
    "geometry": edits.update_geometry,
}


def _no_store(resp, status: int = 200):
    resp.headers["Cache-Control"] = "no-store"
    return resp, status


def _json_body() -> dict | None:
    if not request.is_json:
        return None
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _run(edit: Callable, *args):
    body = _json_body()
    lang = request_lang()
    if body is None:
        return _no_store(
            jsonify(error="send the edit as a JSON object (Content-Type: application/json)"), 415
        )
    try:
        result = edit(get_engine(), current_actor(), *args, body)
    except edits.ValidationFailed as exc:
        return _no_store(jsonify(error=t("edit.failed", lang), fields=exc.messages(lang)), 422)
    except edits.EditConflict as exc:
        return _no_store(jsonify(error=exc.describe(lang), current=exc.current), 409)
    except edits.EditRefused as exc:
        return _no_store(jsonify(error=t("edit.forbidden", lang, detail=str(exc))), 403)
    except NotFoundError as exc:
        return _no_store(jsonify(error=str(exc)), 404)
    return _no_store(
        jsonify(
            ok=True,
            table=result.table,
            id=result.row_id,
            version=result.version,
            message=t("edit.saved", lang, version=result.version),
        )
    )


@edit_api.post("/parcels/<code>/<kind>")
def edit_parcel(code: str, kind: str):
    edit = PARCEL_EDITS.get(kind)
    if edit is None:
        return _no_store(jsonify(error=f"unknown edit {kind[:40]!r}; known: {', '.join(PARCEL_EDITS)}"), 404)
    return _run(edit, code)


@edit_api.post("/findings/<int:finding_id>/review")
def review_finding(finding_id: int):
    return _run(edits.review_finding, finding_id)


@edit_api.get("/parcels/<code>")
def parcel(code: str):
    """The parcel with what the signed-in user may do with it (``may_edit``, ``next_statuses``)."""
    try:
        record = parcel_record(get_engine(), current_actor(), code)
    except NotFoundError as exc:
        return _no_store(jsonify(error=str(exc)), 404)
    return _no_store(jsonify(record))


@edit_api.get("/parcels/<code>/as-of/<on>")
def parcel_on(code: str, on: str):
    form = edits.Form({"on": on})
    day = form.date("on", required=True, not_future=False)
    if form.problems:
        return _no_store(
            jsonify(error=edits.ValidationFailed(form.problems).messages(request_lang())["on"]), 400
        )
    try:
        return _no_store(jsonify(parcel_as_of(get_engine(), current_actor(), code, day)))
    except NotFoundError as exc:
        return _no_store(jsonify(error=str(exc)), 404)
