"""The map's follow-ups of issue #18 in real headless Chromium, on the synthetic demo data: labels
in the page's language, the detail panels in the UI's terms, zone totals next to the in-view
counts, boundaries as approval records, the map as of a past date, zone editors' dashboards.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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


def test_the_zones_are_the_layer_kept_behind_on_the_shared_canvas(live_server):
    from gisapp.web.pages.map import _canvas  # registered with the app the live server runs

    assert _canvas("zones")["behind"] is True and _canvas("parcels")["behind"] is False
    assert _canvas("districts") == {} and _canvas("base_outline") == {}  # base layers: their own panes
