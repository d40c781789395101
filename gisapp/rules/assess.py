"""Run the registered rules and store their findings (what `gisapp assess` does).

Inputs are read once (one consistent snapshot), every registered rule runs on the frames (two
modules at a time in forked processes at city scale: :mod:`gisapp.rules.scheduler`), and each
module's findings are copied in with ``COPY`` under the run's id as soon as it has run
(:mod:`gisapp.rules.findings_store`). Nothing is current yet: when all modules
have run, one short transaction points ``rules.current_runs`` at the run for its rules and zones
(docs/findings.md). The previous findings are not rewritten; they stay as history. A failed
run's rows are deleted and the run is marked failed; the previous findings stay current.
A review (confirmed / dismissed, with reason, by whom and when) of a previous current finding is
carried over to the new finding of the same rule, subject and outcome, so that rerunning does not
undo the zone offices' work; a changed outcome reopens the finding.

Example:
    >>> summary = run_assessment(get_engine(), dt.date(2026, 6, 30), ["yangshan"])  # doctest: +SKIP
    >>> summary.counts.head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db import locks
from gisapp.errors import InputError
from gisapp.queries.rule_inputs import input_snapshot_at, zone_ids_for
from gisapp.rules import registry
from gisapp.rules.evaluate import evaluate_rules
from gisapp.rules.findings_store import ACTOR, count_table
from gisapp.rules.scheduler import ModuleDone, run_modules

__all__ = ["RunSummary", "evaluate_rules", "prune_findings", "run_assessment"]

REVIEW_COLUMNS = ["review_status", "review_reason", "reviewed_by", "reviewed_at"]


@dataclass
class RunSummary:
    """What a run did: its id, the counts per rule and outcome, and where the time went."""

    run_id: int
    as_of: dt.date
    zone_codes: list[str] | None
    rule_names: list[str]
    counts: pd.DataFrame
    finding_count: int
    carried_reviews: int
    superseded: int
    seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 1

    def table(self) -> str:
        """The counts as a plain-text table (rule, outcome, findings, positives)."""
        if self.counts.empty:
            return "(no findings)"
        return self.counts.to_string(index=False)


def run_assessment(
    engine: Engine,
    as_of: dt.date | None = None,
    zone_codes: Sequence[str] | None = None,
    rule_names: Sequence[str] | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Assess ``zone_codes`` (all when None) with ``rule_names`` (all registered when None) as of
    ``as_of`` (when None, the assessment clock's date: today in Asia/Shanghai unless the database
    fixes it, as the synthetic demo does; the live worker uses the same clock) and store the findings; returns a :class:`RunSummary`.

    The findings of each rule module are copied in as soon as the module has run (in ``workers``
    processes; by default two for city-scale inputs, else one), under the run's id but not yet
    current. When every module has run, one short transaction makes the run current for its
    rules and zones (``rules.current_runs``) and carries reviews over. An error in any module
    deletes the run's rows and marks it failed, leaving the previous findings current.
    """
    zone_codes = list(zone_codes) if zone_codes else None
    modules = registry.modules_for(rule_names)
    ran = list(rule_names) if rule_names else [s.name for m in modules for s in m.SPECS]
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    keys = _lock_keys(modules)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        # one run of these rules at a time: two would race for "current" (gisapp.db.locks)
        for key in keys:
            lock.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            zone_ids = zone_ids_for(lock, zone_codes)  # unknown zones: refused before anything is written
            as_of = as_of or lock.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()
            run_id = _start_run(lock, as_of, zone_codes, ran)
            try:
                params = {"zone_ids": zone_ids, "as_of": as_of}
                if workers is None:
                    workers = 2 if _parcel_count(lock, zone_ids) >= PARALLEL_FROM_PARCELS else 1
                with input_snapshot_at(engine) as (snapshot, read_at):  # every module reads this one snapshot
                    seconds["snapshot"] = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    done = run_modules(engine, run_id, modules, snapshot, params, rule_names, workers)
                    seconds["inputs_rules_and_copy"] = time.perf_counter() - t1
                for d in done:
                    seconds.update(d.seconds)
                t2 = time.perf_counter()
                superseded, carried = _make_current(engine, run_id, ran, zone_ids, as_of, done, read_at)
                seconds["make_current"] = time.perf_counter() - t2
            except BaseException:
                _discard_run(lock, run_id)
                raise
            seconds["total"] = time.perf_counter() - t0
            total = sum(d.count for d in done)
            lock.execute(
                sa.text(
                    "UPDATE rules.assessment_runs SET finished_at = clock_timestamp(), finding_count = :n, "
                    "status = 'finished', seconds = CAST(:s AS jsonb), read_at = :read_at WHERE id = :id"
                ),
                {"n": total, "id": run_id, "s": orjson.dumps(seconds).decode(), "read_at": read_at},
            )
        finally:
            for key in reversed(keys):
                lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    counts = [d.counts for d in done if not d.counts.empty]
    return RunSummary(
        run_id=run_id,
        as_of=as_of,
        zone_codes=zone_codes,
        rule_names=ran,
        counts=pd.concat(counts, ignore_index=True) if counts else count_table(pd.DataFrame()),
        finding_count=total,
        carried_reviews=carried,
        superseded=superseded,
        seconds=seconds,
        workers=workers,
    )


