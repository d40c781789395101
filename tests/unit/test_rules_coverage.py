"""Regional assessment coverage per zone (on the as-of date) and per grant (on its grant date)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gisapp.rules import assessment_coverage as ac
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)
KINDS = ["environment", "water_resources", "geological_hazard", "flood", "soil_water"]


def zones(ids=(1,)) -> pd.DataFrame:
    return pd.DataFrame({"id": list(ids), "code": [f"z{i}" for i in ids], "name_zh": [f"园区{i}" for i in ids],
                         "name_en": [f"Zone {i}" for i in ids]})


def assessments(rows: list[tuple[int, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({"id": range(1, len(rows) + 1), "zone_id": [r[0] for r in rows],
                         "kind": [r[1] for r in rows], "document_ref": None,
                         "approved_on": pd.to_datetime([r[2] for r in rows]).astype("datetime64[ns]"),
                         "valid_from": pd.to_datetime([r[2] for r in rows]).astype("datetime64[ns]"),
                         "valid_to": pd.to_datetime([r[3] for r in rows]).astype("datetime64[ns]")})


def full(zone=1, start="2021-03-01", end="2030-12-31", skip=(), **ends):
    return [(zone, k, start, ends.get(k, end)) for k in KINDS if k not in skip]


def run(assess, grants=(), overrides=(), z=None) -> pd.DataFrame:
    inputs = {"zones": zones() if z is None else z, "zone_assessments": assess,
              "land_grants": frame("land_grants", list(grants))}
    return ac.evaluate(inputs, AS_OF, frame("parameter_overrides", list(overrides)))


def zone_finding(found, zone="1"):
    rows = found[(found["subject_type"] == "zone") & (found["subject_id"] == zone)]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.parametrize("day,status", [
    ("2021-02-28", "missing"), ("2021-03-01", "valid"), ("2024-12-31", "valid"), ("2025-01-01", "expired"),
])
def test_validity_starts_and_ends_on_the_dates_written_on_the_approval(day, status):
    a = assessments([(1, "flood", "2021-03-01", "2024-12-31")])
    got = ac.kind_status(a, pd.Series([1]), pd.Series([pd.Timestamp(day)]), "flood")
    assert got.tolist() == [status]


def test_zone_with_every_kind_valid_is_covered():
    f = zone_finding(run(assessments(full())))
    assert f["outcome"] == "covered" and not f["is_positive"]
    assert f["evidence"]["kinds_valid"] == KINDS and f["evidence"]["kinds_missing"] == []
    assert "无需单独评估" in f["explanation_zh"]


def test_expired_environment_assessment_is_expired_with_its_end_date():
    # like the demo's Fengxian
    f = zone_finding(run(assessments(full(environment="2024-12-31"))))
    assert f["outcome"] == "expired" and f["is_positive"]
    assert f["evidence"]["kinds_expired"] == ["environment"] and f["evidence"]["expired_on"] == {
        "environment": "2024-12-31"}
    assert "环境影响评价 2024-12-31 到期" in f["explanation_zh"] and "2024-12-31" in f["explanation_en"]


def test_zone_never_assessed_for_flood_is_not_covered():
    # like the demo's Qingpu
    f = zone_finding(run(assessments(full(skip=("flood",)))))
    assert f["outcome"] == "not_covered" and f["evidence"]["kinds_missing"] == ["flood"]
    assert "洪水影响评价" in f["explanation_zh"] and "flood impact" in f["explanation_en"]


def test_missing_outweighs_expired_and_a_future_assessment_does_not_count():
    rows = full(skip=("flood",), environment="2024-12-31") + [(1, "flood", "2027-01-01", None)]
    f = zone_finding(run(assessments(rows)))
    assert f["outcome"] == "not_covered"
    assert f["evidence"]["kinds_missing"] == ["flood"] and f["evidence"]["kinds_expired"] == ["environment"]


def test_a_renewed_assessment_replaces_the_expired_one():
    rows = full(environment="2024-12-31") + [(1, "environment", "2025-01-01", None)]
    assert zone_finding(run(assessments(rows)))["outcome"] == "covered"


def test_grant_is_judged_on_its_grant_date():
    a = assessments(full(environment="2024-12-31"))
    grants = [{"parcel_id": 5, "granted_on": "2023-05-01"}, {"parcel_id": 6, "granted_on": "2025-03-01"},
              {"parcel_id": 7, "granted_on": "2020-06-01"}, {"parcel_id": 8, "granted_on": "2021-02-01"}]
    found = run(a, grants, [override("assessment_coverage", "report_before_regime", True)])
    g = found[found["subject_type"] == "grant"].set_index("parcel_id")
    # granted while everything was valid: covered although the environment assessment expired since
    assert g.loc[5, "outcome"] == "covered" and g.loc[5, "evidence"]["granted_on"] == "2023-05-01"
    assert g.loc[6, "outcome"] == "expired" and g.loc[6, "is_positive"] and "2025-03-01" in g.loc[6, "explanation_zh"]
    # before the opinions took effect projects were assessed one by one
    assert g.loc[7, "outcome"] == "before_regime" and not g.loc[7, "is_positive"]
    # after the opinions, before the zone's assessments: the project needs its own
    assert g.loc[8, "outcome"] == "not_covered" and "需单独开展" in g.loc[8, "explanation_zh"]


def test_required_kinds_can_be_set_per_zone():
    a = assessments([(1, "environment", "2021-03-01", None), (2, "environment", "2021-03-01", None)])
    found = run(a, overrides=[override("assessment_coverage", "required_kinds", ["environment"], zone_id=2)],
                z=zones((1, 2)))
    assert zone_finding(found, "1")["outcome"] == "not_covered"
    f2 = zone_finding(found, "2")
    assert f2["outcome"] == "covered" and f2["parameters"]["required_kinds"]["value"] == ["environment"]


def test_missing_register_gives_cannot_evaluate():
    found = ac.evaluate({"zones": zones(), "land_grants": frame("land_grants", [])}, AS_OF)
    assert list(found["outcome"]) == ["cannot_evaluate"] and "zone_assessments" in found.iloc[0]["explanation_en"]


def test_grants_before_the_regime_are_counted_in_the_zone_finding_only():
    grants = [{"parcel_id": 5, "granted_on": "2023-05-01"}, {"parcel_id": 7, "granted_on": "2020-06-01"}]
    found = run(assessments(full()), grants)
    assert list(found.loc[found["subject_type"] == "grant", "parcel_id"]) == [5]
    z = zone_finding(found)
    assert z["evidence"]["grants"] == {"covered": 1, "not_covered": 0, "expired": 0, "before_regime": 1,
                                       "cannot_evaluate": 0}
    assert "制度施行前 1 宗" in z["explanation_zh"] and "before the regime 1" in z["explanation_en"]
