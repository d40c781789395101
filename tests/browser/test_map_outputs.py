"""The map's quota and assessment-coverage layers, the list of assessments running out, in real
headless Chromium on the synthetic demo data, in Chinese and English (issue #18)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from gisapp.catalog.registry import get_layer
from gisapp.demo.facts import EXPIRING_ASSESSMENT_ZONE
from gisapp.i18n import t
from tests.browser.conftest import WAIT_SECONDS

pytestmark = pytest.mark.browser

NEW_LAYERS = ("quota_energy", "quota_pollutants", "quota_land", "assessment_coverage")
# a point inside a drawn feature of a layer's pane (its bbox centre may lie in a bay or a hole)
POINT_IN = """
    const pane = document.querySelector('.leaflet-layer-' + arguments[0] + '-pane');
    for (const f of gisapp.shown(arguments[0])) {
        if (f.fill !== arguments[1]) continue;
        for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
            const x = f.left + (f.right - f.left) * i / 12, y = f.top + (f.bottom - f.top) * j / 12;
            const el = document.elementFromPoint(x, y);
            if (el && pane && pane.contains(el)) return {x: x, y: y};
        }
    }
    return null;"""


def wait(driver, condition, seconds: float = WAIT_SECONDS):
    return WebDriverWait(driver, seconds).until(condition)


def open_page(driver, base_url: str, path: str) -> None:
    driver.get(base_url + path)
    wait(driver, EC.presence_of_element_located((By.ID, "app-title")))


def overlay_labels(driver) -> list[str]:
    return [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")]


def tick(driver, layer_id: str, lang: str) -> None:
    title = get_layer(layer_id).title.get(lang)
    next(e for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
         if e.text.strip() == title).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_lists_the_quota_and_coverage_layers_with_their_legends(signed_in_browser, live_server, lang):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}")
    wait(driver, lambda d: len(overlay_labels(d)) > 5)
    labels = overlay_labels(driver)
    for layer_id in NEW_LAYERS:
        assert get_layer(layer_id).title.get(lang) in labels, layer_id
    tick(driver, "quota_land", lang)
    legend = wait(driver, lambda d: d.find_element(By.ID, "map-legend-quota_land").is_displayed()
                  and d.find_element(By.ID, "map-legend-quota_land"))
    assert get_layer("quota_land").style.categories[2].label.get(lang) in legend.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clicking_the_escalated_district_lists_its_escalation_to_the_city(signed_in_browser, live_server, lang):
    """Pudong's 2026 construction-land account: over its own quota, 25 ha escalated on 2026-03-01."""
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&lat=31.15&lon=121.60&zoom=10")
    wait(driver, lambda d: len(overlay_labels(d)) > 5)
    tick(driver, "quota_land", lang)
    escalated = next(c.color for c in get_layer("quota_land").style.categories if c.value == "over_escalated")
    point = wait(driver, lambda d: d.execute_script(POINT_IN, "quota_land", escalated))
    driver.execute_script("document.elementFromPoint(arguments[0], arguments[1])"
                          ".dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: arguments[0], "
                          "clientY: arguments[1]}))", point["x"], point["y"])
    title = get_layer("quota_land").title.get(lang)
    panel = wait(driver, lambda d: title in d.find_element(By.ID, "map-detail").text
                 and d.find_element(By.ID, "map-detail"))
    row = panel.find_element(By.CSS_SELECTOR, "#map-detail-escalations tr.escalation")
    assert [c.text for c in row.find_elements(By.TAG_NAME, "td")[:3]] == \
        ["2026-03-01", "用地指标" if lang == "zh" else "Construction land", "25 公顷" if lang == "zh" else "25 ha"]
    assert ("浦东新区" if lang == "zh" else "Pudong") in panel.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_coverage_lists_the_assessments_running_out_within_the_days_asked(signed_in_browser, live_server, engine,
                                                                           lang):
    driver = signed_in_browser
    with engine.connect() as conn:
        valid_to, today = conn.execute(sa.text(
            "SELECT a.valid_to, current_date FROM land.zone_assessments a JOIN land.zones z ON z.id = a.zone_id "
            "WHERE z.code = :z AND a.kind = 'water_resources'"), {"z": EXPIRING_ASSESSMENT_ZONE}).one()
        later = conn.execute(sa.text("SELECT count(*) FROM land.zone_assessments WHERE valid_to >= current_date "
                                     "AND valid_from <= current_date")).scalar()
    if valid_to < today:
        pytest.skip("the demo's expiring assessment is past on this machine's date")
    days = (valid_to - today).days
    open_page(driver, live_server, f"/coverage?lang={lang}&days={days}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#coverage-table .coverage-row")
    assert [(r.get_attribute("data-zone"), r.get_attribute("data-kind")) for r in rows] == \
        [(EXPIRING_ASSESSMENT_ZONE, "water_resources")]
    assert valid_to.isoformat() in rows[0].text
    assert t("coverage.page.title", lang) in driver.find_element(By.ID, "coverage-title").text
    assert driver.find_element(By.ID, "coverage-synthetic").text == t("app.synthetic", lang)
    # one day less: it is not listed; a long horizon lists every valid assessment
    open_page(driver, live_server, f"/coverage?lang={lang}&days={max(days - 1, 0)}")
    assert not driver.find_elements(By.CSS_SELECTOR, "#coverage-table .coverage-row")
    assert driver.find_element(By.ID, "coverage-empty").text == t("coverage.page.empty", lang)
    open_page(driver, live_server, f"/coverage?lang={lang}&days=3650")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#coverage-table .coverage-row")) == later
    open_page(driver, live_server, f"/coverage?lang={lang}&days=soon")
    assert "soon" in driver.find_element(By.ID, "coverage-error").text


def test_coverage_layer_colours_the_expired_and_the_incomplete_zones(engine, findings_source):
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT code, coverage FROM layers.assessment_coverage")).all())
    assert rows["fengxian"] == rows["qingpu"] == "some_expired"
    assert {c for z, c in rows.items() if z not in ("fengxian", "qingpu")} == {"all_valid"}
    assert dt.date.today()  # the layer reads today's date (gisapp_meta.as_of)
