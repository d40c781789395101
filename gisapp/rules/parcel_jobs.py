"""A parcel's own findings, moments after an edit (`gisapp worker --kind parcels`).

A change to a few parcels queues one row per parcel it touched (sql/security/0800_live_findings.sql).
This worker takes them, evaluates the parcel-local rules
(:data:`gisapp.rules.registry.PARCEL_LOCAL_RULES`: a parcel's finding depends on its own rows
alone) with the batch's code on the frames of those parcels (the frames a run reads, restricted
to them: ``:parcel_ids`` in gisapp.queries.rule_inputs), read in one snapshot, and puts the
queued parcels' new findings into the current run of their rule and zone in place of the old
ones: a *patch*. A zone's full run needs seconds under load; a
patch, a fraction of one.

The findings are first copied in under a run of their own (``rules.assessment_runs.parcel_ids``
says which parcels it re-evaluated), then moved into the current run with ``patch_run_id`` naming
the patch, in the transaction that also deletes the queued rows: a worker that dies leaves the
rows queued and nothing half-patched. Reviews carry over as in a run (same rule, subject and
outcome).

Patches and full runs must not undo each other, so every run records when its snapshot was taken
(``read_at``) and ``rules.parcel_patches`` records each patch's:

- a patch is skipped for a rule and zone whose current run read the data after it did;
- a full run made current after a patch that read the data after it keeps the patch's findings
  for those parcels (:func:`gisapp.rules.assess._make_current` copies them in).

Example:
    >>> done = run_parcels_once(assessor_engine())  # doctest: +SKIP
    >>> done.parcel_ids, done.patched  # doctest: +SKIP
    ([1950], 3)
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.db.binary_copy import copy_arrow
from gisapp.queries.rule_inputs import read_in_transaction
from gisapp.rules import registry
from gisapp.rules.assess import REVIEW_COLUMNS, carry_reviews
from gisapp.rules.evaluate import evaluate_frames
from gisapp.rules.findings_store import findings_table, parameter_set_ids

#: who wrote a patch (the audit's actor, ``updated_by`` of what it moved)
ACTOR = "gisapp worker"


@dataclass
class PatchDone:
    """What one round of parcel jobs did."""

    run_id: int
    zone_ids: list[int]
    parcel_ids: list[int]
    queued_rows: int
    patched: int  # findings now current from this patch
    skipped: int  # (rule, zone) left alone: never assessed, or its current run read later
    seconds: float = 0.0


def run_parcels_once(engine: Engine) -> PatchDone | None:
    """Take every queued parcel job no other worker holds, patch the parcels' parcel-local
    findings and delete the jobs; None when none was queued. An error rolls everything back and
    leaves the jobs queued."""
    t0 = time.perf_counter()
    rules = list(registry.PARCEL_LOCAL_RULES)
    modules = registry.parcel_local_modules()
    with engine.connect() as conn, conn.begin():
        rows = conn.execute(sa.text(
            "SELECT id, zone_id, parcel_id FROM rules.reassess_queue WHERE parcel_id IS NOT NULL "
            "ORDER BY id FOR UPDATE SKIP LOCKED")).all()
        if not rows:
            return None
        jobs = pd.DataFrame({"zone_id": [r.zone_id for r in rows], "parcel_id": [r.parcel_id for r in rows]})
        jobs = jobs.drop_duplicates().reset_index(drop=True)
        zone_ids = sorted(jobs["zone_id"].unique().tolist())
        parcel_ids = sorted(jobs["parcel_id"].unique().tolist())
        as_of = conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()
        run_id = _start_patch_run(conn, as_of, zone_ids, parcel_ids, rules)
        # by parcel alone: the zone filters only cost time here (every frame of these rules takes
        # :parcel_ids, tests/db/test_live_parcel_jobs.py), and _for_jobs keeps the queued zones
        read_at, frames = _read(engine, modules, {"zone_ids": None, "parcel_ids": parcel_ids, "as_of": as_of})
        found = _for_jobs(evaluate_frames(modules, frames, as_of, rules), jobs)
        if not found.empty:
            table = findings_table(run_id, found, parameter_set_ids(engine, found["parameters"]))
            copy_arrow(conn, "rules.findings", table)
        patched, skipped = _patch(conn, run_id, rules, jobs, read_at)
        seconds = time.perf_counter() - t0
        conn.execute(sa.text(
            "UPDATE rules.assessment_runs SET status = 'finished', finished_at = clock_timestamp(), "
            "read_at = :read_at, finding_count = :n, seconds = CAST(:s AS jsonb) WHERE id = :id"),
            {"read_at": read_at, "n": patched, "id": run_id, "s": orjson.dumps({"total": seconds}).decode()})
        conn.execute(sa.text("DELETE FROM rules.reassess_queue WHERE id = ANY(:ids)"), {"ids": [r.id for r in rows]})
    return PatchDone(run_id, zone_ids, parcel_ids, len(rows), patched, skipped, time.perf_counter() - t0)


def _read(engine: Engine, modules, params: dict) -> tuple[dt.datetime, dict[str, pd.DataFrame]]:
    """(when, the frames of ``modules``) read in one REPEATABLE READ transaction begun after the
    jobs were taken, so its snapshot holds every change they stand for. On a connection of its
    own, not through an exported snapshot: a few parcels' rows cost less than setting one up."""
    names = ["parameter_overrides", *dict.fromkeys(f for m in modules for f in registry.frames_of(m))]
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        # the first statement takes the snapshot; the clock read in it is just after
        read_at = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        return read_at, read_in_transaction(conn, names, params)


