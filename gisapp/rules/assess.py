"""Run the registered rules and store their findings (what `gisapp assess` does).

Inputs are read once (one consistent snapshot), every registered rule runs on the frames (two
modules at a time in forked processes at city scale), and each module's findings are copied in
with ``COPY`` under the run's id as soon as it has run. Nothing is current yet: when all modules
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
import importlib
import multiprocessing as mp
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from gisapp.db import locks
from gisapp.db.binary_copy import copy_arrow
from gisapp.errors import GisappError, InputError
from gisapp.queries.rule_inputs import (
    input_snapshot,
    read_frames,
    snapshot_reader,
    uses_param,
    zone_ids_for,
)
from gisapp.rules import columnar, registry
from gisapp.rules.base import FINDING_COLUMNS
from gisapp.rules.common import concat_findings

REVIEW_COLUMNS = ["review_status", "review_reason", "reviewed_by", "reviewed_at"]
ACTOR = "gisapp assess"
# one assessment at a time: two concurrent runs of a zone would race for "current"
_LOCK_KEY = locks.ASSESSMENT


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


def evaluate_rules(
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None = None,
    seconds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Findings of the registered rules on already loaded frames (no database needed).

    This is the notebook face of the rules: give it frames (e.g. from :func:`load_inputs`, or
    built by hand) and get the findings frame. ``seconds`` receives the time of each module.
    """
    parts = [
        _evaluate_module(m, inputs, as_of, rule_names, seconds) for m in registry.modules_for(rule_names)
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return concat_findings(parts)


def _evaluate_module(
    module,
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None,
    seconds: dict[str, float] | None,
) -> pd.DataFrame:
    missing = [n for n in module.INPUTS if n not in inputs]
    if missing:
        raise InputError(f"rule module {module.__name__} needs input frame(s) {', '.join(missing)}")
    start = time.perf_counter()
    found = module.evaluate(inputs, as_of, inputs.get("parameter_overrides"))
    if seconds is not None:
        seconds[module.__name__.rsplit(".", 1)[-1]] = time.perf_counter() - start
    if rule_names:
        found = found[found["rule"].isin(rule_names)]
    _check(module.__name__, found)
    return found


def _check(module: str, found: pd.DataFrame) -> None:
    """A rule's output must be a findings frame with one row per rule and subject."""
    if list(found.columns) != FINDING_COLUMNS:
        raise GisappError(
            f"rule module {module} returned columns {list(found.columns)}, expected {FINDING_COLUMNS}"
        )
    for col in (
        "rule",
        "rule_version",
        "subject_type",
        "subject_id",
        "outcome",
        "explanation_zh",
        "explanation_en",
        "is_positive",
    ):
        if found[col].isna().any():
            raise GisappError(
                f"rule module {module} left {col} empty in {int(found[col].isna().sum())} finding(s)"
            )
    dup = found.duplicated(["rule", "subject_type", "subject_id"])
    if dup.any():
        first = found[dup].iloc[0]
        raise GisappError(
            f"rule module {module} returned {int(dup.sum())} duplicate finding(s), e.g. "
            f"{first['rule']} {first['subject_type']} {first['subject_id']}"
        )


def run_assessment(
    engine: Engine,
    as_of: dt.date | None = None,
    zone_codes: Sequence[str] | None = None,
    rule_names: Sequence[str] | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Assess ``zone_codes`` (all when None) with ``rule_names`` (all registered when None) as of
    ``as_of`` (today when None) and store the findings; returns a :class:`RunSummary`.

    The findings of each rule module are copied in as soon as the module has run (in ``workers``
    processes; by default two for city-scale inputs, else one), under the run's id but not yet
    current. When every module has run, one short transaction makes the run current for its
    rules and zones (``rules.current_runs``) and carries reviews over. An error in any module
    deletes the run's rows and marks it failed, leaving the previous findings current.
    """
    as_of = as_of or dt.date.today()
    zone_codes = list(zone_codes) if zone_codes else None
    modules = registry.modules_for(rule_names)
    ran = list(rule_names) if rule_names else [s.name for m in modules for s in m.SPECS]
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        # one assessment at a time: two concurrent runs of a zone would race for "current"
        lock.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            zone_ids = zone_ids_for(lock, zone_codes)  # unknown zones: refused before anything is written
            run_id = _start_run(lock, as_of, zone_codes, ran)
            try:
                params = {"zone_ids": zone_ids, "as_of": as_of}
                if workers is None:
                    workers = 2 if _parcel_count(lock, zone_ids) >= PARALLEL_FROM_PARCELS else 1
                with input_snapshot(engine) as snapshot:  # every module reads this one snapshot
                    seconds["snapshot"] = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    done = _run_modules(engine, run_id, modules, snapshot, params, rule_names, workers)
                    seconds["inputs_rules_and_copy"] = time.perf_counter() - t1
                for d in done:
                    seconds.update(d.seconds)
                t2 = time.perf_counter()
                superseded, carried = _make_current(engine, run_id, ran, zone_ids, as_of, done)
                seconds["make_current"] = time.perf_counter() - t2
            except BaseException:
                _discard_run(lock, run_id)
                raise
            seconds["total"] = time.perf_counter() - t0
            total = sum(d.count for d in done)
            lock.execute(
                sa.text(
                    "UPDATE rules.assessment_runs SET finished_at = clock_timestamp(), finding_count = :n, "
                    "status = 'finished', seconds = CAST(:s AS jsonb) WHERE id = :id"
                ),
                {"n": total, "id": run_id, "s": orjson.dumps(seconds).decode()},
            )
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
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


@dataclass
class ModuleDone:
    """What one rule module wrote: counts per rule and outcome, rules with zone-less findings."""

    module: str
    count: int
    counts: pd.DataFrame
    zoneless_rules: list[str]
    seconds: dict[str, float]
    per_key: dict[tuple[str, int], int] = field(default_factory=dict)  # findings per (rule, zone_key)


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


# What a worker process needs, set by the parent before it forks: the run's parameters, the
# frames several modules need (read once, by the parent), the modules in the order they are
# taken and the counter that hands them out.
_WORK: dict = {}


def _run_modules(
    engine: Engine, run_id: int, modules, snapshot: str, params: dict, rule_names, workers: int
) -> list[ModuleDone]:
    """Read the inputs, evaluate and copy each module's findings; in ``workers`` forked processes
    when > 1. The frames several modules need are read once, first; each process then takes the
    next module (the longest first) whenever it is free, and reads that module's own frames."""
    url = engine.url.render_as_string(hide_password=False)
    # the costliest first (each module's TYPICAL_SECONDS), so that the processes finish together:
    # grants goes first because of its COPY (1.35M findings at city scale), which, last in the
    # run, left one core idle at the end
    order = [m.__name__ for m in sorted(modules, key=lambda m: -getattr(m, "TYPICAL_SECONDS", 1))]
    _WORK.update(snapshot=snapshot, params=params, rule_names=rule_names, run_id=run_id, url=url,
                 t0=time.perf_counter(), order=order)
    try:
        t = time.perf_counter()
        _WORK["frames"] = _read_shared_frames(engine, snapshot, params, modules, workers)
        shared_seconds = time.perf_counter() - t
        ctx = mp.get_context("fork")
        _WORK["taken"] = ctx.Value("i", 0)  # the modules handed out so far (shared with forked workers)
        if workers <= 1 or len(modules) <= 1:
            done = _modules_job(engine)
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(modules)), mp_context=ctx) as pool:
                futures = [pool.submit(_modules_job) for _ in range(min(workers, len(modules)))]
                done = [d for f in futures for d in f.result()]
        by_name = {d.module: d for d in done}
        by_name[order[0]].seconds["read:shared"] = shared_seconds
        return [by_name[m.__name__] for m in modules]
    finally:
        _WORK.clear()


