"""Fixes of the map and the parcel pages (issue #18), in real headless Chromium.

- A layer ticked in the layers control must not make the layers ticked before it stop following
  the viewport (nor drop out of the legend).
- No page with a map logs an error in the browser console.
- The map's detail panel of the parcel with the most findings stays short: what needs action
  first, what passed folded.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.i18n import t
from tests.browser.test_map_page import open_page, parcels_drawn, wait

pytestmark = pytest.mark.browser

#: the Waigaoqiao port zone at z14: a few dozen parcels, no more
PORT_VIEW = "lat=31.3728&lon=121.5544&zoom=14"
#: the layer the test ticks (the declared defaults are on at start)
TICKED = "idle_land"
# features of a layer drawn inside the map's box on the page (not merely drawn somewhere off view)
IN_VIEW = """
    const box = document.getElementById('map-map').getBoundingClientRect();
    return gisapp.shown(arguments[0]).filter(p => !p.aggregate && p.right > box.left && p.left < box.right
                                              && p.bottom > box.top && p.top < box.bottom).length;"""
PANEL_HEIGHT = "return document.getElementById('map-detail').getBoundingClientRect().height"
#: the panel of one parcel fits about a screen and a half
MAX_PANEL_PX = 1200


def in_view(driver, layer_id: str) -> int:
    return driver.execute_script(IN_VIEW, layer_id)


def legends_shown(driver) -> set[str]:
    return {e.get_attribute("id").removeprefix("map-legend-")
            for e in driver.find_elements(By.CSS_SELECTOR, "#map-legend > div[id^='map-legend-']") if e.is_displayed()}


def tick(driver, layer_id: str) -> None:
    title = get_layer(layer_id).title.get("zh")
    label = next(e for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
                 if e.text.strip() == title)
    label.click()


def drag_map(driver, dx: int, dy: int) -> None:
    """Drag the map by (dx, dy) px with the mouse, as a user pans (from left of its centre, where
    no control sits)."""
    canvas_map = driver.find_element(By.ID, "map-map")
    ActionChains(driver).move_to_element_with_offset(canvas_map, -100, 0).click_and_hold() \
        .move_by_offset(dx // 2, dy // 2).move_by_offset(dx - dx // 2, dy - dy // 2).release().perform()


def test_layers_ticked_before_another_follow_the_pan(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{PORT_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 0 and in_view(d, "zones") > 0)
    tick(driver, TICKED)
    wait(driver, lambda d: in_view(d, TICKED) > 0)
    port_parcels = parcels_drawn(driver)
    # to Waigaoqiao FTZ, south-east of the port zone: ~500 px east, ~750 px south at z14
    for _ in range(2):
        drag_map(driver, -250, -370)
        time.sleep(0.5)  # Leaflet's inertia ends the move; the fetch follows its moveend
    shown = {layer.id for layer in all_layers() if layer.visible} | {TICKED}
    wait(driver, lambda d: all(in_view(d, layer) > 0 for layer in shown))
    assert parcels_drawn(driver) > port_parcels  # the FTZ's parcels, not the port's left behind
    wait(driver, lambda d: legends_shown(d) == shown)


def _severe(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_pages_with_a_map_log_no_error(signed_in_browser, live_server, engine):
    driver = signed_in_browser
    with engine.connect() as conn:
        code = conn.execute(sa.text("SELECT code FROM land.parcels ORDER BY id LIMIT 1")).scalar()
    driver.get_log("browser")  # what earlier tests left
    open_page(driver, live_server, f"/parcel/{code}")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#parcel-map path.leaflet-interactive"))
    time.sleep(1)  # dash-leaflet's viewport report runs just after the map is ready
    assert _severe(driver) == []
    open_page(driver, live_server, f"/?{PORT_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 0)
    time.sleep(1)
    assert _severe(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_panel_of_the_parcel_with_most_findings_is_short(signed_in_browser, live_server, engine, lang):
    with engine.connect() as conn:
        code, problems, passed = conn.execute(sa.text("""
            SELECT p.code, count(*) FILTER (WHERE f.is_positive), count(*) FILTER (WHERE NOT f.is_positive)
            FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id AND f.zone_key = p.zone_id
            GROUP BY p.code ORDER BY count(*) DESC, p.code LIMIT 1""")).one()
    assert passed > 10, "the demo's busiest parcel should have many findings that passed"
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&parcel={code}")
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), code))
    wait(driver, EC.presence_of_element_located((By.ID, "map-detail-findings")))
    height = driver.execute_script(PANEL_HEIGHT)
    assert height < MAX_PANEL_PX, f"the detail panel of {code} is {height:.0f} px tall"
    # problems first and in full; the passes after them, folded into one line that counts them
    outcomes = driver.find_elements(By.CSS_SELECTOR, "#map-detail-findings .finding-outcome")
    kinds = ["positive" in e.get_attribute("class").split() for e in outcomes]
    assert kinds == [True] * problems + [False] * passed
    assert all(e.is_displayed() for e in outcomes[:problems])
    assert not any(e.is_displayed() for e in outcomes[problems:])
    folded = driver.find_element(By.ID, "map-detail-findings-passed")
    assert folded.get_attribute("open") is None
    assert folded.find_element(By.TAG_NAME, "summary").text == t("detail.findings_passed", lang, count=passed)
    # by rule: each rule once among the problems and once among the passes, with its label
    for part in ("#map-detail-findings > li[data-rule]", "#map-detail-findings-passed li[data-rule]"):
        rules = [e.get_attribute("data-rule") for e in driver.find_elements(By.CSS_SELECTOR, part)]
        assert len(rules) == len(set(rules))
    for item in driver.find_elements(By.CSS_SELECTOR, "#map-detail-findings > li[data-rule]"):
        label = item.find_element(By.CLASS_NAME, "finding-rule").text
        assert label == t(f"rule.{item.get_attribute('data-rule')}", lang)
    folded.find_element(By.TAG_NAME, "summary").click()
    wait(driver, lambda d: all(e.is_displayed() for e in outcomes[problems:]))
