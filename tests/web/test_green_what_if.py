"""The green-balance what-if page (issue #18): its numbers are the rule's own what-if for a demo
zone, on new land and on an existing parcel; bad values get a message by the field, in both
languages; the navigation links the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from gisapp.queries.green_what_if import FRAMES
from gisapp.queries.rule_inputs import load_inputs
from gisapp.rules import green_balance as gb

pytestmark = pytest.mark.db

VALUE = 'id="gwi-{name}" data-value="([^"]*)"'


@pytest.fixture(scope="module")
def zone(engine) -> str:
    """The demo zone with the most land measured for green (its balance has numbers to show)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT z.code FROM land.zones z JOIN land.parcels p ON p.zone_id = z.id
            JOIN land.green_areas g ON g.parcel_id = p.id
            GROUP BY z.code ORDER BY count(*) DESC, z.code LIMIT 1""")).scalar_one()


@pytest.fixture(scope="module")
def frames(engine, zone):
    return load_inputs(engine, FRAMES, zone_codes=[zone])


def _value(html: str, name: str) -> float | None:
    match = re.search(VALUE.format(name=name), html)
    assert match, f"the page shows no {name}"
    return float(match.group(1)) if match.group(1) else None


def _field_error(html: str, name: str) -> str:
    match = re.search(f'id="gwi-{name}-error" class="field-error" role="alert">([^<]*)<', html)
    assert match, f"the page has no message place for {name}"
    return match.group(1)


def test_new_land_shows_the_rules_own_what_if(viewer, frames, zone):
    parcels, green, overrides = frames["parcels"], frames["green_areas"], frames["parameter_overrides"]
    zone_id = int(parcels["zone_id"].iloc[0])
    rule = gb.what_if_new_project(parcels, green, zone_id, 25_000.0, 0.12, as_of=dt.date.today(),
                                  overrides=overrides)
    now = gb.zone_green(parcels, green, zone_id, dt.date.today(), overrides=overrides)
    resp = viewer.get(f"/green-what-if?zone={zone}&area=25000&ratio=12&run=1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert _value(html, "target") == pytest.approx(rule.target)
    assert _value(html, "margin-before") == pytest.approx(rule.margin_before_m2)
    assert _value(html, "margin-after") == pytest.approx(rule.margin_after_m2)
    assert _value(html, "ratio-before") == pytest.approx(now.zone_green_m2 / now.assessed_area_m2)
    assert _value(html, "ratio-after") == pytest.approx(
        (now.zone_green_m2 + 25_000 * 0.12) / (now.assessed_area_m2 + 25_000))
    assert f'data-fits="{"true" if rule.fits else "false"}"' in html
    assert ("通过：园区仍可总量平衡" if rule.fits else "不通过：园区绿地总量不足") in html
    # the rule's sentence, word for word (Jinja escapes nothing in it but quotes)
    assert rule.explanation_zh in html.replace("&#39;", "'")

    en = viewer.get(f"/green-what-if?zone={zone}&area=25000&ratio=12&run=1&lang=en").get_data(as_text=True)
    assert rule.explanation_en in en.replace("&#39;", "'")
    assert ("Pass: the zone stays balanced" if rule.fits else "Fail: the zone would be short of green") in en


def test_a_measured_parcel_is_replaced_not_counted_twice(viewer, frames, zone):
    parcels, green, overrides = frames["parcels"], frames["green_areas"], frames["parameter_overrides"]
    zone_id = int(parcels["zone_id"].iloc[0])
    measured = parcels[parcels["id"].isin(green["parcel_id"]) & (parcels["area_m2"] > 0)]
    parcel = measured.sort_values("code").iloc[0]
    rest = parcels[parcels["id"] != parcel["id"]]
    today = dt.date.today()
    # the rule's what-if on the zone without the parcel: the project takes the parcel's place
    rule = gb.what_if_new_project(rest, green, zone_id, float(parcel["area_m2"]), 0.05, as_of=today,
                                  overrides=overrides)
    now = gb.zone_green(parcels, green, zone_id, today, overrides=overrides)
    html = viewer.get(f"/green-what-if?zone={zone}&parcel={parcel['code']}&ratio=5&run=1").get_data(as_text=True)
    assert _value(html, "margin-before") == pytest.approx(round(now.margin_m2, 3))
    assert _value(html, "margin-after") == pytest.approx(rule.margin_after_m2)
    assert now.margin_m2 != pytest.approx(rule.margin_before_m2), "the parcel should count in the balance now"
    assert f"地块 {parcel['code']} 现计入园区平衡" in html


@pytest.mark.parametrize("lang, words", [
    ("zh", {"ratio": "“abc”不是数字", "area": "必须大于 0", "parcel": "没有编号为“NO-SUCH-PARCEL”的地块"}),
    ("en", {"ratio": "“abc” is not a number", "area": "Must be more than 0", "parcel": "has no parcel “NO-SUCH-PARCEL”"}),
])
def test_bad_values_get_a_message_by_their_field(viewer, zone, lang, words):
    resp = viewer.get(f"/green-what-if?zone={zone}&parcel=NO-SUCH-PARCEL&area=-5&ratio=abc&run=1&lang={lang}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field, text in words.items():
        assert text in _field_error(html, field), field
    assert 'id="gwi-result"' not in html

    out_of_range = viewer.get(f"/green-what-if?zone={zone}&area=1000&ratio=150&run=1&lang={lang}").get_data(
        as_text=True)
    assert ("不能大于 100" if lang == "zh" else "Must be at most 100") in _field_error(out_of_range, "ratio")
    nothing = viewer.get(f"/green-what-if?zone={zone}&ratio=10&run=1&lang={lang}").get_data(as_text=True)
    assert ("请填写面积，或选择一个地块" if lang == "zh" else "Give an area, or pick a parcel") in _field_error(
        nothing, "area")
    unknown_zone = viewer.get(f"/green-what-if?zone=atlantis&area=1&ratio=1&run=1&lang={lang}").get_data(
        as_text=True)
    assert ("未知代码“atlantis”" if lang == "zh" else "Unknown code “atlantis”") in _field_error(unknown_zone, "zone")


def test_the_navigation_links_the_page(viewer, zone):
    html = viewer.get("/inventory/approved_unsupplied?lang=en").get_data(as_text=True)
    assert 'id="app-nav-green-what-if" href="/green-what-if?lang=en"' in html
    page = viewer.get("/green-what-if").get_data(as_text=True)
    assert 'id="gwi-form"' in page and "绿地率平衡测算" in page and 'id="gwi-result"' not in page
