"""The declared layers against the database, the rule layers against the findings, the dashboard
accounting against the tables, and the translation source against the findings contract."""

import re
from pathlib import Path

import geoalchemy2  # noqa: F401  (lets the inspector know the geometry type)
import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import all_layers
from gisapp.demo.facts import ESCALATED_DISTRICT, UNESCALATED_DISTRICT
from gisapp.i18n import LANGUAGES, TEXTS
from gisapp.queries import dashboard
from gisapp.web.tables import localized_frame

FINDINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "findings.md"


def test_every_declared_layer_has_its_view_with_every_declared_field(engine):
    insp = sa.inspect(engine)
    for layer in all_layers():
        schema, view = layer.source.split(".")
        columns = {c["name"] for c in insp.get_columns(view, schema=schema)}
        missing = set(layer.field_names) | {layer.geometry, layer.id_field}
        assert missing <= columns, f"{layer.id}: {layer.source} lacks {sorted(missing - columns)}"


def test_idle_layer_shows_idle_land_fees_due_and_exempt_land_only(engine, findings_source):
    with engine.connect() as conn:
        expected = set(conn.execute(sa.text("""
            SELECT p.code FROM land.parcels p WHERE p.status = 'idle'
            UNION
            SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
            WHERE f.rule = 'idle_land' AND f.outcome IN ('idle_not_started', 'idle_stalled')
              AND f.review_status <> 'dismissed'
            UNION
            SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
            WHERE f.rule = 'idle_land' AND f.outcome IN ('idle_fee_due', 'exempt')""")).scalars())
        shown = dict(conn.execute(sa.text("SELECT code, idle_class FROM layers.idle_land")).all())
        confirmed = set(conn.execute(sa.text("SELECT code FROM land.parcels WHERE status = 'idle'")).scalars())
        exempt = set(conn.execute(sa.text(
            "SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome = 'exempt'")).scalars())
        fee_due = dict(conn.execute(sa.text(
            "SELECT code, fee_case_code FROM layers.idle_land WHERE idle_class = 'fee_due'")).all())
    assert set(shown) == expected and len(expected) > len(confirmed) > 0
    assert {c for c, k in shown.items() if k == "confirmed"} >= confirmed
    # exempt land is a class of its own (the demo's exempt scenarios), as is a fee that survived a
    # later start (the demo's unpaid fee, gisapp/demo/cases.py), named with its case
    assert exempt and {c for c, k in shown.items() if k == "exempt"} == exempt - confirmed
    assert fee_due and all(code and code.startswith("XZ-") for code in fee_due.values())


