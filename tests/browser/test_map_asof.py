"""The map's follow-ups of issue #18 in real headless Chromium, on the synthetic demo data: labels
in the page's language, the detail panels in the UI's terms, zone totals next to the in-view
counts, boundaries as approval records, the map as of a past date, zone editors' dashboards.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from gisapp.i18n import label, t
from tests.browser.test_map_page import open_page, wait

pytestmark = pytest.mark.browser

LANGS = ("zh", "en")
LABELS = "return [...document.querySelectorAll('.feature-label-' + arguments[0])].map(e => e.textContent)"
LABEL_BACKGROUND = """
    const e = document.querySelector('.feature-label-' + arguments[0]);
    return e ? getComputedStyle(e).backgroundColor : null;"""


def labels(driver, layer_id: str) -> list[str]:
    return driver.execute_script(LABELS, layer_id)


@pytest.mark.parametrize("lang", LANGS)
def test_district_labels_are_in_the_page_language(signed_in_browser, live_server, engine, lang):
    driver = signed_in_browser
    with engine.connect() as conn:
        names = {r.name_zh: r.name_en for r in conn.execute(sa.text("SELECT name_zh, name_en FROM layers.districts"))}
    wanted = set(names) if lang == "zh" else set(names.values())
    other = set(names.values()) if lang == "zh" else set(names)
    open_page(driver, live_server, f"/?lang={lang}")
    wait(driver, lambda d: len(labels(d, "districts")) >= 5)
    shown = set(labels(driver, "districts"))
    assert shown <= wanted and not shown & other
    # a light label, not Leaflet's white tooltip box over the lines it names
    assert driver.execute_script(LABEL_BACKGROUND, "districts") in ("rgba(0, 0, 0, 0)", "transparent")


def map_page(live_server):
    """The map page's module as the app loaded it (Dash imports its pages by file, under a name of
    its own: importing gisapp.web.pages.map again would register its callbacks twice)."""
    import sys

    import dash

    return sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/")]


def test_the_zones_are_the_layer_kept_behind_on_the_shared_canvas(live_server):
    _canvas = map_page(live_server)._canvas

    assert _canvas("zones")["behind"] is True and _canvas("parcels")["behind"] is False
    assert _canvas("districts") == {} and _canvas("base_outline") == {}  # base layers: their own panes


DETAIL_TEXT = "return document.getElementById('map-detail').textContent"
# the folded bookkeeping table's rows as [header, value]
MORE_ROWS = """return [...document.querySelectorAll('#map-detail-more tr')]
                   .map(r => [r.querySelector('th').textContent, r.querySelector('td').textContent])"""
REVIEWS = "return [...document.querySelectorAll('#map-detail .finding-review')].map(e => e.textContent)"


def parcel_with_energy_requirement(engine) -> str:
    """A parcel whose grant requires energy per output (unit tce/万元) and has a status history."""
    with engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT p.code FROM land.parcels p
            JOIN land.land_grants g ON g.parcel_id = p.id
            JOIN land.grant_requirements q ON q.grant_id = g.id
            JOIN land.performance_indicators i ON i.code = q.indicator
            WHERE i.unit = 'tce/万元'
              AND EXISTS (SELECT 1 FROM land.parcel_status_history h WHERE h.parcel_id = p.id)
            ORDER BY p.code LIMIT 1""")).scalar_one()


@pytest.mark.parametrize("lang", LANGS)
def test_parcel_detail_reads_times_editors_and_units_as_people_do(signed_in_browser, live_server, engine, lang):
    driver = signed_in_browser
    code = parcel_with_energy_requirement(engine)
    open_page(driver, live_server, f"/?lang={lang}&parcel={code}")
    wait(driver, lambda d: code in d.execute_script(DETAIL_TEXT) and d.find_elements(By.ID, "map-detail-more"))
    text = driver.execute_script(DETAIL_TEXT)
    assert label("unit", "tce/万元", lang) in text and "tce/万元" not in text
    assert t("detail.area", lang, m2="", ha="", mu="").split("·")[-1].strip() in text  # 亩 / mu
    updated = dict(driver.execute_script(MORE_ROWS))[t("attr.updated", lang)]
    # the demo loader as people name it, then the time in Shanghai to the minute (no "T", no seconds)
    assert re.fullmatch(rf"{re.escape(t('editor.demo_load', lang))} · \d{{4}}-\d\d-\d\d \d\d:\d\d", updated), updated
    reviews = driver.execute_script(REVIEWS)
    assert reviews
    colon = "：" if lang == "zh" else ": "
    assert all(r.startswith(t("detail.review_status", lang) + colon) for r in reviews), reviews


