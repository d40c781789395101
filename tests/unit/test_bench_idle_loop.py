"""The per-parcel reference loop of bench/assess_1m.py gives the idle-land rule's verdicts on
parcels the city-scale data lacks: late and missing deliveries, finished and overlapping
exemptions, exemptions during a suspension, extensions and fees decided in cases (the benchmark
checks the two agree on its sample)."""

from __future__ import annotations

import datetime as dt
import runpy
import sys
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from gisapp.rules import idle_land
from tests.unit.rule_frames import frame

BENCH = Path(__file__).resolve().parents[2] / "bench"
AS_OF = dt.date(2026, 6, 30)
REASONS = ["land_not_delivered", "plan_revision", "force_majeure"]


def bench_loop():
    sys.path.insert(0, str(BENCH))  # as the script runs: bench/ first on sys.path
    try:
        return runpy.run_path(str(BENCH / "assess_1m.py"), run_name="bench_import_check")["loop_idle_land"]
    finally:
        sys.path.remove(str(BENCH))


LOOP = bench_loop()


def day(offset: int | None) -> str | None:
    return None if offset is None else (AS_OF + dt.timedelta(days=offset)).isoformat()


offsets = st.integers(-1500, 200)
parcel = st.fixed_dictionaries({
    "start": offsets,
    "due": st.none() | st.integers(-200, 60),  # relative to the agreed start
    "late": st.none() | st.integers(-30, 700),  # delivery relative to the due date
    "started": st.booleans(),
    "suspended": st.none() | offsets,
    "exemptions": st.lists(st.tuples(st.sampled_from(REASONS), offsets, st.none() | st.integers(0, 500)),
                           max_size=3),
    # extensions: agreed (relative to the as-of date), new start (days after the replaced one)
    "extensions": st.lists(st.tuples(st.integers(-900, 100), st.integers(1, 400)), max_size=2),
    # fees: decided, paid (none, part, all) and when, revoked when, whether the case names another grant
    "fees": st.lists(st.tuples(offsets, st.sampled_from([0.0, 40.0, 96.0]), offsets, st.none() | offsets,
                               st.booleans()), max_size=2),
})


@given(st.lists(parcel, min_size=1, max_size=12))
def test_the_benchmark_loop_agrees_with_the_rule(drawn):
    parcels, grants, progress, suspensions, exemptions, extensions, fees = [], [], [], [], [], [], []
    for pid, p in enumerate(drawn, start=1):
        due = None if p["due"] is None else p["start"] + p["due"]
        got = None if due is None or p["late"] is None else due + p["late"]
        parcels.append({"status": "under_construction" if p["started"] else "granted_unbuilt"})
        grants.append({"parcel_id": pid, "granted_on": day(p["start"] - 400), "agreed_start_on": day(p["start"]),
                       "delivery_due_on": day(due), "delivered_on": day(got)})
        if p["started"]:
            progress.append({"parcel_id": pid, "reported_on": day(p["start"] + 10), "started_on": day(p["start"]),
                             "should_develop_area_m2": 30000, "developed_area_m2": 1000, "invested_wan": 100,
                             "total_investment_wan": 12000})
            if p["suspended"] is not None:
                suspensions.append({"parcel_id": pid, "suspended_from": day(max(p["suspended"], p["start"] + 11))})
        for reason, first, length in p["exemptions"]:
            exemptions.append({"parcel_id": pid, "reason_code": reason, "reason_zh": "原因", "reason_en": "Reason",
                               "from_on": day(first), "to_on": day(None if length is None else first + length)})
        # a chain of extensions, as the database writes them: each replaces the start in force,
        # the grant holds the last one's new start
        chain = sorted(p["extensions"])
        previous = p["start"] - sum(step for _, step in chain)
        for agreed, step in chain:
            extensions.append({"case_id": pid, "case_code": f"XZ-{pid}", "parcel_id": pid, "grant_id": pid,
                               "agreed_on": day(agreed), "previous_start_on": day(previous),
                               "new_start_on": day(previous + step)})
            previous += step
        for decided, paid, paid_at, revoked, other_grant in p["fees"]:
            fees.append({"case_id": pid, "case_code": f"XZ-{pid}", "parcel_id": pid,
                         "grant_id": pid + 1000 if other_grant else pid, "amount_wan": 96.0, "paid_wan": paid,
                         "decided_on": day(decided), "served_on": day(decided), "due_on": day(decided + 30),
                         "paid_on": day(max(paid_at, decided)) if paid else None, "revoked_on": day(revoked),
                         "revoked_by": "lawsuit" if revoked is not None else None})
    inputs = {"parcels": frame("parcels", parcels), "land_grants": frame("land_grants", grants),
              "construction_progress": frame("construction_progress", progress),
              "construction_suspensions": frame("construction_suspensions", suspensions),
              "idle_exemptions": frame("idle_exemptions", exemptions),
              "case_extensions": frame("case_extensions", extensions),
              "idle_fee_decisions": frame("idle_fee_decisions", fees)}
    found = idle_land.evaluate(inputs, AS_OF)
    rule = found[found["rule"] == "idle_land"].set_index("parcel_id")["outcome"].to_dict()
    loop = LOOP(inputs, list(range(1, len(drawn) + 1)), AS_OF)
    assert loop == rule, pd.DataFrame({"rule": rule, "loop": loop})
