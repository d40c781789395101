"""The quota layers for a chosen year (issue #18), in real headless Chromium on the synthetic demo
data, in Chinese and English: the map's year choice recolours the district layer, the legend says
the year, a district's detail lists that year's escalations to the city, the year is kept in the
address, the language switch and the print link; the dashboard's quota chart shows every year.

The demo's scenario (gisapp.demo.zone_records): Songjiang went over its 2025 energy quota and
escalated the shortfall to the city; in 2026 it is within quota. The map opens on 2026.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from gisapp.catalog.registry import get_layer
from gisapp.demo.facts import ESCALATED_DISTRICT
from gisapp.i18n import t
from tests.browser.test_map_outputs import overlay_labels, tick
from tests.browser.test_map_page import open_page, wait

pytestmark = pytest.mark.browser

LAYER = "quota_energy"
#: Songjiang and its neighbours at city scale
VIEW = "lat=31.05&lon=121.35&zoom=10"
# the drawn district ``arguments[1]`` of layer ``arguments[0]``: its fill and page box
DRAWN_FEATURE = """
    return gisapp.shown(arguments[0]).find(f => String(f.properties.id) === String(arguments[1])) || null;"""
CLICK_AT = ("document.elementFromPoint(arguments[0], arguments[1]).dispatchEvent(new MouseEvent('click', "
            "{bubbles: true, clientX: arguments[0], clientY: arguments[1]}))")


def colour(value: str) -> str:
    return next(c.color for c in get_layer(LAYER).style.categories if c.value == value)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def songjiang(engine) -> dict:
    """The escalated district's id, names, extent and a point inside it, its years in the ledger
    and its escalation of energy quota."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT id, name_zh, name_en, ST_XMin(geom) AS minx, ST_YMin(geom) AS miny, ST_XMax(geom) AS maxx, "
            "ST_YMax(geom) AS maxy, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y "
            "FROM land.districts WHERE code = :c"), {"c": ESCALATED_DISTRICT}).mappings().one()
        years = list(conn.execute(sa.text("SELECT year FROM layers.quota_years ORDER BY year")).scalars())
        escalation = conn.execute(sa.text(
            "SELECT year, recorded_on, amount FROM layers.quota_escalations "
            "WHERE district_code = :c AND resource = 'energy'"), {"c": ESCALATED_DISTRICT}).mappings().one()
    assert len(years) >= 2 and escalation["year"] < years[-1], "the demo escalates in a year before the latest"
    return {**row, "years": years, "escalation": escalation}


def choose_year(driver, year: int) -> None:
    driver.find_element(By.ID, "map-quota-year").click()
    # the open list's entry (the closed control shows the year chosen before, not this one)
    option = wait(driver, lambda d: next((e for e in d.find_elements(By.XPATH, f"//*[text()='{year}']")
                                          if e.is_displayed()), None))
    option.click()


def mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def open_district(driver, district: dict, fill: str) -> None:
    """Click a point inside the district once it is drawn in ``fill`` (the page point of its
    point on surface, placed in its drawn box: x linear in longitude, y in Web Mercator)."""
    drawn = wait(driver, lambda d: (f := d.execute_script(DRAWN_FEATURE, LAYER, district["id"])) and f["fill"] == fill
                 and f)
    fx = (district["x"] - district["minx"]) / (district["maxx"] - district["minx"])
    fy = ((mercator_y(district["maxy"]) - mercator_y(district["y"]))
          / (mercator_y(district["maxy"]) - mercator_y(district["miny"])))
    x = drawn["left"] + (drawn["right"] - drawn["left"]) * fx
    y = drawn["top"] + (drawn["bottom"] - drawn["top"]) * fy
    driver.execute_script(CLICK_AT, x, y)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_year_choice_recolours_the_districts_and_lists_that_years_escalations(signed_in_browser, live_server,
                                                                                   songjiang, lang):
    driver = signed_in_browser
    latest, earlier = songjiang["years"][-1], songjiang["escalation"]["year"]
    name = songjiang["name_zh"] if lang == "zh" else songjiang["name_en"]
    open_page(driver, live_server, f"/?lang={lang}&{VIEW}")
    wait(driver, lambda d: len(overlay_labels(d)) > 5)
    picker = driver.find_element(By.ID, "map-quota-year-picker")
    assert t("map.quota_year", lang) in picker.text and str(latest) in picker.text  # the latest by default
    tick(driver, LAYER, lang)
    legend = wait(driver, lambda d: (e := d.find_element(By.ID, f"map-legend-{LAYER}")).is_displayed() and e)
    assert t("map.quota_year_of", lang, year=latest) in legend.text

    # the latest year: within quota, no escalation that year
    open_district(driver, songjiang, colour("ample"))
    title = t("detail.quota_title", lang, layer=get_layer(LAYER).title.get(lang), name=name, year=latest)
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), title))
    assert driver.find_element(By.ID, "map-detail-escalations").text == t("detail.no_escalations", lang, year=latest)

    # the escalation's year: over quota and escalated, the escalation listed
    choose_year(driver, earlier)
    wait(driver, lambda d: query(d.current_url).get("year") == str(earlier))
    wait(driver, lambda d: t("map.quota_year_of", lang, year=earlier) in legend.text)
    open_district(driver, songjiang, colour("over_escalated"))
    title = t("detail.quota_title", lang, layer=get_layer(LAYER).title.get(lang), name=name, year=earlier)
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), title))
    assert driver.find_element(By.CSS_SELECTOR, "#map-detail h4:last-of-type").text == \
        t("detail.escalations", lang, year=earlier)
    rows = driver.find_elements(By.CSS_SELECTOR, "#map-detail-escalations tr.escalation")
    assert len(rows) == 1
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    escalation = songjiang["escalation"]
    assert cells[0] == escalation["recorded_on"].isoformat()
    assert cells[1] == ("能耗" if lang == "zh" else "Energy")
    assert cells[2] == f"{float(escalation['amount']):,.0f} " + ("吨标准煤" if lang == "zh" else "tce")

    # kept in the address, the language switch and the print link; a reload shows the same year
    switch = query(driver.find_element(By.ID, "app-lang-switch").get_attribute("href"))
    assert switch["year"] == str(earlier) and switch["lang"] == ("en" if lang == "zh" else "zh")
    wait(driver, lambda d: query(d.find_element(By.ID, "map-print-pdf").get_attribute("href") or "?").get("year")
         == str(earlier))
    driver.refresh()
    wait(driver, lambda d: str(earlier) in d.find_element(By.ID, "map-quota-year-picker").text)
    assert query(driver.current_url)["year"] == str(earlier)
    # back to the latest: the address says nothing of a year again
    choose_year(driver, latest)
    wait(driver, lambda d: "year" not in query(d.current_url))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_quota_chart_shows_every_year(signed_in_browser, live_server, songjiang, lang):
    driver = signed_in_browser
    open_page(driver, live_server, f"/dashboard?lang={lang}")
    # read in the page (the graph is drawn again as the dashboard fills in: elements go stale)
    ticks = wait(driver, lambda d: d.execute_script(
        "return [...document.querySelectorAll('#dash-graph-quota_use .xtick text')].map(e => e.textContent)") or None)
    for year in songjiang["years"]:
        label = t("dash.quota_years", lang, year=year)
        assert any(text.endswith(label) for text in ticks), (year, ticks)
    # the escalated district's earlier year is there, beside its latest
    name = songjiang["name_zh"] if lang == "zh" else songjiang["name_en"]
    assert f"{name} {t('dash.quota_years', lang, year=songjiang['escalation']['year'])}" in ticks