#: a run with at least this many parcels evaluates its rule modules in parallel processes
PARALLEL_FROM_PARCELS = 20_000


def _parcel_count(conn, zone_ids: list[int] | None) -> int:
    """Parcels in the zones (all when None), from the per-zone counts the triggers keep."""
    return conn.execute(
        sa.text(
            "SELECT coalesce(sum(n), 0) FROM layers.parcel_zone_counts "
            "WHERE CAST(:z AS integer[]) IS NULL OR zone_id = ANY(:z)"
        ),
        {"z": zone_ids},
    ).scalar_one()


def _lock_keys(modules) -> list[int]:
    """The advisory locks of a run of ``modules``: one per kind of rule it runs, in lock order."""
    kinds = {locks.ASSESSMENT if getattr(m, "ZONE_LOCAL", False) else locks.ASSESSMENT_CITY for m in modules}
    return [k for k in locks.ASSESSMENTS if k in kinds]


def _start_run(conn, as_of: dt.date, zone_codes: list[str] | None, ran: list[str]) -> int:
    return conn.execute(
        sa.text(
            "INSERT INTO rules.assessment_runs (as_of, zone_codes, rule_names, started_by, status) "
            "VALUES (:as_of, :zones, :rules, :by, 'running') RETURNING id"
        ),
        {"as_of": as_of, "zones": zone_codes, "rules": ran, "by": ACTOR},
    ).scalar_one()


def _discard_run(conn, run_id: int) -> None:
    """A failed run: its rows go (never current, so nobody saw them), the run row stays, failed."""
    conn.execute(sa.text("DELETE FROM rules.findings WHERE run_id = :id"), {"id": run_id})
    conn.execute(
        sa.text(
            "UPDATE rules.assessment_runs SET status = 'failed', finished_at = clock_timestamp() WHERE id = :id"
        ),
        {"id": run_id},
    )