BOUNDARY_ROWS = """return [...document.querySelectorAll('#map-detail-boundaries tbody tr')]
                       .map(r => [...r.querySelectorAll('td')].map(c => c.textContent))"""


def search_for(driver, text: str) -> None:
    box = wait(driver, EC.element_to_be_clickable((By.ID, "map-search-input")))
    box.clear()
    box.send_keys(text, Keys.ENTER)


@pytest.mark.parametrize("lang", LANGS)
def test_zone_panel_lists_its_approved_boundaries_as_records(signed_in_browser, live_server, engine, lang):
    """Yangshan's boundary was extended in the demo data: both approvals show, the current one marked."""
    with engine.connect() as conn:
        versions = conn.execute(sa.text(
            "SELECT b.approval_ref, b.valid_from, b.valid_to FROM land.zone_boundaries b "
            "JOIN land.zones z ON z.id = b.zone_id WHERE z.code = 'yangshan' ORDER BY b.valid_from DESC")).all()
    assert len(versions) == 2
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}")
    search_for(driver, "yangshan")
    wait(driver, lambda d: len(d.execute_script(BOUNDARY_ROWS)) == 2)
    assert t("detail.boundaries", lang) in driver.find_element(By.ID, "map-detail").text
    rows = driver.execute_script(BOUNDARY_ROWS)
    in_force = f" ({t('detail.boundary_in_force', lang)})"
    assert rows[0][0] == versions[0].approval_ref + in_force and rows[1][0] == versions[1].approval_ref
    assert rows[0][1] == f"{versions[0].valid_from} – {t('detail.boundary_open', lang)}"
    assert rows[1][1] == f"{versions[1].valid_from} – {versions[1].valid_to}"


def zone_name(engine, code: str, lang: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT name_{lang} FROM land.zones WHERE code = :c"), {"c": code}).scalar_one()


@pytest.mark.parametrize("lang", LANGS)
def test_zone_editor_dashboard_opens_on_their_zone_and_keeps_the_choice_in_the_url(
        live_server, engine, make_user, lang):
    from tests.browser.conftest import login, make_driver

    editor = make_user("zone_editor", zones=("jiading",))
    driver = make_driver()
    try:
        login(driver, live_server, editor.username, editor.password)
        open_page(driver, live_server, f"/dashboard?lang={lang}")
        picker = wait(driver, EC.presence_of_element_located((By.ID, "dash-zone")))
        wait(driver, lambda d: zone_name(engine, "jiading", lang) in picker.text)
        wait(driver, lambda d: "zone=jiading" in d.current_url)
        wait(driver, lambda d: d.find_elements(By.ID, "dash-kpis"))
        # another zone chosen: in the address and the language switch, and kept by a reload
        other = zone_name(engine, "caohejing", lang)
        picker.click()
        option = wait(driver, lambda d: next((e for e in d.find_elements(By.XPATH, f"//*[text()='{other}']")
                                              if e.is_displayed()), None))
        option.click()
        wait(driver, lambda d: "zone=caohejing" in d.current_url)
        assert "zone=caohejing" in driver.find_element(By.ID, "app-lang-switch").get_attribute("href")
        driver.refresh()
        wait(driver, lambda d: other in d.find_element(By.ID, "dash-zone").text)
    finally:
        driver.quit()


#: a zone summary of the parcels drawn inside the map's box, with its centre on the page
SUMMARY_IN_VIEW = """
    const box = document.getElementById('map-map').getBoundingClientRect();
    return gisapp.shown('parcels').find(p => p.aggregate && p.properties.zone_code === arguments[0]
        && p.x > box.left + 20 && p.x < box.right - 20 && p.y > box.top + 20 && p.y < box.bottom - 20) || null;"""


@pytest.mark.parametrize("lang", LANGS)
def test_zone_summary_shows_the_zone_total_next_to_the_count_in_view(signed_in_browser, live_server, engine, lang):
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
                                     "WHERE z.code = 'songjiang'")).scalar_one()
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&lat=31.0&lon=121.25&zoom=11")
    summary = wait(driver, lambda d: d.execute_script(SUMMARY_IN_VIEW, "songjiang"))
    assert summary["properties"]["total"] == total
    box = driver.find_element(By.ID, "map-map").rect
    ActionChains(driver).move_to_element_with_offset(
        driver.find_element(By.ID, "map-map"), round(summary["x"] - box["x"] - box["width"] / 2),
        round(summary["y"] - box["y"] - box["height"] / 2)).perform()
    tip = wait(driver, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, ".aggregate-label")
                                       if e.text), None))
    count = summary["properties"]["count"]
    assert tip == f"{t('map.aggregate.count', lang, count=count)} · {t('detail.aggregate_total', lang, total=total)}"
    ActionChains(driver).click().perform()
    wait(driver, lambda d: d.find_elements(By.ID, "map-detail-total"))
    assert driver.find_element(By.ID, "map-detail-total").text == t("detail.aggregate_total", lang, total=total)


