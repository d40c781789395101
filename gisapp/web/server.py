"""Serving the web app with gunicorn (``gisapp serve``, ``gisapp demo``), a production WSGI server.

Werkzeug's development server spent 1.4-3 ms of every request on HTTP parsing and a thread per
connection (more than the whole app's own 0.9 ms), next to 3-5 ms of SQL for a z16 viewport;
gunicorn's threaded workers take a fraction of that (docs/benchmarks.md, "Web map at city scale").

Each worker process makes the app itself after the fork (no ``preload``): its database pools, the
viewport/tile pool and the account cache's listening connection (gisapp.web.account_cache) are its
own, opened on first use; nothing of the master's is shared. Sessions are signed cookies with the
one key of the data folder (or GISAPP_SECRET_KEY), so any worker answers any signed-in request.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from gisapp.settings import Settings, get_settings

#: threads per worker: requests wait on PostgreSQL most of the time, so a few per core keep it busy
DEFAULT_THREADS = 4
#: seconds a kept-alive connection may stay idle (a map page asks again on every pan and zoom)
KEEP_ALIVE_SECONDS = 75
#: a worker whose main loop is silent this long is restarted (gthread workers answer the
#: arbiter from their main loop, so a long request such as a big import does not count)
WORKER_TIMEOUT_SECONDS = 120


def default_workers() -> int:
    """One worker process per core, at least two (one busy with a slow page leaves the other)."""
    return max(2, os.cpu_count() or 1)


def gunicorn_options(host: str, port: int, workers: int | None = None, threads: int | None = None) -> dict[str, Any]:
    """The gunicorn settings the app is served with (``gthread`` workers)."""
    return {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        "workers": workers or default_workers(),
        "threads": threads or DEFAULT_THREADS,
        "keepalive": KEEP_ALIVE_SECONDS,
        "timeout": WORKER_TIMEOUT_SECONDS,
        "graceful_timeout": 10,
        # one control socket per user by default: two servers at once (tests, a demo) would fight over it
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "gisapp-web",
    }


class GisappServer(BaseApplication):
    """gunicorn serving ``create_app().server``, made in each worker after the fork."""

    def __init__(self, options: dict[str, Any], settings: Settings | None = None):
        self.options = options
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        from gisapp.web.app import create_app

        return create_app(self.settings).server


def run_server(host: str | None = None, port: int | None = None, *, workers: int | None = None,
               threads: int | None = None, settings: Settings | None = None) -> None:
    """Serve the app with gunicorn until interrupted (Ctrl+C or SIGTERM)."""
    settings = settings or get_settings()
    from gisapp.web.auth import ensure_secret_key

    # made once here, before the workers start, so that they all sign sessions with the same key
    ensure_secret_key(settings)
    # The workers are forked from this process: connections it opened (migrating, loading the
    # demo) must not be inherited, or two processes would talk on one socket. Closed here, the
    # pool starts empty in every worker.
    from gisapp.db.engine import get_engine

    get_engine(settings).dispose()
    options = gunicorn_options(host or settings.web_host, port or settings.web_port, workers, threads)
    GisappServer(options, settings).run()