def _make_current(
    engine: Engine,
    run_id: int,
    ran: list[str],
    zone_ids: list[int] | None,
    as_of: dt.date,
    done: list[ModuleDone],
    read_at: dt.datetime,
) -> tuple[int, int]:
    """Point rules.current_runs at this run for its rules and zones and carry reviews over, in
    one transaction. Returns (previous findings superseded, reviews carried over).

    A parcel job that read the data after this run did (rules.parcel_patches, read at
    ``read_at`` or later) is fresher for its parcel: its findings are copied into this run in
    place of the run's own (gisapp.rules.parcel_jobs).

    A run claims every (rule, zone) in its scope, also those where it found nothing (the old
    findings of a zone with no subjects left must not stay current). Findings without a zone
    (e.g. district quota accounts) are keyed by zone 0: a run claims that key when it covers
    all zones or wrote zone-less findings of the rule (rules evaluate all their zone-less
    subjects in every run).
    """
    zoneless = {r for d in done for r in d.zoneless_rules}
    with engine.begin() as conn:
        conn.execute(
            sa.text("SELECT set_config('gisapp.user', :u, true), set_config('gisapp.reason', :r, true)"),
            {"u": ACTOR, "r": f"assessment run {run_id} as of {as_of.isoformat()}"},
        )
        all_zones = zone_ids is None
        if all_zones:
            zone_ids = conn.execute(sa.text("SELECT id FROM land.zones")).scalars().all()
        claims = pd.DataFrame(
            [(r, z) for r in ran for z in zone_ids] + [(r, 0) for r in ran if all_zones or r in zoneless],
            columns=["rule", "zone_key"],
        )
        per_key: dict[tuple[str, int], int] = {}
        for d in done:
            per_key.update(d.per_key)
        params = {
            "r": claims["rule"].tolist(),
            "z": claims["zone_key"].astype(int).tolist(),
            "n": [per_key.get((r, int(z)), 0) for r, z in zip(claims["rule"], claims["zone_key"])],
            "run": run_id,
        }
        claimed = (
            "unnest(CAST(:r AS text[]), CAST(:z AS integer[]), CAST(:n AS integer[])) AS k(rule, zone_key, n)"
        )
        kept = _keep_fresher_patches(conn, run_id, claimed, params, read_at)
        params["n"] = [n + kept.get((r, z), 0) for r, z, n in zip(params["r"], params["z"], params["n"])]
        # what is current now: counted per key, not by scanning the previous run's findings
        superseded = conn.execute(
            sa.text(
                f"SELECT coalesce(sum(c.findings), 0) FROM {claimed} JOIN rules.current_runs c USING (rule, zone_key)"
            ),
            params,
        ).scalar_one()
        reviews = conn.execute(
            sa.text(
                f"SELECT f.rule, f.subject_type, f.subject_id, f.outcome, {', '.join('f.' + c for c in REVIEW_COLUMNS)} "
                f"FROM {claimed} JOIN rules.current_runs c USING (rule, zone_key) "
                "JOIN rules.findings f ON f.run_id = c.run_id AND f.rule = c.rule AND f.zone_key = c.zone_key "
                "WHERE f.review_status <> 'open'"  # findings_reviewed_idx
            ),
            params,
        ).all()
        conn.execute(
            sa.text(
                f"INSERT INTO rules.current_runs (rule, zone_key, run_id, findings) "
                f"SELECT rule, zone_key, :run, n FROM {claimed} "
                "ON CONFLICT (rule, zone_key) DO UPDATE SET run_id = EXCLUDED.run_id, findings = EXCLUDED.findings, "
                "made_current_at = now()"
            ),
            params,
        )
        carried = carry_reviews(conn, run_id, reviews)
    return int(superseded), carried


def _keep_fresher_patches(conn, run_id: int, claimed: str, params: dict, read_at: dt.datetime) -> dict:
    """Copy into this run, for each parcel patched after this run read the data, the patch's
    current findings in place of the run's own; forget the patches this run has caught up with.
    Returns the change of each (rule, zone_key)'s finding count. The current runs of the claimed
    keys are locked first, so that a parcel job patching them finishes before or waits."""
    conn.execute(sa.text(f"SELECT 1 FROM rules.current_runs c JOIN {claimed} USING (rule, zone_key) "
                         "ORDER BY c.rule, c.zone_key FOR UPDATE OF c"), params)
    p = {**params, "run": run_id, "read_at": read_at}
    fresher = (f"SELECT pp.rule, pp.zone_key, pp.parcel_id FROM rules.parcel_patches pp JOIN {claimed} "
               "USING (rule, zone_key) WHERE pp.read_at > :read_at")
    delta: dict[tuple[str, int], int] = {}
    if conn.execute(sa.text(f"SELECT EXISTS ({fresher})"), p).scalar():
        dropped = conn.execute(sa.text(
            f"DELETE FROM rules.findings f USING ({fresher}) x WHERE f.run_id = :run AND f.rule = x.rule "
            "AND f.zone_key = x.zone_key AND f.parcel_id = x.parcel_id RETURNING f.rule, f.zone_key"), p).all()
        copied = conn.execute(sa.text(
            f"INSERT INTO rules.findings ({', '.join(PATCH_COPIED)}, run_id) "
            f"SELECT {', '.join('f.' + c for c in PATCH_COPIED)}, :run FROM ({fresher}) x "
            "JOIN rules.current_runs c ON c.rule = x.rule AND c.zone_key = x.zone_key "
            "JOIN rules.findings f ON f.run_id = c.run_id AND f.rule = x.rule AND f.zone_key = x.zone_key "
            "AND f.parcel_id = x.parcel_id RETURNING rule, zone_key"), p).all()
        for rows, n in ((copied, 1), (dropped, -1)):
            for row in rows:
                delta[(row.rule, int(row.zone_key))] = delta.get((row.rule, int(row.zone_key)), 0) + n
    conn.execute(sa.text(f"DELETE FROM rules.parcel_patches pp USING {claimed} "
                         "WHERE pp.rule = k.rule AND pp.zone_key = k.zone_key AND pp.read_at <= :read_at"), p)
    return delta


