"""Run a run's rule modules in one process or several, and copy each module's findings in.

What every process needs is one :class:`ModulePlan`: the run, its snapshot and parameters, the
frames several modules need (read once, by the parent), the modules in the order they are taken
and the counter that hands them out. Each process takes the next module whenever it is free,
reads that module's own frames in the run's snapshot, evaluates it and copies its findings in
(not yet current: :mod:`gisapp.rules.assess` makes the run current when every module is done).

Processes are forked so that they inherit the plan, shared frames included, without pickling
hundreds of megabytes: the parent sets :data:`_FORKED_PLAN` just before the pool starts and clears
it afterwards; it is the only module-level state, and only the pool's entry point reads it.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from gisapp.db import adbc_connections
from gisapp.db.binary_copy import copy_arrow
from gisapp.queries.rule_inputs import read_frames, snapshot_reader, uses_param
from gisapp.rules import registry
from gisapp.rules.evaluate import evaluate_module
from gisapp.rules.findings_store import count_table, findings_table, parameter_set_ids, zone_keys


@dataclass
class ModuleDone:
    """What one rule module wrote: counts per rule and outcome, rules with zone-less findings."""

    module: str
    count: int
    counts: pd.DataFrame
    zoneless_rules: list[str]
    seconds: dict[str, float]
    per_key: dict[tuple[str, int], int] = field(default_factory=dict)  # findings per (rule, zone_key)


@dataclass
class ModulePlan:
    """What every process of a run needs to take, evaluate and write modules."""

    url: str  # the engine's URL: a forked process opens its own connections
    run_id: int
    snapshot: str
    params: dict  # zone_ids, as_of
    rule_names: list[str] | None
    order: list[str]  # module names, the costliest first
    taken: Any  # a multiprocessing.Value: how many modules of ``order`` were handed out
    t0: float = field(default_factory=time.perf_counter)
    shared_frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def next_module(self) -> str | None:
        """The next module nobody has taken yet (None when all are taken)."""
        with self.taken.get_lock():
            i = self.taken.value
            self.taken.value += 1
        return self.order[i] if i < len(self.order) else None


#: the plan a forked worker inherits (set by :func:`run_modules` around its pool, else None)
_FORKED_PLAN: ModulePlan | None = None


def run_modules(
    engine: Engine, run_id: int, modules, snapshot: str, params: dict, rule_names, workers: int
) -> list[ModuleDone]:
    """Read the inputs, evaluate and copy each module's findings; in ``workers`` forked processes
    when > 1. The frames several modules need are read once, first. Returns one
    :class:`ModuleDone` per module, in the order of ``modules``."""
    global _FORKED_PLAN
    ctx = mp.get_context("fork")
    # the costliest first (each module's TYPICAL_SECONDS), so that the processes finish together:
    # a long module started last leaves the other core idle at the end
    order = [m.__name__ for m in sorted(modules, key=lambda m: -getattr(m, "TYPICAL_SECONDS", 1))]
    plan = ModulePlan(
        url=engine.url.render_as_string(hide_password=False), run_id=run_id, snapshot=snapshot,
        params=params, rule_names=list(rule_names) if rule_names else None, order=order,
        taken=ctx.Value("i", 0),
    )
    t = time.perf_counter()
    plan.shared_frames = _read_shared_frames(engine, plan, modules, workers)
    shared_seconds = time.perf_counter() - t
    if workers <= 1 or len(modules) <= 1:
        done = modules_job(plan, engine)
    else:
        _FORKED_PLAN = plan
        try:
            n = min(workers, len(modules))
            with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
                futures = [pool.submit(_forked_job) for _ in range(n)]
                done = [d for f in futures for d in f.result()]
        finally:
            _FORKED_PLAN = None
    by_name = {d.module: d for d in done}
    by_name[order[0]].seconds["read:shared"] = shared_seconds
    return [by_name[m.__name__] for m in modules]


def _read_shared_frames(engine: Engine, plan: ModulePlan, modules, workers: int) -> dict[str, pd.DataFrame]:
    """The frames that more than one module needs (the parcels, the grants, the zones, the
    parameter overrides), read once, ``workers`` at a time, before the modules run: each worker
    process would otherwise read them again, and every read costs client and server CPU."""
    uses: dict[str, int] = {}
    for m in modules:
        for n in {"parameter_overrides", *registry.frames_of(m)}:
            uses[n] = uses.get(n, 0) + 1
    shared = sorted(n for n, k in uses.items() if k > 1)
    return read_frames(engine, plan.snapshot, shared, plan.params, workers) if shared else {}


def _forked_job() -> list[ModuleDone]:
    """A worker process's task: the inherited plan, with the process's own connections."""
    assert _FORKED_PLAN is not None, "run_modules sets the plan before it forks"
    engine = sa.create_engine(_FORKED_PLAN.url, poolclass=NullPool)
    try:
        return modules_job(_FORKED_PLAN, engine)
    finally:
        engine.dispose()
        adbc_connections.close_idle()  # the process ends by os._exit, which would close none


def modules_job(plan: ModulePlan, engine: Engine) -> list[ModuleDone]:
    """Take modules until none is left, each run after reading its own frames; a thread copies
    each module's findings in while the next module runs."""
    done: list[ModuleDone] = []
    with _ModuleFrames(engine, plan) as frames, ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        while (name := plan.next_module()) is not None:
            module = importlib.import_module(name)
            rule_seconds: dict[str, float] = {}
            t = time.perf_counter()
            inputs = frames.for_module(module)
            read_seconds = time.perf_counter() - t
            found = evaluate_module(module, inputs, plan.params["as_of"], plan.rule_names, rule_seconds)
            del inputs
            # the findings as one compact Arrow table: the frame's millions of Python objects
            # are freed before the next module runs (memory: a city-scale process would
            # otherwise hold several GB, and the page cache pays for it)
            table, module_done = _prepare_module(engine, plan, name, found, rule_seconds)
            module_done.seconds[f"read:{_short(name)}"] = read_seconds
            del found
            if pending is not None:
                done.append(pending.result())
            pending = writer.submit(_write_module, engine, plan, table, module_done)
            del table
        if pending is not None:
            done.append(pending.result())
    return done


