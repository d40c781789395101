"""Benchmark: `gisapp assess` over the city-scale database (gisapp_bench, ~1M parcels).

Prints the total time, the time of each step (loading inputs, each rule module, writing its
findings) and the ratio against a straightforward per-parcel Python loop implementing the idle
land rule, timed on a 10k-parcel sample in the same run and extrapolated per parcel. The loop's
verdicts are checked against the vectorised rule on the sample (they must agree). Records the
runs unless --no-append (bench/record.py): a row in the History table of docs/benchmarks.md, and
the printed report with a table row per run in docs/benchmark-runs.md.

The same code took 53-75 s on this shared 2-core machine within an hour. ``--runs N`` times the
assessment N times back to back and prints each run and their median. Each row notes the seconds
of a fixed 30M-step Python loop just before its run: a slow interpreter shows there, though the
swings of session 6 did not (1.2-1.5 s before runs of 62-69 s; docs/benchmark-runs.md).

    GISAPP_DB_NAME=gisapp_bench .venv/bin/python bench/assess_1m.py [--runs 3] [--no-append]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from record import captured, command_line, fenced, record

SAMPLE = 10_000
#: the columns of :func:`table_row`, as in the assessment's table of docs/benchmark-runs.md
TABLE_HEADER = (
    "| date | parcels | findings | total | load inputs | rules (s) | write: make current (or supersede); "
    "per module (s) | reference loop (extrapolated) vs vectorised | ratio | peak memory | notes |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def loop_idle_land(inputs: dict[str, pd.DataFrame], parcel_ids: list[int], as_of: dt.date) -> dict[int, str]:
    """The idle-land rule written the straightforward way: one parcel at a time, plain Python.

    Same policy as gisapp.rules.idle_land (Order No. 53, Civil Code periods; late delivery moves
    the agreed start, overdue delivery exempts, finished exemptions pause the clock; an extension
    agreed in a case gives the agreed start and absorbs the delay up to its agreement; a fee
    decided in a case, unpaid and not revoked, keeps land that is no longer idle as
    idle_fee_due), used only as the reference of this benchmark.
    """
    reasons = {"land_not_delivered", "plan_revision", "state_policy", "petition", "military_relic",
               "government_act", "force_majeure"}
    wanted = set(parcel_ids)
    grants = inputs["land_grants"]
    progress = inputs["construction_progress"]
    susp = inputs["construction_suspensions"]
    exempt = inputs["idle_exemptions"]
    parcels = inputs["parcels"].set_index("id")
    no_rows = pd.DataFrame({"parcel_id": pd.Series(dtype="int64")})
    extensions = inputs.get("case_extensions", no_rows)
    fees = inputs.get("idle_fee_decisions", no_rows)

    def records(frame):
        out: dict[int, list[dict]] = {}
        for row in frame[frame["parcel_id"].isin(wanted)].to_dict("records"):
            out.setdefault(int(row["parcel_id"]), []).append(row)
        return out

    g_by, p_by, s_by, e_by = records(grants), records(progress), records(susp), records(exempt)
    x_by, f_by = records(extensions), records(fees)

    def day(v):
        return None if v is None or pd.isna(v) else pd.Timestamp(v).date()

    def period_end(start: dt.date, years: int) -> dt.date:
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February in a common year
            return start.replace(year=start.year + years, day=28)

    def merged(intervals: list[tuple[dt.date, dt.date]]) -> list[list[dt.date]]:
        out: list[list[dt.date]] = []
        for lo, hi in sorted(intervals):
            if out and lo <= out[-1][1] + dt.timedelta(days=1):
                out[-1][1] = max(out[-1][1], hi)
            else:
                out.append([lo, hi])
        return out

    def paused_end(base: dt.date, years: int, pauses: list[list[dt.date]]) -> tuple[dt.date, int]:
        """The period's last day with the paused days taken out, and those days."""
        end, paused = period_end(base, years), 0
        for lo, hi in pauses:
            first = max(lo, base + dt.timedelta(days=1))
            if lo <= end and hi >= first:
                paused += (hi - first).days + 1
                end = period_end(base + dt.timedelta(days=paused), years)
        return end, paused

    verdicts: dict[int, str] = {}
    findings: dict[int, tuple[dict, str, str]] = {}  # what the rule states with each verdict
    for pid in parcel_ids:
        status = parcels.at[pid, "status"]
        gs = [g for g in g_by.get(pid, []) if day(g["granted_on"]) <= as_of]
        if not gs or status in ("reclaimed", "exited"):
            continue
        g = max(gs, key=lambda r: (day(r["granted_on"]), r["id"]))
        reports = sorted(
            (r for r in p_by.get(pid, []) if day(r["reported_on"]) <= as_of),
            key=lambda r: day(r["reported_on"]),
        )
        rep = reports[-1] if reports else None
        started_on = day(rep["started_on"]) if rep is not None else None
        started = started_on is not None and started_on <= as_of
        start = day(g["agreed_start_on"])
        # extensions of this grant: the first agreed after the date held the start it replaced;
        # the last agreed by the date is in force
        exts = sorted((x for x in x_by.get(pid, []) if x["grant_id"] == g["id"]),
                      key=lambda x: (day(x["agreed_on"]), x["id"]))
        after = [x for x in exts if day(x["agreed_on"]) > as_of]
        if after:
            start = day(after[0]["previous_start_on"])
        in_force = [x for x in exts if day(x["agreed_on"]) <= as_of]
        ss = sorted(
            (s for s in s_by.get(pid, []) if day(s["suspended_from"]) <= as_of),
            key=lambda s: day(s["suspended_from"]),
        )
        open_now = ss and (day(ss[-1]["resumed_on"]) is None or day(ss[-1]["resumed_on"]) > as_of)
        suspended = day(ss[-1]["suspended_from"]) if open_now else None
        dev = inv = float("nan")
        if rep is not None:
            dev = rep["developed_area_m2"] / rep["should_develop_area_m2"]
            inv = rep["invested_wan"] / rep["total_investment_wan"]
        due, got = day(g["delivery_due_on"]), day(g["delivered_on"])
        got = got if got is not None and got <= as_of else None
        late = (got - due).days if not started and due and got and got > due else 0
        if late and in_force:  # the negotiated date accounts for the delay up to the agreement
            late -= min(late, max(0, (day(in_force[-1]["agreed_on"]) - due).days))
        overdue = not started and due is not None and due < as_of and got is None
        exempting = [e for e in e_by.get(pid, []) if e["reason_code"] in reasons and day(e["from_on"]) <= as_of]
        active = [e for e in exempting if day(e["to_on"]) is None or day(e["to_on"]) >= as_of]
        pauses = merged([(day(e["from_on"]), day(e["to_on"])) for e in exempting
                         if day(e["to_on"]) is not None and day(e["to_on"]) < as_of])
        clock = suspended if started else (start + dt.timedelta(days=late) if start else None)
        ends, paused = paused_end(clock, 1, pauses) if clock else (None, 0)
        verdict = "not_idle"
        if not started and (
            start is None
            or status in ("under_construction", "completed", "in_production", "low_efficiency", "transferred")
        ):
            verdict = "cannot_evaluate"
        elif not started and as_of > ends:
            verdict = "idle_not_started"
        elif started and suspended and as_of > ends:
            if dev < 1 / 3 - 1e-9 or inv < 0.25 - 1e-9:
                verdict = "idle_stalled"
            elif pd.isna(dev) or pd.isna(inv):
                verdict = "cannot_evaluate"
        active.sort(key=lambda e: day(e["from_on"]))
        if verdict.startswith("idle_") and (active or overdue):
            verdict = "exempt"
        fees_due = [
            f for f in f_by.get(pid, [])
            if day(f["decided_on"]) <= as_of and (pd.isna(f["grant_id"]) or f["grant_id"] == g["id"])
            and not (day(f["revoked_on"]) is not None and day(f["revoked_on"]) <= as_of)
            and not (day(f["paid_on"]) is not None and day(f["paid_on"]) <= as_of
                     and f["paid_wan"] >= f["amount_wan"] - 0.005)
        ]
        if verdict == "not_idle" and fees_due:
            verdict = "idle_fee_due"
        idle = verdict in ("idle_not_started", "idle_stalled")
        since = ends + dt.timedelta(days=1) if idle or verdict == "exempt" else None
        fee = round(float(g["price_wan"]) * 0.2, 2) if idle else None
        recovery = idle and as_of > paused_end(clock, 2, pauses)[0]
        evidence = {
            "grant_id": int(g["id"]),
            "contract_no": g["contract_no"],
            "agreed_start_on": str(start),
            "started_on": str(started_on) if started else None,
            "suspended_since": str(suspended) if suspended else None,
            "developed_share": None if pd.isna(dev) else round(dev, 4),
            "invested_share": None if pd.isna(inv) else round(inv, 4),
            "period_ends_on": str(ends) if ends else None,
            "idle_since": str(since) if since else None,
            "price_wan": g["price_wan"],
            "fee_wan": fee,
            "recovery_candidate": recovery,
            "exemption_reason": active[0]["reason_code"] if active else "land_not_delivered" if overdue else None,
            "clock": {"from": str(clock + dt.timedelta(days=paused)) if clock and not overdue else None,
                      "delivery_delay_days": late or None, "delivery_overdue": overdue, "paused_days": paused}
            if late or paused or overdue else None,
        }
        if idle:
            zh = (f"约定开工日期 {start} 起满一年未动工（截至 {as_of}），自 {since} 起构成闲置；"
                  f"按出让价款 20% 应征闲置费 {fee:.1f} 万元")
            en = f"Not started one full year after {start} (as of {as_of}): idle since {since}; fee {fee:.1f}"
        elif verdict == "exempt":
            name_zh, name_en = ((active[0]["reason_zh"], active[0]["reason_en"]) if active
                                else ("未按约定交付土地", f"Land not delivered as agreed (due on {due})"))
            zh = f"满足闲置条件，但因“{name_zh}”不予认定闲置，应协商处置"
            en = f"Idle by the rule, but exempt: {name_en}"
        elif verdict == "cannot_evaluate":
            zh, en = (
                f"无法判定：出让合同 {g['contract_no']} 数据不全",
                f"Cannot evaluate: grant {g['contract_no']} incomplete",
            )
        elif started:
            zh, en = (
                f"已于 {started_on} 动工，截至 {as_of} 不构成闲置",
                f"Started on {started_on}; not idle as of {as_of}",
            )
        else:
            zh, en = (
                f"约定开工日期 {start}，满一年之期至 {ends} 届满",
                f"Agreed start {start}; the year ends on {ends}",
            )
        verdicts[pid] = verdict
        findings[pid] = (evidence, zh, en)
    return verdicts


