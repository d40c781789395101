"""The demo data holds true positives and true negatives for every rule input (domain §5),
is deterministic, and says it is synthetic."""

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.demo import DEMO_AS_OF
from gisapp.demo.facts import ESCALATED_DISTRICT, PUDONG, UNESCALATED_DISTRICT
from gisapp.demo.load import build_dataset

YEAR_BEFORE = DEMO_AS_OF.replace(year=DEMO_AS_OF.year - 1)


def scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_demo_data_is_marked_synthetic_everywhere(engine):
    assert scalar(engine, "SELECT value FROM gisapp_meta.dataset WHERE key = 'synthetic'") == "true"
    assert "合成" in scalar(engine, "SELECT value FROM gisapp_meta.dataset WHERE key = 'description_zh'")
    for table in ("zones", "parcels", "enterprises", "land_grants"):
        assert scalar(engine, f"SELECT bool_and(is_synthetic) FROM land.{table}") is True
    assert scalar(engine, "SELECT bool_and(name_zh LIKE '%（合成）') FROM land.enterprises") is True


def test_all_ten_zones_with_a_few_hundred_to_a_few_thousand_parcels(engine):
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.text(
            "SELECT z.code, count(p.id) FROM land.zones z LEFT JOIN land.parcels p ON p.zone_id = z.id GROUP BY 1")).all())
    assert len(counts) == 10
    assert min(counts.values()) >= 40 and max(counts.values()) <= 5000
    assert sum(counts.values()) >= 2000


def test_generation_is_deterministic():
    a, b = build_dataset(seed=7), build_dataset(seed=7)
    assert a["parcels"]["code"].equals(b["parcels"]["code"])
    assert all(x.equals(y) for x, y in zip(a["parcels"]["geom"][:50], b["parcels"]["geom"][:50]))
    assert a["land_grants"]["agreed_start_on"].equals(b["land_grants"]["agreed_start_on"])