PAST = "2022-01-01"  # before Yangshan's extension and many status changes of the demo data
PARCEL_STATUS = """
    const p = gisapp.shown('parcels').find(p => !p.aggregate && String(p.properties.id) === String(arguments[0]));
    return p ? p.properties.status : null;"""


def parcel_changed_since(engine, day: str):
    """(id, code, status on day, status now, lon, lat) of a parcel whose status changed after ``day``."""
    from tests.web.test_map_asof_api import changed_parcel

    row = changed_parcel(engine, day)
    with engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT id FROM land.parcels WHERE code = :c"), {"c": row.code}).scalar_one()
    return pid, row


@pytest.mark.parametrize("lang", LANGS)
def test_map_as_of_a_past_day_shows_the_state_of_then_and_says_so(signed_in_browser, live_server, engine, lang):
    pid, p = parcel_changed_since(engine, PAST)
    driver = signed_in_browser
    view = f"lat={p.lat:.5f}&lon={p.lon:.5f}&zoom=17"
    open_page(driver, live_server, f"/?lang={lang}&{view}")
    wait(driver, lambda d: d.execute_script(PARCEL_STATUS, pid) == p.now)
    assert not driver.find_elements(By.ID, "map-as-of-banner")
    open_page(driver, live_server, f"/?lang={lang}&{view}&as_of={PAST}")
    banner = wait(driver, EC.visibility_of_element_located((By.ID, "map-as-of-banner")))
    assert t("map.as_of_banner", lang, day=PAST) in banner.text
    wait(driver, lambda d: d.execute_script(PARCEL_STATUS, pid) == p.then)
    # the language switch and the way back keep / drop the day
    assert f"as_of={PAST}" in driver.find_element(By.ID, "app-lang-switch").get_attribute("href")
    assert "as_of" not in driver.find_element(By.ID, "map-as-of-today").get_attribute("href")


def test_on_a_past_day_the_map_fetches_only_layers_with_a_past(live_server):
    """The rule and quota layers show today's findings and balances: not drawn over a past map."""
    import datetime as dt

    from gisapp.catalog.registry import all_layers

    _dated_layers = map_page(live_server)._dated_layers

    base = {layer.id for layer in all_layers() if layer.base}
    past = set(_dated_layers(dt.date(2022, 1, 1)))
    assert base | {"parcels", "zones"} <= past
    assert not past & {"idle_land", "per_mu", "grants", "green_balance"}
    assert set(_dated_layers(None)) == {layer.id for layer in all_layers()}


def test_picking_a_day_puts_it_in_the_address(signed_in_browser, live_server, engine):
    pid, p = parcel_changed_since(engine, PAST)
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang=en&lat={p.lat:.5f}&lon={p.lon:.5f}&zoom=17")
    wait(driver, lambda d: d.execute_script(PARCEL_STATUS, pid) == p.now)
    picker = wait(driver, EC.element_to_be_clickable((By.ID, "map-as-of-picker")))
    picker.click()
    picker.send_keys(PAST, Keys.ENTER)
    wait(driver, lambda d: f"as_of={PAST}" in d.current_url)
    wait(driver, EC.visibility_of_element_located((By.ID, "map-as-of-banner")))
    wait(driver, lambda d: d.execute_script(PARCEL_STATUS, pid) == p.then)