def _short(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1]


class _ModuleFrames:
    """A module's input frames: those several modules need as the run read them first, the
    module's own read in the run's snapshot when it starts (and dropped when it has run).

    Read in the module's own thread on purpose: a reading thread beside the rules cost more than
    it overlapped (COPY hands over one row per message, and each hand-over contends for the GIL
    with the rules; docs/benchmark-runs.md). The other process keeps the second core busy meanwhile.

    A module's ``input_params`` (e.g. per_mu's evaluation year) restrict the frames whose SQL
    takes them; such a frame is read for that module alone.
    """

    def __init__(self, engine: Engine, plan: ModulePlan) -> None:
        self._plan = plan
        self._reader = snapshot_reader(engine, plan.snapshot)
        self._read = None

    def __enter__(self) -> _ModuleFrames:
        self._read = self._reader.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._reader.__exit__(*exc)  # ends the snapshot's transaction and returns the connection

    def for_module(self, module) -> dict[str, pd.DataFrame]:
        """The module's frames, the parameter overrides first (they may restrict the others)."""
        base = self._plan.params
        shared = self._plan.shared_frames
        frames: dict[str, pd.DataFrame] = {}
        extra: dict = {}
        for n in ["parameter_overrides", *registry.frames_of(module)]:
            restricted = {k: v for k, v in extra.items() if uses_param(n, k)}
            if n in shared and not restricted:
                frames[n] = shared[n]
            else:
                frames[n] = self._read(n, {**base, **restricted})
            if n == "parameter_overrides" and hasattr(module, "input_params"):
                extra = module.input_params(base["as_of"], frames[n])
        return frames


def _prepare_module(
    engine: Engine, plan: ModulePlan, module_name: str, found: pd.DataFrame, rule_seconds: dict[str, float]
) -> tuple[pa.Table | None, ModuleDone]:
    """A module's findings as the table to copy in, and what the run reports of them."""
    key = _short(module_name)
    t = time.perf_counter()
    set_ids = parameter_set_ids(engine, found["parameters"])
    table = findings_table(plan.run_id, found, set_ids)
    zone_key = zone_keys(found)
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


def _write_module(engine: Engine, plan: ModulePlan, table: pa.Table | None, done: ModuleDone) -> ModuleDone:
    """Copy one module's findings in (their own transaction, not yet current)."""
    key = _short(done.module)
    t = time.perf_counter()
    if table is not None:
        with engine.begin() as conn:
            copy_arrow(conn, "rules.findings", table)
    # when it was written, from the start of the modules (the clock is the system's: it is the
    # same in every process), to see whether the processes finish together
    done.seconds.update({f"write:{key}": time.perf_counter() - t,
                         f"written_at:{key}": time.perf_counter() - plan.t0})
    return done
