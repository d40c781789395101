"""ADBC connections kept open between reads, per process (the rule inputs' binary reader).

Opening one costs 70-120 ms: the driver reads the server's whole type catalogue (PostGIS adds
hundreds of types) to decode binary COPY. The live worker reads a zone's frames several times a
minute, and each of its runs paid that again. A connection is given back when its block ends
(its transaction rolled back) and the next block of the same process and database takes it; one
whose block failed is closed, not kept.

A forked process (the assessment's module processes) never uses its parent's connections: they
share the parent's sockets. It keeps them referenced, unused, until it exits (closing one would
end the parent's session). A process's own idle connections are closed when it exits normally;
the assessment's forked processes, which leave by ``os._exit``, close theirs when their job ends.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gisapp.db import backend_priority

#: idle connections kept per process and database (the assessment reads two frames at a time)
MAX_IDLE = 2

_lock = threading.Lock()
_idle: dict[str, list[Any]] = {}  # database URL -> idle connections of this process
_inherited: list[Any] = []  # a forked child's copy of its parent's: never used, never closed


@contextmanager
def adbc_connection(url: str) -> Iterator[Any]:
    """An autocommit ADBC connection to ``url`` (an idle one of this process, else a new one)."""
    import adbc_driver_postgresql.dbapi as adbc

    with _lock:
        idle = _idle.get(url)
        conn = idle.pop() if idle else None
    if conn is not None and not _alive(conn):
        conn = None  # the server ended it meanwhile (a restart, a dropped database)
    if conn is None:
        conn = adbc.connect(url, autocommit=True)
        backend_priority.on_new_session(lambda sql: _first_row(conn, sql))
    try:
        yield conn
    except BaseException:
        conn.close()
        raise
    _give_back(url, conn)


def _first_row(conn: Any, sql: str) -> tuple:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def _alive(conn: Any) -> bool:
    try:
        _first_row(conn, "SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure: the connection is not usable
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110 - closing a dead connection may fail too
            pass
        return False


def _give_back(url: str, conn: Any) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")  # ends whatever transaction the block left open
    except Exception:  # noqa: BLE001 - a connection that cannot roll back is not kept
        conn.close()
        return
    with _lock:
        idle = _idle.setdefault(url, [])
        if len(idle) < MAX_IDLE:
            idle.append(conn)
            return
    conn.close()


def close_idle() -> None:
    """Close this process's idle connections (tests; a process about to drop its database)."""
    with _lock:
        conns = [c for idle in _idle.values() for c in idle]
        _idle.clear()
    for conn in conns:
        conn.close()


def _forget_parents() -> None:
    global _lock
    _lock = threading.Lock()  # a lock held by another thread at the fork stays held in the child
    _inherited.extend(c for idle in _idle.values() for c in idle)
    _idle.clear()


os.register_at_fork(after_in_child=_forget_parents)
# before the interpreter tears its modules down, when the driver could no longer close them
atexit.register(close_idle)
