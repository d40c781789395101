"""Synthetic revitalization record for the demo (issue #20): national evaluation results for
2023-2025, the zone_rectification cases they call for, yearly targets and eight quarters of stock
snapshots. All of it is invented and says so (``SOURCE``, ``NOTE``); nothing here is a published
result or a bureau's target.

The story as of the demo's date (``DEMO_AS_OF``, 2026-06-30), with the flags of
land.zone_rectification_flags:

- jiading fell below the eastern average in 2024 and stayed below in 2025: rectification (the
  demo's own rectification case of gisapp.demo.cases answers it);
- caohejing has been below it in 2023, 2024 and 2025: not rectified within two years, interview;
- songjiang, set up in 2018, was class C nationally and regionally and among the national bottom
  five in 2024 and 2025: the exit procedure;
- the other zones are above the average (waigaoqiao_ftz, a free trade zone, is not evaluated).

:func:`load_demo_results` runs with the demo's load (no findings needed); :func:`load_demo_history`
needs the current findings (`gisapp demo` runs it after the first assessment): it takes the real
snapshot of the quarter the findings show, then writes the seven quarters before it as synthetic
records, larger the further back in most zones (a shrinking stock), and sets each zone's targets
for 2025 and 2026 from them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.demo import DEMO_AS_OF
from gisapp.demo.cases import DEMO_ACTOR
from gisapp.demo.cases import NOTE as CASE_NOTE
from gisapp.revitalization.params import STOCK_KINDS
from gisapp.revitalization.quarters import previous_quarter_ends, quarter_name
from gisapp.revitalization.rectification import Opened, open_due_cases, parse_result, write_results
from gisapp.revitalization.snapshots import AlreadyTaken, take_snapshot
from gisapp.rules.overrides import set_param

SOURCE = "合成演示数据：虚构的国家评估结果（synthetic demo result, not a published one）"
NOTE = "合成演示数据：虚构的季度快照（synthetic demo snapshot）"
TARGET_SOURCE = "合成演示数据：虚构的年度盘活目标（synthetic demo target）"
#: zones nationally and the eastern region's average score, per year evaluated
NATIONAL = {2023: (165, 80.0), 2024: (168, 81.0), 2025: (170, 82.0)}
#: per zone and year: score, national class, regional class, national rank
RESULTS: dict[str, dict[int, tuple[float, str, str, int]]] = {
    "waigaoqiao_port": {2023: (92.1, "A", "A", 8), 2024: (93.0, "A", "A", 6), 2025: (93.4, "A", "A", 5)},
    "pudong_airport": {2023: (90.3, "A", "A", 12), 2024: (91.2, "A", "A", 10), 2025: (92.0, "A", "A", 9)},
    "yangshan": {2023: (88.0, "A", "A", 20), 2024: (89.5, "A", "A", 15), 2025: (90.8, "A", "A", 14)},
    "jinqiao": {2023: (84.2, "B", "B", 55), 2024: (85.0, "B", "B", 50), 2025: (85.5, "B", "B", 48)},
    "fengxian": {2023: (82.5, "B", "B", 70), 2024: (83.1, "B", "B", 66), 2025: (84.0, "B", "B", 63)},
    "qingpu": {2023: (83.0, "B", "B", 68), 2024: (83.5, "B", "B", 64), 2025: (84.1, "B", "B", 61)},
    "jiading": {2023: (81.0, "B", "B", 80), 2024: (78.9, "C", "C", 120), 2025: (80.1, "C", "C", 110)},
    "caohejing": {2023: (77.0, "C", "B", 125), 2024: (78.2, "C", "C", 130), 2025: (79.5, "C", "C", 128)},
    "songjiang": {2023: (81.5, "B", "B", 78), 2024: (70.2, "C", "C", 165), 2025: (71.0, "C", "C", 167)},
}
#: how much larger the stock was a quarter earlier, per zone (negative: the stock grew since)
RATES = {"waigaoqiao_ftz": 0.04, "waigaoqiao_port": 0.06, "pudong_airport": 0.05, "yangshan": 0.03,
         "jinqiao": 0.07, "caohejing": -0.03, "qingpu": -0.02, "jiading": 0.01, "fengxian": 0.05, "songjiang": 0.04}
#: how fast each kind moves, relative to the zone's rate (unsupplied land moves slowest)
KIND_PACE = {"idle": 1.3, "low_efficiency": 1.0, "approved_unsupplied": 0.6, "supplied_unbuilt": 0.9}


def result_rows() -> list[dict]:
    """The synthetic results as the import takes them."""
    rows = []
    for zone, years in RESULTS.items():
        for year, (score, national, regional, rank) in years.items():
            count, average = NATIONAL[year]
            rows.append(parse_result({
                "zone": zone, "year": year, "national_class": national, "regional_class": regional,
                "national_rank": rank, "national_count": count, "below_region_average": score < average,
                "score": score, "region_average": average, "source": SOURCE,
                "published_on": dt.date(year + 1, 4, 20).isoformat(), "note": SOURCE}))
    return rows


def load_demo_results(engine: Engine) -> list[Opened]:
    """Record the synthetic national results (as the demo's bureau admin) and open the cases their
    flags call for on the demo's date less 45 days; returns the cases opened."""
    write_results(engine, DEMO_ACTOR, [(f"{r['zone']} {r['year']}", r) for r in result_rows()],
           "synthetic national evaluation results of the demo")
    return open_due_cases(engine, DEMO_ACTOR, DEMO_AS_OF, opened_on=DEMO_AS_OF - dt.timedelta(days=45),
                          note=CASE_NOTE)


def history_loaded(engine: Engine) -> bool:
    """Whether the demo's snapshot history is there."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM rules.stock_snapshots WHERE taken_via = 'demo' "
                                         "AND findings_as_of IS NULL)")).scalar())


def load_demo_history(engine: Engine) -> str:
    """Take the real snapshot of the quarter the current findings show (kept if taken already),
    write the seven quarters before it as synthetic records, and set every zone's 2025 and 2026
    targets from them. Needs the current findings (`gisapp assess`)."""
    try:
        taken = take_snapshot(engine, via="demo", by="demo-loader")
        end = taken.quarter_end
    except AlreadyTaken:
        with engine.connect() as conn:
            end = conn.execute(sa.text("SELECT max(quarter_end) FROM rules.stock_snapshots "
                                       "WHERE findings_as_of IS NOT NULL")).scalar_one()
    quarters = previous_quarter_ends(end, 8)[:-1]
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.reason', 'synthetic demo snapshots', true)"))
        now = conn.execute(sa.text(
            "SELECT s.zone_id, z.code, s.kind, s.parcels, s.area_m2 FROM rules.stock_snapshots s "
            "JOIN land.zones z ON z.id = s.zone_id WHERE s.quarter_end = :q"), {"q": end}).all()
        for back, quarter in enumerate(reversed(quarters), start=1):
            for r in now:
                factor = max(1 + RATES.get(r.code, 0.04) * KIND_PACE[r.kind] * back, 0.2)
                conn.execute(sa.text(
                    "INSERT INTO rules.stock_snapshots (quarter_end, zone_id, kind, parcels, area_m2, taken_by, "
                    "taken_via, note) VALUES (:q, :z, :k, :n, :a, 'demo-loader', 'demo', :note) "
                    "ON CONFLICT (quarter_end, zone_id, kind) DO NOTHING"),
                    {"q": quarter, "z": r.zone_id, "k": r.kind, "n": round(r.parcels * factor),
                     "a": r.area_m2 * factor, "note": NOTE})
        stock = conn.execute(sa.text(
            "SELECT z.code, s.quarter_end, sum(s.area_m2) / 1e4 AS ha FROM rules.stock_snapshots s "
            "JOIN land.zones z ON z.id = s.zone_id WHERE s.kind = ANY (:k) GROUP BY z.code, s.quarter_end"),
            {"k": list(STOCK_KINDS)}).all()
    by_zone = {(r.code, r.quarter_end): float(r.ha) for r in stock}
    year_end = dt.date(end.year - 1, 12, 31)
    for code in sorted({c for c, _ in by_zone}):
        if (code, year_end) in by_zone:  # last year's target: met where the stock shrank, missed where it grew
            aim = by_zone[(code, year_end)] * (0.96 if RATES.get(code, 0.04) < 0 else 1.02)
            set_param(engine, "revitalization", "target_ha", round(aim, 1), source=TARGET_SOURCE,
                      effective_from=dt.date(end.year - 1, 1, 1), zone=code, year=end.year - 1, actor="demo-loader")
        if (code, end) in by_zone:  # this year's: a tenth less by the year's end
            set_param(engine, "revitalization", "target_ha", round(by_zone[(code, end)] * 0.9, 1),
                      source=TARGET_SOURCE, effective_from=dt.date(end.year, 1, 1), zone=code, year=end.year,
                      actor="demo-loader")
    return (f"synthetic revitalization record: {quarter_name(quarters[0])}-{quarter_name(end)} "
            f"({quarter_name(end)} counted from the findings), targets {end.year - 1}-{end.year}")
