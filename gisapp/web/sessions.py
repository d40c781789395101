"""Flask's signed-cookie sessions, with the cookies already checked kept in memory.

A map sends the same session cookie with every viewport and tile; checking its signature and
decoding it (HMAC, base64, zlib, JSON, Flask's tags) was ~0.1 ms of the ~0.5 ms a request spends
in the app outside its query. Only the exact cookie text is looked up, so nothing but an
identical, already verified cookie is ever taken from memory; its age is checked against the
session lifetime on every request as before.
"""

from __future__ import annotations

import threading
import time

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

#: cookies kept at most (all forgotten when full: a few hundred signed-in users is the scale)
MAX_KEPT = 4096


class KeptCookieSessionInterface(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface` that remembers the cookies it has verified."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[dict, float]] = {}
        self._lock = threading.Lock()

    def open_session(self, app, request) -> SecureCookieSession | None:
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        kept = self._kept.get(val)
        if kept is not None and time.time() - kept[1] <= max_age:
            # a copy: the request may change its session; the values are strings and flags
            return self.session_class(kept[0])
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed_at = serializer.loads(val, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[val] = (dict(data), signed_at.timestamp())
        return self.session_class(data)