def test_rule_layers_follow_the_current_findings_only(engine, findings_source):
    """A finding that is no longer current leaves the map; its replacement shows."""
    with engine.begin() as conn:
        pid, code, outcome = conn.execute(sa.text(
            "SELECT f.parcel_id, p.code, f.outcome FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'per_mu' AND p.status <> 'low_efficiency' ORDER BY f.id LIMIT 1")).one()
        other = "class_a" if outcome != "class_a" else "class_b"
        run = conn.execute(sa.text("INSERT INTO rules.assessment_runs (as_of, started_by) "
                                   "VALUES ('2026-07-01', 'test') RETURNING id")).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO rules.findings (run_id, rule, rule_version, as_of, zone_id, zone_key, parcel_id, subject_type,
                                        subject_id, outcome, is_positive, evidence, explanation_zh, explanation_en)
            SELECT :run, 'per_mu', 'test', '2026-07-01', zone_id, zone_id, id, 'parcel', id::text, :o, false,
                   '{"score": "not a number", "year": 2025}', '测试', 'test'
            FROM land.parcels WHERE id = :p"""), {"p": pid, "o": other, "run": run})
        # the new run becomes current for the parcel's zone: the old finding is history
        conn.execute(sa.text("UPDATE rules.current_runs SET run_id = :run WHERE rule = 'per_mu' "
                             "AND zone_key = (SELECT zone_id FROM land.parcels WHERE id = :p)"), {"p": pid, "run": run})
        row = conn.execute(sa.text("SELECT mu_class, score, year FROM layers.per_mu WHERE code = :c"),
                           {"c": code}).one()
        conn.rollback()
    # evidence that is not a number becomes NULL on the map rather than an error
    assert tuple(row) == (other, None, 2025)


def test_approved_vs_used_accounts_supplied_and_built_area(engine):
    frame = dashboard.dataset(engine, "approved_vs_used").set_index("zone_code")
    with engine.connect() as conn:
        used = dict(conn.execute(sa.text(
            "SELECT z.code, sum(p.area_m2) / 1e4 FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE p.status NOT IN ('approved_unsupplied', 'reclaimed', 'exited') GROUP BY 1")).all())
    assert set(frame.index) >= set(used)
    for zone, ha in used.items():
        assert frame.loc[zone, "used_ha"] == pytest.approx(ha, abs=0.01)
    assert (frame["built_ha"] <= frame["used_ha"]).all() and (frame["used_ha"] <= frame["parcel_ha"]).all()


def test_grants_pipeline_narrows_from_grant_to_acceptance(engine):
    frame = dashboard.dataset(engine, "grants_pipeline")
    totals = frame.groupby("stage")["grants"].sum()
    assert totals["granted"] >= totals["started"] >= totals["completed"] >= totals["accepted"] > 0
    assert totals["granted"] >= totals["announced"]


def test_grants_review_counts_every_grant_of_the_term_rule_once(engine, findings_source):
    """Grants within their term have no finding of their own (grant_term 2.0): the dashboard takes
    their count from the zones' reports, so the term bars add up to every assessed grant."""
    frame = dashboard.dataset(engine, "grants_review")
    term = frame[frame["rule"] == "grant_term"].groupby("outcome")["grants"].sum()
    with engine.connect() as conn:
        reported = conn.execute(sa.text(
            "SELECT sum((evidence ->> 'grants')::int), sum((evidence ->> 'term_ok')::int) "
            "FROM rules.current_findings WHERE rule = 'grant_term' AND subject_type = 'zone'")).one()
    assert reported[0] > 0 and term["term_ok"] == reported[1]
    assert term.sum() == reported[0]
    assert not ({"terms_within_max", "terms_above_max"} & set(term.index))  # reports are not grants


def test_quota_use_shows_the_escalated_district(engine):
    frame = dashboard.dataset(engine, "quota_use")
    energy = frame[(frame["resource"] == "energy") & (frame["year"] == 2025)].set_index("district_code")
    assert energy.loc[ESCALATED_DISTRICT, "escalated"] > 0
    # the district handed out more than it holds and never escalated
    assert energy.loc[UNESCALATED_DISTRICT, "allocated"] > energy.loc[UNESCALATED_DISTRICT, "quota"]
    assert energy.loc[UNESCALATED_DISTRICT, "escalated"] == 0


def test_every_dashboard_dataset_loads_per_zone_and_translates(engine):
    for name in dashboard.DATASETS:
        frame = dashboard.dataset(engine, name, "jiading")
        shown = localized_frame(name, frame, "en")
        assert not [c for c in shown.columns if c.endswith(("_zh", "_en"))], name
        assert all(not re.search(r"[\u4e00-\u9fff]", str(c)) for c in shown.columns), name


def test_every_label_exists_in_both_languages():
    for key, entry in TEXTS.items():
        assert set(LANGUAGES) <= set(entry) and all(entry[lang].strip() for lang in LANGUAGES), key


def test_every_rule_and_outcome_of_the_findings_contract_has_a_label():
    rows = [line.split("|") for line in FINDINGS_DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| rule") and not line.startswith("|---")]
    assert len(rows) >= 10
    for cells in rows:
        rule = cells[1].strip()
        outcomes = [o.strip() for o in cells[3].split(",")]
        assert f"rule.{rule}" in TEXTS, rule
        for outcome in outcomes:
            assert f"outcome.{outcome}" in TEXTS, f"{rule}: {outcome}"


def test_every_rule_and_outcome_the_rules_wrote_has_a_label(engine, findings_source):
    with engine.connect() as conn:
        written = conn.execute(sa.text("SELECT DISTINCT rule, outcome FROM rules.current_findings")).all()
    assert written
    missing = sorted(({f"rule.{r}" for r, _ in written} | {f"outcome.{o}" for _, o in written}) - set(TEXTS))
    assert not missing, f"labels missing from gisapp/i18n.py: {missing}"