def _read_shared_frames(engine: Engine, snapshot: str, params: dict, modules, workers: int) -> dict[str, pd.DataFrame]:
    """The frames that more than one module needs (the parcels, the grants, the zones, the
    parameter overrides), read once, ``workers`` at a time, before the modules run: each worker
    process would otherwise read them again, and every read costs client and server CPU (7.5 s
    of the two cores at city scale)."""
    uses: dict[str, int] = {}
    for m in modules:
        for n in {"parameter_overrides", *registry.frames_of(m)}:
            uses[n] = uses.get(n, 0) + 1
    shared = sorted(n for n, k in uses.items() if k > 1)
    return read_frames(engine, snapshot, shared, params, workers) if shared else {}


def _short(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1]


def _next_module() -> str | None:
    """The next module nobody has taken yet (None when all are taken)."""
    taken = _WORK["taken"]
    with taken.get_lock():
        i = taken.value
        taken.value += 1
    return _WORK["order"][i] if i < len(_WORK["order"]) else None


def _modules_job(engine: Engine | None = None) -> list[ModuleDone]:
    """Take modules until none is left, each run after reading its own frames; a thread copies
    each module's findings in while the next module runs."""
    own_engine = engine is None
    if own_engine:
        engine = sa.create_engine(_WORK["url"], poolclass=NullPool)
    done: list[ModuleDone] = []
    try:
        with _ModuleFrames(engine) as frames, ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            while (name := _next_module()) is not None:
                module = importlib.import_module(name)
                rule_seconds: dict[str, float] = {}
                t = time.perf_counter()
                inputs = frames.for_module(module)
                read_seconds = time.perf_counter() - t
                found = _evaluate_module(module, inputs, _WORK["params"]["as_of"], _WORK["rule_names"], rule_seconds)
                del inputs
                # the findings as one compact Arrow table: the frame's millions of Python objects
                # are freed before the next module runs (memory, not time: a city-scale process
                # otherwise held ~6 GB and the page cache paid for it)
                table, module_done = _prepare_module(engine, name, found, rule_seconds)
                module_done.seconds[f"read:{_short(name)}"] = read_seconds
                del found
                if pending is not None:
                    done.append(pending.result())
                pending = writer.submit(_write_module, engine, table, module_done)
                del table
            if pending is not None:
                done.append(pending.result())
    finally:
        if own_engine:
            engine.dispose()
    return done


