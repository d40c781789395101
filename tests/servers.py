"""Test helper: the app served on a free loopback port in a thread of the test process (for
Chromium and for clients that need real HTTP), and a free port for servers of their own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def app_in_thread(name: str) -> Iterator[str]:
    """A new app (gisapp.web.app.create_app, on the database the settings name) served threaded
    on 127.0.0.1:<free port> until the block ends; yields its base URL."""
    import logging

    from werkzeug.serving import make_server

    from gisapp.web.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns failures
    server = make_server("127.0.0.1", free_port(), create_app().server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
