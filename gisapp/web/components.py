"""Shared pieces of the pages: header with the synthetic-data banner, navigation and the
language switch; how times and editors are shown.

The language travels in the URL (``?lang=en``): every page renders its labels for it on the
server, so a switch is a link to the same page in the other language. The Dash pages draw the
header with :func:`header`, the pages Flask renders (the import page) with :func:`header_html`:
the same ids, links and classes.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dash import html
from flask import g, has_request_context
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.engine import make_url

from gisapp.db.engine import get_engine
from gisapp.i18n import LANGUAGES, t
from gisapp.queries.meta import is_synthetic
from gisapp.settings import get_settings

#: the zone offices' clock: every time the UI shows is in it, to the minute
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M"


def page_lang(query: dict | None) -> str:
    """The UI language asked for in a page's query string, else the configured default."""
    lang = (query or {}).get("lang") or get_settings().language
    return lang if lang in LANGUAGES else "zh"


def page_url(path: str, lang: str, **query: object) -> str:
    """``path`` with ``lang`` and the other non-empty query values."""
    values = {"lang": lang, **{k: v for k, v in query.items() if v not in (None, "")}}
    return f"{path}?{urlencode(values)}"


def when(value: object) -> str:
    """A time as the UI shows it: Asia/Shanghai, ``YYYY-MM-DD HH:MM`` ("" for none). Takes a
    datetime or an ISO string (as the JSON of a record holds it); a time without a zone is UTC,
    the database's; a date stays a date.

    Example:
        >>> when("2026-03-01T02:05:09.123+00:00")
        '2026-03-01 10:05'
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if ":" not in value:  # a day ("2026-03-01"), which has no zone to convert
            return value
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _owner_names() -> set[str]:
    """Database roles that write as the system (migrations, the demo and bulk loads), not a person."""
    settings = get_settings()
    names = {settings.db_superuser}
    url = settings.owner_database_url or settings.database_url
    if url:
        names.add(make_url(url).username or "")
    return names - {""}


def editor(name: object, lang: str) -> str:
    """Who made a change, as people read it: the tables' owner (the demo loader, a bulk load) is
    "the system", not an internal role name."""
    if name is None or name == "":
        return ""
    if str(name) in _owner_names():
        return t("editor.demo_load" if _synthetic() else "editor.system", lang)
    return str(name)


def _synthetic() -> bool:
    """Whether the database holds the synthetic demo data, asked once per request (a page names
    the demo loader in every row of its change log)."""
    if not has_request_context():
        return is_synthetic(get_engine())
    if "gisapp_synthetic" not in g:
        g.gisapp_synthetic = is_synthetic(get_engine())
    return g.gisapp_synthetic


def nav_links(lang: str) -> list[tuple[str, str, str]]:
    """``(id, label, href)`` of the navigation: the import page only for those who may import."""
    from gisapp.web.import_page import may_import

    links = [("app-nav-map", t("nav.map", lang), page_url("/", lang)),
             ("app-nav-dashboard", t("nav.dashboard", lang), page_url("/dashboard", lang)),
             ("app-nav-inventory", t("nav.inventory", lang), page_url("/inventory", lang)),
             ("app-nav-cases", t("nav.cases", lang), page_url("/cases", lang)),
             ("app-nav-green-what-if", t("nav.green_what_if", lang), page_url("/green-what-if", lang)),
             ("app-nav-revitalization", t("nav.revitalization", lang), page_url("/revitalization", lang))]
    if has_request_context() and may_import():
        links.append(("app-nav-import", t("nav.import", lang), page_url("/admin/import", lang)))
        links.append(("app-nav-users", t("nav.users", lang), page_url("/admin/users", lang)))
    return links


def header(lang: str, path: str = "/", query: dict | None = None) -> html.Div:
    """The page header; ``path`` and ``query`` make the language switch keep the page and its state."""
    other = "en" if lang == "zh" else "zh"
    keep = {k: v for k, v in (query or {}).items() if k != "lang"}
    synthetic = _synthetic()
    return html.Div([
        html.H1(t("app.title", lang), id="app-title"),
        html.Span(t("app.synthetic", lang), id="app-synthetic-banner", className="synthetic-banner")
        if synthetic else None,
        html.Nav([html.A(label, href=href, id=link_id) for link_id, label, href in nav_links(lang)],
                 className="app-nav"),
        html.A(t("lang.switch", lang), id="app-lang-switch", className="lang-switch",
               href=page_url(path, other, **keep)),
    ], className="app-header", id="app-header")


# Autoescaped: a user's display name with HTML in it is shown as text.
_USER_BAR_HTML = Environment(autoescape=True).from_string("""\
<div id="app-user" class="user-bar">{% if user %}<span id="app-user-name">{{ user }}</span>
<a id="app-tokens" class="user-tokens" href="{{ tokens_href }}">{{ tokens }}</a>
<form id="app-logout-form" class="logout-form" action="/logout" method="POST">
<input type="hidden" name="csrf" value="{{ csrf }}"><button id="app-logout" type="submit">{{ logout }}</button></form>
{%- endif %}</div>""")
_HEADER_HTML = Environment(autoescape=True).from_string("""\
<div id="app-header" class="app-header"><h1 id="app-title">{{ title }}</h1>
{%- if synthetic %}<span id="app-synthetic-banner" class="synthetic-banner">{{ synthetic }}</span>{% endif %}
<nav class="app-nav">{% for link_id, label, href in links %}<a id="{{ link_id }}" href="{{ href }}">{{ label }}</a>
{%- endfor %}</nav><a id="app-lang-switch" class="lang-switch" href="{{ switch_href }}">{{ switch }}</a></div>""")


# The frame of every page Flask renders (admin import, accounts, inventories, coverage, what-if):
# the same user bar, header, navigation and language switch as the Dash pages, in the same order.
_PAGE_HTML = Environment(autoescape=True).from_string("""\
<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ title }} · {{ app_title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/editing.css"><link rel="stylesheet" href="/assets/gisapp.css">
{%- for css in styles %}<link rel="stylesheet" href="/assets/{{ css }}">{% endfor %}</head>
<body><div id="app-root">{{ user_bar }}
<div><div class="page {{ kind }}-page">{{ header }}<main class="{{ kind }}-body">
{{ body }}
</main></div></div></div></body></html>""")


def page_html(lang: str, path: str, query: dict | None, title: str, body: str, kind: str,
              styles: tuple[str, ...] = ()) -> str:
    """A page Flask renders, in the app's frame: ``body`` (already escaped HTML, e.g. from
    ``render_template_string``) under the signed-in user's bar and the header of ``path``;
    ``kind`` names its CSS classes (``<kind>-page``, ``<kind>-body``)."""
    return _PAGE_HTML.render(lang=lang, title=title, app_title=t("app.title", lang), styles=styles,
                             user_bar=user_bar_html(lang), header=header_html(lang, path, query),
                             kind=kind, body=Markup(body))


def user_bar_html(lang: str) -> Markup:
    """The signed-in user's bar (gisapp.web.auth.user_bar) as HTML, for a page Flask renders: it
    goes first in ``#app-root``, as in the Dash app's layout."""
    from gisapp.web.auth import csrf_token, signed_in_label

    user = signed_in_label(lang)
    return Markup(_USER_BAR_HTML.render(user=user, csrf=csrf_token() if user else "", logout=t("auth.logout", lang),
                                        tokens=t("auth.tokens", lang), tokens_href=page_url("/account/tokens", lang)))


def header_html(lang: str, path: str, query: dict | None = None) -> Markup:
    """:func:`header` as HTML, for a page Flask renders (first in its ``.page``, as on the Dash pages)."""
    other = "en" if lang == "zh" else "zh"
    keep = {k: v for k, v in (query or {}).items() if k != "lang"}
    return Markup(_HEADER_HTML.render(
        title=t("app.title", lang), synthetic=t("app.synthetic", lang) if _synthetic() else "",
        links=nav_links(lang), switch=t("lang.switch", lang), switch_href=page_url(path, other, **keep)))
