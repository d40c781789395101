"""Accounts of the app, managed in the browser (bureau admins only): list them with their role,
zones, state and last sign-in; add one; disable or enable one; set a new password; bind a zone
editor's zones. An adapter over :mod:`gisapp.queries.users`, the functions `gisapp users` calls.

Only the ``bureau_admin`` role sees the page (everyone else gets the refusal alone, 403). That is
the friendly check: every change runs as the database role ``gisapp_web`` with the admin's
verified context, and the database's account functions (sql/security/0710) refuse any other
context and audit the change (who, when, what; never the password). Disabling an account, a new
password or new zones end the account's sessions on the server. The forms carry the session's
token (as the import page's), and the session cookie is SameSite=Lax.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template_string, request

from gisapp.db.engine import get_engine
from gisapp.errors import GisappError, InputError, NotFoundError
from gisapp.i18n import t
from gisapp.queries.dashboard import zones as zone_choices
from gisapp.queries.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    USERNAME,
    AccountChangeRefused,
    add_user,
    last_sign_ins,
    list_users,
    set_disabled,
    set_password,
    set_user_zones,
)
from gisapp.web.auth import csrf_ok, csrf_token, current_actor, request_lang
from gisapp.web.components import header_html, page_html

users_page = Blueprint("users_page", __name__)

PATH = "/admin/users"
ALLOWED_ROLES = {"bureau_admin"}
#: the page's words, keys of gisapp.i18n (``users.page.<name>``)
WORDS = ("title", "note", "list", "username", "display_name", "role", "zones", "state", "last_sign_in", "actions",
         "active", "disabled", "never", "disable", "enable", "new_password", "set_password", "set_zones", "add",
         "password", "submit_add", "no_zones")
ACTIONS = ("add", "disable", "enable", "password", "zones")
#: the zone offices' clock, to the minute: the last sign-in as people there read it
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Jinja autoescapes every value: a display name with HTML in it is shown as text.
BODY = """\
<h2>{{ x.title }}</h2>
{% if error %}<p id="users-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
{% if done %}<p id="users-done" class="form-ok" role="status">{{ done }}</p>{% endif %}
{% if allowed %}
<p>{{ x.note }}</p>
<h3>{{ x.list }}</h3>
<table id="users-table" class="record-table"><thead><tr><th>{{ x.username }}</th><th>{{ x.display_name }}</th>
<th>{{ x.role }}</th><th>{{ x.zones }}</th><th>{{ x.state }}</th><th>{{ x.last_sign_in }}</th><th>{{ x.actions }}</th>
</tr></thead><tbody>
{% for a in accounts %}<tr id="users-row-{{ a.username }}" data-username="{{ a.username }}">
<td class="users-username">{{ a.username }}</td><td>{{ a.display_name }}</td><td class="users-role">{{ a.role_label }}</td>
<td class="users-zones">{{ a.zone_labels or x.no_zones }}</td>
<td class="users-state">{{ x.disabled if a.disabled else x.active }}</td>
<td class="users-last">{{ a.last or x.never }}</td>
<td class="users-actions">
  <form class="users-toggle-form" method="post" action="{{ action }}">
    <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="username" value="{{ a.username }}">
    <input type="hidden" name="action" value="{{ 'enable' if a.disabled else 'disable' }}">
    <button type="submit" class="users-toggle">{{ x.enable if a.disabled else x.disable }}</button></form>
  <form class="users-password-form" method="post" action="{{ action }}">
    <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="username" value="{{ a.username }}">
    <input type="hidden" name="action" value="password">
    <input type="password" name="password" class="users-new-password" autocomplete="new-password"
      minlength="{{ min_password }}" placeholder="{{ x.new_password }}" aria-label="{{ x.new_password }}">
    <button type="submit">{{ x.set_password }}</button></form>
  {% if a.role == 'zone_editor' %}<form class="users-zones-form" method="post" action="{{ action }}">
    <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="username" value="{{ a.username }}">
    <input type="hidden" name="action" value="zones">
    <select name="zones" multiple size="3" aria-label="{{ x.zones }}">
    {% for code, name in zones %}<option value="{{ code }}" {{ 'selected' if code in a.zone_codes }}>{{ name }}</option>{% endfor %}
    </select>
    <button type="submit">{{ x.set_zones }}</button></form>{% endif %}
</td></tr>{% endfor %}
</tbody></table>
<h3>{{ x.add }}</h3>
<form id="users-add-form" class="edit-form" method="post" action="{{ action }}">
  <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="add">
  <div class="form-row"><label for="users-add-username">{{ x.username }}</label>
  <input id="users-add-username" name="username" value="{{ form.username }}" autocomplete="off" required></div>
  <div class="form-row"><label for="users-add-display-name">{{ x.display_name }}</label>
  <input id="users-add-display-name" name="display_name" value="{{ form.display_name }}"></div>
  <div class="form-row"><label for="users-add-role">{{ x.role }}</label>
  <select id="users-add-role" name="role">
    {% for r, label in roles %}<option value="{{ r }}" {{ 'selected' if r == form.role }}>{{ label }}</option>{% endfor %}
  </select></div>
  <div class="form-row"><label for="users-add-zones">{{ x.zones }}</label>
  <select id="users-add-zones" name="zones" multiple size="4">
    {% for code, name in zones %}<option value="{{ code }}" {{ 'selected' if code in form.zones }}>{{ name }}</option>{% endfor %}
  </select></div>
  <div class="form-row"><label for="users-add-password">{{ x.password }}</label>
  <input id="users-add-password" name="password" type="password" autocomplete="new-password" minlength="{{ min_password }}"
    required></div>
  <button id="users-add-submit" type="submit">{{ x.submit_add }}</button>
