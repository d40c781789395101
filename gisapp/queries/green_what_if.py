"""What the green-balance what-if page reads: one zone's rule inputs (the same frames
`gisapp assess` reads, :mod:`gisapp.queries.rule_inputs`), as the signed-in user, so that the
page answers with the rule's own arithmetic (gisapp.rules.green_balance.what_if_in_zone).

Example:
    >>> zone = zone_inputs(engine, actor, "yangshan")  # doctest: +SKIP
    >>> zone.frames["parcels"].columns[:3].tolist()    # doctest: +SKIP
    ['id', 'code', 'zone_id']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.queries.rule_inputs import load_inputs

#: the frames the what-if reads (gisapp.rules.green_balance.INPUTS without the zones, plus the
#: bureau's parameter values: a zone's own target)
FRAMES = ("parcels", "green_areas", "parameter_overrides")


@dataclass(frozen=True)
class ZoneInputs:
    """A zone and the rule's input frames restricted to it."""

    zone_id: int
    code: str
    name_zh: str
    name_en: str
    frames: dict[str, pd.DataFrame]

    def parcel_id(self, code: str) -> int | None:
        """The id of the zone's parcel ``code`` (None: not a parcel of this zone)."""
        parcels = self.frames["parcels"]
        found = parcels.loc[parcels["code"] == code, "id"]
        return int(found.iloc[0]) if len(found) else None

    def parcel_area(self, parcel_id: int) -> float:
        parcels = self.frames["parcels"]
        return float(parcels.loc[parcels["id"] == parcel_id, "area_m2"].iloc[0])


def zone_inputs(engine: Engine, actor: Actor, zone_code: str, as_of: dt.date | None = None) -> ZoneInputs:
    """The rule inputs of zone ``zone_code`` that ``actor`` may read; NotFoundError for an unknown
    zone (or one the database does not show them)."""
    with acting_as(engine, actor) as conn:
        row = conn.execute(sa.text("SELECT id, code, name_zh, name_en FROM land.zones WHERE code = :c"),
                           {"c": zone_code}).mappings().first()
        if row is None:
            raise NotFoundError(f"there is no zone with the code {zone_code[:60]!r}")
        frames = load_inputs(conn, FRAMES, zone_codes=[zone_code], as_of=as_of)
    return ZoneInputs(int(row["id"]), row["code"], row["name_zh"], row["name_en"], frames)
