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
PARCEL_PATHS = f"#map-map path[stroke='{get_layer('parcels').style.line_color}']"
HIGHLIGHT_PATH = "#map-map path[stroke='#00bcd4']"
# a parcel whose centre on screen is the parcel itself (not off-view, not under the layer control)
CLICKABLE_PARCEL = """
    for (const p of document.querySelectorAll(arguments[0])) {
        const r = p.getBoundingClientRect();
        if (document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === p) return p;
    }
    return null;"""


def wait(driver, condition, seconds: float = WAIT_SECONDS):
    return WebDriverWait(driver, seconds).until(condition)


def open_page(driver, base_url: str, path: str) -> None:
    driver.get(base_url + path)
    wait(driver, EC.presence_of_element_located((By.ID, "app-title")))


def parcel_paths(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, PARCEL_PATHS)


def control_labels(driver) -> list[str]:
    return [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")]


def test_map_lists_every_declared_layer_and_draws_parcels(signed_in_browser, live_server, engine):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{WGQ_VIEW}")
    titles = [layer.title.get("zh") for layer in all_layers()]
    wait(driver, lambda d: control_labels(d) == titles)
    wait(driver, lambda d: len(parcel_paths(d)) > 50)
    # what is drawn is what the viewport holds: at most the parcels of the zone in view
    with engine.connect() as conn:
        in_zone = conn.execute(sa.text("SELECT count(*) FROM layers.parcels WHERE zone_code = 'waigaoqiao_ftz'")).scalar()
    assert len(parcel_paths(driver)) <= in_zone
    assert driver.find_element(By.ID, "app-synthetic-banner").text == t("app.synthetic", "zh")


def test_low_zoom_shows_zone_summaries_and_the_hint(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, "/")
    wait(driver, lambda d: d.find_element(By.ID, "map-hint").text.strip() != "")
    assert str(get_layer("parcels").detail_min_zoom) in driver.find_element(By.ID, "map-hint").text
    assert parcel_paths(driver) == []  # summaries are outlined in their fill colour, not as parcels
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map-map path")) >= 10)


def test_clicking_a_parcel_opens_its_detail(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{WGQ_VIEW}")
    wait(driver, lambda d: len(parcel_paths(d)) > 50)
    target = driver.execute_script(CLICKABLE_PARCEL, PARCEL_PATHS)
    assert target is not None, "no parcel is fully clickable in the view"
    ActionChains(driver).move_to_element(target).click().perform()
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
    wait(driver, lambda d: len(parcel_paths(d)) > 0)


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
