"""How fresh a parcel's findings are: when they were made current, the date they are as of, and
whether a change to its zone is still waiting for the worker (gisapp.rules.worker). A finding
with a change pending is shown as pending, never as current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError


@dataclass(frozen=True)
class Freshness:
    """``made_current_at``: when the parcel's zone's findings were last made current (None: never
    assessed); ``as_of``: the date they are as of; ``pending_since``: the oldest change to the
    zone still queued for re-assessment (None: nothing pending)."""

    made_current_at: dt.datetime | None
    as_of: dt.date | None
    pending_since: dt.datetime | None

    @property
    def pending(self) -> bool:
        return self.pending_since is not None

    def stamp(self) -> str:
        """Changes whenever the findings shown could have changed."""
        return f"{self.made_current_at and self.made_current_at.isoformat()}|{self.pending}"


def parcel_freshness(engine: Engine, actor: Actor, code: str) -> Freshness:
    """The freshness of the findings of parcel ``code`` (NotFoundError if there is none)."""
    with acting_as(engine, actor) as conn:
        row = conn.execute(
            sa.text("""
            SELECT (SELECT max(c.made_current_at) FROM rules.current_runs c WHERE c.zone_key = p.zone_id)
                       AS made_current_at,
                   (SELECT max(f.as_of) FROM rules.current_findings f WHERE f.parcel_id = p.id) AS as_of,
                   (SELECT min(q.enqueued_at) FROM rules.reassess_queue q WHERE q.zone_id = p.zone_id)
                       AS pending_since
            FROM land.parcels p WHERE p.code = :code"""),
            {"code": code},
        ).first()
    if row is None:
        raise NotFoundError(f"there is no parcel {code}")
    return Freshness(row.made_current_at, row.as_of, row.pending_since)
