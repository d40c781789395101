"""The map page's print and export links (issue #18) in real headless Chromium: they carry the
view the map shows (its bbox after a pan), the ticked layers and the language, and what they
point at is a printable map and the parcels of that view."""

from __future__ import annotations

import base64
import datetime as dt
import io
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from selenium.webdriver.common.by import By

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.i18n import t
from gisapp.render.map_print import SHANGHAI
from tests.browser.test_map_fixes import PORT_VIEW, drag_map, tick
from tests.browser.test_map_outputs import tick as tick_in
from tests.browser.test_map_page import open_page, parcels_drawn, wait

pytestmark = pytest.mark.browser

LINKS = ("map-print-png", "map-print-pdf", "map-export-xlsx", "map-export-gpkg")


def link_args(driver, link_id: str) -> dict[str, str] | None:
    href = driver.find_element(By.ID, link_id).get_attribute("href")
    if not href:
        return None
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query, keep_blank_values=True).items()}


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


FETCH = """
    const done = arguments[arguments.length - 1];
    fetch(arguments[0]).then(r => r.arrayBuffer().then(b => {
        let text = ''; const bytes = new Uint8Array(b);
        for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
        done([r.status, btoa(text)]);
    }));"""


def fetched(driver, link_id: str) -> bytes:
    """What the link's address gives the signed-in browser (its session), as bytes."""
    status, body = driver.execute_async_script(FETCH, driver.find_element(By.ID, link_id).get_attribute("href"))
    assert status == 200, status
    return base64.b64decode(body)


def names_meeting(engine, table: str, bbox: str, lang: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            f"SELECT name_{lang} FROM layers.{table} WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4490))"),
            dict(zip("abcd", (float(v) for v in bbox.split(","))))).scalars())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_view_names_its_districts_and_zones_as_the_map_does(signed_in_browser, live_server, engine, lang):
    """The port zone at z14: the map writes the zone's and the district's names; so does its print,
    beside title, legend, scale bar, north arrow, date and the synthetic-data note."""
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&{PORT_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 0 and link_args(d, "map-print-pdf"))
    args = link_args(driver, "map-print-pdf")
    assert args["zoom"] == "14"
    on_map = set(driver.execute_script(
        "return [...document.querySelectorAll('.feature-label-zones, .feature-label-districts')]"
        ".map(e => e.textContent)"))
    zones = names_meeting(engine, "zones", args["bbox"], lang)
    assert zones & on_map, "the map names the zone in view"
    text = PdfReader(io.BytesIO(fetched(driver, "map-print-pdf"))).pages[0].extract_text()
    for name in zones & on_map:
        assert name in text, name
    districts = names_meeting(engine, "districts", args["bbox"], lang)
    assert any(name in text for name in districts)
    for words in (t("map.print.title", lang), t("map.legend", lang), t("map.print.north", lang),
                  t("app.synthetic", lang), dt.datetime.now(SHANGHAI).date().isoformat(), "km"):
        assert words in text, words


def gpkg_layer_names(data: bytes) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "download.gpkg"
        path.write_bytes(data)
        with sqlite3.connect(path) as db:
            return sorted(r[0] for r in db.execute("SELECT table_name FROM gpkg_contents"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_export_link_follows_the_parcel_layers_ticked(signed_in_browser, live_server, lang):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&{PORT_VIEW}")
    wait(driver, lambda d: parcels_drawn(d) > 0 and link_args(d, "map-export-gpkg"))
    assert t("map.print.parcels", lang) in driver.find_element(By.ID, "map-export").text
    assert link_args(driver, "map-export-gpkg")["layers"] == "parcels"  # the zones are no parcels
    tick_in(driver, "idle_land", lang)
    wait(driver, lambda d: link_args(d, "map-export-gpkg")["layers"] == "parcels,idle_land")
    tick_in(driver, "parcels", lang)  # unticked: the idle land alone, as the map shows now
    wait(driver, lambda d: link_args(d, "map-export-gpkg")["layers"] == "idle_land")
    assert gpkg_layer_names(fetched(driver, "map-export-gpkg")) == ["idle_land"]
    tick_in(driver, "idle_land", lang)  # no parcel layer left: the export says what to tick
    wait(driver, lambda d: link_args(d, "map-export-gpkg")["layers"] == "")
    status, body = driver.execute_async_script(FETCH, driver.find_element(By.ID, "map-export-xlsx")
                                               .get_attribute("href"))
    assert status == 400
    assert get_layer("idle_land").title.get(lang) in base64.b64decode(body).decode("utf-8")
