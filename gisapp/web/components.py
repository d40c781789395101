"""Shared pieces of the pages: header with the synthetic-data banner, navigation and the
language switch.

The language travels in the URL (``?lang=en``): every page renders its labels for it on the
server, so a switch is a link to the same page in the other language.
"""

from __future__ import annotations

from urllib.parse import urlencode

from dash import html

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


def header(lang: str, path: str = "/", query: dict | None = None) -> html.Div:
    """The page header; ``path`` and ``query`` make the language switch keep the page and its state."""
    other = "en" if lang == "zh" else "zh"
    keep = {k: v for k, v in (query or {}).items() if k != "lang"}
    synthetic = is_synthetic(get_engine())
    return html.Div([
        html.H1(t("app.title", lang), id="app-title"),
        html.Span(t("app.synthetic", lang), id="app-synthetic-banner", className="synthetic-banner")
        if synthetic else None,
        html.Nav([
            html.A(t("nav.map", lang), href=page_url("/", lang), id="app-nav-map"),
            html.A(t("nav.dashboard", lang), href=page_url("/dashboard", lang), id="app-nav-dashboard"),
        ], className="app-nav"),
        html.A(t("lang.switch", lang), id="app-lang-switch", className="lang-switch",
               href=page_url(path, other, **keep)),
    ], className="app-header", id="app-header")
