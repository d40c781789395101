"""A zone's approved boundaries (四至范围) as records: every version with its approval reference
and validity, for the map's zone panel.

A version is in force from ``valid_from`` up to, not including, ``valid_to`` (none: still in
force), as ``layers.zones`` reads it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_BOUNDARIES = sa.text("""
    SELECT b.id, b.valid_from, b.valid_to, b.approval_ref, b.area_m2, b.is_synthetic,
           b.valid_from <= d.day AND (b.valid_to IS NULL OR b.valid_to > d.day) AS in_force
    FROM land.zone_boundaries b JOIN land.zones z ON z.id = b.zone_id
    CROSS JOIN (SELECT coalesce(CAST(:day AS date), current_date) AS day) d
    WHERE z.code = :zone
    ORDER BY b.valid_from DESC""")


def zone_boundaries(engine: Engine, zone_code: str | None, on: dt.date | None = None) -> list[dict]:
    """The boundary versions of the zone ``zone_code``, newest first; ``in_force`` marks the one in
    force on ``on`` (today by default). Unknown zone: an empty list."""
    if not zone_code:
        return []
    with engine.connect() as conn:
        rows = conn.execute(_BOUNDARIES, {"zone": str(zone_code), "day": on}).mappings()
        return [dict(r) for r in rows]
