"""The map and the dashboards in real headless Chromium, on the synthetic demo data.

One server and one browser for the session (tests/browser/conftest.py); each test opens the page
it needs. Parcels are told apart from the zone boundaries by their declared outline colour.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.i18n import t
from tests.browser.conftest import WAIT_SECONDS

pytestmark = pytest.mark.browser

WGQ_VIEW = "lat=31.32&lon=121.60&zoom=15"
HIGHLIGHT_PATH = "#map-map path[stroke='#00bcd4']"
# Zones and parcels are drawn on one canvas (gisapp/web/assets/gisapp.js), which has no element per
# feature: the page tells what it drew (gisapp.drawnCount, gisapp.shown), and the canvas's pixels
# show that it was painted.
PARCELS_CANVAS = "#map-map .leaflet-layer-parcels-pane canvas"
DRAWN = "return window.gisapp && gisapp.drawnCount ? gisapp.drawnCount(arguments[0], arguments[1]) : 0"
# a drawn parcel whose centre on screen is on the map's canvas (not off-view, not under a control)
CLICKABLE_PARCEL = """
    const canvas = document.querySelector(arguments[0]);
    for (const p of gisapp.shown('parcels')) {
        if (!p.aggregate && p.right - p.left > 6 && document.elementFromPoint(p.x, p.y) === canvas) return p;
    }
    return null;"""
# the alpha of the canvas pixel at a page point (0: nothing painted there)
PAINTED_AT = """
    const canvas = document.querySelector(arguments[0]), r = canvas.getBoundingClientRect();
    const x = (arguments[1] - r.left) * canvas.width / r.width, y = (arguments[2] - r.top) * canvas.height / r.height;
    return canvas.getContext('2d').getImageData(Math.round(x), Math.round(y), 1, 1).data[3];"""


def wait(driver, condition, seconds: float = WAIT_SECONDS):
    return WebDriverWait(driver, seconds).until(condition)


def open_page(driver, base_url: str, path: str) -> None:
    driver.get(base_url + path)
    wait(driver, EC.presence_of_element_located((By.ID, "app-title")))


def parcels_drawn(driver) -> int:
    """Single parcels drawn on the map now."""
    return driver.execute_script(DRAWN, "parcels", False)


def summaries_drawn(driver) -> int:
    """Zone summaries of the parcels layer and zone outlines drawn on the map now."""
    return driver.execute_script(DRAWN, "parcels", True) + driver.execute_script(DRAWN, "zones", False)


def painted(driver, point: dict) -> bool:
    return driver.execute_script(PAINTED_AT, PARCELS_CANVAS, point["x"], point["y"]) > 0


def control_labels(driver) -> list[str]:
    return [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")]


def test_map_lists_every_declared_layer_and_draws_parcels(signed_in_browser, live_server, engine):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{WGQ_VIEW}")
    titles = [layer.title.get("zh") for layer in all_layers()]
    wait(driver, lambda d: control_labels(d) == titles)
    wait(driver, lambda d: parcels_drawn(d) > 50)
    # what is drawn is what the viewport holds: at most the parcels of the zone in view
    with engine.connect() as conn:
        in_zone = conn.execute(sa.text("SELECT count(*) FROM layers.parcels WHERE zone_code = 'waigaoqiao_ftz'")).scalar()
    assert parcels_drawn(driver) <= in_zone
    # and painted: the canvas is coloured at the centre of parcels in view, in the declared colours
    target = wait(driver, lambda d: d.execute_script(CLICKABLE_PARCEL, PARCELS_CANVAS))
    wait(driver, lambda d: painted(d, target))
    colours = {c.color for c in get_layer("parcels").style.categories} | {get_layer("parcels").style.color}
    assert {p["fill"] for p in driver.execute_script("return gisapp.shown('parcels')")} <= colours
    assert driver.find_element(By.ID, "app-synthetic-banner").text == t("app.synthetic", "zh")


def test_low_zoom_shows_zone_summaries_and_the_hint(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, "/")
    wait(driver, lambda d: d.find_element(By.ID, "map-hint").text.strip() != "")
    assert str(get_layer("parcels").detail_min_zoom) in driver.find_element(By.ID, "map-hint").text
    wait(driver, lambda d: summaries_drawn(d) >= 10)
    assert parcels_drawn(driver) == 0  # zone summaries, not parcels


def test_clicking_a_parcel_opens_its_detail(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{WGQ_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 50)
    target = driver.execute_script(CLICKABLE_PARCEL, PARCELS_CANVAS)
    assert target is not None, "no parcel is clickable in the view"
    canvas_map = driver.find_element(By.ID, "map-map")
    box = canvas_map.rect
    # offsets from the map's centre, where Selenium puts the pointer first
    ActionChains(driver).move_to_element_with_offset(
        canvas_map, round(target["x"] - box["x"] - box["width"] / 2), round(target["y"] - box["y"] - box["height"] / 2)
    ).click().perform()
    title = wait(driver, EC.presence_of_element_located((By.ID, "map-detail-title")))
    code = title.text.split("：")[-1].strip()
    assert code.startswith("WGQ-")
    link = driver.find_element(By.ID, "map-detail-link")
    assert link.get_attribute("href").endswith(f"/parcel/{code}?lang=zh")
    table = driver.find_element(By.ID, "map-detail-table").text
    assert code in table and t("attr.status", "zh") in table
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#map-detail h4")]
    assert headings == [t(k, "zh") for k in ("detail.attributes", "detail.findings", "detail.grants", "detail.history")]
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, HIGHLIGHT_PATH)) == 1)


def test_search_zooms_to_a_parcel(signed_in_browser, live_server, engine):
    with engine.connect() as conn:
        code = conn.execute(sa.text(
            "SELECT p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE z.code = 'jiading' ORDER BY p.id DESC LIMIT 1")).scalar()
    driver = signed_in_browser
    open_page(driver, live_server, "/")
    box = wait(driver, EC.element_to_be_clickable((By.ID, "map-search-input")))
    box.send_keys(code, Keys.ENTER)
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), code))
    # zoomed in: the found parcel's outline is drawn large, and its neighbours as single parcels
    wait(driver, lambda d: any(e.size["width"] > 100 for e in d.find_elements(By.CSS_SELECTOR, HIGHLIGHT_PATH)))
    wait(driver, lambda d: parcels_drawn(d) > 0)


def test_language_switch_changes_the_labels(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{WGQ_VIEW}")
    assert driver.find_element(By.ID, "app-title").text == t("app.title", "zh")
    driver.find_element(By.ID, "app-lang-switch").click()
    wait(driver, EC.text_to_be_present_in_element((By.ID, "app-title"), t("app.title", "en")))
    wait(driver, lambda d: control_labels(d) == [layer.title.get("en") for layer in all_layers()])
    assert driver.find_element(By.ID, "map-search-input").get_attribute("placeholder") == \
        t("map.search.placeholder", "en")
    assert "lat=31.32" in driver.current_url  # the view is kept across the switch
    driver.find_element(By.ID, "app-lang-switch").click()
    wait(driver, EC.text_to_be_present_in_element((By.ID, "app-title"), t("app.title", "zh")))


def test_dashboard_chart_and_table_render(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, "/dashboard?zone=jiading")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dash-graph-status_breakdown .main-svg")) > 0, 40)
    bars = driver.find_elements(By.CSS_SELECTOR, "#dash-graph-status_breakdown .trace.bars .point path")
    assert len(bars) > 0
    rows = driver.find_elements(By.CSS_SELECTOR, "#dash-grid-status_breakdown .ag-row")
    assert len(rows) > 0
    assert driver.find_element(By.ID, "dash-export-xlsx-status_breakdown").get_attribute("href").endswith(
        "/api/dashboard/status_breakdown.xlsx?lang=zh&zone=jiading")