def server_cpu_seconds() -> float | None:
    """CPU seconds used so far by the project's own PostgreSQL cluster (its postmaster's finished
    children and its live processes, from /proc), None when the cluster is not local."""
    from gisapp.db.cluster import LocalCluster
    from gisapp.settings import get_settings

    try:
        pid = int((LocalCluster(get_settings()).pgdata / "postmaster.pid").read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")

        def fields(p: int) -> list[str]:
            return Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()

        total = sum(int(x) for x in fields(pid)[11:15])  # its own and its reaped children's time
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    f = fields(int(entry.name))
                except OSError:
                    continue
                if f[1] == str(pid):
                    total += int(f[11]) + int(f[12])
        return total / tick
    except (OSError, ValueError):
        return None


def python_loop_seconds(steps: int = 30_000_000) -> float:
    """Seconds of a fixed pure-Python loop: how fast this machine is right now."""
    start = time.perf_counter()
    x = 0
    for i in range(steps):
        x += i
    return time.perf_counter() - start


def timed_run(engine, prune_findings, run_assessment, as_of: dt.date, assessor=None) -> dict:
    """Prune, vacuum and checkpoint (not timed, as the owner), then time one whole assessment as
    `gisapp assess` runs it (as gisapp_assessor); prints it."""
    # earlier runs' findings go first (not timed): each city-scale run adds ~4M rows of history
    print(f"pruned {prune_findings(engine, keep_runs=0)} findings of earlier runs")
    # and vacuumed now, so that autovacuum does not clean up those rows during the timed run
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE) rules.findings"))
        # and their pages written out, so that the checkpointer does not do it during the timed run
        conn.execute(sa.text("CHECKPOINT"))
    machine_s = python_loop_seconds()
    cpu_before, server_before = os.times(), server_cpu_seconds()
    summary = run_assessment(assessor or engine, as_of)
    cpu_after, server_after = os.times(), server_cpu_seconds()
    server_s = None if server_before is None or server_after is None else server_after - server_before
    cpu_s = sum(getattr(cpu_after, k) - getattr(cpu_before, k) for k in ("user", "system", "children_user", "children_system"))
    s = summary.seconds
    print(summary.table())
    print(f"run {summary.run_id}: {summary.finding_count} findings, {summary.superseded} superseded")
    for key, value in s.items():
        print(f"  {key:32s} {value:8.2f} s")
    server_txt = "" if server_s is None else f"; database server CPU: {server_s:.1f} s"
    print(f"total {s['total']:.1f} s; workers {summary.workers}; Python CPU of the run (this process and its "
          f"workers): {cpu_s:.1f} s{server_txt}; machine: 30M-step Python loop {machine_s:.2f} s before the run")
    return {"summary": summary, "cpu_s": cpu_s, "server_s": server_s, "machine_s": machine_s}


