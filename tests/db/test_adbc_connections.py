"""ADBC connections kept open between the rule inputs' reads (gisapp.db.adbc_connections)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from gisapp.db import adbc_connections
from gisapp.db.adbc_connections import adbc_connection
from gisapp.queries.rule_inputs import input_snapshot, read_in_snapshot

pytestmark = pytest.mark.db


@pytest.fixture
def url(engine):
    adbc_connections.close_idle()
    yield engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    adbc_connections.close_idle()


def _backend(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def test_a_connection_is_given_back_and_taken_again_with_no_transaction_left(url):
    with adbc_connection(url) as conn:
        first = _backend(conn)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("CREATE TEMP TABLE left_behind (x int)")
    with adbc_connection(url) as conn:
        assert _backend(conn) == first
        with conn.cursor() as cur:  # the block's transaction was rolled back, not kept
            cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'left_behind'")
            assert cur.fetchone()[0] == 0


def test_a_failed_block_closes_its_connection(url):
    with pytest.raises(RuntimeError), adbc_connection(url) as conn:
        failed = _backend(conn)
        raise RuntimeError("the reader failed")
    with adbc_connection(url) as conn:
        assert _backend(conn) != failed


def test_a_connection_the_server_ended_is_replaced(url, engine):
    with adbc_connection(url) as conn:
        ended = _backend(conn)
    with engine.connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": ended}).scalar()
    with adbc_connection(url) as conn:
        assert _backend(conn) != ended


def test_readers_in_a_snapshot_reuse_one_connection_and_read_alike(url, engine):
    names = ["zones", "parcels"]
    with input_snapshot(engine) as snapshot:
        first = dict(read_in_snapshot(engine, snapshot, names, {"zone_ids": None, "as_of": None}))
        second = dict(read_in_snapshot(engine, snapshot, names, {"zone_ids": None, "as_of": None}))
    for name in names:
        assert len(first[name]) > 0
        assert first[name].drop(columns="geometry", errors="ignore").equals(
            second[name].drop(columns="geometry", errors="ignore"))
    assert len(adbc_connections._idle[url]) == 1


def test_a_forked_child_opens_its_own(url):
    with adbc_connection(url) as conn:
        parents = _backend(conn)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its parent's idle connection is not its to use
        try:
            with adbc_connection(url) as conn:
                os.write(write, str(_backend(conn)).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    childs = int(os.read(read, 32))
    os.close(read)
    assert childs != parents
    with adbc_connection(url) as conn:  # and the parent's still works
        assert _backend(conn) == parents
