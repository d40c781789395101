"""Findings for the map and dashboard tests.

The real rules (``gisapp.rules.assess.run_assessment``) write ``rules.findings``; when that
module exists the tests use it. Until then a small, deterministic stand-in writes rows of the
same shape (docs/findings.md) with SQL over the demo data, so the map's layers have something
to show. It decides nothing for the application: it is test data, marked as such in ``rule_version``.
"""

from __future__ import annotations

import importlib.util

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.demo import DEMO_AS_OF

STAND_IN_VERSION = "test-stand-in"

_COLUMNS = ("rule, rule_version, as_of, zone_id, parcel_id, subject_type, subject_id, outcome, is_positive, "
            "evidence, explanation_zh, explanation_en")

# Each statement selects the _COLUMNS for one rule from the demo tables.
_STAND_IN_SQL = [
    # idle land: granted, never started, agreed start more than a year before the as-of date
    """SELECT 'idle_land', :v, CAST(:as_of AS date), p.zone_id, p.id, 'parcel', p.id::text,
              CASE WHEN cp.started_on IS NULL AND g.agreed_start_on < CAST(:as_of AS date) - 365
                   THEN 'idle_not_started' ELSE 'not_idle' END,
              cp.started_on IS NULL AND g.agreed_start_on < CAST(:as_of AS date) - 365,
              jsonb_build_object('agreed_start_on', g.agreed_start_on, 'idle_since', g.agreed_start_on + 365,
                                 'fee_wan', round(g.price_wan * 0.2, 2),
                                 'recovery_candidate', g.agreed_start_on < CAST(:as_of AS date) - 730),
              '测试数据：约定动工日 ' || g.agreed_start_on || ' 后满一年未动工',
              'Test data: not started one year after the agreed start ' || g.agreed_start_on
       FROM land.parcels p JOIN land.land_grants g ON g.parcel_id = p.id
       LEFT JOIN land.construction_progress cp ON cp.parcel_id = p.id
       WHERE p.status = 'granted_unbuilt'""",
    # per-mu classes by tax per mu in the latest year, quartiles; start-ups not graded
    """SELECT 'per_mu', :v, CAST(:as_of AS date), p.zone_id, p.id, 'parcel', p.id::text,
              CASE WHEN m.grading_category IN ('startup', 'under_construction') THEN 'not_graded'
                   ELSE (ARRAY['class_d', 'class_c', 'class_b', 'class_a'])[
                        ntile(4) OVER (ORDER BY m.tax_wan / (p.area_m2 * 0.0015)::numeric)] END,
              false,
              jsonb_build_object('year', m.year, 'score', round(m.tax_wan / (p.area_m2 * 0.0015)::numeric, 2)),
              '测试数据：亩均税收分档', 'Test data: tax per mu quartile'
       FROM land.parcels p JOIN land.enterprise_metrics m ON m.parcel_id = p.id AND m.year = 2025""",
    # grant review: shortfall when an actual value misses its requirement
    """SELECT 'grant_review', :v, CAST(:as_of AS date), p.zone_id, p.id, 'grant', g.id::text,
              CASE WHEN NOT EXISTS (SELECT 1 FROM land.grant_reviews r WHERE r.grant_id = g.id) THEN 'not_reviewed'
                   WHEN EXISTS (SELECT 1 FROM land.grant_reviews r JOIN land.grant_requirements q
                                ON q.grant_id = r.grant_id AND q.indicator = r.indicator
                                WHERE r.grant_id = g.id AND (r.actual_value < q.min_value
                                                             OR r.actual_value > q.max_value)) THEN 'shortfall'
                   ELSE 'passed' END,
              false, jsonb_build_object('stage', 'acceptance'),
              '测试数据：验收指标对照', 'Test data: acceptance indicators compared'
       FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id WHERE g.is_standardized""",
    # mixed use: > 90% of floor area in one use is single-use; shares must sum to 100
    """SELECT 'mixed_use', :v, CAST(:as_of AS date), p.zone_id, p.id, 'parcel', p.id::text,
              CASE WHEN sum(c.floor_share_pct) <> 100 THEN 'invalid_shares'
                   WHEN max(c.floor_share_pct) > 90 THEN 'single_use' ELSE 'mixed' END,
              sum(c.floor_share_pct) <> 100,
              jsonb_build_object('dominant_share', max(c.floor_share_pct)),
              '测试数据：用途占比', 'Test data: shares by use'
       FROM land.parcels p JOIN land.mixed_use_components c ON c.parcel_id = p.id
       GROUP BY p.id, p.zone_id""",
    # green balance against a 15 % test target
    """SELECT 'green_balance', :v, CAST(:as_of AS date), p.zone_id, p.id, 'parcel', p.id::text,
              CASE WHEN ga.green_area_m2 >= 0.15 * p.area_m2 THEN 'surplus' ELSE 'deficit' END,
              ga.green_area_m2 < 0.15 * p.area_m2,
              jsonb_build_object('green_ratio', round((ga.green_area_m2 / p.area_m2)::numeric, 3), 'target', 0.15,
                                 'surplus_m2', round((ga.green_area_m2 - 0.15 * p.area_m2)::numeric, 1)),
              '测试数据：对照 15% 目标', 'Test data: against a 15% target'
       FROM land.parcels p JOIN land.green_areas ga ON ga.parcel_id = p.id""",
    """SELECT 'green_balance_zone', :v, CAST(:as_of AS date), z.id, NULL, 'zone', z.id::text,
              CASE WHEN coalesce(sum(ga.green_area_m2), 0) >= 0.15 * sum(p.area_m2) THEN 'balanced' ELSE 'short' END,
              coalesce(sum(ga.green_area_m2), 0) < 0.15 * sum(p.area_m2),
              jsonb_build_object('zone_green_m2', round(coalesce(sum(ga.green_area_m2), 0)::numeric),
                                 'required_m2', round((0.15 * sum(p.area_m2))::numeric),
                                 'margin_m2', round((coalesce(sum(ga.green_area_m2), 0) - 0.15 * sum(p.area_m2))::numeric)),
              '测试数据：园区绿地总量平衡', 'Test data: zone green total'
       FROM land.zones z JOIN land.parcels p ON p.zone_id = z.id
       LEFT JOIN land.green_areas ga ON ga.parcel_id = p.id GROUP BY z.id""",
    """SELECT 'zone_performance', :v, CAST(:as_of AS date), z.id, NULL, 'zone', z.id::text,
              (ARRAY['class_a', 'class_b', 'class_c', 'rectification'])[1 + (row_number() OVER (ORDER BY z.id))::int % 4],
              false, jsonb_build_object('year', 2025, 'score', 60 + z.id, 'rank_national', z.id, 'rank_regional', z.id),
              '测试数据：绩效评估', 'Test data: performance evaluation'
       FROM land.zones z WHERE z.kind <> 'benchmark'""",
]


def real_rules_available() -> bool:
    """True when the rules helpers' ``run_assessment`` exists."""
    return importlib.util.find_spec("gisapp.rules.assess") is not None


def write_stand_in_findings(engine: Engine) -> int:
    """Replace current findings with the stand-in rows; returns how many were written."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.findings"))
        total = 0
        for select in _STAND_IN_SQL:
            result = conn.execute(sa.text(f"INSERT INTO rules.findings ({_COLUMNS}) {select}"),
                                  {"v": STAND_IN_VERSION, "as_of": DEMO_AS_OF})
            total += result.rowcount
    return total


_DONE: dict[str, str] = {}


def ensure_findings(engine: Engine) -> str:
    """Findings for the demo date: the real assessment when it exists, else the stand-in.

    Runs once per database and test process (the web and browser fixtures share it). Returns
    which one was used (``"rules"`` or ``"stand-in"``).
    """
    key = engine.url.render_as_string(hide_password=True)
    if key not in _DONE:
        if real_rules_available():
            from gisapp.rules.assess import run_assessment

            run_assessment(engine, DEMO_AS_OF)
            _DONE[key] = "rules"
        else:
            write_stand_in_findings(engine)
            _DONE[key] = "stand-in"
    return _DONE[key]
