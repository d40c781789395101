"""Issue #18 in real headless Chromium: a bureau admin manages accounts from the app's navigation,
and the land inventories are parcel lists with their downloads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 30


@pytest.fixture(scope="module")
def admin(make_user):
    return make_user("bureau_admin")


@pytest.fixture(scope="module")
def admin_browser(chromium, live_server, admin):
    """A Chromium of this module's own, signed in as a bureau administrator."""
    from tests.browser.conftest import login

    login(chromium, live_server, admin.username, admin.password)
    return chromium


def _wait(driver, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition)


def test_an_admin_adds_and_disables_an_account_from_the_navigation(admin_browser, live_server, engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from gisapp.queries.users import find_account

    driver = admin_browser
    driver.get(f"{live_server}/dashboard?lang=zh")
    link = _wait(driver, lambda d: d.find_elements(By.ID, "app-nav-users"))[0]
    assert link.text == t("nav.users", "zh")
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "users-add-form"))
    assert driver.find_element(By.TAG_NAME, "h2").text == t("users.page.title", "zh")

    driver.find_element(By.ID, "users-add-username").send_keys("browser.added")
    Select(driver.find_element(By.ID, "users-add-role")).select_by_value("zone_editor")
    Select(driver.find_element(By.ID, "users-add-zones")).select_by_value("yangshan")
    driver.find_element(By.ID, "users-add-password").send_keys("browser-added-1")
    driver.find_element(By.ID, "users-add-submit").click()
    done = _wait(driver, lambda d: d.find_elements(By.ID, "users-done"))[0]
    assert done.text == t("users.page.done.add", "zh", name="browser.added")
    row = driver.find_element(By.ID, "users-row-browser.added")
    assert row.find_element(By.CLASS_NAME, "users-state").text == t("users.page.active", "zh")
    assert find_account(engine, "browser.added").zone_codes == ("yangshan",)

    row.find_element(By.CLASS_NAME, "users-toggle").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "users-done"))
    row = driver.find_element(By.ID, "users-row-browser.added")
    assert row.find_element(By.CLASS_NAME, "users-state").text == t("users.page.disabled", "zh")
    assert find_account(engine, "browser.added").disabled

    # the same page in English, by the language switch
    driver.find_element(By.ID, "app-lang-switch").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "users-table") and "lang=en" in d.current_url)
    assert driver.find_element(By.TAG_NAME, "h2").text == t("users.page.title", "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_inventories_list_parcels_by_zone_with_their_downloads(admin_browser, live_server, engine, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = admin_browser
    driver.get(f"{live_server}/dashboard?lang={lang}")
    link = _wait(driver, lambda d: d.find_elements(By.ID, "app-nav-inventory"))[0]
    assert link.text == t("nav.inventory", lang)
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "inventory-filter"))
    assert driver.find_element(By.ID, "inventory-heading").text == t("outcome.approved_unsupplied", lang)

    # the zone with the most parcels supplied but not built, chosen in the page's filter
    with engine.connect() as conn:
        zone, count = conn.execute(sa.text(
            "SELECT z.code, count(*) FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key "
            "WHERE f.rule = 'land_inventory' AND f.outcome = 'supplied_unbuilt' "
            "GROUP BY z.id ORDER BY count(*) DESC, z.id LIMIT 1")).one()
    driver.find_element(By.ID, "inventory-kind-supplied_unbuilt").click()
    _wait(driver, lambda d: "/inventory/supplied_unbuilt" in d.current_url)
    assert driver.find_element(By.ID, "inventory-heading").text == t("outcome.supplied_unbuilt", lang)
    Select(driver.find_element(By.ID, "inventory-zone")).select_by_value(zone)
    driver.find_element(By.ID, "inventory-show").click()
    _wait(driver, lambda d: f"zone={zone}" in d.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "#inventory-table tr.inventory-row")
    assert len(rows) == count

    for ext, kind in (("xlsx", "spreadsheetml"), ("gpkg", "geopackage")):
        href = driver.find_element(By.ID, f"inventory-download-{ext}").get_attribute("href")
        assert f"/inventory/supplied_unbuilt.{ext}?" in href and f"zone={zone}" in href
        got = driver.execute_async_script(
            "const done = arguments[1];"
            "fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type'),"
            " b.byteLength]))).catch(e => done([0, String(e), 0]));", href)
        assert got[0] == 200 and kind in got[1] and got[2] > 0, got
