"""MapLibre GL JS (vendored, no CDN) draws the parcels from the app's style.json and its vector
tiles in headless Chromium, with the declared colours (issue #21)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, WAIT_SECONDS
from tests.signin import sign_in

#: WebGL without a GPU: Chromium's software renderer, which it no longer falls back to by itself
WEBGL_FLAGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


@pytest.fixture(scope="module")
def webgl_browser(live_server, make_user):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [f for f in CHROMIUM_FLAGS if f != "--disable-gpu"] + WEBGL_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1000,800")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    user = make_user("bureau_viewer")
    try:
        sign_in(driver, user.username, user.password, live_server)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def dense_spot(engine) -> tuple[float, float]:
    """The centre of the zone with the most parcels (degrees)."""
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(ST_PointOnSurface(geom))) c FROM land.parcels "
            "GROUP BY zone_id ORDER BY count(*) DESC LIMIT 1) z")).one())


def wait_drawn(driver) -> None:
    deadline = time.monotonic() + WAIT_SECONDS * 2
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "const v = window.gisappViewer; return v ? [v.idle, v.error, !!v.map && v.map.loaded()] : null;")
        if state and state[1]:
            pytest.fail(f"MapLibre reported an error: {state[1]}")
        if state and state[0] and state[2]:
            return
        time.sleep(0.25)
    pytest.fail(f"the map did not finish drawing; browser log: {driver.get_log('browser')[-5:]}")


RENDERED = """
const map = window.gisappViewer.map;
const seen = {};
for (const f of map.queryRenderedFeatures({layers: ['parcels-fill']})) {
    const c = f.layer.paint['fill-color'];
    seen[f.id] = {status: f.properties.status, area: f.properties.area_m2,
                  color: [Math.round(c.r * 255), Math.round(c.g * 255), Math.round(c.b * 255)]};
}
const b = map.getBounds();
return {features: seen, bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
        sources: Object.keys(map.getStyle().sources)};
"""


def test_maplibre_draws_the_parcels_from_the_style_and_the_tiles(webgl_browser, live_server, dense_spot, engine):
    from gisapp.catalog.registry import get_layer

    lon, lat = dense_spot
    webgl_browser.get(f"{live_server}/styles/viewer?style=parcels&lon={lon}&lat={lat}&zoom=15")
    wait_drawn(webgl_browser)
    drawn = webgl_browser.execute_script(RENDERED)
    features = {int(k): v for k, v in drawn["features"].items()}
    assert drawn["sources"] == ["parcels"]
    west, south, east, north = drawn["bounds"]
    with engine.connect() as conn:
        inside = set(conn.execute(sa.text(
            "SELECT id FROM layers.parcels WHERE ST_Within(ST_PointOnSurface(geom), "
            "ST_MakeEnvelope(:w, :s, :e, :n, 4490))"), {"w": west, "s": south, "e": east, "n": north}).scalars())
        near = set(conn.execute(sa.text(
            "SELECT id FROM layers.parcels WHERE geom && ST_Expand(ST_MakeEnvelope(:w, :s, :e, :n, 4490), 0.002)"),
            {"w": west, "s": south, "e": east, "n": north}).scalars())
    assert len(inside) >= 5, "the view should hold parcels"
    # every parcel whose interior point is in view is drawn, and nothing that is not near it
    assert inside <= set(features) <= near
    colors = {str(c.value): c.color for c in get_layer("parcels").style.categories}
    for feature in features.values():
        expected = colors.get(feature["status"], get_layer("parcels").style.color).lstrip("#")
        assert feature["color"] == [int(expected[i:i + 2], 16) for i in (0, 2, 4)], feature
        assert isinstance(feature["area"], float | int)  # a number in the tile, not a string


def test_the_whole_map_style_draws_the_zone_summaries_at_low_zoom(webgl_browser, live_server, dense_spot):
    lon, lat = dense_spot
    webgl_browser.get(f"{live_server}/styles/viewer?style=map&lon={lon}&lat={lat}&zoom=10&lang=en")
    wait_drawn(webgl_browser)
    summaries = webgl_browser.execute_script(
        "return window.gisappViewer.map.queryRenderedFeatures({layers: ['parcels-summary-fill']})"
        ".map(f => [f.properties.zone_code, f.properties.count]);")
    assert summaries and all(isinstance(count, int) and count > 0 for _zone, count in summaries)
    assert webgl_browser.find_element("id", "viewer-title").text.endswith("(MapLibre style preview)")
