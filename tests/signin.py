"""Signing in through the app's own sign-in form, for every kind of client the tests drive: a
Flask test client, a ``requests.Session`` against a served app (give ``base_url``) or a Selenium
WebDriver (give ``base_url``). The one place that knows the form's fields and its token.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
WAIT_SECONDS = 30


def form_token(html: str) -> str:
    """The form token (CSRF) of a page of the app that has a form."""
    match = TOKEN.search(html)
    assert match, "the page has no form token"
    return match.group(1)


def page_text(response) -> str:
    """The body of a Flask test response or a requests response."""
    text = getattr(response, "text", None)
    return text if isinstance(text, str) else response.get_data(as_text=True)


def post_login(client, username: str, password: str, next_url: str = "/", prefix: str = "", **options):
    """Post the sign-in form as ``client`` (Flask test client, or requests.Session with the served
    app's URL as ``prefix``) and return the response, whatever it is (tests of refusals read it).
    ``options`` go to both requests (e.g. a Flask client's ``base_url="https://..."``)."""
    page = client.get(f"{prefix}/login", **options)
    data = {"username": username, "password": password, "next": next_url, "csrf": form_token(page_text(page))}
    if hasattr(client, "mount"):  # requests: see the redirect itself
        options.setdefault("allow_redirects", False)
    return client.post(f"{prefix}/login", data=data, **options)


def sign_in(target, username: str, password: str, base_url: str | None = None):
    """Sign ``target`` in and check the app let it in; returns the response (the driver's URL
    for a browser). Raises AssertionError when the sign-in is refused."""
    if hasattr(target, "find_element"):  # Selenium WebDriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        target.get(f"{base_url}/login")
        WebDriverWait(target, WAIT_SECONDS).until(EC.presence_of_element_located((By.ID, "login-username")))
        target.find_element(By.ID, "login-username").send_keys(username)
        target.find_element(By.ID, "login-password").send_keys(password)
        target.find_element(By.ID, "login-submit").click()
        WebDriverWait(target, WAIT_SECONDS).until(
            lambda d: "/login" not in d.current_url or d.find_elements(By.ID, "login-error")
        )
        assert "/login" not in target.current_url, f"sign-in of {username} refused"
        return target.current_url
    resp = post_login(target, username, password, prefix=base_url or "")
    assert resp.status_code == 302, f"sign-in of {username} refused ({resp.status_code})"
    return resp
