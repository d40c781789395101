"""Serving the web app with waitress (``gisapp serve``, ``gisapp demo``), a production WSGI server.

Werkzeug's development server spent 1.4-3 ms of every request on HTTP parsing and a thread per
connection (more than the whole app's own 0.9 ms), next to 3-5 ms of SQL for a z16 viewport.
Measured on this project's 2 cores (docs/benchmark-runs.md, "Web map at city scale"), waitress
answered a bare request in ~0.5 ms where gunicorn's threaded workers (2 processes x 4 threads)
took ~0.85 ms and Werkzeug ~1-2 ms: waitress hands a request from its I/O thread to a worker
thread of the same process and back, gunicorn's gthread worker does the same plus a wake-up
through a pipe and a heartbeat per loop.

One process, several threads: the requests wait on PostgreSQL most of the time (the encoding
of features and tiles is done there), and the process's pools, viewport/tile pool and account
cache (gisapp.web.account_cache) are shared by all its threads.
"""

from __future__ import annotations

import errno
import logging
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from gisapp.errors import GisappError
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


def port_problem(host: str, port: int, exc: OSError) -> str:
    """One sentence for a port the server cannot listen on."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another gisapp serve, or another program): "
                f"stop it, or choose a free port with --port (GISAPP_WEB_PORT)")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"this user may not listen on port {port} (ports below 1024 need root): choose one above 1024 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: give --host 127.0.0.1 or 0.0.0.0"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def check_port(host: str, port: int) -> None:
    """Raise GisappError with a sentence when ``host``:``port`` cannot be listened on (checked
    before the database is started and the app loaded, so the answer comes at once)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise GisappError(f"cannot listen on {host!r}: no such host name ({exc.strerror})") from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            # as waitress does: a port left in TIME_WAIT by a server just stopped is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise GisappError(port_problem(host, port, exc)) from None


def check_data_dir(settings: Settings, always: bool = False) -> None:
    """Raise GisappError with a sentence when the data folder must be written and cannot be: the
    app keeps its secret key there when GISAPP_SECRET_KEY is not set, the local cluster its files,
    the demo its accounts (``always``)."""
    folder = Path(settings.data_dir)
    needed = always or settings.uses_local_cluster or (
        not settings.secret_key and not (folder / "web_secret_key").exists())
    if not needed:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise GisappError(
            f"the data folder {folder} cannot be written ({exc.strerror or exc}); gisapp keeps its secret key"
            f"{' and its database' if settings.uses_local_cluster else ''} there: make it writable for this "
            "user, point GISAPP_DATA_DIR to a folder that is, or set GISAPP_SECRET_KEY"
            f"{' and GISAPP_DATABASE_URL' if settings.uses_local_cluster else ''}") from None


def run_server(host: str | None = None, port: int | None = None, *, threads: int | None = None,
               settings: Settings | None = None, announce: Callable[[str], None] | None = None) -> None:
    """Serve the app with waitress until interrupted (Ctrl+C or SIGTERM); ``announce`` is told
    "serving on ..." once the port is bound, never before.

    Raises:
        GisappError: the port cannot be listened on, or the app cannot write a file it needs.
    """
    import waitress

    from gisapp.web.app import create_app

    settings = settings or get_settings()
    host, port = host or settings.web_host, port or settings.web_port
    try:
        app = create_app(settings).server
    except OSError as exc:  # the secret key kept in the data folder, most likely
        where = f" ({exc.filename})" if exc.filename else ""
        raise GisappError(f"the web app could not start: {exc.strerror or exc}{where}; "
                          "check that the data folder (GISAPP_DATA_DIR) can be written") from None
    try:
        # binds the port now (a busy port fails here, not after the announcement)
        server = waitress.create_server(app, **waitress_options(host, port, threads))
    except OSError as exc:
        raise GisappError(port_problem(host, port, exc)) from None
    logging.basicConfig()  # waitress logs its warnings (a queue of waiting requests) there
    if announce is not None:
        announce(f"serving on http://{host}:{port}/")
    server.run()
