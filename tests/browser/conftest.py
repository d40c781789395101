"""Browser-test fixtures: the real app served on a free port against the test database, and a
real headless Chromium driven by Selenium (Debian's /usr/bin/chromium and /usr/bin/chromedriver).

- ``live_server``: base URL of the app (one server for the whole browser session, in a thread).
- ``browser``: a Selenium driver (one Chromium for the session; tests share it, so each test
  navigates to the page it needs).
- ``signed_in_browser``: the same driver, signed in as ``BROWSER_USER`` when the app has sign-in.
- ``login(driver, base_url, username, password)``: sign in through the sign-in form.

Nothing here depends on a basemap or any other network: the map's default basemap is "none".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import app_in_thread
from tests.signin import sign_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--lang=zh-CN"]
#: the account the browser tests sign in with (created when the app has sign-in)
BROWSER_USER = ("browser.viewer", "browser-test-password", "bureau_viewer")
WAIT_SECONDS = 30
SESSION_COOKIE = "gisapp_session"


def has_sign_in() -> bool:
    return importlib.util.find_spec("gisapp.web.auth") is not None


@pytest.fixture(scope="session")
def findings_source(engine) -> str:
    """The real assessment on the test database, for the map's rule layers."""
    from tests.web.sample_findings import ensure_findings

    return ensure_findings(engine)


@pytest.fixture(scope="session")
def live_server(engine, findings_source):
    """The app (gisapp.web.app.create_app) on 127.0.0.1:<free port>, threaded, for the session."""
    with app_in_thread("gisapp-live-server") as url:
        yield url


def make_driver(width: int = 1280, height: int = 900):
    """A headless Chromium (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"browser tests need {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, "
                    "chromium-driver; scripts/bootstrap.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the given driver path keeps Selenium Manager (which would download) out of the way
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@contextmanager
def own_driver() -> Iterator:
    """A headless Chromium for as long as the block runs."""
    driver = make_driver()
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def chromium():
    """A Chromium of the test module's own: its session cookie does not leak into the shared
    browser (tests that sign in as someone else, or sign out)."""
    with own_driver() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser():
    with own_driver() as driver:
        yield driver


def login(driver, base_url: str, username: str, password: str) -> None:
    """Sign in through the sign-in form and wait until the app has let us in."""
    sign_in(driver, username, password, base_url)


@pytest.fixture(scope="session")
def browser_account(engine):
    """The browser tests' account (None when the app has no sign-in)."""
    if not has_sign_in():
        return None
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account

    username, password, role = BROWSER_USER
    try:
        find_account(engine, username)
    except NotFoundError:
        add_user(engine, username, password, role, display_name="Browser tests")
    return username, password


#: the session cookie the shared browser got at its last sign-in as BROWSER_USER
_SIGNED_IN: dict[str, str] = {}


@pytest.fixture()
def signed_in_browser(browser, live_server, browser_account):
    """The shared browser, signed in as ``BROWSER_USER``: again when an earlier test signed it
    out or in as someone else (its session cookie is then not the one this fixture got)."""
    if browser_account is None:
        return browser
    if not browser.current_url.startswith(live_server):
        browser.get(f"{live_server}/api/health")  # the app's origin, to read its cookie
    cookie = browser.get_cookie(SESSION_COOKIE)
    if cookie is None or cookie["value"] != _SIGNED_IN.get("value"):
        browser.delete_all_cookies()
        login(browser, live_server, *browser_account)
        _SIGNED_IN["value"] = browser.get_cookie(SESSION_COOKIE)["value"]
    return browser
