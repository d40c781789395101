"""The quota layers read for one year (issue #18): the map's year choice, the years the ledger
holds, and a district's escalations to the city in a year.

A quota layer (a declaration with ``quota:``) has a view that reads ``gisapp_meta.reading_year()``
(the transaction's ``gisapp.year`` setting, sql/views/0900_quotas.sql) and shows the latest year
of the ledger without one, so the tiles, the exports and ``read_layer`` keep showing the latest
year unless they ask for another. The same mechanism as the reading day of
:mod:`gisapp.queries.as_of`: a ``SET LOCAL`` that ends with the transaction.

Example:
    >>> parse_year("2025")
    2025
    >>> parse_year(None) is None
    True
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.errors import InputError

#: the years land.quota_accounts may hold (its CHECK)
YEAR_RANGE = (1990, 2100)

_YEARS = sa.text("SELECT year FROM layers.quota_years ORDER BY year")
_ESCALATIONS = sa.text("""
    SELECT e.recorded_on, e.resource, e.resource_zh, e.resource_en, e.unit, e.amount, e.reference, e.note
    FROM layers.quota_escalations e
    WHERE e.district_code = :district AND e.year = :year AND e.resource = ANY (:resources)
    ORDER BY e.recorded_on, e.resource, e.id""")


def parse_year(value: int | str | None, name: str = "year") -> int | None:
    """A year as an int (None or "" is None); anything that is not a year in
    :data:`YEAR_RANGE` is an InputError saying so."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    # isascii: "２０２５".isdigit() holds, and int() would read it
    if not (text.isascii() and text.isdigit() and len(text) == 4 and YEAR_RANGE[0] <= int(text) <= YEAR_RANGE[1]):
        raise InputError(f"{name} {text[:20]!r} is not a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
    return int(text)


def check_yearly(layer: Layer) -> None:
    """Refuse a year for a layer that is not read by year (an InputError naming the layer)."""
    if layer.quota is None:
        raise InputError(f"layer {layer.id!r} is not read by year; year applies to the quota layers only")


def set_reading_year(conn: sa.Connection, year: int) -> None:
    """Read the quota layers for ``year`` for the rest of the transaction on ``conn``."""
    conn.execute(sa.text("SELECT set_config('gisapp.year', :y, true)"), {"y": str(int(year))})


def quota_years(engine: Engine) -> list[int]:
    """The years the ledger has district accounts for, oldest first (the map's choices)."""
    with engine.connect() as conn:
        return [int(y) for y in conn.execute(_YEARS).scalars()]


def district_escalations(engine: Engine, district_code: str, year: int, resources: list[str]) -> list[dict]:
    """The district's escalations to the city in ``year`` of ``resources``, by date."""
    with engine.connect() as conn:
        rows = conn.execute(_ESCALATIONS, {"district": str(district_code), "year": int(year),
                                           "resources": list(resources)}).mappings().all()
    return [dict(r) for r in rows]
