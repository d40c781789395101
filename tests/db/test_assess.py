"""`gisapp assess` on the demo database: each rule's verdicts match the demo scenarios, reruns
keep one current finding per subject and carry reviews over, bad input writes nothing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gisapp.cli import main
from gisapp.demo import DEMO_AS_OF
from gisapp.demo.cases import surviving_fee_parcel

AS_OF = DEMO_AS_OF.isoformat()
MY_RULES = (
    "idle_land",
    "land_inventory",
    "per_mu",
    "grant_review",
    "grant_notice",
    "grant_term",
    "mixed_use",
)


def assess(*args: str):
    result = CliRunner().invoke(main, ["assess", *args], catch_exceptions=False)
    return result


def current(engine, rule: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("SELECT * FROM rules.current_findings WHERE rule = :r"), conn, params={"r": rule}
        )


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture(scope="module")
def first_run(isolated_engine):
    result = assess("--as-of", AS_OF, *[a for r in MY_RULES for a in ("--rule", r)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def scenario(demo_frames) -> pd.Series:
    return demo_frames["parcels"].set_index("id")["scenario"]


def outcomes_by_scenario(engine, rule: str, scenario: pd.Series) -> pd.DataFrame:
    f = current(engine, rule)
    f["scenario"] = f["parcel_id"].map(scenario)
    return f


def test_assess_prints_counts_per_rule_and_outcome(first_run):
    assert "assessment run" in first_run and "as of 2026-06-30" in first_run
    for rule in MY_RULES:
        assert rule in first_run
    assert "idle_not_started" in first_run and "positives" in first_run


IDLE_EXPECTED = {
    "unbuilt_idle": "idle_not_started",
    "idle_confirmed": "idle_not_started",
    "building_stalled_idle": "idle_stalled",
    "in_disposal": "idle_stalled",
    "unbuilt_exempt": "exempt",
    "unbuilt_undelivered": "exempt",  # from the grant's delivery dates, no exemption recorded
    "unbuilt_delivered_late": "not_idle",  # the start moved by the delay: the year runs on
    "unbuilt_recent": "not_idle",
    "building_active": "not_idle",
    "building_stalled_recent": "not_idle",
    "building_edge_exact": "not_idle",
    "building_restarted": "not_idle",
    "completed": "not_idle",
    "production": "not_idle",
    "production_startup": "not_idle",
    "low_efficiency_confirmed": "not_idle",
    "transferred": "not_idle",
}


def test_idle_land_matches_every_demo_scenario(isolated_engine, first_run, scenario, demo_frames):
    f = outcomes_by_scenario(isolated_engine, "idle_land", scenario)
    expected = f["scenario"].map(IDLE_EXPECTED)
    # the demo's unpaid fee, whose parcel started construction after the decision (gisapp/demo/cases.py)
    survivor = f["parcel_id"] == surviving_fee_parcel(demo_frames)["id"]
    assert survivor.sum() == 1
    expected[survivor] = "idle_fee_due"
    wrong = f[f["outcome"] != expected]
    assert wrong.empty, wrong[["parcel_id", "scenario", "outcome", "explanation_en"]].head().to_string()
    assert set(IDLE_EXPECTED) == set(f["scenario"])  # every scenario met, reclaimed land not assessed
    assert "仍应缴纳" in f[survivor]["explanation_zh"].iloc[0]
    idle = f[f["outcome"].isin(["idle_not_started", "idle_stalled"])]
    assert idle["is_positive"].all() and not f[f["outcome"] == "not_idle"]["is_positive"].any()
    assert idle["evidence"].map(lambda e: e["fee_wan"] is not None and e["idle_since"] is not None).all()
    assert idle["explanation_zh"].str.contains("闲置费").all()


def test_late_or_missing_delivery_is_named_in_the_demo_findings(isolated_engine, first_run, scenario):
    f = outcomes_by_scenario(isolated_engine, "idle_land", scenario)
    undelivered = f[f["scenario"] == "unbuilt_undelivered"]
    assert len(undelivered) and undelivered["evidence"].map(lambda e: e["exemption_reason"]).eq(
        "land_not_delivered").all()
    assert undelivered["explanation_zh"].str.contains("尚未交地").all()
    late = f[f["scenario"] == "unbuilt_delivered_late"]
    assert len(late) and late["evidence"].map(lambda e: e["clock"]["delivery_delay_days"] > 0).all()
    assert late["explanation_zh"].str.contains("实际交地日期").all()
    assert late["explanation_en"].str.contains("late delivery").all()
    # some idle land was delivered late too: idle all the same, the delay named
    idle_late = f[(f["scenario"] == "unbuilt_idle") & f["evidence"].map(lambda e: e["clock"] is not None)]
    assert len(idle_late) and set(idle_late["outcome"]) == {"idle_not_started"}
    assert idle_late["explanation_zh"].str.contains("迟延 10 天").all()


def test_land_inventory_matches_the_demo_scenarios(isolated_engine, first_run, scenario):
    f = outcomes_by_scenario(isolated_engine, "land_inventory", scenario)
    unsupplied = f[f["outcome"] == "approved_unsupplied"]
    unbuilt = f[f["outcome"] == "supplied_unbuilt"]
    assert set(unsupplied["scenario"]) == {"unsupplied"}
    assert set(unbuilt["scenario"]) == {
        "unbuilt_recent",
        "unbuilt_idle",
        "unbuilt_exempt",
        "unbuilt_undelivered",
        "unbuilt_delivered_late",
        "idle_confirmed",
    }
    assert (scenario == "unsupplied").sum() == len(unsupplied)


def test_per_mu_grades_firms_with_low_efficiency_candidates_at_the_bottom(
    isolated_engine, first_run, scenario
):
    f = outcomes_by_scenario(isolated_engine, "per_mu", scenario)
    assert set(f[f["scenario"] == "production_startup"]["outcome"]) == {"not_graded"}
    graded = f[f["outcome"].str.startswith("class_")].copy()
    graded["score"] = graded["evidence"].map(lambda e: e["score"])
    assert {"class_a", "class_b", "class_c", "class_d"} <= set(graded["outcome"])
    by = graded.groupby("scenario")["score"].median()
    # the per-mu indicators (60 of 100 weight points) scale with output; the efficiency ratios do not
    assert by["low_efficiency_confirmed"] < 0.6 * by["production"]
    d = graded[graded["outcome"] == "class_d"]
    assert d["is_positive"].all() and (d["scenario"] == "low_efficiency_confirmed").sum() > 0
    per_zone = graded.groupby("zone_id")["outcome"].agg(lambda o: (o == "class_d").mean())
    assert (per_zone <= 0.05 + 1e-9).all()


def test_grant_rules_match_the_demo_grants(isolated_engine, first_run, demo_frames):
    grants = demo_frames["land_grants"].set_index("id")
    notice = current(isolated_engine, "grant_notice")
    days = (grants["granted_on"] - grants["announced_on"]).dt.days
    expected = (
        days.loc[notice["subject_id"].astype(int)].lt(30).map({True: "notice_too_short", False: "notice_ok"})
    )
    assert (notice["outcome"].to_numpy() == expected.to_numpy()).all()
    assert set(notice["outcome"]) == {"notice_ok", "notice_too_short"}
    review = current(isolated_engine, "grant_review")
    assert {"passed", "shortfall", "not_reviewed"} <= set(review["outcome"])
    # a grant signed after the as-of date is not assessed yet
    assert (
        len(review) == (grants["is_standardized"] & (grants["granted_on"] <= pd.Timestamp(DEMO_AS_OF))).sum()
    )
    term = current(isolated_engine, "grant_term")
    # the 2014 Shanghai rule (and the zones' preference for 50 years) applies to grants since 2014
    local = grants["granted_on"].between(pd.Timestamp("2014-01-01"), pd.Timestamp(DEMO_AS_OF))
    major20 = grants[local & grants["is_major_project"] & (grants["term_years"] == 20)].index.astype(str)
    assert set(term[term["outcome"] == "major_below_preferred"]["subject_id"]) == set(major20)


def test_mixed_use_matches_the_demo_patterns(isolated_engine, first_run, demo_frames):
    comp = demo_frames["mixed_use_components"]
    total = comp.groupby("parcel_id")["floor_share_pct"].sum()
    top = comp.groupby("parcel_id")["floor_share_pct"].max()
    expected = pd.Series("mixed", index=total.index)
    expected[top > 90] = "single_use"
    expected[(total - 100).abs() > 0.01] = "invalid_shares"
    f = current(isolated_engine, "mixed_use").set_index("parcel_id")["outcome"]
    assert f.sort_index().equals(expected.sort_index().rename("outcome").rename_axis("parcel_id"))
    assert (top == 90).any() and set(f[top[top == 90].index]) == {"mixed"}


def test_rerun_keeps_one_current_finding_per_subject_and_carries_reviews(
    isolated_engine, first_run, scenario
):
    idle = current(isolated_engine, "idle_land")
    target = idle[idle["outcome"] == "idle_not_started"].iloc[0]
    with isolated_engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE rules.findings SET review_status = 'confirmed', review_reason = '现场核实',"
                " reviewed_by = 'zone-office', reviewed_at = now() WHERE id = :i"
            ),
            {"i": int(target["id"])},
        )
    result = assess("--as-of", AS_OF, "--rule", "idle_land")
    assert result.exit_code == 0 and "1 reviews carried over" in result.output
    again = current(isolated_engine, "idle_land")
    assert not again["subject_id"].duplicated().any() and len(again) == len(idle)
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.findings WHERE rule = 'idle_land'") == 2 * len(
        idle
    )
    carried = again[again["subject_id"] == target["subject_id"]].iloc[0]
    assert carried["id"] != target["id"]
    assert (carried["review_status"], carried["review_reason"], carried["reviewed_by"]) == (
        "confirmed",
        "现场核实",
        "zone-office",
    )
    old = scalar(isolated_engine, "SELECT is_current FROM rules.findings_history WHERE id = :i", i=int(target["id"]))
    assert old is False
    # a changed outcome reopens the finding: as of a date before the land became idle
    since = dt.date.fromisoformat(target["evidence"]["idle_since"])
    result = assess("--as-of", (since - dt.timedelta(days=1)).isoformat(), "--rule", "idle_land")
    assert result.exit_code == 0
    reopened = current(isolated_engine, "idle_land").set_index("subject_id").loc[target["subject_id"]]
    assert reopened["outcome"] == "not_idle" and reopened["review_status"] == "open"


def test_a_zone_run_supersedes_only_that_zone(isolated_engine, first_run):
    before = current(isolated_engine, "grant_term")
    result = assess("--as-of", AS_OF, "--zone", "yangshan", "--rule", "grant_term")
    assert result.exit_code == 0 and "(yangshan)" in result.output
    after = current(isolated_engine, "grant_term")
    yangshan = scalar(isolated_engine, "SELECT id FROM land.zones WHERE code = 'yangshan'")
    assert len(after) == len(before) and not after.duplicated(["subject_type", "subject_id"]).any()
    changed = after[~after["id"].isin(before["id"])]
    assert len(changed) > 0 and set(changed["zone_id"]) == {yangshan}


@pytest.mark.parametrize(
    "args,message",
    [
        (["--zone", "atlantis"], "unknown zone code(s): atlantis"),
        (["--rule", "no_such_rule"], "unknown rule(s): no_such_rule"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(isolated_engine, first_run, args, message):
    runs = scalar(isolated_engine, "SELECT count(*) FROM rules.assessment_runs")
    result = CliRunner().invoke(main, ["assess", "--as-of", AS_OF, *args])
    assert result.exit_code == 1 and message in result.output
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.assessment_runs") == runs


def test_a_failing_rule_leaves_the_previous_findings_current(isolated_engine, first_run, monkeypatch):
    import sys
    import types

    from gisapp.rules import registry
    from gisapp.rules.base import RuleSpec

    broken = types.ModuleType("gisapp_test_broken_rule")
    broken.SPECS = (RuleSpec("broken_rule", "0", "坏", "broken"),)
    broken.INPUTS = ("parcels",)

    def evaluate(inputs, as_of, overrides=None):
        raise ValueError("a rule that fails")

    broken.evaluate = evaluate
    monkeypatch.setitem(sys.modules, "gisapp_test_broken_rule", broken)
    monkeypatch.setattr(registry, "RULE_MODULES", ["gisapp.rules.mixed_use", "gisapp_test_broken_rule"])
    before = current(isolated_engine, "mixed_use")["id"].sort_values().tolist()
    with pytest.raises(ValueError, match="a rule that fails"):
        assess("--as-of", AS_OF)
    assert current(isolated_engine, "mixed_use")["id"].sort_values().tolist() == before
    # the failed run is recorded as such and its rows (mixed_use ran first) are gone
    run_id, status = _last_run(isolated_engine)
    assert status == "failed"
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.findings WHERE run_id = :r", r=run_id) == 0


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("frame", ["mixed_use_pilots", "land_grants"])
def test_an_input_that_cannot_be_read_fails_the_run_cleanly(isolated_engine, first_run, monkeypatch, workers, frame):
    """A failed read must reach the run, which is then marked failed with nothing of it current:
    a frame read by a worker process (mixed_use_pilots) or, with two workers, by the parent for
    both of them (land_grants, which modules of both processes need)."""
    from gisapp.queries import rule_inputs
    from gisapp.rules.assess import run_assessment

    monkeypatch.setitem(rule_inputs.FRAME_SQL, frame, "SELECT 1 / 0 AS parcel_id")
    before = current(isolated_engine, "mixed_use")["id"].sort_values().tolist()
    with pytest.raises(Exception, match="division by zero"):
        run_assessment(isolated_engine, DEMO_AS_OF, workers=workers)
    assert current(isolated_engine, "mixed_use")["id"].sort_values().tolist() == before
    run_id, status = _last_run(isolated_engine)
    assert status == "failed"
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.findings WHERE run_id = :r", r=run_id) == 0


def _last_run(engine) -> tuple[int, str]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text("SELECT id, status FROM rules.assessment_runs ORDER BY id DESC LIMIT 1")).one())


def _current_table(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text(
                "SELECT rule, subject_type, subject_id, outcome, is_positive, parameters::text AS parameters, "
                "evidence::text AS evidence, explanation_zh, explanation_en FROM rules.current_findings"
            ),
            conn,
        )
    return frame.sort_values(["rule", "subject_type", "subject_id"]).reset_index(drop=True)


def test_two_worker_processes_store_the_same_findings_as_one(isolated_engine, first_run):
    from gisapp.rules.assess import run_assessment

    one = run_assessment(isolated_engine, DEMO_AS_OF, workers=1)
    by_one = _current_table(isolated_engine)
    two = run_assessment(isolated_engine, DEMO_AS_OF, workers=2)
    by_two = _current_table(isolated_engine)
    assert (one.workers, two.workers) == (1, 2)
    assert one.finding_count == two.finding_count == len(by_two) > 3000
    pd.testing.assert_frame_equal(by_one, by_two)
    # the second run superseded exactly the first run's findings, none of them rewritten
    assert two.superseded == one.finding_count
    assert _last_run(isolated_engine) == (two.run_id, "finished")
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.findings WHERE run_id = :r", r=one.run_id) == len(by_one)
    # parameters are stored once per distinct set, not per finding
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.parameter_sets") < 200


def test_a_review_of_a_superseded_finding_is_refused(isolated_engine, first_run):
    from gisapp.queries import edits
    from gisapp.queries.edits import Actor

    old = current(isolated_engine, "grant_term").iloc[0]
    result = assess("--as-of", AS_OF, "--rule", "grant_term")
    assert result.exit_code == 0
    admin = Actor(username="bureau-admin", role="bureau_admin")
    with pytest.raises(edits.EditConflict, match="no longer current"):
        edits.review_finding(
            isolated_engine, admin, int(old["id"]), {"decision": "dismissed", "reason": "x", "version": old["version"]}
        )
    with pytest.raises(sa.exc.IntegrityError, match="is not current"), isolated_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE rules.findings SET review_status = 'dismissed', review_reason = 'x' WHERE id = :i"),
            {"i": int(old["id"])},
        )


def test_rule_inputs_are_typed_restricted_to_zones_and_the_same_with_parallel_loading(engine):
    from gisapp.errors import InputError
    from gisapp.queries.rule_inputs import load_inputs

    names = ["parcels", "land_grants", "zone_boundaries", "idle_exemptions"]
    one = load_inputs(engine, names, zone_codes=["yangshan"], as_of=DEMO_AS_OF, workers=1)
    two = load_inputs(engine, names, zone_codes=["yangshan"], as_of=DEMO_AS_OF, workers=2)
    yangshan = scalar(engine, "SELECT id FROM land.zones WHERE code = 'yangshan'")
    assert set(one["parcels"]["zone_id"]) == {yangshan} and len(one["zone_boundaries"]) == 1
    assert one["zone_boundaries"].crs.to_epsg() == 4490
    assert str(one["land_grants"]["granted_on"].dtype) == "datetime64[ns]"
    assert one["land_grants"]["is_standardized"].dtype == bool
    for name in names:
        a = one[name].sort_values("id").reset_index(drop=True)
        b = two[name].sort_values("id").reset_index(drop=True)
        assert a.drop(columns="geom", errors="ignore").equals(b.drop(columns="geom", errors="ignore")), name
    with pytest.raises(InputError, match="unknown rule input frame"):
        load_inputs(engine, ["parcels", "no_such_frame"])


def test_pruning_keeps_current_recent_and_reviewed_findings(isolated_engine, first_run):
    from gisapp.rules.assess import prune_findings, run_assessment

    first = run_assessment(isolated_engine, DEMO_AS_OF, rule_names=["grant_notice"])
    reviewed = current(isolated_engine, "grant_notice").iloc[0]
    with isolated_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE rules.findings SET review_status = 'dismissed', review_reason = 'ok' WHERE id = :i"),
            {"i": int(reviewed["id"])},
        )
    second = run_assessment(isolated_engine, DEMO_AS_OF, rule_names=["grant_notice"])
    count = "SELECT count(*) FROM rules.findings WHERE run_id = :r"
    assert scalar(isolated_engine, count, r=first.run_id) == first.finding_count
    result = CliRunner().invoke(main, ["prune-findings", "--keep-runs", "0"])
    assert result.exit_code == 0 and "findings of old runs deleted" in result.output
    # the superseded run keeps only its reviewed finding; the current run is whole
    assert scalar(isolated_engine, count, r=first.run_id) == 1
    assert scalar(isolated_engine, count, r=second.run_id) == second.finding_count
    assert scalar(isolated_engine, "SELECT count(*) FROM audit.change_log WHERE table_name = 'findings' "
                  "AND action = 'DELETE'") == 0
    assert prune_findings(isolated_engine, 0) == 0


def test_pruning_deletes_without_holding_up_the_assessments(isolated_engine, first_run, monkeypatch):
    """The old runs are chosen under the assessments' locks, but their rows are deleted after:
    a day's history is not one statement that every run and the live worker wait behind."""
    from gisapp.db import locks
    from gisapp.db.engine import assessor_engine
    from gisapp.rules import assess
    from gisapp.rules.assess import prune_findings, run_assessment

    runs = [run_assessment(isolated_engine, DEMO_AS_OF, rule_names=["grant_notice"]) for _ in range(4)]
    monkeypatch.setattr(assess, "PRUNE_RUNS_PER_TRANSACTION", 1)
    engine = assessor_engine()
    free_while_deleting: list[bool] = []

    def look(_conn, _cursor, statement, *_):
        if statement.startswith("DELETE FROM rules.findings"):
            with isolated_engine.connect() as other:
                free = all(other.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar()
                           for k in locks.ASSESSMENTS)
                other.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            free_while_deleting.append(free)

    sa.event.listen(engine, "before_cursor_execute", look)
    try:
        deleted = prune_findings(engine, keep_runs=1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", look)
    # the first run (first_run's rules) and the three superseded grant_notice runs, one a transaction
    assert len(free_while_deleting) >= 3 and all(free_while_deleting), free_while_deleting
    open_ = "SELECT count(*) FROM rules.findings WHERE run_id = :r AND review_status = 'open'"
    assert [scalar(isolated_engine, open_, r=r.run_id) for r in runs[:3]] == [0, 0, 0]
    assert scalar(isolated_engine, "SELECT count(*) FROM rules.findings WHERE run_id = :r",
                  r=runs[-1].run_id) == runs[-1].finding_count, "the current run is whole"
    assert deleted > 0


def test_a_finding_without_evidence_is_stored_with_empty_evidence(isolated_engine, first_run, monkeypatch):
    import sys
    import types

    from gisapp.rules import registry
    from gisapp.rules.assess import run_assessment
    from gisapp.rules.base import RuleSpec, param_provenance
    from gisapp.rules.common import findings

    spec = RuleSpec("bare_rule", "0", "无证据", "no evidence")
    bare = types.ModuleType("gisapp_test_bare_rule")
    bare.SPECS = (spec,)
    bare.INPUTS = ("parcels",)

    def evaluate(inputs, as_of, overrides=None):
        p = inputs["parcels"].iloc[:2]
        return findings(spec, as_of, [param_provenance(spec, {})] * 2, zone_id=p["zone_id"].to_numpy(), parcel_id=p["id"].to_numpy(),
                             subject_type="parcel", subject_id=p["id"].astype(str).to_numpy(), outcome="ok",
                             is_positive=False, evidence=[None, {"k": 1}], explanation_zh="无", explanation_en="none")

    bare.evaluate = evaluate
    monkeypatch.setitem(sys.modules, "gisapp_test_bare_rule", bare)
    monkeypatch.setattr(registry, "RULE_MODULES", ["gisapp_test_bare_rule"])
    summary = run_assessment(isolated_engine, DEMO_AS_OF)
    assert summary.finding_count == 2
    stored = current(isolated_engine, "bare_rule")["evidence"].tolist()
    assert sorted(stored, key=len) == [{}, {"k": 1}]


@pytest.mark.parametrize("workers", [1, 2])
def test_per_mu_reads_one_year_of_metrics_and_finds_what_it_finds_on_all_years(isolated_engine, first_run, workers):
    """assess reads only the evaluation year's metrics (per_mu.input_params) and the parcels with
    metrics of any year; the stored findings are those of the rule on every year's metrics."""
    from gisapp.queries.rule_inputs import load_inputs
    from gisapp.rules import per_mu
    from gisapp.rules.assess import run_assessment

    year = per_mu.evaluation_year(DEMO_AS_OF)
    with isolated_engine.begin() as conn:
        # a parcel whose firm reported only two years before the evaluation year
        pid, firm = conn.execute(sa.text(
            "SELECT p.id, (SELECT min(id) FROM land.enterprises) FROM land.parcels p "
            "WHERE p.status NOT IN ('in_production', 'low_efficiency') "
            "AND NOT EXISTS (SELECT 1 FROM land.enterprise_metrics m WHERE m.parcel_id = p.id) "
            "ORDER BY p.id LIMIT 1")).one()
        conn.execute(sa.text("INSERT INTO land.enterprise_metrics (parcel_id, enterprise_id, year, revenue_wan) "
                             "VALUES (:p, :e, :y, 100)"), {"p": pid, "e": firm, "y": year - 2})
    try:
        run_assessment(isolated_engine, DEMO_AS_OF, rule_names=["per_mu"], workers=workers)
        stored = current(isolated_engine, "per_mu").sort_values("subject_id").reset_index(drop=True)
        frames = load_inputs(isolated_engine, [*per_mu.INPUTS, "parameter_overrides"], as_of=DEMO_AS_OF)
        assert set(frames["enterprise_metrics"]["year"]) > {year}  # the rule itself sees every year
        expected = per_mu.evaluate(frames, DEMO_AS_OF, frames["parameter_overrides"])
        expected = expected.sort_values("subject_id").reset_index(drop=True)
        cols = ["subject_id", "outcome", "explanation_zh", "explanation_en"]
        pd.testing.assert_frame_equal(stored[cols], expected[cols].astype(stored[cols].dtypes.to_dict()))
        mine = stored[stored["parcel_id"] == pid]
        assert mine["outcome"].tolist() == ["cannot_evaluate"]
        assert str(year) in mine["explanation_en"].iloc[0]
    finally:
        with isolated_engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM land.enterprise_metrics WHERE parcel_id = :p AND year = :y"),
                         {"p": pid, "y": year - 2})