class _ModuleFrames:
    """A module's input frames: those several modules need as the run read them first, the
    module's own read in the run's snapshot when it starts (and dropped when it has run).

    Read in the module's own thread on purpose: a reading thread beside the rules cost more than
    it overlapped (COPY hands over one row per message, and each hand-over contends for the GIL
    with the rules: 74 s vs 67 s for the city, docs/benchmarks.md). The other process keeps the
    second core busy meanwhile.

    A module's ``input_params`` (e.g. per_mu's evaluation year) restrict the frames whose SQL
    takes them; such a frame is read for that module alone.
    """

    def __init__(self, engine: Engine) -> None:
        self._shared: dict[str, pd.DataFrame] = _WORK.get("frames", {})
        self._reader = snapshot_reader(engine, _WORK["snapshot"])
        self._read = None

    def __enter__(self) -> _ModuleFrames:
        self._read = self._reader.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._reader.__exit__(*exc)  # ends the snapshot's transaction and returns the connection

    def for_module(self, module) -> dict[str, pd.DataFrame]:
        """The module's frames, the parameter overrides first (they may restrict the others)."""
        base = _WORK["params"]
        frames: dict[str, pd.DataFrame] = {}
        extra: dict = {}
        for n in ["parameter_overrides", *registry.frames_of(module)]:
            restricted = {k: v for k, v in extra.items() if uses_param(n, k)}
            if n in self._shared and not restricted:
                frames[n] = self._shared[n]
            else:
                frames[n] = self._read(n, {**base, **restricted})
            if n == "parameter_overrides" and hasattr(module, "input_params"):
                extra = module.input_params(base["as_of"], frames[n])
        return frames


def _prepare_module(
    engine: Engine, module_name: str, found: pd.DataFrame, rule_seconds: dict[str, float]
) -> tuple[pa.Table, ModuleDone]:
    """A module's findings as the table to copy in, and what the run reports of them."""
    key = _short(module_name)
    t = time.perf_counter()
    set_ids = _parameter_set_ids(engine, found["parameters"])
    table = _findings_table(_WORK["run_id"], found, set_ids)
    zone_key = _zone_keys(found)
    done = ModuleDone(
        module=module_name,
        count=len(found),
        counts=count_table(found),
        zoneless_rules=sorted(found.loc[found["zone_id"].isna(), "rule"].unique().tolist()),
        per_key={
            (str(r), int(z)): int(n) for (r, z), n in found.groupby([found["rule"], zone_key]).size().items()
        },
        seconds={f"rule:{key}": rule_seconds[key], f"prepare:{key}": time.perf_counter() - t},
    )
    return table, done


