"""Sign-in through Flask's test client: the guard on every route, cookies, throttling, logout,
sessions ending when an account changes, no open redirect, forms with their token."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gisapp.queries import users
from gisapp.web.app import create_app
from tests.signin import form_token, post_login

pytestmark = pytest.mark.db

PUBLIC = {"/login", "/logout", "/api/health", "/_favicon.ico"}


@pytest.fixture(scope="module")
def app(engine):
    return create_app()


@pytest.fixture()
def client(app):
    return app.server.test_client()


_token = form_token
_post_login = post_login


def _example_url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(
            rf"<(?:[^:<>]+:)?{arg}>", "1" if "int" in str(rule._converters.get(arg, "")) else "x", url
        )
    return url


def test_every_route_page_and_callback_needs_a_session(app, client):
    checked = 0
    for rule in app.server.url_map.iter_rules():
        url = _example_url(rule)
        if url in PUBLIC or url.startswith("/assets/") or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method, json={} if method == "POST" else None)
            assert resp.status_code in (302, 401), (
                f"{method} {url} answered {resp.status_code} without a session"
            )
            if resp.status_code == 302:
                assert resp.headers["Location"].startswith("/login?next=")
            checked += 1
    assert checked >= 8  # pages, Dash's layout/dependencies/update-component, the API
    assert client.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401
    assert client.get("/").headers["Location"] == "/login?next=/"


def test_public_paths_answer_without_a_session(client):
    assert client.get("/login").status_code == 200
    assert client.get("/api/health").status_code == 200
    assert client.get("/assets/editing.css").status_code == 200


def test_sign_in_sets_an_httponly_samesite_cookie_and_opens_the_app(client, make_user):
    user = make_user("bureau_viewer")
    resp = _post_login(client, user.username, user.password, "/api/layers")
    assert resp.status_code == 302 and resp.headers["Location"] == "/api/layers"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/layers").status_code == 200
    assert client.post("/_dash-update-component", json={}).status_code != 401


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, make_user):
    user = make_user("analyst")
    wrong = _post_login(client, user.username, "not-the-password")
    unknown = _post_login(client, "nobody.here", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "用户名或密码错误"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert client.get("/api/layers").status_code == 401


def test_repeated_wrong_passwords_are_throttled(client, make_user, engine):
    user = make_user("zone_editor", ["jiading"])
    bystander = make_user("analyst")
    for _ in range(users.MAX_FAILURES):
        assert _post_login(client, user.username, "guess-guess").status_code == 401
    throttled = _post_login(client, user.username, user.password)  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 60
    assert "登录失败次数过多" in throttled.get_data(as_text=True)
    assert client.get("/api/layers").status_code == 401
    # another account is not locked out by this one's failures
    assert (
        _post_login(
            app_client := client.application.test_client(), bystander.username, bystander.password
        ).status_code
        == 302
    )
    assert app_client.get("/api/layers").status_code == 200
    with engine.begin() as conn:  # the window passes
        conn.execute(
            sa.text(
                "UPDATE auth.login_attempts SET attempted_at = attempted_at - interval '16 minutes' "
                "WHERE username = :u"
            ),
            {"u": user.username},
        )
    assert _post_login(client, user.username, user.password).status_code == 302
    with engine.connect() as conn:
        recorded = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE NOT succeeded), count(*) FILTER (WHERE succeeded) "
                "FROM auth.login_attempts WHERE username = :u"
            ),
            {"u": user.username},
        ).one()
    assert tuple(recorded) == (users.MAX_FAILURES + 1, 1)


def test_logout_needs_the_form_and_ends_the_session(client, make_user):
    user = make_user("bureau_viewer")
    _post_login(client, user.username, user.password)
    page = client.get("/logout")  # a link cannot sign anyone out
    assert page.status_code == 200 and client.get("/api/layers").status_code == 200
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 200
    assert client.get("/api/layers").status_code == 200
    resp = client.post("/logout", data={"csrf": _token(page.get_data(as_text=True))})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert client.get("/api/layers").status_code == 401


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disabling_an_account_or_changing_its_password_ends_its_sessions(client, make_user, engine, change):
    user = make_user("bureau_viewer")
    _post_login(client, user.username, user.password)
    assert client.get("/api/layers").status_code == 200
    if change == "disable":
        users.set_disabled(engine, user.username)
    else:
        users.set_password(engine, user.username, "a-brand-new-password")
    assert client.get("/api/layers").status_code == 401
    if change == "disable":
        assert _post_login(client, user.username, user.password).status_code == 401


@pytest.mark.parametrize("change", ["psql", "zones", "role"])
def test_an_account_changed_anywhere_is_refused_on_its_next_request(client, make_user, engine, change):
    """The signed-in account is kept in memory between requests (gisapp.web.account_cache); a
    change made outside the app (psql, the CLI) must end its sessions all the same, at once."""
    user = make_user("zone_editor", ["jiading"])
    _post_login(client, user.username, user.password)
    assert client.get("/api/layers").status_code == 200
    assert client.get("/api/layers").status_code == 200  # now answered from memory
    with engine.begin() as conn:
        if change == "psql":
            conn.execute(sa.text("UPDATE auth.users SET disabled = true WHERE username = :u"), {"u": user.username})
        elif change == "role":
            conn.execute(sa.text("DELETE FROM auth.user_zones WHERE user_id = "
                                 "(SELECT id FROM auth.users WHERE username = :u)"), {"u": user.username})
            conn.execute(sa.text("UPDATE auth.users SET role = 'bureau_viewer' WHERE username = :u"),
                         {"u": user.username})
    if change == "zones":
        users.set_user_zones(engine, user.username, ("waigaoqiao_ftz",))
    assert client.get("/api/layers").status_code == 401


def test_the_account_cache_reads_an_account_once_until_the_database_says_it_changed(engine, make_user):
    import select

    from gisapp.web.account_cache import AccountCache

    account = users.find_account(engine, make_user("analyst").username)
    cache = AccountCache(engine)
    loads = []

    def load(account_id):
        loads.append(account_id)
        return users.get_account(engine, account_id)

    try:
        assert cache.get(account.id, load) == account
        assert cache.get(account.id, load) == account and loads == [account.id]
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE auth.users SET display_name = 'Renamed' WHERE id = :i"), {"i": account.id})
        # the notification is on its way (sent at commit); the next lookup takes it and reads again
        select.select([cache._listener.pgconn.socket], [], [], 5)
        assert cache.get(account.id, load).display_name == "Renamed" and loads == [account.id] * 2
    finally:
        cache.close()
    # without a listener nothing is kept: every lookup reads the database
    assert cache.get(account.id, load) is not None and cache.get(account.id, load) is not None
    assert len(loads) == 4


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_redirects_off_site(client, make_user, target):
    user = make_user("analyst")
    resp = _post_login(client, user.username, user.password, target)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_the_sign_in_form_needs_its_token(client, make_user):
    user = make_user("analyst")
    resp = client.post("/login", data={"username": user.username, "password": user.password})
    assert resp.status_code == 400 and client.get("/api/layers").status_code == 401


def test_html_typed_as_a_user_name_is_shown_as_text(client):
    resp = _post_login(client, '<script>alert("x")</script>', "whatever-password")
    body = resp.get_data(as_text=True)
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


def test_passwords_are_stored_as_argon2_hashes(engine, make_user):
    user = make_user("analyst")
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM auth.users WHERE username = :u"), {"u": user.username}
        ).scalar()
    assert stored.startswith("$argon2id$") and user.password not in stored
    with pytest.raises(users.InputError):
        users.add_user(engine, "short.pw", "short", "analyst")


def test_gis_clients_may_read_the_api_with_basic_credentials_only(client, make_user, engine):
    import base64

    user = make_user("analyst")

    def basic(password: str) -> dict:
        token = base64.b64encode(f"{user.username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    assert client.get("/api/layers", headers=basic(user.password)).status_code == 200
    assert client.get("/api/layers", headers=basic("wrong-password")).status_code == 401
    # no session is made, pages and writes still need the sign-in page
    assert client.get("/api/layers").status_code == 401
    assert client.get("/", headers=basic(user.password)).status_code == 302
    assert (
        client.post("/api/edits/parcels/X/status", json={}, headers=basic(user.password)).status_code == 401
    )
    with engine.connect() as conn:
        attempts = (
            conn.execute(
                sa.text("SELECT succeeded FROM auth.login_attempts WHERE username = :u"), {"u": user.username}
            )
            .scalars()
            .all()
        )
    assert attempts == [False]  # failures count towards throttling; successes are not logged per request
