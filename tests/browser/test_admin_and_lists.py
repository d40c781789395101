"""Issue #18 in real headless Chromium: a bureau admin manages accounts from the app's navigation,
and the land inventories are parcel lists with their downloads."""

from __future__ import annotations

import pytest

from gisapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 30


@pytest.fixture(scope="module")
def admin(make_user):
    return make_user("bureau_admin")


@pytest.fixture(scope="module")
def admin_browser(live_server, admin):
    """A Chromium of this module's own, signed in as a bureau administrator."""
    from tests.browser.conftest import login, make_driver

    driver = make_driver()
    driver.set_page_load_timeout(60)
    try:
        login(driver, live_server, admin.username, admin.password)
        yield driver
    finally:
        driver.quit()


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
