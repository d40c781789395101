"""Reading a layer as of a past day: the one mechanism behind ``gisapp.api.read_layer(as_of=...)``,
``gisapp export --as-of`` and the web map's ``?as_of=``.

A view that shows "what is in force" reads ``gisapp_meta.as_of()`` (the transaction's
``gisapp.as_of`` setting, else today; sql/migrations/0400): ``layers.zones`` shows the boundary in
force that day. A layer whose view shows today only (so that the map stays fast) may have a
companion view ``<source>_as_of`` with the same columns that reads it (``layers.parcels_as_of``:
each parcel as recorded at the end of that day, sql/views/0700).

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> companion_source(get_layer("parcels"))
    'layers.parcels_as_of'
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.errors import InputError


def parse_day(value: dt.date | str | None, name: str = "as_of") -> dt.date | None:
    """``YYYY-MM-DD`` (or a date, or None) as a date; anything else is an InputError."""
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{name} {str(value)[:20]!r} is not a date (use YYYY-MM-DD)") from None


def supports_as_of(engine: Engine, layer: Layer) -> bool:
    """True when the layer's view reads the session's reading date (gisapp_meta.as_of())."""
    with engine.connect() as conn:
        definition = conn.execute(sa.text("SELECT pg_get_viewdef(CAST(:v AS regclass))"), {"v": layer.source}).scalar()
    return "as_of()" in (definition or "")


def companion_source(layer: Layer) -> str:
    """The name a dated companion view of the layer's source has."""
    return f"{layer.source}_as_of"


def dated_layer(layer: Layer, engine: Engine) -> Layer:
    """The declaration to read ``layer`` as of a date: the layer itself when its view is dated,
    else its companion view when there is one, else the layer unchanged (see :func:`is_dated`)."""
    if supports_as_of(engine, layer):
        return layer
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass(:v) IS NOT NULL"), {"v": companion_source(layer)}).scalar()
    return layer.model_copy(update={"source": companion_source(layer)}) if found else layer


def is_dated(engine: Engine, layer: Layer) -> bool:
    """Whether ``layer`` can be read as of a past day (its view, or the one :func:`dated_layer` picks)."""
    return supports_as_of(engine, dated_layer(layer, engine))


def set_reading_day(conn: sa.Connection, day: dt.date) -> None:
    """Read as of ``day`` for the rest of the transaction on ``conn`` (SET LOCAL: it ends with it)."""
    conn.execute(sa.text("SELECT set_config('gisapp.as_of', :d, true)"), {"d": day.isoformat()})
