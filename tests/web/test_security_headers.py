"""Security headers on every response (issue 16): a Content-Security-Policy that Dash runs under
(no inline script but Dash's own, by hash; no eval), no framing by any site, nosniff and a
Referrer-Policy; the session cookie Secure when the operator says the site is served over HTTPS.

The policy is checked in a real Chromium too: every page of the app loads and draws with no
violation reported by the browser."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from gisapp.web.app import create_app
from tests.signin import post_login

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(engine):
    return create_app()


def _policy(resp) -> dict[str, list[str]]:
    header = resp.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def _assert_headers(resp, what: str) -> None:
    policy = _policy(resp)
    assert policy, f"{what}: no Content-Security-Policy"
    assert policy["frame-ancestors"] == ["'none'"], what
    assert policy["default-src"] == ["'self'"], what
    assert policy["object-src"] == ["'none'"], what
    assert "'unsafe-eval'" not in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"], what
    assert resp.headers["X-Content-Type-Options"] == "nosniff", what
    assert resp.headers["X-Frame-Options"] == "DENY", what
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", what


def test_every_kind_of_response_carries_the_headers(app, client):
    anonymous = app.server.test_client()
    for what, resp in [
        ("sign-in page", anonymous.get("/login")),
        ("redirect to sign-in", anonymous.get("/")),
        ("401 of the API", anonymous.get("/api/layers")),
        ("health probe", anonymous.get("/api/health")),
        ("static asset", anonymous.get("/assets/gisapp.css")),
        ("the map page", client.get("/")),
        ("JSON of the API", client.get("/api/layers")),
        ("404 of the API", client.get("/api/no-such-thing")),
        ("a tile", client.get("/tiles/parcels/14/13726/6689.pbf")),
        ("a Dash callback", client.post("/_dash-update-component", json={})),
        ("the import page", client.get("/admin/import")),
    ]:
        _assert_headers(resp, what)


def test_the_only_inline_script_dash_runs_is_allowed_by_its_hash(app, client):
    page = client.get("/").get_data(as_text=True)
    allowed = set(_policy(client.get("/"))["script-src"])
    # scripts with a body that the browser runs (not JSON data, not inside an IE comment)
    body = re.sub(r"<!--.*?-->", "", page, flags=re.S)
    inline = [m.group(2) for m in re.finditer(r"<script([^>]*)>(.*?)</script>", body, re.S)
              if m.group(2).strip() and "application/json" not in m.group(1)]
    assert inline, "Dash's page has no inline script any more: drop the hashes"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed


def test_session_cookies_are_secure_when_the_operator_says_so(engine, make_user, monkeypatch):
    from gisapp.settings import get_settings

    user = make_user("analyst")
    monkeypatch.setenv("GISAPP_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    try:
        secure_app = create_app()
        client = secure_app.server.test_client()
        resp = post_login(client, user.username, user.password, base_url="https://gisapp.example")
        assert resp.status_code == 302
        cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert "max-age" in resp.headers["Strict-Transport-Security"]
    finally:
        monkeypatch.delenv("GISAPP_COOKIE_SECURE")
        get_settings.cache_clear()
    plain = create_app().server.test_client()
    resp = plain.get("/login")
    assert "Secure" not in resp.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in resp.headers


@pytest.mark.browser
def test_the_app_runs_in_chromium_under_its_policy_without_a_violation(engine, make_user, login, findings_source):
    import threading

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from tests.browser.conftest import make_driver
    from tests.servers import free_port

    user = make_user("bureau_admin")
    server = make_server("127.0.0.1", free_port(), create_app().server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    driver = make_driver()
    try:
        login(driver, user.username, user.password, base_url=base)
        for path, ready in [("/", "leaflet-container"), ("/dashboard", "dash-graph"), ("/admin/import", None)]:
            driver.get(base + path)
            driver.execute_script(
                "window.__csp = []; document.addEventListener('securitypolicyviolation',"
                " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));")
            if ready:
                WebDriverWait(driver, 30).until(lambda d, r=ready: d.find_elements(By.CLASS_NAME, r))
            # what the page did before the listener existed is in the console log
            logged = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
            assert not logged, f"{path}: {len(logged)} violations, first {logged[:2]}"
            assert driver.execute_script("return window.__csp") == [], path
    finally:
        driver.quit()
        server.shutdown()
        thread.join(timeout=10)
