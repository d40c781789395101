"""How fresh a parcel's findings are: when they were made current, the date they are as of, and
whether a change is still waiting for the worker (gisapp.rules.worker): for the parcel's own
rules (its parcel jobs, or a change to its zone they read) and for the zone-wide rules (the zone's
full run). A finding with a change pending is shown as pending, never as current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.rules.registry import PARCEL_LOCAL_RULES


@dataclass(frozen=True)
class Freshness:
    """``made_current_at``: when the parcel's findings were last made current, by its zone's run
    or a parcel job (None: never assessed); ``as_of``: the date they are as of;
    ``pending_since``: the oldest change to the zone still queued for its full run (the zone-wide
    rules: ranks, balances, QA); ``own_pending_since``: the oldest queued change the parcel's own
    rules (:data:`gisapp.rules.registry.PARCEL_LOCAL_RULES`) still wait for. None: nothing
    pending."""

    made_current_at: dt.datetime | None
    as_of: dt.date | None
    pending_since: dt.datetime | None
    own_pending_since: dt.datetime | None = None

    @property
    def pending(self) -> bool:
        """Some of the parcel's findings wait for a re-assessment."""
        return self.pending_since is not None or self.own_pending_since is not None

    @property
    def own_pending(self) -> bool:
        return self.own_pending_since is not None

    def rule_pending(self, rule: str) -> bool:
        """Whether the findings of ``rule`` wait for a re-assessment."""
        if rule in PARCEL_LOCAL_RULES:
            return self.own_pending
        return self.pending_since is not None

    def stamp(self) -> str:
        """Changes whenever the findings shown could have changed."""
        return (f"{self.made_current_at and self.made_current_at.isoformat()}|{self.pending_since is not None}"
                f"|{self.own_pending}")

    def to_dict(self) -> dict:
        """JSON-friendly: times and the date as ISO text, ``pending`` as flags."""
        return {"made_current_at": self.made_current_at and self.made_current_at.isoformat(),
                "as_of": self.as_of and self.as_of.isoformat(), "pending": self.pending,
                "pending_since": self.pending_since and self.pending_since.isoformat(),
                "own_pending": self.own_pending,
                "own_pending_since": self.own_pending_since and self.own_pending_since.isoformat()}


_FRESHNESS = sa.text("""
    SELECT greatest((SELECT max(c.made_current_at) FROM rules.current_runs c WHERE c.zone_key = p.zone_id),
                    (SELECT max(r.finished_at) FROM rules.parcel_patches pp
                     JOIN rules.assessment_runs r ON r.id = pp.run_id WHERE pp.parcel_id = p.id))
               AS made_current_at,
           (SELECT max(f.as_of) FROM rules.current_findings f WHERE f.parcel_id = p.id) AS as_of,
           (SELECT min(q.enqueued_at) FROM rules.reassess_queue q
            WHERE q.zone_id = p.zone_id AND q.parcel_id IS NULL) AS pending_since,
           least((SELECT min(q.enqueued_at) FROM rules.reassess_queue q WHERE q.parcel_id = p.id),
                 (SELECT min(q.enqueued_at) FROM rules.reassess_queue q
                  WHERE q.zone_id = p.zone_id AND q.parcel_id IS NULL AND NOT q.covered)) AS own_pending_since
    FROM land.parcels p WHERE p.code = :code""")


def freshness_on(conn: Connection, code: str) -> Freshness | None:
    """The freshness of parcel ``code``'s findings on an open connection (None: no such parcel)."""
    row = conn.execute(_FRESHNESS, {"code": code}).first()
    return None if row is None else Freshness(row.made_current_at, row.as_of, row.pending_since, row.own_pending_since)


def parcel_freshness(engine: Engine, actor: Actor, code: str) -> Freshness:
    """The freshness of the findings of parcel ``code`` as ``actor`` sees them (NotFoundError if
    there is no such parcel)."""
    with acting_as(engine, actor) as conn:
        found = freshness_on(conn, code)
    if found is None:
        raise NotFoundError(f"there is no parcel {code}")
    return found