def table_row(run: dict, n_parcels: int, n_modules: int, load_before: float, loop_all: float, loop_s: float,
              vector_s: float, ratio: float, peak_gb: float, note: str) -> str:
    """One run as a row of the assessment's table (TABLE_HEADER), recorded in the run log."""
    summary, cpu_s, server_s = run["summary"], run["cpu_s"], run["server_s"]
    s = summary.seconds
    read = sum(v for k, v in s.items() if k.startswith("read:"))
    rules_txt = ", ".join(f"{k[5:]} {v:.1f}" for k, v in s.items() if k.startswith("rule:"))
    writes_txt = ", ".join(f"{k[6:]} {v:.1f}" for k, v in s.items() if k.startswith("write:"))
    return (
        f"| {dt.date.today().isoformat()} | {n_parcels:,} | {summary.finding_count:,} | "
        f"{s['total']:.1f} s | "
        f"{read:.1f} s (overlapping) | {rules_txt} | {s.get('make_current', 0):.1f} s; {writes_txt} | "
        f"{loop_all:.0f} s (10k: {loop_s:.1f} s) vs {vector_s:.1f} s | {ratio:.0f}x | {peak_gb:.1f} GB | "
        f"load avg {load_before:.1f}; {n_modules} modules; {summary.workers} processes; "
        f"Python CPU {cpu_s:.0f} s{'' if server_s is None else f', server CPU {server_s:.0f} s'}; "
        f"machine: 30M-step loop {run['machine_s']:.1f} s"
        f"{'; ' + note if note else ''} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-append", action="store_true",
                        help="do not record the runs in docs/benchmarks.md and docs/benchmark-runs.md")
    parser.add_argument("--note", default="", help="a note for the table (e.g. what else ran)")
    parser.add_argument("--runs", type=int, default=1, help="time the assessment this many times (median printed)")
    args = parser.parse_args()
    with captured() as printed:
        os.environ.setdefault("GISAPP_DB_NAME", "gisapp_bench")
        from gisapp.db.engine import assessor_engine, owner_engine
        from gisapp.demo import DEMO_AS_OF
        from gisapp.queries.rule_inputs import load_inputs
        from gisapp.rules import idle_land, registry
        from gisapp.rules.assess import prune_findings, run_assessment

        engine = owner_engine()
        with engine.connect() as conn:
            n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
        if n_parcels < 900_000:
            print(
                f"database {engine.url.database} holds {n_parcels} parcels; load the city-scale data first: "
                "GISAPP_DB_NAME=gisapp_bench .venv/bin/gisapp load-demo --parcels 1000000 --replace",
                file=sys.stderr,
            )
            return 1
        modules = [m.__name__.rsplit(".", 1)[-1] for m in registry.rule_modules()]
        load_before = os.getloadavg()[0]
        print(f"{n_parcels} parcels; modules: {', '.join(modules)}; load average {load_before:.1f}")

        runs = [timed_run(engine, prune_findings, run_assessment, DEMO_AS_OF, assessor_engine())
                for _ in range(max(1, args.runs))]

        # reference: the per-parcel loop on a 10k sample, against the vectorised rule on all parcels
        inputs = load_inputs(engine, [*idle_land.INPUTS, "parameter_overrides"], as_of=DEMO_AS_OF)
        start = time.perf_counter()
        vector = idle_land.evaluate(inputs, DEMO_AS_OF, inputs["parameter_overrides"])
        vector_s = time.perf_counter() - start
        idle = vector[vector["rule"] == "idle_land"]
        rng = np.random.default_rng(20261128)
        sample = rng.choice(idle["parcel_id"].to_numpy(), size=min(SAMPLE, len(idle)), replace=False).tolist()
        start = time.perf_counter()
        verdicts = loop_idle_land(inputs, sample, DEMO_AS_OF)
        loop_s = time.perf_counter() - start
        expected = idle.set_index("parcel_id").loc[sample, "outcome"]
        disagree = sum(verdicts.get(p) != o for p, o in expected.items())
        loop_all = loop_s / len(sample) * len(idle)
        ratio = loop_all / vector_s
        peak_gb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        peak_gb /= 1024 * 1024
        print(
            f"idle_land vectorised (both idle_land and land_inventory): {vector_s:.2f} s for {len(idle)} parcels"
        )
        print(
            f"per-parcel loop: {loop_s:.2f} s for {len(sample)} parcels -> {loop_all:.1f} s extrapolated; "
            f"ratio {ratio:.1f}x; verdicts disagreeing on the sample: {disagree}"
        )
        totals = sorted(r["summary"].seconds["total"] for r in runs)
        print(f"peak memory of one process {peak_gb:.1f} GB")
        each = ", ".join(f"{r['summary'].seconds['total']:.1f} s" for r in runs)
        print(f"total of each run: {each}; median {float(np.median(totals)):.1f} s")
        if disagree:
            print("the loop and the rule disagree: fix before trusting the figures", file=sys.stderr)
            return 1

    if not args.no_append:
        rows = [table_row(r, n_parcels, len(modules), load_before, loop_all, loop_s, vector_s, ratio, peak_gb,
                          args.note) for r in runs]
        findings = sorted({r["summary"].finding_count for r in runs})
        figure = (f"{totals[0]:.1f} s" if len(runs) == 1
                  else f"{float(np.median(totals)):.1f} s median ({each})")
        figure += f"; {' / '.join(f'{n:,}' for n in findings)} findings, as gisapp_assessor"
        server = [r["server_s"] for r in runs if r["server_s"] is not None]
        note = (f"load avg {load_before:.1f}; Python CPU {span([r['cpu_s'] for r in runs])} s"
                + (f", server CPU {span(server)} s" if server else "")
                + f"; 30M-step loop {span([r['machine_s'] for r in runs], 2)} s"
                + (f"; {args.note}" if args.note else ""))
        record(
            "assess_1m", figure,
            f"idle_land loop {ratio:.0f}x the module ({loop_all:.0f} s extrapolated vs {vector_s:.1f} s)",
            note,
            command_line("assess_1m.py", sys.argv[1:], env=f"GISAPP_DB_NAME={os.environ['GISAPP_DB_NAME']}"),
            TABLE_HEADER + "\n" + "\n".join(rows) + "\n\n" + fenced(printed.getvalue()),
        )
    return 0


def span(values: list[float], digits: int = 0) -> str:
    """``a`` or ``a-b``: the range of a few figures, as the notes give them."""
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return low if low == high else f"{low}-{high}"


if __name__ == "__main__":
    sys.exit(main())
