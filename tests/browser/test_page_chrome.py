"""The parts every page shares, in real headless Chromium, signed in, in both languages: the
language switch and the form fields are never under the signed-in user's bar, and table
headers wrap between words, never inside one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 30
OTHER = {"zh": "en", "en": "zh"}

# the element at the centre of ``arguments[0]``: the element itself or inside it, else what covers it
COVERED_BY = """
    const el = arguments[0];
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (hit === null) return 'nothing';
    if (el === hit || el.contains(hit) || hit.contains(el) && hit.tagName === 'LABEL') return null;
    return hit.outerHTML.slice(0, 160);"""

# words of the table headers broken across lines: a word (as the language segments its text:
# Chinese has no spaces) whose text makes two line boxes
BROKEN_HEADER_WORDS = """
    const broken = [];
    const words = new Intl.Segmenter(arguments[1], {granularity: 'word'});
    for (const th of document.querySelectorAll(arguments[0])) {
        if (!th.offsetParent) continue;
        for (const node of th.childNodes) {
            if (node.nodeType !== Node.TEXT_NODE) continue;
            for (const w of words.segment(node.textContent)) {
                if (!w.isWordLike || w.segment.length < 2) continue;
                const range = document.createRange();
                range.setStart(node, w.index); range.setEnd(node, w.index + w.segment.length);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(w.segment);
            }
        }
    }
    return broken;"""


@pytest.fixture(scope="module")
def admin(make_user, engine):
    return make_user("bureau_admin")


@pytest.fixture(scope="module")
def admin_browser(chromium, live_server, admin):
    """A Chromium of this module's own, signed in as a bureau administrator (who may edit every
    parcel, so the parcel page shows all its forms)."""
    from tests.browser.conftest import login

    login(chromium, live_server, admin.username, admin.password)
    return chromium


@pytest.fixture(scope="module")
def parcel_code(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT p.code FROM land.parcels p WHERE EXISTS (SELECT 1 FROM land.land_grants g WHERE g.parcel_id = p.id) "
            "ORDER BY p.id LIMIT 1")).scalar()


def _wait(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _open(driver, url: str, ready_id: str):
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_elements(By.ID, ready_id))
    # the signed-in user's bar is filled by a callback after the page: wait for it
    _wait(driver, lambda d: d.find_elements(By.ID, "app-user-name"))


PAGES = {
    "map": ("/", "map-map"),
    "dashboard": ("/dashboard", "dash-kpis"),
    "parcel": ("/parcel/{code}", "parcel-attributes"),
    "import": ("/admin/import", "import-form"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_language_switch_is_clickable_when_signed_in(admin_browser, live_server, parcel_code, page, lang):
    from selenium.webdriver.common.by import By

    driver = admin_browser
    path, ready = PAGES[page]
    _open(driver, f"{live_server}{path.format(code=parcel_code)}?lang={lang}", ready)
    switch = driver.find_element(By.ID, "app-lang-switch")
    assert switch.is_displayed()
    assert switch.text == t("lang.switch", lang)
    assert driver.execute_script(COVERED_BY, switch) is None
    name = driver.find_element(By.ID, "app-user-name")
    assert driver.execute_script(COVERED_BY, name) is None
    switch.click()
    other = OTHER[lang]
    _wait(driver, lambda d: f"lang={other}" in d.current_url)
    _wait(driver, lambda d: d.find_elements(By.ID, ready))
    _wait(driver, lambda d: d.find_element(By.ID, "app-lang-switch").text == t("lang.switch", other))
    assert driver.find_element(By.ID, "app-title").text == t("app.title", other)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_form_field_of_the_parcel_page_is_under_the_user_bar(admin_browser, live_server, parcel_code, lang):
    from selenium.webdriver.common.by import By

    driver = admin_browser
    _open(driver, f"{live_server}/parcel/{parcel_code}?lang={lang}", "parcel-status-save")
    for details in driver.find_elements(By.CSS_SELECTOR, "details.edit-details"):
        driver.execute_script("arguments[0].open = true", details)
    fields = [e for e in driver.find_elements(By.CSS_SELECTOR, "#parcel-body input, #parcel-body textarea, "
                                                                "#parcel-body button, #parcel-body select")
              if e.is_displayed()]
    assert len(fields) > 20
    covered = {}
    for field in fields:
        # at the top of the window, where a bar fixed over the page would hide it
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", field)
        hit = driver.execute_script(COVERED_BY, field)
        if hit is not None:
            covered[field.get_attribute("id") or field.get_attribute("name")] = hit
    assert not covered


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parcel_table_headers_break_between_words(admin_browser, live_server, parcel_code, lang):
    driver = admin_browser
    _open(driver, f"{live_server}/parcel/{parcel_code}?lang={lang}", "parcel-attributes")
    assert driver.execute_script(BROKEN_HEADER_WORDS, ".parcel-body th", lang) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_admins_reach_the_import_page_from_the_apps_navigation(admin_browser, live_server, lang):
    from selenium.webdriver.common.by import By

    driver = admin_browser
    _open(driver, f"{live_server}/dashboard?lang={lang}", "dash-kpis")
    link = driver.find_element(By.ID, "app-nav-import")
    assert link.text == t("nav.import", lang)
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "import-form"))
    assert driver.current_url.endswith(f"/admin/import?lang={lang}")
    assert driver.find_element(By.ID, "app-title").text == t("app.title", lang)


def test_the_navigation_links_the_import_page_for_admins_only(signed_in_browser, live_server):
    from selenium.webdriver.common.by import By

    driver = signed_in_browser  # a bureau viewer
    _open(driver, f"{live_server}/dashboard?lang=en", "dash-kpis")
    assert driver.find_elements(By.ID, "app-nav-dashboard")
    assert not driver.find_elements(By.ID, "app-nav-import")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", ["map", "import"])
def test_signed_in_users_reach_their_api_tokens_from_the_user_bar(admin_browser, live_server, parcel_code, page, lang):
    """From a Dash page and from a page Flask renders: the tokens QGIS and GDAL need are one
    click away, in the page's language."""
    from selenium.webdriver.common.by import By

    driver = admin_browser
    path, ready = PAGES[page]
    _open(driver, f"{live_server}{path.format(code=parcel_code)}?lang={lang}", ready)
    link = driver.find_element(By.ID, "app-tokens")
    assert link.text == t("auth.tokens", lang)
    assert driver.execute_script(COVERED_BY, link) is None
    link.click()
    _wait(driver, lambda d: f"/account/tokens?lang={lang}" in d.current_url)
    _wait(driver, lambda d: t("tokens.page.title", lang) in d.find_element(By.TAG_NAME, "body").text)
