"""Fixes of the map and the parcel pages (issue #18), in real headless Chromium.

- A layer ticked in the layers control must not make the layers ticked before it stop following
  the viewport (nor drop out of the legend).
- No page with a map logs an error in the browser console.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from gisapp.catalog.registry import get_layer
from tests.browser.test_map_page import open_page, parcels_drawn, wait

pytestmark = pytest.mark.browser

#: the Waigaoqiao port zone at z14: a few dozen parcels, no more
PORT_VIEW = "lat=31.3728&lon=121.5544&zoom=14"
#: the layers on at start, and the one the test ticks
BASE_LAYERS = ("zones", "parcels")
TICKED = "idle_land"
# features of a layer drawn inside the map's box on the page (not merely drawn somewhere off view)
IN_VIEW = """
    const box = document.getElementById('map-map').getBoundingClientRect();
    return gisapp.shown(arguments[0]).filter(p => !p.aggregate && p.right > box.left && p.left < box.right
                                              && p.bottom > box.top && p.top < box.bottom).length;"""


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
    shown = {*BASE_LAYERS, TICKED}
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
