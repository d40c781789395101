"""The parcel split on a surplus land transfer case's page, in real headless Chromium (issue
#20): a zone editor (in Chinese) gives a cut that misses the parcel and reads why it was
refused, then uploads a GeoJSON file and sees the split on the page's small map; a bureau admin
(in English) pastes a polygon, is told the new code is taken, and splits."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.db.context import Actor
from tests.browser.conftest import own_driver
from tests.browser.test_case_flow import _by_id, _record, _wait

pytestmark = [pytest.mark.browser, pytest.mark.db]

ZONE = "waigaoqiao_ftz"
ADMIN = Actor("split.browser.admin", "bureau_admin", ())


def _parcels(eng, n: int) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text("""
            SELECT p.id, p.code, p.zone_id,
                   ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(p.geom) - 0.001),
                                            ST_MakePoint(ST_X(c), ST_YMax(p.geom) + 0.001))) AS line,
                   ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_XMax(p.geom) + 0.01, ST_YMin(p.geom)),
                                            ST_MakePoint(ST_XMax(p.geom) + 0.01, ST_YMax(p.geom)))) AS miss,
                   ST_AsGeoJSON(ST_MakeEnvelope(ST_XMin(p.geom) - 0.001, ST_YMin(p.geom) - 0.001, ST_X(c),
                                                ST_YMax(p.geom) + 0.001, 4490)) AS west
            FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS c) x
            WHERE z.code = :z AND p.status IN ('in_production', 'low_efficiency') AND p.area_m2 > 5000
              AND ST_NumGeometries(p.geom) = 1 AND land.parcel_geometry_problems(p.id, p.zone_id, p.geom) = '[]'
              AND NOT EXISTS (SELECT 1 FROM land.cases k WHERE k.parcel_id = p.id)
            ORDER BY p.id LIMIT :n"""), {"z": ZONE, "n": n}).mappings()]


def _case(eng, parcel: dict) -> str:
    editor = Actor("split.browser.ed", "zone_editor", (parcel["zone_id"],))
    case = q.open_case(eng, ADMIN, {"kind": "low_efficiency_exit", "pathway": "le_surplus_land_transfer",
                                    "parcel": parcel["code"], "opened_on": "2026-01-05"}).case_code
    for step, on in (("enterprise_notified", "2026-01-09"), ("enterprise_plan", "2026-02-06"),
                     ("split_plan", "2026-02-20")):
        q.record_step(eng, editor, case, {"step": step, "done_on": on})
    return case


def test_a_parcel_split_from_the_case_page_in_both_languages(chromium, isolated_server, isolated_engine, make_user,
                                                             login, tmp_path):
    from selenium.webdriver.common.by import By

    first, second = _parcels(isolated_engine, 2)
    one, two = _case(isolated_engine, first), _case(isolated_engine, second)
    editor = make_user("zone_editor", [ZONE])
    admin = make_user("bureau_admin")

    # the zone office, in Chinese: a cut that misses the parcel is refused with the reason
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/cases/{one}")
    assert "地块分割" in _by_id(chromium, "case-form-split").text
    _record(chromium, "split", cut=first["miss"], new_code=f"{first['code']}-S")
    error = _by_id(chromium, "case-error").text
    assert "分割未穿过地块" in error, error
    # then a GeoJSON file, uploaded
    cut = tmp_path / "cut.geojson"
    cut.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": json.loads(first["line"])}))
    chromium.get(f"{isolated_server}/cases/{one}")
    _by_id(chromium, "case-split-cut_file").send_keys(str(cut))
    _record(chromium, "split", new_code=f"{first['code']}-S")
    _wait(chromium, lambda d: "地块已分割" in d.find_element(By.ID, "case-done").text)
    summary = _by_id(chromium, "case-split-summary").text
    assert f"{first['code']}-S" in summary and "按线分割" in summary
    for part in ("retained", "surplus", "original"):
        assert _by_id(chromium, f"case-split-{part}").get_attribute("d").startswith("M")
    assert chromium.find_element(By.CSS_SELECTOR, '#case-steps tr[data-step="parcel_split"] .case-step-state'
                                 ).text == "已完成"
    assert not chromium.find_elements(By.ID, "case-form-split")   # done: the form is gone
    with isolated_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM land.parcels WHERE code = :c"),
                            {"c": f"{first['code']}-S"}).scalar() == "transferred"

    # the bureau admin, in English: a polygon pasted, a taken code refused, then the split
    with own_driver() as bureau:
        login(bureau, admin.username, admin.password, base_url=isolated_server)
        bureau.get(f"{isolated_server}/cases/{two}?lang=en")
        _record(bureau, "split", cut=second["west"], new_code=f"{first['code']}-S")
        error = _by_id(bureau, "case-error").text
        assert f"The parcel code {first['code']}-S is taken" in error, error
        bureau.get(f"{isolated_server}/cases/{two}?lang=en")
        _record(bureau, "split", cut=second["west"], new_code=f"{second['code']}-W", reason="surplus to transfer")
        _wait(bureau, lambda d: "Parcel split" in d.find_element(By.ID, "case-done").text)
        summary = _by_id(bureau, "case-split-summary").text
        assert f"the new parcel {second['code']}-W" in summary and "cut by a polygon" in summary
        assert "Map of the split" in _by_id(bureau, "case-split").text
