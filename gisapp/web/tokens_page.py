"""The signed-in user's personal API tokens (``/account/tokens``): list them, make one (shown once,
with how QGIS, GDAL and a web map use it), revoke one. An adapter over gisapp.queries.tokens, the
functions ``gisapp tokens`` calls.

Every signed-in user may use the page, for their own tokens only: the change runs as the
database role ``gisapp_web`` with the user's verified context, and the database's token
functions (sql/security/0930) refuse any other user and audit the change. Forms carry the
session's token. A token signs in reads only (gisapp.web.client_auth).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template_string, request

from gisapp.db.engine import get_engine
from gisapp.errors import GisappError
from gisapp.i18n import t
from gisapp.queries.tokens import MAX_LABEL, create_token, list_tokens, revoke_token
from gisapp.web.auth import csrf_ok, csrf_token, current_actor, request_lang
from gisapp.web.components import page_html

tokens_page = Blueprint("tokens_page", __name__)

PATH = "/account/tokens"
#: the page's words, keys of gisapp.i18n (``tokens.page.<name>``)
WORDS = ("title", "note", "list", "label", "created", "state", "active", "revoked", "revoke", "none", "add",
         "submit_add", "new", "new_note", "use_basic", "use_bearer", "use_tilejson")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Jinja autoescapes every value: a token's name with HTML in it is shown as text.
BODY = """\
<h2>{{ x.title }}</h2>
{% if error %}<p id="tokens-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
{% if done %}<p id="tokens-done" class="form-ok" role="status">{{ done }}</p>{% endif %}
{% if new_token %}<div id="tokens-new-box" class="form-ok"><p>{{ x.new }}</p>
<p><code id="tokens-new">{{ new_token }}</code></p><p>{{ x.new_note }}</p>
<ul><li>{{ x.use_basic }}: <code>{{ username }}</code> / <code>{{ new_token }}</code></li>
<li>{{ x.use_bearer }}: <code>Authorization: Bearer {{ new_token }}</code></li>
<li>{{ x.use_tilejson }}: <code>{{ base_url }}/tiles/parcels.json</code></li></ul></div>{% endif %}
<p>{{ x.note }}</p>
<h3>{{ x.list }}</h3>
{% if tokens %}<table id="tokens-table" class="record-table"><thead><tr><th>{{ x.label }}</th><th>{{ x.created }}</th>
<th>{{ x.state }}</th><th></th></tr></thead><tbody>
{% for k in tokens %}<tr id="tokens-row-{{ k.id }}"><td class="tokens-label">{{ k.label }}</td><td>{{ k.created }}</td>
<td class="tokens-state">{{ x.active if k.active else x.revoked ~ ' ' ~ k.revoked }}</td>
<td>{% if k.active %}<form class="tokens-revoke-form" method="post" action="{{ action }}">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="revoke">
<input type="hidden" name="token_id" value="{{ k.id }}">
<button type="submit" class="tokens-revoke">{{ x.revoke }}</button></form>{% endif %}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="tokens-none">{{ x.none }}</p>{% endif %}
<h3>{{ x.add }}</h3>
<form id="tokens-add-form" class="edit-form" method="post" action="{{ action }}">
  <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="create">
  <div class="form-row"><label for="tokens-add-label">{{ x.label }}</label>
  <input id="tokens-add-label" name="label" maxlength="{{ max_label }}" required autocomplete="off"></div>
  <button id="tokens-add-submit" type="submit">{{ x.submit_add }}</button>
</form>
"""


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def _page(lang: str, status: int = 200, **values) -> Response:
    actor = current_actor()
    tokens = [{"id": k.id, "label": k.label, "created": _local(k.created_at), "revoked": _local(k.revoked_at),
               "active": k.active} for k in list_tokens(get_engine(), actor.username)]
    query = {k: v for k, v in request.args.items() if k != "lang"}
    body = render_template_string(
        BODY, x={w: t(f"tokens.page.{w}", lang) for w in WORDS}, csrf=csrf_token(), action=f"{PATH}?lang={lang}",
        tokens=tokens, username=actor.username, base_url=request.url_root.rstrip("/"), max_label=MAX_LABEL,
        **values)
    body = page_html(lang, PATH, query, t("tokens.page.title", lang), body, "tokens")
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


@tokens_page.get(PATH)
def show():
    return _page(request_lang())


@tokens_page.post(PATH)
def submit():
    lang = request_lang()
    if not csrf_ok():
        return _page(lang, 400, error=t("tokens.page.bad_token", lang))
    actor = current_actor()
    action = request.form.get("action", "")
    try:
        if action == "create":
            label = (request.form.get("label") or "").strip()
            if not 1 <= len(label) <= MAX_LABEL:
                return _page(lang, 422, error=t("tokens.page.bad_label", lang, n=MAX_LABEL))
            _id, token = create_token(get_engine(), actor.username, label, actor=actor)
            return _page(lang, new_token=token, done=t("tokens.page.created_done", lang, label=label))
        if action == "revoke":
            text = request.form.get("token_id") or ""
            if not (text.isascii() and text.isdigit() and len(text) < 10):
                return _page(lang, 422, error=t("tokens.page.bad_action", lang))
            revoke_token(get_engine(), actor.username, int(text), actor=actor)
            return _page(lang, done=t("tokens.page.revoked_done", lang))
    except GisappError as exc:
        return _page(lang, 422, error=t("tokens.page.refused", lang, detail=str(exc)))
    return _page(lang, 422, error=t("tokens.page.bad_action", lang))
