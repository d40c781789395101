"""Shared pieces of the pages: header with the synthetic-data banner, navigation and the
language switch.

The language travels in the URL (``?lang=en``): every page renders its labels for it on the
server, so a switch is a link to the same page in the other language. The Dash pages draw the
header with :func:`header`, the pages Flask renders (the import page) with :func:`header_html`:
the same ids, links and classes.
"""

from __future__ import annotations

from urllib.parse import urlencode

from dash import html
from flask import has_request_context
from jinja2 import Environment
from markupsafe import Markup

from gisapp.db.engine import get_engine
from gisapp.i18n import LANGUAGES, t
from gisapp.queries.meta import is_synthetic
from gisapp.settings import get_settings


def page_lang(query: dict | None) -> str:
    """The UI language asked for in a page's query string, else the configured default."""
    lang = (query or {}).get("lang") or get_settings().language
    return lang if lang in LANGUAGES else "zh"


def page_url(path: str, lang: str, **query: object) -> str:
    """``path`` with ``lang`` and the other non-empty query values."""
    values = {"lang": lang, **{k: v for k, v in query.items() if v not in (None, "")}}
    return f"{path}?{urlencode(values)}"


def nav_links(lang: str) -> list[tuple[str, str, str]]:
    """``(id, label, href)`` of the navigation: the import page only for those who may import."""
    from gisapp.web.import_page import may_import

    links = [("app-nav-map", t("nav.map", lang), page_url("/", lang)),
             ("app-nav-dashboard", t("nav.dashboard", lang), page_url("/dashboard", lang))]
    if has_request_context() and may_import():
        links.append(("app-nav-import", t("nav.import", lang), page_url("/admin/import", lang)))
        links.append(("app-nav-users", t("nav.users", lang), page_url("/admin/users", lang)))
    return links


def header(lang: str, path: str = "/", query: dict | None = None) -> html.Div:
    """The page header; ``path`` and ``query`` make the language switch keep the page and its state."""
    other = "en" if lang == "zh" else "zh"
    keep = {k: v for k, v in (query or {}).items() if k != "lang"}
    synthetic = is_synthetic(get_engine())
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
<form id="app-logout-form" class="logout-form" action="/logout" method="POST">
<input type="hidden" name="csrf" value="{{ csrf }}"><button id="app-logout" type="submit">{{ logout }}</button></form>
{%- endif %}</div>""")
_HEADER_HTML = Environment(autoescape=True).from_string("""\
<div id="app-header" class="app-header"><h1 id="app-title">{{ title }}</h1>
{%- if synthetic %}<span id="app-synthetic-banner" class="synthetic-banner">{{ synthetic }}</span>{% endif %}
<nav class="app-nav">{% for link_id, label, href in links %}<a id="{{ link_id }}" href="{{ href }}">{{ label }}</a>
{%- endfor %}</nav><a id="app-lang-switch" class="lang-switch" href="{{ switch_href }}">{{ switch }}</a></div>""")


def user_bar_html(lang: str) -> Markup:
    """The signed-in user's bar (gisapp.web.auth.user_bar) as HTML, for a page Flask renders: it
    goes first in ``#app-root``, as in the Dash app's layout."""
    from gisapp.web.auth import csrf_token, signed_in_label

    user = signed_in_label(lang)
    return Markup(_USER_BAR_HTML.render(user=user, csrf=csrf_token() if user else "", logout=t("auth.logout", lang)))


def header_html(lang: str, path: str, query: dict | None = None) -> Markup:
    """:func:`header` as HTML, for a page Flask renders (first in its ``.page``, as on the Dash pages)."""
    other = "en" if lang == "zh" else "zh"
    keep = {k: v for k, v in (query or {}).items() if k != "lang"}
    return Markup(_HEADER_HTML.render(
        title=t("app.title", lang), synthetic=t("app.synthetic", lang) if is_synthetic(get_engine()) else "",
        links=nav_links(lang), switch=t("lang.switch", lang), switch_href=page_url(path, other, **keep)))
