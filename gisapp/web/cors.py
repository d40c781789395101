"""CORS for the GIS clients' paths (/api, /tiles, /styles, /ogc): web pages of the origins listed
in ``GISAPP_CORS_ORIGINS`` (another department's MapLibre map) may read them from the browser,
with an API token or Basic credentials in the Authorization header.

A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered before the
sign-in guard, since browsers send it without credentials; it grants reads only (GET, HEAD,
OPTIONS), the only methods a client's credentials are good for. Cookies are never allowed
across origins (no Access-Control-Allow-Credentials): the session cookie stays the web app's.
"""

from __future__ import annotations

from dash import Dash
from flask import Response, request

from gisapp.i18n import t
from gisapp.settings import Settings
from gisapp.web.client_auth import SAFE_METHODS, is_client_path

ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "Authorization, If-None-Match, If-Modified-Since, Accept, Accept-Language"
#: what a page may read of an answer besides the simple headers: the tiles' validators, the counts
EXPOSE_HEADERS = "ETag, Last-Modified, X-Feature-Count, X-Truncated, X-Mode, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE = 600


def init_cors(app: Dash, settings: Settings) -> None:
    """CORS on ``app``'s server; register before the sign-in guard (the preflight needs no user)."""
    allowed = frozenset(settings.cors_origins)

    def origin_allowed() -> str | None:
        origin = request.headers.get("Origin")
        return origin if origin in allowed and is_client_path(request.path) else None

    def preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers \
                or "Origin" not in request.headers or not is_client_path(request.path):
            return None
        origin = origin_allowed()
        wanted = request.headers["Access-Control-Request-Method"].upper()
        if origin is None or wanted not in SAFE_METHODS:
            refused = Response(t("cors.refused", settings.language, origin=request.headers["Origin"][:100]),
                               status=403, mimetype="text/plain")
            refused.headers["Vary"] = "Origin"
            return refused
        answer = Response(status=204)
        answer.headers.update({
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            "Vary": "Origin",
        })
        return answer

    def cors_headers(response: Response) -> Response:
        if not is_client_path(request.path):
            return response
        response.vary.add("Origin")  # the answer differs by origin: caches must keep them apart
        origin = origin_allowed()
        if origin is not None and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response

    app.server.before_request(preflight)
    app.server.after_request(cors_headers)