def _start_patch_run(conn: Connection, as_of: dt.date, zone_ids: list[int], parcel_ids: list[int],
                     rules: list[str]) -> int:
    conn.execute(sa.text("SELECT set_config('gisapp.user', :u, true), set_config('gisapp.reason', :r, true)"),
                 {"u": ACTOR, "r": f"parcel re-assessment of {len(parcel_ids)} parcel(s) as of {as_of.isoformat()}"})
    return conn.execute(sa.text(
        "INSERT INTO rules.assessment_runs (as_of, zone_codes, rule_names, started_by, status, parcel_ids) "
        "SELECT :as_of, array_agg(code ORDER BY id), :rules, :by, 'running', :parcels "
        "FROM land.zones WHERE id = ANY(:zones) RETURNING id"),
        {"as_of": as_of, "rules": rules, "by": ACTOR, "parcels": parcel_ids, "zones": zone_ids}).scalar_one()


def _for_jobs(parts: list[pd.DataFrame], jobs: pd.DataFrame) -> pd.DataFrame:
    """The findings of the queued parcels in the zones they were queued for (a parcel that moved
    zones is queued for both: in the one it left it has none now)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame()
    found = pd.concat(parts, ignore_index=True)
    key = pd.MultiIndex.from_frame(jobs[["zone_id", "parcel_id"]].astype("int64"))
    has_parcel = found["parcel_id"].notna() & found["zone_id"].notna()
    found = found[has_parcel].reset_index(drop=True)
    mine = pd.MultiIndex.from_arrays([found["zone_id"].astype("int64"), found["parcel_id"].astype("int64")]).isin(key)
    return found[mine].reset_index(drop=True)


# The jobs crossed with the parcel-local rules: what a patch claims, (rule, zone_key, parcel_id).
_CLAIMS = """
    WITH claim AS (
        SELECT r.rule, j.zone_key, j.parcel_id
        FROM unnest(CAST(:zones AS integer[]), CAST(:parcels AS bigint[])) AS j(zone_key, parcel_id)
        CROSS JOIN unnest(CAST(:rules AS text[])) AS r(rule))