</form>
{% endif %}
"""


def may_manage_users() -> bool:
    """Whether the signed-in user may use this page (the app's navigation links it for them)."""
    actor = current_actor()
    return actor is not None and actor.role in ALLOWED_ROLES


def _local_time(value: dt.datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def _zone_names(lang: str) -> list[tuple[str, str]]:
    frame = zone_choices(get_engine())
    return [(row.code, row.name_zh if lang == "zh" else row.name_en) for row in frame.itertuples()]


def _page(lang: str, status: int = 200, allowed: bool = True, form: dict | None = None, **values) -> Response:
    accounts = []
    zones: list[tuple[str, str]] = []
    if allowed:
        engine = get_engine()
        zones = _zone_names(lang)
        names = dict(zones)
        last = last_sign_ins(engine)
        for a in list_users(engine):
            accounts.append({
                "username": a.username, "display_name": a.display_name, "role": a.role, "disabled": a.disabled,
                "role_label": t(f"role.{a.role}", lang), "zone_codes": a.zone_codes,
                "zone_labels": "、".join(names.get(c, c) for c in a.zone_codes) if lang == "zh"
                else ", ".join(names.get(c, c) for c in a.zone_codes),
                "last": _local_time(last.get(a.username))})
    query = {k: v for k, v in request.args.items() if k != "lang"}
    body = render_template_string(
        BODY, lang=lang, x={w: t(f"users.page.{w}", lang) for w in WORDS}, app_title=t("app.title", lang),
        header=header_html(lang, PATH, query), csrf=csrf_token(), action=f"{PATH}?lang={lang}", allowed=allowed,
        accounts=accounts, zones=zones, roles=[(r, t(f"role.{r}", lang)) for r in ROLES],
        min_password=MIN_PASSWORD_LENGTH,
        form={"username": "", "display_name": "", "role": "zone_editor", "zones": (), **(form or {})}, **values)
    body = page_html(lang, PATH, query, t("users.page.title", lang), body, "users")
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _refused(lang: str) -> Response:
    """Only the refusal (and the header): nothing of the accounts for someone who may not manage them."""
    return _page(lang, 403, allowed=False, error=t("users.page.forbidden", lang))


@users_page.get(PATH)
def show():
    lang = request_lang()
    if not may_manage_users():
        return _refused(lang)
    return _page(lang)


def _checked(lang: str, action: str, username: str, password: str, role: str, zones: tuple[str, ...]) -> str | None:
    """The first problem with the form, in ``lang``, before asking the database (which checks again)."""
    if action not in ACTIONS:
        return t("users.page.bad_action", lang)
    if action == "add" and not USERNAME.match(username):
        return t("users.page.bad_username", lang)
    if action in ("add", "password") and len(password) < MIN_PASSWORD_LENGTH:
        return t("users.page.short_password", lang, n=MIN_PASSWORD_LENGTH)
    if action == "add" and role not in ROLES:
        return t("users.page.bad_role", lang)
    if action == "add" and role == "zone_editor" and not zones:
        return t("users.page.zones_required", lang)
    if action == "add" and role != "zone_editor" and zones:
        return t("users.page.zones_not_for_role", lang)
    if action == "zones" and not zones:
        return t("users.page.zones_required", lang)
    if action == "disable" and username == current_actor().username:
        return t("users.page.not_self", lang)
    return None


@users_page.post(PATH)
def submit():
    lang = request_lang()
    if not may_manage_users():
        return _refused(lang)
    if not csrf_ok():
        return _page(lang, 400, error=t("users.page.bad_token", lang))
    action = request.form.get("action", "")
    username = (request.form.get("username") or "").strip().lower()[:80]
    password = request.form.get("password") or ""
    role = request.form.get("role") or ""
    zones = tuple(dict.fromkeys(z for z in request.form.getlist("zones") if z))[:50]
    display_name = (request.form.get("display_name") or "").strip()[:80] or None
    form = {"username": username, "display_name": display_name or "", "role": role, "zones": zones} \
        if action == "add" else None
    problem = _checked(lang, action, username, password, role, zones)
    if problem:
        return _page(lang, 400, form=form, error=problem)
    engine, actor = get_engine(), current_actor()
    try:
        if action == "add":
            add_user(engine, username, password, role, zones, display_name, actor=actor)
        elif action in ("disable", "enable"):
            set_disabled(engine, username, disabled=action == "disable", actor=actor)
        elif action == "password":
            set_password(engine, username, password, actor=actor)
        else:
            set_user_zones(engine, username, zones, actor=actor)
    except AccountChangeRefused:
        return _page(lang, 403, form=form, error=t("users.page.forbidden", lang))
    except NotFoundError:
        return _page(lang, 404, form=form, error=t("users.page.no_such_user", lang, name=username))
    except InputError as exc:
        taken = "already exists" in str(exc) or "is taken" in str(exc)
        message = t("users.page.taken", lang, name=username) if taken else t("users.page.bad_input", lang, detail=str(exc))
        return _page(lang, 400, form=form, error=message)
    except GisappError as exc:
        return _page(lang, 400, form=form, error=t("users.page.bad_input", lang, detail=str(exc)))
    return _page(lang, done=t(f"users.page.done.{action}", lang, name=username))
