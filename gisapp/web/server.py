"""Serving the web app with waitress (``gisapp serve``, ``gisapp demo``), a production WSGI server.

Werkzeug's development server spent 1.4-3 ms of every request on HTTP parsing and a thread per
connection (more than the whole app's own 0.9 ms), next to 3-5 ms of SQL for a z16 viewport.
Measured on this project's 2 cores (docs/benchmarks.md, "Web map at city scale"), waitress
answered a bare request in ~0.5 ms where gunicorn's threaded workers (2 processes x 4 threads)
took ~0.85 ms and Werkzeug ~1-2 ms: waitress hands a request from its I/O thread to a worker
thread of the same process and back, gunicorn's gthread worker does the same plus a wake-up
through a pipe and a heartbeat per loop.

One process, several threads: the requests wait on PostgreSQL most of the time (the encoding
of features and tiles is done there), and the process's pools, viewport/tile pool and account
cache (gisapp.web.account_cache) are shared by all its threads.
"""

from __future__ import annotations

from gisapp.settings import Settings, get_settings
from gisapp.web.import_page import MAX_UPLOAD_BYTES

#: threads answering requests: a map asks for several tiles at once, each mostly waiting on SQL
DEFAULT_THREADS = 8
#: seconds a connection may stay idle (a map page asks again on every pan and zoom)
CHANNEL_TIMEOUT_SECONDS = 120


def waitress_options(host: str, port: int, threads: int | None = None) -> dict:
    """The waitress settings the app is served with."""
    return {
        "host": host,
        "port": port,
        "threads": threads or DEFAULT_THREADS,
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "ident": "gisapp",
        # a parcel import may upload this much (the form's fields besides)
        "max_request_body_size": MAX_UPLOAD_BYTES + 2**20,
    }


def run_server(host: str | None = None, port: int | None = None, *, threads: int | None = None,
               settings: Settings | None = None) -> None:
    """Serve the app with waitress until interrupted (Ctrl+C or SIGTERM)."""
    import waitress

    from gisapp.web.app import create_app

    settings = settings or get_settings()
    app = create_app(settings).server
    waitress.serve(app, **waitress_options(host or settings.web_host, port or settings.web_port, threads))
