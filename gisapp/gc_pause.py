"""Pause Python's cyclic garbage collector around work that allocates millions of objects.

Rule modules and bulk imports build millions of small objects (evidence dicts, strings,
geometries) that form no reference cycles; with the collector on, every few hundred allocations
it re-walks the growing heap: a quarter of the rule modules' CPU time at city scale, ~2 s of a
1M-parcel import. Reference counting still frees everything as usual; cycles made meanwhile are
collected once the collector is back.

The pause is counted, not a flag: the web app runs imports and rules on several threads at
once, and the collector comes back only when the last of them ends (with a plain
``was_enabled = gc.isenabled()`` the first to end switched it back on under the others).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])
_lock = threading.Lock()
_depth = 0  # pauses in force
_resume = False  # whether the collector was on when the first of them began


def gc_paused(func: _F) -> _F:
    """Run ``func`` with the cyclic garbage collector paused (restored when no pause is left)."""

    @functools.wraps(func)
    def paused(*args: Any, **kwargs: Any) -> Any:
        _enter()
        try:
            return func(*args, **kwargs)
        finally:
            _leave()

    return paused  # type: ignore[return-value]


def _enter() -> None:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0 and _resume:
            gc.enable()
