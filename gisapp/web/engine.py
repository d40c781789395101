"""The engine for the web app's requests, looked up once per settings object."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from gisapp.db.engine import get_engine
from gisapp.settings import get_settings

_lock = threading.Lock()
_current: tuple[object, Engine] | None = None


def web_engine() -> Engine:
    """``get_engine()`` for the current settings, remembered while they stay the same.

    ``get_engine`` resolves the database URL each time (the local cluster's folders on disk,
    ~0.1 ms); a small map request needs the engine twice (sign-in guard and route), which was a
    tenth of the time it spends outside PostgreSQL. ``get_settings.cache_clear()`` (tests
    switching databases) gives a new settings object, hence a fresh lookup.
    """
    global _current
    settings = get_settings()
    current = _current
    if current is not None and current[0] is settings:
        return current[1]
    engine = get_engine(settings)
    with _lock:
        _current = (settings, engine)
    return engine
