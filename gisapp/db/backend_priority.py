"""A background process's database sessions at its own CPU priority, when the database runs on
this machine and the system lets this process set it (the private cluster of `make demo`, a
server where the app and PostgreSQL share the cores).

The live workers run below the web server's priority (gisapp.rules.worker_processes), but half
of their work is done by their PostgreSQL backends: reading a zone's frames, ranking every zone's
performance, writing thousands of findings. At the server's priority, those backends take cores
from the requests of the people saving. PostgreSQL has no priority of its own per session; the
operating system's is the one that counts (the pg_prioritize extension sets it the same way).

Nothing is done for a database on another machine (``inet_server_addr()`` not a loopback
address, or no process here carrying the session's title), for a process at the normal priority,
or where the system refuses (another user's backends without the privilege): the sessions then
run as they always did.
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


def _backend_on_this_machine(session: tuple) -> bool:
    """Whether the session's backend (``pid, server_addr, client_port, user, database`` as the
    server sees them) is a process of this machine: reached on a Unix socket or a loopback address,
    and the process of that number here is a PostgreSQL backend of that user and database for a
    client at that port (its title says so: ``postgres: gis gisapp 127.0.0.1(40412) idle``). A
    tunnel to another machine's server also arrives on its loopback; the title tells them apart."""
    pid, server_addr, client_port, user, database = session
    if server_addr is not None and not ipaddress.ip_address(server_addr.split("/")[0]).is_loopback:
        return False
    client = "[local]" if client_port is None else f"({client_port})"
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
            title = f.read().decode(errors="replace")
    except OSError:
        return False
    # "postgres: " then the cluster's name and a colon if it has one (cluster_name)
    return title.startswith("postgres: ") and f" {user} {database} " in title and client in title


def give_my_priority(session: tuple) -> bool:
    """Give the session's backend (:func:`_backend_on_this_machine`) this process's niceness and
    scheduling policy; True if done."""
    global _refused
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    policy = os.sched_getscheduler(0)
    if (niceness == 0 and policy == os.SCHED_OTHER) or not _backend_on_this_machine(session):
        return False
    pid = int(session[0])
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


#: what identifies a session's backend (:func:`_backend_on_this_machine`)
SESSION_SQL = ("SELECT pg_backend_pid(), host(inet_server_addr()), inet_client_port(), session_user, "
               "current_database()")


def on_new_session(run_sql) -> None:
    """For a new session of this process (``run_sql(sql)`` returns the first row): its backend
    at this process's priority, once :func:`follow_this_process` was called."""
    if _following and not _refused:
        give_my_priority(tuple(run_sql(SESSION_SQL)))


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
