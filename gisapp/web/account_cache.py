"""Signed-in accounts kept in memory for a few seconds, so that the sign-in guard does not read
the account from the database on every request (5-15 ms of a small map request).

The server-side sessions (auth.sessions) are kept the same way, next to the accounts.

Nothing stale is ever used: the database announces every change to ``auth.users`` or
``auth.user_zones`` (``NOTIFY gisapp_account_changed``, sql/security/0600) and the end of every
session (sql/security/0700), and each lookup first makes one bare round trip on this process's
listening connection (``SELECT 1``, ~0.1 ms instead of the account's query on a pooled
connection), which brings every notification committed before it, and forgets every account and
session when anything changed. Without a working listener nothing
is cached, so a lost connection costs speed, never correctness.

The map's reads (viewport features and tiles, the bulk of the requests) skip even that round
trip: every connection of the viewport/tile pool listens too (:meth:`AccountCache.watch`), so the
request's own query brings the notifications committed before it, ahead of its rows. Such a
request takes the account from memory (:meth:`AccountCache.peek`) and is answered only once its
query has come back without news (:meth:`AccountCache.still_current`); else the account is
looked up as above before anything is sent (gisapp.web.auth).
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable
from contextvars import ContextVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.queries.features import read_engine
from gisapp.queries.users import Account, SessionRecord

CHANNEL = "gisapp_account_changed"
#: how long an account is kept at most (also bounds any notification that could be lost)
TTL_SECONDS = 30.0
#: after the listener failed, how long to wait before opening it again
RETRY_SECONDS = 5.0
#: key of a watched pool connection's record info: {cache token: time.monotonic() when its
#: LISTEN for that cache took effect}
LISTENING_SINCE = "gisapp_account_listening_since"
_tokens = itertools.count(1)


class AccountCache:
    """Accounts by id for one database, dropped as soon as the database says an account changed."""

    def __init__(self, engine: Engine, ttl: float = TTL_SECONDS):
        self.engine = engine
        self.ttl = ttl
        # re-entrant: a notification handler may run while this thread looks something up
        self._lock = threading.RLock()
        # account id -> (account, expires at, verified at: every change committed after that
        # moment is announced to a connection listening since before it)
        self._accounts: dict[int, tuple[Account, float, float]] = {}
        # open sessions by the hash of their id, kept and dropped with the accounts
        self._sessions: dict[bytes, tuple[SessionRecord, float, float]] = {}
        # GIS clients' credentials checked already (gisapp.web.client_auth): the account id by a
        # keyed hash of user name and password, or by the hash of an API token; dropped with the
        # accounts (a new password, a revoked token or a disabled account is announced)
        self._credentials: dict[bytes, tuple[int, float, float]] = {}
        self._listener: psycopg.Connection | None = None
        self._retry_at = 0.0
        # bumped whenever the cache is emptied: a read that started before must not be stored
        self.generation = 0
        # names this cache in the connections it watches (two caches may watch one pool)
        self._token = next(_tokens)
        # payloads of the notifications acted on (oldest first), see _is_news
        self._heard: dict[str, None] = {}

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
        self._sessions.clear()
        self._credentials.clear()
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
            news = False
            for notify in self._listener.notifies(timeout=0):
                news = self._is_news(notify.payload) or news  # each one noted as heard
            if news:
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
        return self._get(self._accounts, account_id, load)

    def session(self, key: bytes, load: Callable[[bytes], SessionRecord | None]) -> SessionRecord | None:
        """The open session whose id hashes to ``key``: from memory when current, else ``load(key)``.
        Ending a session announces it as an account change does (sql/security/0700)."""
        return self._get(self._sessions, key, load)

    def credential(self, key: bytes, load: Callable[[bytes], int | None]) -> int | None:
        """The account id that the client credential hashing to ``key`` signs in: from memory
        when current, else ``load(key)`` (None: refused, and never kept)."""
        return self._get(self._credentials, key, load)

    def _get(self, store: dict, key, load: Callable):
        with self._lock:
            polled_at = time.monotonic()  # every commit before this is seen by the poll
            listening = self._poll()
            hit = store.get(key) if listening else None
            if hit is not None and hit[1] > polled_at:
                store[key] = (hit[0], hit[1], polled_at)  # known current up to now
                return hit[0]
            generation = self.generation
        loaded_at = time.monotonic()  # the read below sees every commit before this
        value = load(key)  # outside the lock: other requests need not wait for it
        if value is not None and listening:
            with self._lock:
                # a change announced while we read: what we read may be older than it
                if self._poll() and self.generation == generation:
                    store[key] = (value, time.monotonic() + self.ttl, loaded_at)
        return value

    def peek(self, account_id: int) -> tuple[Account, float, int] | None:
        """The kept account without asking the database: ``(account, verified_at, generation)``.

        Only for a request whose answer waits for :meth:`still_current`; None when not kept.
        """
        return self._peek(self._accounts, account_id)

    def peek_session(self, key: bytes) -> tuple[SessionRecord, float, int] | None:
        """The kept session as :meth:`peek` gives an account."""
        return self._peek(self._sessions, key)

    def _peek(self, store: dict, key):
        with self._lock:
            hit = store.get(key) if self._listener is not None else None
            if hit is None or hit[1] <= time.monotonic():
                return None
            return hit[0], hit[2], self.generation

    def still_current(self, verified_at: float, generation: int, listening: dict[int, float] | None) -> bool:
        """After a query on a watched connection (``listening``: its :data:`LISTENING_SINCE`): True
        when nothing changed since an account peeked at ``verified_at`` / ``generation`` was verified.

        The query's answer came after every notification committed before it was sent; a
        notification clears the cache (new generation). That covers every change after
        ``verified_at`` only if the connection was listening for this cache by then.
        """
        listening_since = (listening or {}).get(self._token)
        if listening_since is None or listening_since > verified_at:
            return False
        with self._lock:
            return self.generation == generation and self._listener is not None

    def close(self) -> None:
        """Stop listening and forget every account."""
        with self._lock:
            self._close()

    def _is_news(self, payload: str) -> bool:
        """False for a notification this process has heard already on another connection
        (sql/security/0600 makes each change's payload unique: table and transaction id)."""
        if " " not in payload:
            return True  # an older trigger's payload (table only): every one counts
        if payload in self._heard:
            return False
        self._heard[payload] = None
        if len(self._heard) > 1024:
            self._heard.pop(next(iter(self._heard)))
        return True

    def announced(self, payload: str) -> None:
        """A change was announced: forget every account (unless this one was heard already)."""
        with self._lock:
            if self._is_news(payload):
                self._clear()

    def watch(self, pool_engine: Engine) -> None:
        """Make every new connection of ``pool_engine`` (same database) listen for account changes
        and clear this cache when one comes; :data:`LISTENING_SINCE` in its record says since when."""
        ref = weakref.ref(self)
        token = self._token

        def on_notify(notify) -> None:
            cache = ref()
            if cache is not None:
                cache.announced(notify.payload)

        def on_connect(dbapi_conn, record) -> None:
            dbapi_conn.add_notify_handler(on_notify)
            dbapi_conn.execute(f"LISTEN {CHANNEL}")
            if not dbapi_conn.autocommit:
                dbapi_conn.commit()  # LISTEN takes effect at commit
            record.info.setdefault(LISTENING_SINCE, {})[token] = time.monotonic()

        def on_checkout(_dbapi_conn, record, _proxy) -> None:
            _last_checkout.set(record.info.get(LISTENING_SINCE))

        sa.event.listen(pool_engine, "connect", on_connect)
        sa.event.listen(pool_engine, "checkout", on_checkout)


#: the LISTENING_SINCE of the connection last taken from a watched pool in this thread / context
#: (None: not listening, or none taken since :func:`begin_watched_read`)
_last_checkout: ContextVar[dict[int, float] | None] = ContextVar("gisapp_account_last_checkout", default=None)


def begin_watched_read() -> None:
    """Start noting which watched connection this request's query runs on."""
    _last_checkout.set(None)


def watched_read_listening() -> dict[int, float] | None:
    """Since when the connection of this request's last query (taken after
    :func:`begin_watched_read`) listens for account changes, per cache; None when it does not."""
    return _last_checkout.get()


_caches: dict[str, AccountCache] = {}
_caches_lock = threading.Lock()


def account_cache(engine: Engine) -> AccountCache:
    """The cache of ``engine``'s database (one per database URL in this process)."""
    last = _last
    if last is not None and last.engine is engine:
        return last  # twice per map request: spares rendering the URL (~20 µs each)
    return _account_cache_by_url(engine)


_last: AccountCache | None = None


def _account_cache_by_url(engine: Engine) -> AccountCache:
    global _last
    key = engine.url.render_as_string(hide_password=False)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None or cache.engine is not engine:
            if cache is not None:
                cache.close()
            cache = _caches[key] = AccountCache(engine)
            cache.watch(read_engine(engine))  # the map's reads check for changes on their own query
        _last = cache
        return cache
