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
        # the package's name, not this module's: Dash then loads each page under its own module
        # name (gisapp.web.pages.map), so that importing a page is the page the app runs and
        # never registers its callbacks a second time
        "gisapp.web",
        use_pages=True,
        pages_folder=str(WEB_DIR / "pages"),
        assets_folder=str(WEB_DIR / "assets"),
        title="上海综合保税区土地资源管理",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    from gisapp.web.auth import init_auth
    from gisapp.web.case_forms import case_forms
    from gisapp.web.case_pages import case_pages
    from gisapp.web.cors import init_cors
    from gisapp.web.coverage_page import coverage_page
    from gisapp.web.edit_api import edit_api
    from gisapp.web.errors import init_errors
    from gisapp.web.green_what_if_page import green_what_if_page
    from gisapp.web.headers import init_security_headers
    from gisapp.web.import_page import import_page
    from gisapp.web.inventory_page import inventory_page
    from gisapp.web.map_print import map_print
    from gisapp.web.ogc import ogc
    from gisapp.web.routes import api, tiles
    from gisapp.web.style_routes import styles
    from gisapp.web.tile_docs import tile_docs
    from gisapp.web.tokens_page import tokens_page
    from gisapp.web.uploads import init_uploads
    from gisapp.web.users_page import users_page

    # CORS preflights first (browsers send them without credentials), then sign-in: its guard
    # runs before every route, page and callback
    init_cors(app, settings)
    init_auth(app, settings)
    init_security_headers(app, settings)
    # a path with an empty segment (an encoded "/" in a parcel code) is not redirected: Werkzeug's
    # merge_slashes answers it with an HTML 308 page, where the API owes a JSON answer
    app.server.url_map.merge_slashes = False
    app.server.register_blueprint(api)
    app.server.register_blueprint(tiles)
    app.server.register_blueprint(tile_docs)
    app.server.register_blueprint(styles)
    app.server.register_blueprint(tokens_page)
    app.server.register_blueprint(edit_api)
    app.server.register_blueprint(import_page)
    app.server.register_blueprint(users_page)
    app.server.register_blueprint(inventory_page)
    app.server.register_blueprint(case_forms)
    app.server.register_blueprint(case_pages)
    app.server.register_blueprint(map_print)
    app.server.register_blueprint(ogc)
    app.server.register_blueprint(coverage_page)
    app.server.register_blueprint(green_what_if_page)
    # after the guard: an unknown API path tells nothing to someone not signed in
    init_errors(app)
    init_uploads(app)
    app.layout = html.Div([
        dcc.Store(id="app-lang", storage_type="local", data=settings.language),
        html.Div(id="app-user", className="user-bar"),
        dash.page_container,
    ], id="app-root")
    return app
