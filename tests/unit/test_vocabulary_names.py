"""One name per thing: every status and review stage has one Chinese (and one English) name, the
rules' explanations use it, labels that state a parameter follow the parameter, and the change
log speaks in labels, not codes."""

from __future__ import annotations

import dataclasses
import re

import pytest

from gisapp.i18n import TEXTS, t
from gisapp.queries.parcel_record import change_text
from gisapp.rules import grants, idle_land, zone_performance
from tests.unit import test_rules_grants as grant_cases
from tests.unit import test_rules_zone_performance as zone_cases


@pytest.mark.parametrize("prefix", ["status", "stage", "outcome", "rule", "category", "resource"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_two_codes_of_a_vocabulary_share_a_name(prefix, lang):
    names = {}
    for key, entry in TEXTS.items():
        if key.startswith(f"{prefix}.") and key != "outcome.idle_confirmed":
            names.setdefault(entry[lang], []).append(key)
    if prefix == "outcome":  # an outcome may be named as the status it proposes, never two ways
        names = {n: [k for k in keys if not k.startswith("outcome.")] or keys for n, keys in names.items()}
    assert {n: keys for n, keys in names.items() if len(keys) > 1} == {}


def test_the_supplied_unbuilt_land_has_one_name_as_status_and_as_outcome():
    assert t("status.granted_unbuilt", "zh") == t("outcome.supplied_unbuilt", "zh") == "供而未用"
    assert t("status.idle", "zh") == t("outcome.idle_confirmed", "zh")
    assert not [k for k, e in TEXTS.items() if "供而未建" in e["zh"]]


def test_a_review_at_production_is_named_as_the_stage_label_only():
    found = grant_cases.run([grant_cases.STD], [grant_cases.req("tax_per_mu", lo=50, stage="production")],
                            [grant_cases.rev("tax_per_mu", 60, stage="production")])
    text = grant_cases.one(found, "grant_review")["explanation_zh"]
    stage = TEXTS["stage.production"]["zh"]
    assert stage in text
    # 达产复核 / 达产评价 / 达产核验 ... are one stage: no other name, and no suffix making a second
    assert set(re.findall(r"达产(?:复核|评价|核验|考核|评估)+", text)) == {stage}
    assert "At production" in grant_cases.one(found, "grant_review")["explanation_en"]


def test_grant_review_explanations_name_indicators_and_units_not_codes():
    found = grant_cases.run([grant_cases.STD], [dict(grant_cases.req("tax_per_mu", lo=50), indicator_en="Tax per mu")],
                            [grant_cases.rev("tax_per_mu", 60)])
    f = grant_cases.one(found, "grant_review")
    assert "tax_per_mu" not in f["explanation_en"] and "Tax per mu" in f["explanation_en"]
    assert "acceptance" not in f["explanation_en"] and "Acceptance" in f["explanation_en"]


def _with_default(monkeypatch, module, spec_name: str, param: str, value) -> None:
    specs = []
    for spec in module.SPECS:
        if spec.name == spec_name:
            params = tuple(dataclasses.replace(p, default=value) if p.name == param else p for p in spec.params)
            spec = dataclasses.replace(spec, params=params)
        specs.append(spec)
    monkeypatch.setattr(module, "SPECS", tuple(specs))


def test_labels_stating_a_parameter_follow_its_default(monkeypatch):
    assert t("outcome.idle_not_started", "zh") == "疑似闲置：满一年未动工"
    assert "one year" in t("outcome.idle_not_started", "en")
    assert t("outcome.major_below_preferred", "zh") == "重大项目低于 50 年"
    _with_default(monkeypatch, idle_land, "idle_land", "idle_years", 2)
    _with_default(monkeypatch, grants, "grant_term", "major_preferred_years", 40)
    assert t("outcome.idle_not_started", "zh") == "疑似闲置：满两年未动工"
    assert "2 years" in t("outcome.idle_not_started", "en")
    assert t("outcome.idle_stalled", "zh") == "疑似闲置：开发不足且中止满一年"  # its own parameter
    assert t("outcome.major_below_preferred", "zh") == "重大项目低于 40 年"
    assert t("outcome.major_below_preferred", "en") == "Major project below 40 years"


def test_no_label_hard_codes_a_parameter_it_could_read():
    for key in ("outcome.idle_not_started", "outcome.idle_stalled", "outcome.major_below_preferred"):
        for lang in ("zh", "en"):
            assert "{" in TEXTS[key][lang], f"{key} ({lang}) states its parameter as a fixed text"


def test_the_zone_verdict_and_its_sentence_agree():
    found = zone_cases.run(zone_cases.inputs(zone_cases.indicators(zone_cases.YEARS)))
    for _, row in found.iterrows():
        assert row["outcome"] == "exit_risk"
        assert "结论为退出风险" in row["explanation_zh"] and "评为" not in row["explanation_zh"]
        assert "2024_revised" not in row["explanation_zh"] + row["explanation_en"]
    found = zone_cases.run(zone_cases.inputs(zone_cases.indicators(zone_cases.YEARS)),
                           [zone_cases.override("zone_performance", "exit_bottom_n", 1)])
    assert "结论为限期整改" in found.loc[1, "explanation_zh"]
    assert "结论为 B 类" in found.loc[2, "explanation_zh"]
    assert found.loc[2, "explanation_en"].count("class B") >= 1
    assert zone_performance.ZONE_PERFORMANCE.name == "zone_performance"


def test_the_change_log_speaks_in_labels():
    change = {"table": "parcels", "action": "UPDATE",
              "diff": {"status": ["granted_unbuilt", "under_construction"], "land_use_code": ["1001", "1101"]}}
    assert change_text(change, "zh") == ("地块 修改", "状态：供而未用 → 在建；用地代码：1001 → 1101")
    action, what = change_text(change, "en")
    assert action == "Parcel Changed" and "Supplied, not built → Under construction" in what
    quota = {"table": "quota_requests", "action": "INSERT", "diff": {"status": [None, "pending"]}}
    assert change_text(quota, "zh")[1] == "状态：— → 待办理"