def _write_module(engine: Engine, table: pa.Table | None, done: ModuleDone) -> ModuleDone:
    """Copy one module's findings in (their own transaction, not yet current)."""
    key = _short(done.module)
    t = time.perf_counter()
    if table is not None:
        with engine.begin() as conn:
            copy_arrow(conn, "rules.findings", table)
    # when it was written, from the start of the modules (the clock is the system's: it is the
    # same in every process), to see whether the processes finish together
    done.seconds.update({f"write:{key}": time.perf_counter() - t,
                         f"written_at:{key}": time.perf_counter() - _WORK["t0"]})
    return done


def _make_current(
    engine: Engine,
    run_id: int,
    ran: list[str],
    zone_ids: list[int] | None,
    as_of: dt.date,
    done: list[ModuleDone],
) -> tuple[int, int]:
    """Point rules.current_runs at this run for its rules and zones and carry reviews over, in
    one transaction. Returns (previous findings superseded, reviews carried over).

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
        carried = _carry_reviews(conn, run_id, reviews)
    return int(superseded), carried


def _carry_reviews(conn, run_id: int, reviews) -> int:
    """The review of a previous current finding goes to this run's finding of the same rule,
    subject and outcome (a changed outcome is a new question: it stays open)."""
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
            "WHERE f.run_id = :run AND f.rule = x.rule AND f.subject_type = x.subject_type "
            "AND f.subject_id = x.subject_id AND f.outcome = x.outcome"
        ),
        {**arrays, "run": run_id},
    ).rowcount


def count_table(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings and positives per rule and outcome."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "outcome", "findings", "positives"])
    counts = (
        findings.assign(positive=findings["is_positive"].astype(bool))
        .groupby(["rule", "outcome"], sort=False)
        .agg(findings=("positive", "size"), positives=("positive", "sum"))
        .reset_index()
    )
    return counts


def _parameter_set_ids(engine: Engine, values: pd.Series) -> np.ndarray:
    """The id of each finding's parameter set, stored once per distinct content.

    Its own short transaction: two worker processes storing the same set must not wait for each
    other's COPY to finish. A dict shared by many rows (the parameters of a zone) is serialized
    once.
    """
    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    objects = values.tolist()
    # rows share a few dict objects (a zone's parameters): find them by identity, in C
    keys = np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    _, first, row_object = np.unique(keys, return_index=True, return_inverse=True)
    object_texts = [o if isinstance(o, str) else orjson.dumps(o or {}, option=opts, default=str).decode()
                    for o in (objects[i] for i in first.tolist())]
    distinct = list(dict.fromkeys(object_texts))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO rules.parameter_sets (digest, parameters) "
                "SELECT md5(CAST(j AS jsonb)::text), CAST(j AS jsonb) FROM unnest(CAST(:t AS text[])) AS j "
                "ON CONFLICT (digest) DO NOTHING"
            ),
            {"t": distinct},
        )
        found = conn.execute(
            sa.text(
                "SELECT s.id FROM unnest(CAST(:t AS text[])) WITH ORDINALITY AS x(j, n) "
                "JOIN rules.parameter_sets s ON s.digest = md5(CAST(x.j AS jsonb)::text) ORDER BY x.n"
            ),
            {"t": distinct},
        ).scalars()
        ids = dict(zip(distinct, found))
    return np.asarray([ids[t] for t in object_texts], dtype="int64")[np.asarray(row_object).ravel()]


def _findings_table(run_id: int, found: pd.DataFrame, set_ids: np.ndarray) -> pa.Table | None:
    """The findings as rows of rules.findings (Arrow, typed for the binary COPY), None if none.

    The rows are in the order of the findings index (rule, zone, parcel): each insertion then
    lands next to the previous one in the index, which cost the server ~20% less than the rules'
    own order (docs/benchmarks.md).
    """
    if found.empty:
        return None
    n = len(found)
    order = np.lexsort((
        pd.to_numeric(found["parcel_id"], errors="coerce").fillna(-1).to_numpy(dtype="int64"),
        pd.to_numeric(found["zone_id"], errors="coerce").fillna(-1).to_numpy(dtype="int64"),  # zone_key 0 first
        pd.factorize(found["rule"], sort=True)[0],
    ))
    table = found.take(order)
    return pa.table(
        {
            "run_id": pa.array(np.full(n, run_id, dtype="int64")),
            "rule": _arrow_repeated_text(table["rule"]),
            "rule_version": _arrow_repeated_text(table["rule_version"]),
            "as_of": pa.array(pd.to_datetime(table["as_of"]).to_numpy(dtype="datetime64[D]")).cast(pa.date32()),
            "zone_id": _arrow_int(table["zone_id"]).cast(pa.int32()),
            "zone_key": pa.array(_zone_keys(table).to_numpy(dtype="int32")),
            "parcel_id": _arrow_int(table["parcel_id"]),
            "subject_type": _arrow_repeated_text(table["subject_type"]),
            "subject_id": _arrow_text(table["subject_id"] if isinstance(table["subject_id"].array, pd.arrays.ArrowExtensionArray)
                                      else table["subject_id"].astype(str)),
            "outcome": _arrow_repeated_text(table["outcome"]),
            "is_positive": pa.array(table["is_positive"].to_numpy(dtype=bool)),
            "parameter_set_id": pa.array(np.asarray(set_ids, dtype="int64")[order]),
            "evidence": _json_array(table["evidence"]),
            "explanation_zh": _arrow_text(table["explanation_zh"]),
            "explanation_en": _arrow_text(table["explanation_en"]),
            "updated_by": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                                         pa.array([ACTOR], pa.string())).cast(pa.string()),
        }
    )


def _zone_keys(found: pd.DataFrame) -> pd.Series:
    """Each finding's ``zone_key``: its zone, 0 without one (the CHECK of migration 1100)."""
    return pd.to_numeric(found["zone_id"], errors="coerce").fillna(0).astype("int64")


