"""The map page's print and export links (issue #18) in real headless Chromium: they carry the
view the map shows (its bbox after a pan), the ticked layers and the language, and what they
point at is a printable map and the parcels of that view."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By

from gisapp.catalog.registry import all_layers
from gisapp.i18n import t
from tests.browser.test_map_fixes import PORT_VIEW, drag_map, tick
from tests.browser.test_map_page import open_page, parcels_drawn, wait

pytestmark = pytest.mark.browser

LINKS = ("map-print-png", "map-print-pdf", "map-export-xlsx", "map-export-gpkg")


def link_args(driver, link_id: str) -> dict[str, str] | None:
    href = driver.find_element(By.ID, link_id).get_attribute("href")
    if not href:
        return None
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def as_numbers(bbox: str) -> list[float]:
    return [float(v) for v in bbox.split(",")]


def test_the_print_link_follows_the_view_and_the_ticked_layers(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?{PORT_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 0 and link_args(d, "map-print-pdf"))
    assert t("map.print.link", "zh") in driver.find_element(By.ID, "map-print").text
    before = link_args(driver, "map-print-pdf")
    assert before["lang"] == "zh"
    assert before["layers"].split(",") == [layer.id for layer in all_layers() if layer.visible]
    minx, miny, maxx, maxy = as_numbers(before["bbox"])
    assert minx < 121.5544 < maxx and miny < 31.3728 < maxy  # the page's view: the port zone
    assert link_args(driver, "map-export-gpkg")["bbox"] == before["bbox"]

    drag_map(driver, -300, 0)  # pan east
    time.sleep(0.5)  # Leaflet's inertia ends the move before the bounds are reported
    after = wait(driver, lambda d: (a := link_args(d, "map-print-pdf")) and a["bbox"] != before["bbox"] and a)
    moved = as_numbers(after["bbox"])
    assert moved[0] > minx and moved[2] > maxx  # east
    assert moved[1] == pytest.approx(miny, abs=1e-3) and moved[3] == pytest.approx(maxy, abs=1e-3)
    for link_id in LINKS:  # every link moved with the map
        assert link_args(driver, link_id)["bbox"] == after["bbox"]

    tick(driver, "idle_land")
    ticked = wait(driver, lambda d: "idle_land" in link_args(d, "map-print-png")["layers"].split(",")
                  and link_args(d, "map-print-png"))
    assert ticked["bbox"] == after["bbox"]

    # the link's address prints that view for the signed-in user (fetched by the browser: its session)
    answer = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done(
            [r.status, r.headers.get('content-type'), Array.from(new Uint8Array(b.slice(0, 4)))])));""",
        driver.find_element(By.ID, "map-print-png").get_attribute("href"))
    assert answer == [200, "image/png", [0x89, 0x50, 0x4E, 0x47]]

def test_the_links_speak_english_on_the_english_map(signed_in_browser, live_server):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang=en&{PORT_VIEW}")
    wait(driver, lambda d: link_args(d, "map-export-xlsx"))
    assert link_args(driver, "map-export-xlsx")["lang"] == "en"
    assert t("map.print.parcels", "en") in driver.find_element(By.ID, "map-export").text