@pytest.mark.parametrize("label, sql, want_positive", [
    ("not started a full year after the agreed start (idle)", """
        SELECT count(*) FROM land.parcels p JOIN land.land_grants g ON g.parcel_id = p.id
        WHERE p.status = 'granted_unbuilt' AND g.agreed_start_on <= :year_before
          AND NOT EXISTS (SELECT 1 FROM land.idle_exemptions e WHERE e.parcel_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM land.construction_progress c WHERE c.parcel_id = p.id)""", True),
    ("agreed start less than a year ago (not idle)", """
        SELECT count(*) FROM land.parcels p JOIN land.land_grants g ON g.parcel_id = p.id
        WHERE p.status = 'granted_unbuilt' AND g.agreed_start_on > :year_before""", True),
    ("exempt: land not delivered, due date passed (known from the grant, not recorded by hand)", """
        SELECT count(*) FROM land.land_grants g
        WHERE g.delivered_on IS NULL AND g.delivery_due_on < :as_of
          AND NOT EXISTS (SELECT 1 FROM land.idle_exemptions e WHERE e.parcel_id = g.parcel_id)""", True),
    ("land delivered after its due date", """
        SELECT count(*) FROM land.land_grants g WHERE g.delivered_on > g.delivery_due_on""", True),
    ("exempt: other government causes", """
        SELECT count(DISTINCT reason_code) FROM land.idle_exemptions WHERE reason_code <> 'land_not_delivered'""", True),
    ("started, < 1/3 developed, suspended over a year (idle)", """
        SELECT count(*) FROM land.construction_progress c JOIN land.construction_suspensions s USING (parcel_id)
        WHERE c.developed_area_m2 < c.should_develop_area_m2 / 3 AND s.resumed_on IS NULL
          AND s.suspended_from <= :year_before""", True),
    ("suspended less than a year (not idle yet)", """
        SELECT count(*) FROM land.construction_suspensions s
        WHERE s.resumed_on IS NULL AND s.suspended_from > :year_before""", True),
    ("exactly 1/3 developed and exactly 25% invested (edge, not idle)", """
        SELECT count(*) FROM land.construction_progress
        WHERE developed_area_m2 * 3 = should_develop_area_m2 AND invested_wan * 4 = total_investment_wan""", True),
    ("suspension resumed and then suspended again", """
        SELECT count(*) FROM (SELECT parcel_id FROM land.construction_suspensions GROUP BY parcel_id
                              HAVING count(*) > 1 AND bool_or(resumed_on IS NOT NULL)) s""", True),
    ("standardized grant failing a requirement at review", """
        SELECT count(*) FROM land.grant_reviews v JOIN land.grant_requirements r
          ON r.grant_id = v.grant_id AND r.indicator = v.indicator AND r.review_stage = v.review_stage
        WHERE v.actual_value < r.min_value OR v.actual_value > r.max_value""", True),
    ("standardized grant passing every requirement", """
        SELECT count(*) FROM land.land_grants g WHERE EXISTS (SELECT 1 FROM land.grant_reviews v WHERE v.grant_id = g.id)
          AND NOT EXISTS (SELECT 1 FROM land.grant_reviews v JOIN land.grant_requirements r
            ON r.grant_id = v.grant_id AND r.indicator = v.indicator
            WHERE v.grant_id = g.id AND (v.actual_value < r.min_value OR v.actual_value > r.max_value))""", True),
    ("announced fewer than 30 days before the grant", """
        SELECT count(*) FROM land.land_grants WHERE is_standardized AND granted_on - announced_on < 30""", True),
    ("announced 30 days or more before the grant", """
        SELECT count(*) FROM land.land_grants WHERE is_standardized AND granted_on - announced_on >= 30""", True),
    ("major project granted for 50 years", "SELECT count(*) FROM land.land_grants WHERE is_major_project AND term_years = 50", True),
    ("major project granted for only 20 years", "SELECT count(*) FROM land.land_grants WHERE is_major_project AND term_years = 20", True),
    ("per-mu: enterprises not graded (start-ups, under construction)", """
        SELECT count(*) FROM land.enterprise_metrics WHERE grading_category IN ('startup', 'under_construction')""", True),
    ("per-mu: small firms", "SELECT count(*) FROM land.enterprise_metrics WHERE grading_category = 'small'", True),
    ("mixed use: one use above 90% (single-use)", """
        SELECT count(*) FROM (SELECT parcel_id FROM land.mixed_use_components GROUP BY 1 HAVING max(floor_share_pct) > 90) s""", True),
    ("mixed use: exactly 90% (still mixed)", "SELECT count(*) FROM land.mixed_use_components WHERE floor_share_pct = 90", True),
    ("mixed use: shares not summing to 100", """
        SELECT count(*) FROM (SELECT parcel_id FROM land.mixed_use_components GROUP BY 1 HAVING sum(floor_share_pct) <> 100) s""", True),
    ("industrial parcel with green ratio above 20%", """
        SELECT count(*) FROM land.green_areas g JOIN land.parcels p ON p.id = g.parcel_id
        WHERE p.land_use_code LIKE '1001%' AND g.green_area_m2 > 0.2 * p.area_m2""", True),
    ("industrial parcel with building coverage below 30%", """
        SELECT count(*) FROM land.parcels WHERE land_use_code LIKE '1001%' AND building_footprint_m2 < 0.3 * area_m2""", True),
    ("industrial parcel with offices and living above 7%", """
        SELECT count(*) FROM land.parcels WHERE land_use_code LIKE '1001%' AND office_living_area_m2 > 0.07 * area_m2""", True),
    ("expired regional assessment", "SELECT count(*) FROM land.zone_assessments WHERE valid_to < :as_of", True),
    ("legacy GB 50137 codes kept", "SELECT count(*) FROM land.parcels WHERE legacy_land_use_code IS NOT NULL", True),
])
def test_rule_input_is_present(engine, label, sql, want_positive):
    count = scalar(engine, sql, year_before=YEAR_BEFORE, as_of=DEMO_AS_OF)
    assert (count > 0) == want_positive, label