def _arrow_text(values: pd.Series) -> pa.Array:
    if isinstance(values.array, pd.arrays.ArrowExtensionArray):  # built in Arrow (gisapp.rules.columnar)
        return columnar.texts(values.array)
    return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _arrow_repeated_text(values: pd.Series) -> pa.Array:
    """A text column of a few distinct values (rule, outcome, ...): each distinct string encoded
    once, then expanded in Arrow (4x faster than encoding a million Python strings)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    dictionary = pa.array(np.asarray(uniques, dtype=object), pa.string())
    indices = pa.array(codes, pa.int32(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _arrow_int(values: pd.Series) -> pa.Array:
    if values.dtype.kind in "iu":  # no missing values: as it is
        return pa.array(values.to_numpy(dtype="int64"))
    return pa.array(pd.to_numeric(values, errors="coerce").astype("Int64"), type=pa.int64(), from_pandas=True)


def _json_array(values: pd.Series) -> pa.Array:
    """The JSON text of each dict (or already-JSON string, checked; or an evidence column's text) as
    an Arrow string array; ``{}`` for a finding without evidence (the column is NOT NULL: a NULL
    would fail the whole COPY)."""
    if isinstance(values.array, columnar.EvidenceArray):  # JSON text already (gisapp.rules.columnar)
        return values.array.json_text().fill_null("{}").cast(pa.large_string())
    try:
        text = columnar.json_texts(values.tolist())
    except ValueError as e:
        raise GisappError(f"a finding's {e}") from None
    return text.fill_null("{}") if text.null_count else text


def prune_findings(engine: Engine, keep_runs: int = 3) -> int:
    """Delete the unreviewed findings of old runs; returns how many rows went.

    Kept: every run that is current for some rule and zone, the ``keep_runs`` latest finished
    runs, and every reviewed finding (the zone offices' work is history worth keeping). The rows
    of a run whose process died are deleted too. A city-scale run writes ~4M rows, so history
    grows by gigabytes per run without this.
    """
    if keep_runs < 0:
        raise InputError(f"keep_runs must be 0 or more, not {keep_runs}")
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        # with the lock held no run is in progress: a run still "running" died (killed process)
        conn.execute(
            sa.text(
                "UPDATE rules.assessment_runs SET status = 'failed', finished_at = clock_timestamp() "
                "WHERE status = 'running'"
            )
        )
        return conn.execute(
            sa.text(
                "DELETE FROM rules.findings f USING rules.assessment_runs r "
                "WHERE f.run_id = r.id AND f.review_status = 'open' "
                "AND NOT EXISTS (SELECT 1 FROM rules.current_runs c WHERE c.run_id = r.id) "
                "AND r.id NOT IN (SELECT id FROM rules.assessment_runs WHERE status = 'finished' "
                "                 ORDER BY id DESC LIMIT :keep)"
            ),
            {"keep": keep_runs},
        ).rowcount