def test_findings_are_not_vacuumed_for_their_inserts_while_a_run_writes_them(engine):
    """Migration 1000: a run's millions of inserts must not start a vacuum of the table beside the
    run; vacuums after pruning (dead rows) stay on."""
    with engine.connect() as conn:
        options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE oid = 'rules.findings'::regclass")).scalar()
        autovacuum = conn.execute(sa.text("SHOW autovacuum")).scalar()
    assert "autovacuum_vacuum_insert_threshold=-1" in (options or [])
    assert not any(o.startswith(("autovacuum_enabled=", "autovacuum_vacuum_threshold=")) for o in options)
    assert autovacuum == "on"


def test_a_finding_whose_zone_key_is_not_its_zone_is_refused(isolated_engine, first_run):
    """Migration 1100: zone_key is written by the writer (no longer generated) and checked."""
    row = current(isolated_engine, "idle_land").iloc[0]
    with pytest.raises(sa.exc.IntegrityError, match="findings_zone_key_is_zone"), isolated_engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO rules.findings (run_id, rule, rule_version, as_of, zone_id, zone_key, subject_type, subject_id,
                                        outcome, is_positive, explanation_zh, explanation_en)
            VALUES (:run, 'idle_land', 'test', current_date, :z, :z + 1, 'parcel', 'x', 'not_idle', false, 'x', 'x')"""),
            {"run": int(row["run_id"]), "z": int(row["zone_id"])})
    # the findings the assessment wrote carry their zone as key, zone-less ones 0
    with isolated_engine.connect() as conn:
        wrong = conn.execute(sa.text(
            "SELECT count(*) FROM rules.findings WHERE zone_key <> COALESCE(zone_id, 0)")).scalar()
        zoneless = conn.execute(sa.text("SELECT count(*) FROM rules.findings WHERE zone_id IS NULL AND zone_key = 0")).scalar()
    assert wrong == 0 and zoneless > 0
