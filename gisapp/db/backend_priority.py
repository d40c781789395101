"""A background process's database sessions at its own CPU priority, when the database runs on
this machine and the system lets this process set it (the private cluster of `make demo`, a
server where the app and PostgreSQL share the cores).

The live workers run below the web server's priority (gisapp.rules.worker_processes), but half
of their work is done by their PostgreSQL backends: reading a zone's frames, ranking every zone's
performance, writing thousands of findings. At the server's priority, those backends take cores
from the requests of the people saving. PostgreSQL has no priority of its own per session; the
operating system's is the one that counts (the pg_prioritize extension sets it the same way).

Nothing is done for a database on another machine (``inet_server_addr()`` not a loopback
address), for a process at the normal priority, or where the system refuses (another user's
backends without the privilege): the sessions then run as they always did.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: set by :func:`follow_this_process`: every new session of this process is given its priority
_following = False
#: "refused" once the system refused (said once, not per session)
_refused = False


def _backend_on_this_machine(pid: int, server_addr: str | None) -> bool:
    """Whether the session's backend ``pid`` is a process of this machine: a Unix socket (no
    address) or a loopback address, and the process is a PostgreSQL backend."""
    if server_addr is not None and not ipaddress.ip_address(server_addr.split("/")[0]).is_loopback:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().startswith(b"postgres")
    except OSError:
        return False


def give_my_priority(pid: int, server_addr: str | None) -> bool:
    """Give the backend ``pid`` this process's niceness and scheduling policy; True if done."""
    global _refused
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    policy = os.sched_getscheduler(0)
    if (niceness == 0 and policy == os.SCHED_OTHER) or not _backend_on_this_machine(pid, server_addr):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
        if policy != os.SCHED_OTHER:
            os.sched_setscheduler(pid, policy, os.sched_param(0))
    except OSError as exc:
        if not _refused:
            log.info("database sessions keep the server's CPU priority (%s)", exc.strerror or exc)
        _refused = True
        return False
    return True


def _backend_of(run_sql) -> tuple[int, str | None]:
    return run_sql("SELECT pg_backend_pid(), host(inet_server_addr())")


def on_new_session(run_sql) -> None:
    """For a new session of this process (``run_sql(sql)`` returns the first row): its backend
    at this process's priority, once :func:`follow_this_process` was called."""
    if not _following or _refused:
        return
    pid, addr = _backend_of(run_sql)
    give_my_priority(int(pid), addr)


def follow_this_process(engine: Engine) -> None:
    """From now on, each new session of ``engine`` and of the rule inputs' reader
    (gisapp.db.adbc_connections) runs at this process's CPU priority (see the module)."""
    global _following
    _following = True

    @sa.event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, _record) -> None:
        def run_sql(sql: str):
            try:
                with dbapi_connection.cursor() as cur:
                    cur.execute(sql)
                    return cur.fetchone()
            finally:
                dbapi_connection.rollback()  # no transaction left open for the pool's first user

        on_new_session(run_sql)
