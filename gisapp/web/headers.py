"""Security headers on every response, set by flask-talisman.

The Content-Security-Policy lets the browser run scripts from this site only, plus the one inline
script Dash writes into its page (``new DashRenderer()``), allowed by its SHA-256 hash
(``Dash.csp_hashes()``): no ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts. The app's
pages, the map (dash-leaflet), the dashboards (plotly) and the grids (AG Grid) ran in Chromium under
this policy without a violation (tests/web/test_security_headers.py).

Styles need ``'unsafe-inline'``: Dash's renderer, its core components and dash-leaflet insert
their CSS as ``<style>`` elements when their bundles load (webpack's style-loader), and Leaflet,
plotly.js and AG Grid add more at run time with content computed in the browser (positions,
sizes, theme colours). Without it Chromium blocked about thirty of them on the map page; a hash
list would break with every upgrade, and a nonce would have to reach every library that makes a
style element, which none of them offers. Inline styles cannot run code, so this gives up much
less than ``'unsafe-inline'`` for scripts would.

No site may frame the app (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older
browsers): clickjacking a sign-out or an edit needs a frame. ``nosniff`` stops a browser from
running an uploaded or exported file as a script; the Referrer-Policy keeps paths and query
strings (parcel codes, bboxes) from leaving for other sites.

HTTPS: with ``GISAPP_COOKIE_SECURE=true`` the session cookie is sent over HTTPS only and the
answers to requests that reach the app over HTTPS carry Strict-Transport-Security. The app itself
never redirects to HTTPS (``force_https`` off): behind a TLS proxy it sees plain HTTP, and a
redirect would loop; the proxy redirects (README, "Behind HTTPS").
"""

from __future__ import annotations

from dash import Dash
from flask_talisman import Talisman

from gisapp.settings import Settings

#: where the map's optional basemaps come from (gisapp/web/pages/map.py); data: for Leaflet's
#: and AG Grid's inline icons, blob: for images plotly makes when a chart is downloaded
BASEMAP_HOSTS = ["https://tile.openstreetmap.org", "https://*.tianditu.gov.cn"]
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS_SECONDS = 365 * 24 * 3600


def content_security_policy(app: Dash) -> dict[str, str | list[str]]:
    """The policy for ``app`` (its inline scripts' hashes depend on the Dash version)."""
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *BASEMAP_HOSTS],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "worker-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_security_headers(app: Dash, settings: Settings) -> Talisman:
    """Every response of ``app``'s server carries the headers above."""
    talisman = Talisman(
        app.server,
        force_https=False,
        strict_transport_security=settings.cookie_secure,
        strict_transport_security_max_age=HSTS_SECONDS,
        # the bureau's other hosts under the same domain are not ours to pin to HTTPS
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=settings.cookie_secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        x_content_type_options=True,
        referrer_policy=REFERRER_POLICY,
        # the app uses no location, camera or microphone: nothing it loads may ask for them
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    hashed = False

    def hash_inline_scripts_of_setup(response):
        # Dash writes more inline scripts into its page when it sets itself up, on the first request
        # (dash.register_page adds a clientside callback that sets the title): hashed once that has
        # run, before Talisman's own after_request (registered earlier, so run later) sends the policy.
        nonlocal hashed
        if not hashed:
            talisman.content_security_policy["script-src"] = ["'self'", *app.csp_hashes()]
            hashed = True
        return response

    app.server.after_request(hash_inline_scripts_of_setup)
    return talisman