#: what a patched finding brings into a run made current after it (not its review: carried over
#: like any other; not its row version)
PATCH_COPIED = ("rule", "rule_version", "as_of", "zone_id", "zone_key", "parcel_id", "subject_type", "subject_id",
                "outcome", "is_positive", "parameter_set_id", "evidence", "explanation_zh", "explanation_en",
                "patch_run_id", "updated_by")


def carry_reviews(conn, run_id: int | None, reviews, only_ids: list[int] | None = None) -> int:
    """The review of a previous current finding goes to the finding of the same rule, subject and
    outcome in run ``run_id`` (or, for a parcel job, among the findings ``only_ids`` it patched in);
    a changed outcome is a new question: it stays open."""
    if not reviews:
        return 0
    cols = ["rule", "subject_type", "subject_id", "outcome", *REVIEW_COLUMNS]
    arrays = {c: [getattr(r, c) for r in reviews] for c in cols}
    return conn.execute(
        sa.text(
            "UPDATE rules.findings f SET review_status = x.review_status, review_reason = x.review_reason, "
            "reviewed_by = x.reviewed_by, reviewed_at = x.reviewed_at "
            "FROM unnest(CAST(:rule AS text[]), CAST(:subject_type AS text[]), CAST(:subject_id AS text[]), "
            "CAST(:outcome AS text[]), CAST(:review_status AS text[]), CAST(:review_reason AS text[]), "
            "CAST(:reviewed_by AS text[]), CAST(:reviewed_at AS timestamptz[])) "
            "AS x(rule, subject_type, subject_id, outcome, review_status, review_reason, reviewed_by, reviewed_at) "
            f"WHERE {'f.run_id = :run' if only_ids is None else 'f.id = ANY(:ids)'} AND f.rule = x.rule "
            "AND f.subject_type = x.subject_type AND f.subject_id = x.subject_id AND f.outcome = x.outcome"
        ),
        {**arrays, "run": run_id, "ids": only_ids},
    ).rowcount


def prune_findings(engine: Engine, keep_runs: int = 3) -> int:
    """Delete the unreviewed findings of old runs; returns how many rows went.

    Kept: every run that is current for some rule and zone, the ``keep_runs`` latest finished
    runs, and every reviewed finding (the zone offices' work is history worth keeping). The rows
    of a run whose process died are deleted too. A city-scale run writes ~4M rows, so history
    grows by gigabytes per run without this.

    The runs are chosen under the assessments' locks (no run is then in progress, so one still
    "running" died); their rows are deleted after the locks are let go, a few runs a transaction:
    a run superseded is never made current again, and a day's history deleted in one statement
    held up every assessment and the live worker's rounds for as long as it took.
    """
    if keep_runs < 0:
        raise InputError(f"keep_runs must be 0 or more, not {keep_runs}")
    with engine.begin() as conn:
        for key in locks.ASSESSMENTS:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        conn.execute(
            sa.text(
                "UPDATE rules.assessment_runs SET status = 'failed', finished_at = clock_timestamp() "
                "WHERE status = 'running'"
            )
        )
        old = conn.execute(
            sa.text(
                "SELECT r.id FROM rules.assessment_runs r "
                "WHERE NOT EXISTS (SELECT 1 FROM rules.current_runs c WHERE c.run_id = r.id) "
                "AND r.id NOT IN (SELECT id FROM rules.assessment_runs WHERE status = 'finished' "
                "                 ORDER BY id DESC LIMIT :keep) "
                "AND EXISTS (SELECT 1 FROM rules.findings f WHERE f.run_id = r.id AND f.review_status = 'open') "
                "ORDER BY r.id"
            ),
            {"keep": keep_runs},
        ).scalars().all()
    deleted = 0
    for start in range(0, len(old), PRUNE_RUNS_PER_TRANSACTION):
        with engine.begin() as conn:
            deleted += conn.execute(
                sa.text("DELETE FROM rules.findings WHERE run_id = ANY(:ids) AND review_status = 'open'"),
                {"ids": old[start:start + PRUNE_RUNS_PER_TRANSACTION]},
            ).rowcount
    return deleted


#: how many old runs' findings one transaction of :func:`prune_findings` deletes (the live
#: worker's runs hold a zone's findings each, a few thousand rows; a full run's, millions)
PRUNE_RUNS_PER_TRANSACTION = 20
