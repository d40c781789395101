"""create_app(): the Dash app on its Flask server, with the API routes and the pages."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

from gisapp.settings import Settings, get_settings

WEB_DIR = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None) -> Dash:
    """The web application (call ``.run()`` or serve ``.server`` with a WSGI server)."""
    settings = settings or get_settings()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(WEB_DIR / "pages"),
        assets_folder=str(WEB_DIR / "assets"),
        title="上海综合保税区土地资源管理",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    from gisapp.web.routes import api

    app.server.register_blueprint(api)
    app.layout = html.Div([
        dcc.Store(id="app-lang", storage_type="local", data=settings.language),
        dash.page_container,
    ], id="app-root")
    return app
