"""A live worker's database sessions run at the worker's own CPU priority (below the web
server's), the private cluster being on this machine; a process at the normal priority leaves its
sessions alone, and a database elsewhere is never touched."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from gisapp.db import backend_priority
from gisapp.db.engine import assessor_engine

pytestmark = pytest.mark.db

# in a process of its own: a niceness once raised is not lowered again
PROBE = """
import os, sys
from gisapp.db import backend_priority
from gisapp.db.adbc_connections import adbc_connection
from gisapp.db.engine import assessor_engine
import sqlalchemy as sa
from tests.procs import priority

if sys.argv[1] != "normal":
    os.nice(19)
if sys.argv[1] == "idle":
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
engine = assessor_engine()
backend_priority.follow_this_process(engine)
with engine.connect() as conn:
    pooled = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
with adbc_connection(engine.url.set(drivername='postgresql').render_as_string(hide_password=False)) as conn, conn.cursor() as cur:
    cur.execute("SELECT pg_backend_pid()")
    reader = cur.fetchone()[0]
for pid in (pooled, reader):
    print(*priority(pid))
"""


def _sessions_of_a_process_at(priority: str) -> list[tuple[int, int]]:
    out = subprocess.run([sys.executable, "-c", PROBE, priority], capture_output=True, text=True, timeout=120,
                         env={**os.environ})
    assert out.returncode == 0, out.stderr
    return [tuple(int(x) for x in line.split()) for line in out.stdout.split("\n") if line.strip()]


def test_a_background_process_s_sessions_run_at_its_priority():
    if os.geteuid() != 0:
        pytest.skip("the private cluster's backends belong to another user: only root may renice them")
    assert _sessions_of_a_process_at("nice") == [(19, os.SCHED_OTHER)] * 2
    assert _sessions_of_a_process_at("idle") == [(19, os.SCHED_IDLE)] * 2


def test_a_process_at_the_normal_priority_leaves_its_sessions_alone():
    assert _sessions_of_a_process_at("normal") == [(0, os.SCHED_OTHER)] * 2


def test_a_database_on_another_machine_is_never_touched():
    engine = assessor_engine()
    with engine.connect() as conn:
        session = tuple(conn.execute(sa.text(backend_priority.SESSION_SQL)).one())
        assert backend_priority._backend_on_this_machine(session), "the suite's own cluster is on this machine"
        pid, _addr, port, user, database = session
        # the same session seen at another machine's address
        assert not backend_priority._backend_on_this_machine((pid, "10.20.30.40", port, user, database))
        # a tunnel: the other machine's server sees a loopback address too, but the process of
        # that number here (this very test, say) is no backend of that client
        assert not backend_priority._backend_on_this_machine((os.getpid(), "127.0.0.1", port, user, database))
        assert not backend_priority._backend_on_this_machine((pid, "127.0.0.1", port + 1, user, database))
        assert not backend_priority._backend_on_this_machine((pid, "127.0.0.1", port, user, "another_db"))
