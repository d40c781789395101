"""The green, quota, performance, coverage and boundary rules on the demo database find the
scenarios the demo was built with (gisapp/demo/facts.py), read through the rule input loaders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from gisapp.demo import DEMO_AS_OF
from gisapp.demo.facts import (
    ESCALATED_DISTRICT,
    EXPIRED_ASSESSMENT_ZONE,
    GREEN_SHORT_ZONE,
    LAND_ESCALATED_DISTRICT,
    MISSING_ASSESSMENT_ZONE,
    UNESCALATED_DISTRICT,
)
from gisapp.queries.rule_inputs import load_inputs
from gisapp.rules import assessment_coverage, boundary_qa, green_balance, quotas, zone_performance
from gisapp.rules.base import FINDING_COLUMNS

pytestmark = pytest.mark.db
MODULES = (green_balance, quotas, zone_performance, assessment_coverage, boundary_qa)


@pytest.fixture(scope="module")
def found(engine):
    names = [n for m in MODULES for n in m.INPUTS]
    inputs = load_inputs(engine, [*names, "parameter_overrides"], as_of=DEMO_AS_OF)
    out = {m.__name__.rsplit(".", 1)[1]: m.evaluate(inputs, DEMO_AS_OF, inputs["parameter_overrides"])
           for m in MODULES}
    with engine.connect() as conn:
        zones = dict(conn.execute(sa.text("SELECT code, id FROM land.zones")).all())
        districts = dict(conn.execute(sa.text("SELECT code, name_zh FROM land.districts")).all())
    return out, zones, districts, inputs


def test_every_rule_returns_a_findings_frame_with_explanations(found):
    out, *_ = found
    for name, frame in out.items():
        assert list(frame.columns) == FINDING_COLUMNS, name
        assert len(frame) and frame["explanation_zh"].str.len().min() > 10 and frame["explanation_en"].notna().all()
        assert not frame.duplicated(["rule", "subject_type", "subject_id"]).any(), name


def test_jiading_is_short_of_green_and_the_others_balance(found):
    out, zones, *_ = found
    z = out["green_balance"].query("rule == 'green_balance_zone'").set_index("zone_id")
    jiading = z.loc[zones[GREEN_SHORT_ZONE]]
    assert jiading["outcome"] == "short" and jiading["evidence"]["margin_m2"] < 0
    assert jiading["evidence"]["dedicated_green_m2"] == 0.0
    assert set(z.index[z["outcome"] == "short"]) == {zones[GREEN_SHORT_ZONE]}


def test_songjiang_escalated_at_quota_and_fengxian_over_quota_without_escalation(found):
    out, _, districts, inputs = found
    q = out["quotas"]
    acc = inputs["quota_accounts"].set_index("id")
    q = q.assign(name=q["subject_id"].astype(int).map(acc["name"]), level=[e["level"] for e in q["evidence"]],
                 year=[e["year"] for e in q["evidence"]], resource=[e["resource"] for e in q["evidence"]])
    energy_2025 = q[(q["level"] == "district") & (q["year"] == 2025) & (q["resource"] == "energy")].set_index("name")
    songjiang = energy_2025.loc[districts[ESCALATED_DISTRICT]]
    assert songjiang["outcome"] == "over_quota_escalated" and songjiang["evidence"]["balance"] == 0.0
    assert songjiang["evidence"]["escalated"] == songjiang["evidence"]["shortfall"] > 0
    fengxian = energy_2025.loc[districts[UNESCALATED_DISTRICT]]
    assert fengxian["outcome"] == "over_quota_not_escalated" and fengxian["is_positive"]
    others = q[(q["level"] != "city") & ~q["subject_id"].isin([songjiang["subject_id"], fengxian["subject_id"]])
               & ~((q["level"] == "district") & (q["resource"] == "construction_land") & (q["year"] == 2026)
                   & (q["name"] == districts[LAND_ESCALATED_DISTRICT]))]
    assert len(others) > 100 and set(others["outcome"]) == {"within_quota"}


def test_construction_land_is_a_quota_in_hectares_and_pudong_escalated_its_2026_key_project(found):
    """用地指标 (§1.3) runs through the same ledger and rule as energy, in ha: Pudong's 2026 key
    project needs more than the district holds; the shortfall went to the city, which covered it."""
    out, _, districts, inputs = found
    q = out["quotas"]
    land = q[[e["resource"] == "construction_land" for e in q["evidence"]]]
    assert len(land) > 20 and {e["unit"] for e in land["evidence"]} == {"ha"}
    acc = inputs["quota_accounts"].set_index("id")
    district = land[[e["level"] == "district" and e["year"] == 2026 for e in land["evidence"]]]
    pudong = district[district["subject_id"].astype(int).map(acc["name"]) == districts[LAND_ESCALATED_DISTRICT]]
    assert len(pudong) == 1
    row = pudong.iloc[0]
    assert row["outcome"] == "over_quota_escalated" and row["evidence"]["escalated"] == 25.0
    assert row["evidence"]["balance"] == 0.0 and "公顷" in row["explanation_zh"] and "(ha)" in row["explanation_en"]


def test_fengxian_environment_assessment_expired_and_qingpu_lacks_flood(found):
    out, zones, *_ = found
    z = out["assessment_coverage"].query("subject_type == 'zone'").set_index("zone_id")
    fengxian = z.loc[zones[EXPIRED_ASSESSMENT_ZONE]]
    assert fengxian["outcome"] == "expired" and fengxian["evidence"]["kinds_expired"] == ["environment"]
    qingpu = z.loc[zones[MISSING_ASSESSMENT_ZONE]]
    assert qingpu["outcome"] == "not_covered" and qingpu["evidence"]["kinds_missing"] == ["flood"]
    assert set(z.index[z["outcome"] == "covered"]) == set(zones.values()) - {fengxian.name, qingpu.name}


def test_no_demo_parcel_lies_outside_its_boundary_or_overlaps_another(found):
    out, *_ = found
    b = out["boundary_qa"]
    par = b[b["subject_type"] == "parcel"]
    # the rule looked at every parcel (the zones' evidence counts them) and found none astray
    zones = b[b["subject_type"] == "zone"]
    assert set(zones["outcome"]) == {"area_within_approved"}
    assert all(e["parcels_inside"] == e["parcels"] > 0 for e in zones["evidence"])
    astray = par[par["outcome"] != "inside"]
    assert astray.empty, astray[["subject_id", "outcome"]].to_dict("records")
    assert sum(e["parcels"] for e in zones["evidence"]) > 1000


def test_every_demo_zone_is_ranked_for_the_last_full_year(found):
    out, zones, *_ = found
    zp = out["zone_performance"]
    assert len(zp) == len(zones) and "cannot_evaluate" not in set(zp["outcome"])
    assert {e["year"] for e in zp["evidence"]} == {DEMO_AS_OF.year - 1}
    assert {e["method"] for e in zp["evidence"]} == {"2024_revised"}
    assert sorted(e["rank_national"] for e in zp["evidence"]) == list(range(1, len(zones) + 1))


def test_land_areas_summed_in_sql_match_the_parcels_and_progress(engine):
    frames = load_inputs(engine, ["performance_land", "parcels", "construction_progress"], as_of=DEMO_AS_OF)
    prog, parcels = frames["construction_progress"], frames["parcels"].set_index("id")
    for event, col in (("accepted", "accepted_on"), ("started", "started_on")):
        first = prog.groupby("parcel_id")[col].min()
        first = first[first <= pd.Timestamp(DEMO_AS_OF)]
        expected = (parcels.loc[first.index, "area_m2"].groupby(
            [parcels.loc[first.index, "zone_id"].to_numpy(), first.dt.year.to_numpy()]).sum())
        got = frames["performance_land"].query("event == @event").set_index(["zone_id", "year"])["area_m2"]
        assert len(got) == len(expected) > 10
        assert np.allclose(got.sort_index().to_numpy(), expected.sort_index().to_numpy())


def test_a_zone_restricted_run_ranks_the_zone_among_all(engine, found):
    out, zones, *_ = found
    one = load_inputs(engine, [*zone_performance.INPUTS, "parameter_overrides"], zone_codes=[GREEN_SHORT_ZONE],
                      as_of=DEMO_AS_OF)
    alone = zone_performance.evaluate(one, DEMO_AS_OF, one["parameter_overrides"])
    full = out["zone_performance"].set_index("zone_id").loc[zones[GREEN_SHORT_ZONE]]
    assert len(alone) == 1 and alone.iloc[0]["evidence"] == full["evidence"]