"""
_TARGET = ("unnest(CAST(:t_rule AS text[]), CAST(:t_zone AS integer[]), CAST(:t_parcel AS bigint[]), "
           "CAST(:t_run AS bigint[])) AS t(rule, zone_key, parcel_id, run_id)")


def _patch(conn: Connection, run_id: int, rules: list[str], jobs: pd.DataFrame, read_at: dt.datetime) -> tuple[int, int]:
    """Move this patch's findings into the current runs where they are the freshest; returns
    (findings made current, (rule, parcel) claims left alone)."""
    params = {"zones": jobs["zone_id"].astype(int).tolist(), "parcels": jobs["parcel_id"].astype(int).tolist(),
              "rules": rules, "run": run_id, "read_at": read_at}
    # the current runs of the claimed rules and zones, locked (in one order): a full run being
    # made current waits for this patch, or this patch for it (gisapp.rules.assess._make_current)
    conn.execute(sa.text(
        _CLAIMS + "SELECT 1 FROM rules.current_runs c WHERE (c.rule, c.zone_key) IN (SELECT rule, zone_key FROM claim) "
        "ORDER BY c.rule, c.zone_key FOR UPDATE"), params)
    # where this patch is the freshest: the zone's current run read the data before it did (a
    # rule never assessed in the zone waits for its full run), and no later patch of the parcel
    target = conn.execute(sa.text(
        _CLAIMS + "SELECT claim.rule, claim.zone_key, claim.parcel_id, c.run_id FROM claim "
        "JOIN rules.current_runs c USING (rule, zone_key) JOIN rules.assessment_runs r ON r.id = c.run_id "
        "WHERE (r.read_at IS NULL OR r.read_at <= :read_at) "
        "AND NOT EXISTS (SELECT 1 FROM rules.parcel_patches pp WHERE pp.rule = claim.rule "
        "                AND pp.parcel_id = claim.parcel_id AND pp.read_at > :read_at)"), params).all()
    skipped = len(jobs) * len(rules) - len(target)
    if target:
        params |= {"t_rule": [t.rule for t in target], "t_zone": [int(t.zone_key) for t in target],
                   "t_parcel": [int(t.parcel_id) for t in target], "t_run": [int(t.run_id) for t in target]}
        old = conn.execute(sa.text(
            f"DELETE FROM rules.findings f USING {_TARGET} "
            "WHERE f.run_id = t.run_id AND f.rule = t.rule AND f.zone_key = t.zone_key AND f.parcel_id = t.parcel_id "
            f"RETURNING f.rule, f.zone_key, f.subject_type, f.subject_id, f.outcome, {', '.join('f.' + c for c in REVIEW_COLUMNS)}"),
            params).all()
        moved = conn.execute(sa.text(
            f"UPDATE rules.findings f SET run_id = t.run_id, patch_run_id = :run FROM {_TARGET} "
            "WHERE f.run_id = :run AND f.rule = t.rule AND f.zone_key = t.zone_key AND f.parcel_id = t.parcel_id "
            "RETURNING f.id, f.rule, f.zone_key"), params).all()
        _count(conn, old, moved)
        carry_reviews(conn, None, [o for o in old if o.review_status != "open"], only_ids=[m.id for m in moved])
        conn.execute(sa.text(
            f"INSERT INTO rules.parcel_patches (rule, parcel_id, zone_key, run_id, read_at) "
            f"SELECT DISTINCT ON (t.rule, t.parcel_id) t.rule, t.parcel_id, t.zone_key, :run, :read_at FROM {_TARGET} "
            "ORDER BY t.rule, t.parcel_id "
            "ON CONFLICT (rule, parcel_id) DO UPDATE SET zone_key = EXCLUDED.zone_key, run_id = EXCLUDED.run_id, "
            "read_at = EXCLUDED.read_at"), params)
        patched = len(moved)
    else:
        patched = 0
    # what stayed under the patch's own run was nowhere the freshest: never current, not kept
    conn.execute(sa.text("DELETE FROM rules.findings WHERE run_id = :run"), {"run": run_id})
    return patched, skipped


def _count(conn: Connection, old, moved) -> None:
    """Keep ``rules.current_runs.findings`` (how many findings each current key has) right."""
    delta: dict[tuple[str, int], int] = {}
    for row, n in [(r, 1) for r in moved] + [(r, -1) for r in old]:
        delta[(row.rule, int(row.zone_key))] = delta.get((row.rule, int(row.zone_key)), 0) + n
    changed = {k: v for k, v in delta.items() if v}
    if changed:
        conn.execute(sa.text(
            "UPDATE rules.current_runs c SET findings = c.findings + d.n FROM unnest(CAST(:r AS text[]), "
            "CAST(:z AS integer[]), CAST(:n AS integer[])) AS d(rule, zone_key, n) "
            "WHERE c.rule = d.rule AND c.zone_key = d.zone_key"),
            {"r": [k[0] for k in changed], "z": [k[1] for k in changed], "n": list(changed.values())})