def test_one_zone_is_short_of_green_and_others_are_not(engine):
    with engine.connect() as conn:
        ratios = dict(conn.execute(sa.text("""
            SELECT z.code, sum(g.green_area_m2) / sum(p.area_m2)
            FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id
            LEFT JOIN land.green_areas g ON g.parcel_id = p.id GROUP BY 1""")).all())
    assert ratios["jiading"] < 0.08
    assert sum(r > 0.12 for r in ratios.values()) >= 8


def district_balances(engine, year=2025, resource="energy"):
    """District -> (balance, escalated): allocations in minus allocations and uses out."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT d.code,
                   coalesce((SELECT sum(amount) FROM land.quota_ledger l WHERE l.to_account_id = a.id), 0)
                 - coalesce((SELECT sum(amount) FROM land.quota_ledger l WHERE l.from_account_id = a.id
                             AND l.entry_type <> 'escalation'), 0),
                   EXISTS (SELECT 1 FROM land.quota_ledger l WHERE l.from_account_id = a.id
                           AND l.entry_type = 'escalation')
            FROM land.quota_accounts a JOIN land.districts d ON d.id = a.district_id
            WHERE a.level = 'district' AND a.year = :y AND a.resource = :r"""), {"y": year, "r": resource}).all()
    return {code: (float(balance), escalated) for code, balance, escalated in rows}


def test_districts_over_quota_with_and_without_escalation_and_one_within(engine):
    balances = district_balances(engine)
    songjiang, fengxian = balances[ESCALATED_DISTRICT], balances[UNESCALATED_DISTRICT]
    assert songjiang[0] == pytest.approx(0, abs=1e-6) and songjiang[1], \
        "escalated to the city and balanced exactly"
    assert fengxian[0] < 0 and not fengxian[1], "over quota without escalation"
    assert balances[PUDONG][0] > 0 and not balances[PUDONG][1]


def test_a_zone_lacks_an_assessment_kind_others_have(engine):
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.text(
            "SELECT z.code, count(DISTINCT a.kind) FROM land.zones z LEFT JOIN land.zone_assessments a "
            "ON a.zone_id = z.id GROUP BY 1")).all())
    assert kinds["qingpu"] < kinds["pudong_airport"]


def test_zone_indicators_for_three_years(engine):
    assert scalar(engine, "SELECT count(DISTINCT (zone_id, year)) FROM land.zone_indicator_values") == 30


def test_status_history_follows_the_allowed_graph(engine):
    bad = scalar(engine, """
        SELECT count(*) FROM land.parcel_status_history h
        WHERE NOT EXISTS (SELECT 1 FROM land.parcel_status_transitions t
                          WHERE t.from_status = h.from_status AND t.to_status = h.to_status)""")
    assert bad == 0
    assert scalar(engine, """
        SELECT count(*) FROM land.parcels p WHERE p.status <> 'approved_unsupplied' AND p.status <> 'completed'
        AND p.status <> (SELECT h.to_status FROM land.parcel_status_history h WHERE h.parcel_id = p.id
                         ORDER BY h.changed_on DESC, h.id DESC LIMIT 1)""") == 0


def test_city_scale_generation_adds_benchmark_zones():
    frames = build_dataset(total_parcels=12000, seed=3)
    assert len(frames["parcels"]) == 12000
    assert (frames["zones"]["kind"] == "benchmark").sum() >= 1
    assert dt.date(2026, 6, 30) == DEMO_AS_OF


def test_every_foreign_key_of_the_loaded_data_holds(engine):
    """The bulk load skips per-row FK checks (replica mode): check every relation here."""
    with engine.connect() as conn:
        fks = conn.execute(sa.text("""
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
              AND c.connamespace = 'land'::regnamespace""")).all()
        assert len(fks) > 20
        for table, column, ref_table, ref_column in fks:
            orphans = conn.execute(sa.text(
                f'SELECT count(*) FROM {table} t WHERE t."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM {ref_table} r WHERE r."{ref_column}" = t."{column}")')).scalar()
            assert orphans == 0, f"{table}.{column} -> {ref_table}.{ref_column}: {orphans} orphans"
