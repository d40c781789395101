"""Shared pieces of the pages: header with the synthetic-data banner and the language switch."""

from __future__ import annotations

from dash import html

from gisapp.db.engine import get_engine
from gisapp.i18n import t
from gisapp.queries.meta import is_synthetic


def header(lang: str) -> html.Div:
    synthetic = is_synthetic(get_engine())
    return html.Div([
        html.H1(t("app.title", lang), id="app-title"),
        html.Span(t("app.synthetic", lang), id="app-synthetic-banner", className="synthetic-banner")
        if synthetic else None,
        html.Button(t("lang.switch", lang), id="app-lang-switch", n_clicks=0, className="lang-switch"),
    ], className="app-header")
