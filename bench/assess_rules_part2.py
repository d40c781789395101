"""Benchmark: the rules of part 2 (green balance, quotas, zone performance, assessment coverage,
boundary QA) over the city-scale database (gisapp_bench, ~1M parcels).

Prints the time to load each input frame and to evaluate each rule module (wall and CPU), and two
ratios against references measured in the same run:

- boundary QA: the same checks done set-based in PostGIS (``ST_Covers`` of each parcel by its
  boundary in force, and the parcel self-join on the GiST index for overlaps) against the shapely
  STRtree implementation the rule uses; the counts must agree;
- green balance: a straightforward per-parcel Python loop (latest measurement, ratio, surplus) on a
  10k sample, extrapolated per parcel, against the vectorised rule; the verdicts must agree.

Records the run unless --no-append (bench/record.py): a row in the History table of
docs/benchmarks.md, the printed report with the run's row of the part-2 table in
docs/benchmark-runs.md. Nothing is written to the database.

    GISAPP_DB_NAME=gisapp_bench .venv/bin/python bench/assess_rules_part2.py [--no-append] [--no-postgis]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

import numpy as np
import pandas as pd
import sqlalchemy as sa
from record import captured, command_line, fenced, record

SAMPLE = 10_000
#: the columns of the run's row, as in the part-2 table of docs/benchmark-runs.md
TABLE_HEADER = (
    "| date | parcels | rules (s) | inputs (s, ≥ 0.5 s shown) | PostGIS / shapely boundary QA | "
    "loop / vectorised green | notes |\n"
    "|---|---|---|---|---|---|---|"
)
COVERS_SQL = """
    SELECT count(*) FROM land.parcels p JOIN land.zone_boundaries b ON b.zone_id = p.zone_id
     AND b.valid_from <= :d AND (b.valid_to IS NULL OR b.valid_to > :d)
    WHERE NOT ST_Covers(b.geom, p.geom)"""
OVERLAP_SQL = """
    SELECT count(*) FROM land.parcels a JOIN land.parcels b ON a.geom && b.geom AND a.id < b.id
    WHERE ST_Relate(a.geom, b.geom, '2********')"""


def loop_green(parcels: pd.DataFrame, green: pd.DataFrame, ids: list[int], as_of: dt.date, target: float
               ) -> dict[int, str]:
    """green_balance written the straightforward way: one parcel at a time, plain Python."""
    wanted = set(ids)
    latest: dict[int, tuple] = {}
    for row in green[green["parcel_id"].isin(wanted)].itertuples(index=False):
        day = row.measured_on.date()
        if day <= as_of and (row.parcel_id not in latest or day >= latest[row.parcel_id][0]):
            latest[row.parcel_id] = (day, row.green_area_m2)
    by_id = parcels.set_index("id")
    out = {}
    for pid in ids:
        p = by_id.loc[pid]
        dedicated = p["land_use_code"] in ("1401", "1402")
        if pid not in latest and not dedicated:
            out[pid] = "cannot_evaluate" if p["status"] in ("completed", "in_production", "low_efficiency",
                                                            "transferred") else None
            continue
        area = float(p["area_m2"])
        green_m2 = area if dedicated else latest[pid][1]
        if area <= 0 or (not dedicated and green_m2 > area * (1 + 1e-9)):
            out[pid] = "cannot_evaluate"
            continue
        out[pid] = "surplus" if green_m2 - target * area >= -1e-9 * max(area, 1) else "deficit"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-append", action="store_true",
                        help="do not record the run in docs/benchmarks.md and docs/benchmark-runs.md")
    parser.add_argument("--no-postgis", action="store_true", help="skip the PostGIS reference (about a minute)")
    parser.add_argument("--note", default="", help="a note for the table (e.g. what else ran)")
    args = parser.parse_args()
    with captured() as printed:
        os.environ.setdefault("GISAPP_DB_NAME", "gisapp_bench")
        from gisapp.db.engine import owner_engine
        from gisapp.demo import DEMO_AS_OF
        from gisapp.queries.rule_inputs import load_inputs
        from gisapp.rules import assessment_coverage, boundary_qa, green_balance, quotas, zone_performance

        modules = (green_balance, quotas, zone_performance, assessment_coverage, boundary_qa)
        engine = owner_engine()
        with engine.connect() as conn:
            n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
        load_before = os.getloadavg()[0]
        print(f"{os.environ['GISAPP_DB_NAME']}: {n_parcels} parcels; load average {load_before:.1f}")

        inputs: dict[str, pd.DataFrame] = {}
        load_s: dict[str, float] = {}
        for name in dict.fromkeys([n for m in modules for n in m.INPUTS] + ["parameter_overrides"]):
            start = time.perf_counter()
            inputs.update(load_inputs(engine, [name], as_of=DEMO_AS_OF))
            load_s[name] = time.perf_counter() - start
            print(f"  load {name:<24} {load_s[name]:6.2f} s  {len(inputs[name]):>9} rows")
        rule_s: dict[str, tuple[float, float, int]] = {}
        results = {}
        for m in modules:
            name = m.__name__.rsplit(".", 1)[1]
            wall, cpu = time.perf_counter(), time.process_time()
            results[name] = m.evaluate(inputs, DEMO_AS_OF, inputs["parameter_overrides"])
            rule_s[name] = (time.perf_counter() - wall, time.process_time() - cpu, len(results[name]))
            print(f"  rule {name:<24} {rule_s[name][0]:6.2f} s wall {rule_s[name][1]:6.2f} s cpu  "
                  f"{rule_s[name][2]:>9} findings")
        mine_load = sum(v for k, v in load_s.items())
        mine_rules = sum(v[0] for v in rule_s.values())

        # reference 1: the boundary checks in PostGIS
        b = results["boundary_qa"]
        par = b[b["subject_type"] == "parcel"]
        not_covered = int(sum(1 for e in par["evidence"] if e.get("distance_m", 0) and e["distance_m"] > 0))
        overlapping = int(sum(e.get("overlap_count", 0) for e in par["evidence"]) // 2)
        bq_s = rule_s["boundary_qa"][0] + load_s["parcels_geom"] + load_s["zone_boundaries"]
        pg_ratio = None
        if not args.no_postgis:
            with engine.connect() as conn:
                start = time.perf_counter()
                pg_out = conn.execute(sa.text(COVERS_SQL), {"d": DEMO_AS_OF}).scalar()
                covers_s = time.perf_counter() - start
                start = time.perf_counter()
                pg_pairs = conn.execute(sa.text(OVERLAP_SQL)).scalar()
                overlap_s = time.perf_counter() - start
            pg_s = covers_s + overlap_s
            pg_ratio = pg_s / bq_s
            print(f"boundary QA: shapely {bq_s:.1f} s (load {load_s['parcels_geom']:.1f} s + rule "
                  f"{rule_s['boundary_qa'][0]:.1f} s) vs PostGIS {pg_s:.1f} s (covers {covers_s:.1f} s, self-join "
                  f"{overlap_s:.1f} s): {pg_ratio:.1f}x; not covered {pg_out} vs {not_covered}, overlapping pairs "
                  f"{pg_pairs} vs >= {overlapping} (tolerance-free PostGIS count)")
            if pg_out < not_covered:
                print("warning: PostGIS and the rule disagree on parcels outside the boundary", file=sys.stderr)

        # reference 2: green balance parcel by parcel
        gb = results["green_balance"]
        gbp = gb[gb["rule"] == "green_balance"]
        rng = np.random.default_rng(20261128)
        sample = rng.choice(gbp["parcel_id"].to_numpy(), size=min(SAMPLE, len(gbp)), replace=False).tolist()
        start = time.perf_counter()
        verdicts = loop_green(inputs["parcels"], inputs["green_areas"], sample, DEMO_AS_OF,
                              green_balance.GREEN_BALANCE.param("target_ratio").default)
        loop_s = time.perf_counter() - start
        expected = gbp.set_index("parcel_id").loc[sample, "outcome"]
        disagree = sum(verdicts.get(p) != o for p, o in expected.items())
        loop_all = loop_s / len(sample) * len(gbp)
        gb_ratio = loop_all / rule_s["green_balance"][0]
        print(f"green balance: per-parcel loop {loop_s:.2f} s for {len(sample)} -> {loop_all:.1f} s extrapolated for "
              f"{len(gbp)} parcels vs the module {rule_s['green_balance'][0]:.1f} s (3 rules): {gb_ratio:.1f}x; "
              f"{disagree} disagreements")
        print(f"part 2 total: inputs {mine_load:.1f} s (most shared with part 1) + rules {mine_rules:.1f} s")
        if disagree:
            print("error: the loop and the rule disagree", file=sys.stderr)
            return 1

    if not args.no_append:
        load_after = os.getloadavg()[0]
        rules_txt = ", ".join(f"{k} {v[0]:.1f}" for k, v in rule_s.items())
        loads_txt = ", ".join(f"{k} {v:.1f}" for k, v in load_s.items() if v >= 0.5)
        pg_txt = f"{pg_ratio:.1f}x" if pg_ratio else "skipped"
        row = (f"| {dt.date.today().isoformat()} | {n_parcels:,} | {mine_rules:.1f} s ({rules_txt}) | "
               f"{mine_load:.1f} s ({loads_txt}) | {pg_txt} | {gb_ratio:.0f}x | "
               f"load avg {load_before:.1f}/{load_after:.1f}{'; ' + args.note if args.note else ''} |")
        record(
            "assess_rules_part2",
            f"rules {mine_rules:.1f} s, inputs {mine_load:.1f} s",
            f"PostGIS / shapely boundary QA {pg_txt}; green loop / module {gb_ratio:.0f}x",
            f"load avg {load_before:.1f}/{load_after:.1f}{'; ' + args.note if args.note else ''}",
            command_line("assess_rules_part2.py", sys.argv[1:],
                         env=f"GISAPP_DB_NAME={os.environ['GISAPP_DB_NAME']}"),
            TABLE_HEADER + "\n" + row + "\n\n" + fenced(printed.getvalue()),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
