"""Signed-in accounts kept in memory for a few seconds, so that the sign-in guard does not read
the account from the database on every request (5-15 ms of a small map request).

Nothing stale is ever used: the database announces every change to ``auth.users`` or
``auth.user_zones`` (``NOTIFY gisapp_account_changed``, sql/security/0600), and each lookup first
makes one bare round trip on this process's listening connection (``SELECT 1``, ~0.1 ms instead
of the account's query on a pooled connection), which brings every notification committed
before it, and forgets every account when anything changed. Without a working listener nothing
is cached, so a lost connection costs speed, never correctness.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.queries.users import Account

CHANNEL = "gisapp_account_changed"
#: how long an account is kept at most (also bounds any notification that could be lost)
TTL_SECONDS = 30.0
#: after the listener failed, how long to wait before opening it again
RETRY_SECONDS = 5.0


class AccountCache:
    """Accounts by id for one database, dropped as soon as the database says an account changed."""

    def __init__(self, engine: Engine, ttl: float = TTL_SECONDS):
        self.engine = engine
        self.ttl = ttl
        self._lock = threading.Lock()
        self._accounts: dict[int, tuple[Account, float]] = {}
        self._listener: psycopg.Connection | None = None
        self._retry_at = 0.0
        # bumped whenever the cache is emptied: a read that started before must not be stored
        self.generation = 0

    def _open_listener(self) -> None:
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # its own connection for the process's life, never back in the pool
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            conn.close()
            raise
        self._listener = conn

    def _clear(self) -> None:
        self._accounts.clear()
        self.generation += 1

    def _poll(self) -> bool:
        """Read the notifications that have arrived (without waiting); False when not listening."""
        if self._listener is None:
            if time.monotonic() < self._retry_at:
                return False
            try:
                self._open_listener()
            except (psycopg.Error, sa.exc.DBAPIError):  # the database is away: no caching until it is back
                self._retry_at = time.monotonic() + RETRY_SECONDS
                return False
            self._clear()  # changes made while nobody listened are unknown
        try:
            # A round trip on the listening connection: PostgreSQL sends the notifications of
            # everything committed before it ahead of its answer, so a change committed before this
            # request is always seen (waiting for them to arrive on their own left a gap of a few
            # microseconds, enough for a test to sign in as an account just disabled in psql).
            self._listener.execute("SELECT 1")
            if any(True for _ in self._listener.notifies(timeout=0)):
                self._clear()
            if self._listener.closed or self._listener.broken:
                raise psycopg.OperationalError("the account listener's connection was lost")
        except psycopg.Error:
            self._close()
            return False
        return True

    def _close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except psycopg.Error:
                pass
        self._listener = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        self._clear()

    def get(self, account_id: int, load: Callable[[int], Account | None]) -> Account | None:
        """The account ``account_id``: from memory when current, else ``load(account_id)``."""
        with self._lock:
            listening = self._poll()
            hit = self._accounts.get(account_id) if listening else None
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]
            generation = self.generation
        account = load(account_id)  # outside the lock: other requests need not wait for it
        if account is not None and listening:
            with self._lock:
                # a change announced while we read: what we read may be older than it
                if self._poll() and self.generation == generation:
                    self._accounts[account_id] = (account, time.monotonic() + self.ttl)
        return account

    def close(self) -> None:
        with self._lock:
            self._close()


_caches: dict[str, AccountCache] = {}
_caches_lock = threading.Lock()


def account_cache(engine: Engine) -> AccountCache:
    """The cache of ``engine``'s database (one per database URL in this process)."""
    key = engine.url.render_as_string(hide_password=False)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None or cache.engine is not engine:
            if cache is not None:
                cache.close()
            cache = _caches[key] = AccountCache(engine)
        return cache
