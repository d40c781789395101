"""Server-side sessions and throttled sign-in (issue 16): a cookie kept from before logout or a
password change signs nobody in; a cookie presented by another client ends its session; failed
sign-ins are throttled per account and address with a back-off, and per account from
everywhere, so one noisy address (or a proxy everyone shares) locks no one else out."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from gisapp.queries import users
from gisapp.web.app import create_app
from tests.signin import form_token, post_login

pytestmark = pytest.mark.db

BROWSER = "Mozilla/5.0 (gisapp test browser)"


@pytest.fixture(scope="module")
def app(engine):
    return create_app()


def _client(app, addr: str = "10.1.0.1", agent: str = BROWSER):
    client = app.server.test_client()
    client.environ_base.update({"REMOTE_ADDR": addr, "HTTP_USER_AGENT": agent})
    return client


_token = form_token
_sign_in = post_login


def _cookie(client) -> str:
    return client.get_cookie("gisapp_session").value


def _with_cookie(app, cookie: str, addr: str = "10.1.0.1", agent: str = BROWSER):
    other = _client(app, addr, agent)
    other.set_cookie("gisapp_session", cookie)
    return other


def _open_sessions(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id "
                                    "WHERE u.username = :u"), {"u": username}).scalar()


def test_a_cookie_kept_from_before_logout_signs_nobody_in(app, engine, make_user):
    user = make_user("bureau_viewer")
    client = _client(app)
    assert _sign_in(client, user.username, user.password).status_code == 302
    kept = _cookie(client)
    assert _with_cookie(app, kept).get("/api/layers").status_code == 200
    assert _open_sessions(engine, user.username) == 1
    page = client.get("/logout")
    assert client.post("/logout", data={"csrf": _token(page.get_data(as_text=True))}).status_code == 302
    # the copy still carries a valid signature and a valid account version: only the server knows
    assert _with_cookie(app, kept).get("/api/layers").status_code == 401
    assert _open_sessions(engine, user.username) == 0


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_a_disabled_account_ends_the_sessions_on_the_server(app, engine, make_user, change):
    user = make_user("analyst")
    clients = [_client(app, f"10.1.1.{i}") for i in range(2)]
    for client in clients:
        assert _sign_in(client, user.username, user.password).status_code == 302
    assert _open_sessions(engine, user.username) == 2
    if change == "password":
        users.set_password(engine, user.username, "another-password-42")
    else:
        users.set_disabled(engine, user.username)
    assert _open_sessions(engine, user.username) == 0
    for client in clients:
        assert client.get("/api/layers").status_code == 401


def test_a_session_deleted_in_psql_is_refused_at_once_even_from_memory(app, engine, make_user):
    user = make_user("bureau_viewer")
    client = _client(app)
    assert _sign_in(client, user.username, user.password).status_code == 302
    for _ in range(3):  # the account and its session now come from memory
        assert client.get("/api/layers").status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM auth.sessions WHERE user_id = (SELECT id FROM auth.users "
                             "WHERE username = :u)"), {"u": user.username})
    assert client.get("/api/layers").status_code == 401


@pytest.mark.parametrize("moved", ["agent", "address"])
def test_a_cookie_presented_by_another_client_ends_the_session(app, engine, make_user, moved):
    user = make_user("bureau_viewer")
    client = _client(app)
    assert _sign_in(client, user.username, user.password).status_code == 302
    assert client.get("/api/layers").status_code == 200
    stolen = _with_cookie(app, _cookie(client), **({"agent": "curl/8.0"} if moved == "agent" else {"addr": "10.9.9.9"}))
    assert stolen.get("/api/layers").status_code == 401
    # and its own browser is sent back to the sign-in page: the owner learns of it
    assert client.get("/api/layers").status_code == 401
    assert _open_sessions(engine, user.username) == 0


def test_a_cookie_signed_before_server_sessions_without_an_id_is_refused(app, engine, make_user):
    """A session cookie that only names the account (as every cookie did before auth.sessions)."""
    user = make_user("analyst")
    account = users.find_account(engine, user.username)
    client = _client(app)
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    old = serializer.dumps({"_user_id": f"{account.id}:{account.version}", "_fresh": True})
    client.set_cookie("gisapp_session", old)
    assert client.get("/api/layers").status_code == 401


def test_the_login_role_may_open_check_and_end_sessions_but_not_extend_them(engine):
    from gisapp.db.context import APP_ROLE

    with engine.connect() as conn:
        privileges = conn.execute(sa.text(
            "SELECT p, has_table_privilege(:r, 'auth.sessions', p) FROM unnest(ARRAY"
            "['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p"),
            {"r": APP_ROLE}).all()
        public = conn.execute(sa.text("SELECT has_table_privilege('public', 'auth.sessions', 'SELECT')")).scalar()
    assert dict(privileges) == {"SELECT": True, "INSERT": True, "DELETE": True, "UPDATE": False,
                                "TRUNCATE": False, "REFERENCES": False, "TRIGGER": False}
    assert not public


def test_the_session_table_holds_no_usable_session_id(app, engine, make_user):
    user = make_user("analyst")
    client = _client(app)
    _sign_in(client, user.username, user.password)
    sid = app.server.session_interface.get_signing_serializer(app.server).loads(_cookie(client))["sid"]
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id "
                                      "WHERE u.username = :u"), {"u": user.username}).scalar()
    assert bytes(stored) == users.session_key(sid) and sid.encode() not in bytes(stored)


# -- throttling ------------------------------------------------------------------------------------


def test_thirty_failures_with_random_names_from_one_address_lock_no_one_else_out(app, make_user):
    user = make_user("bureau_viewer")
    noisy = _client(app, "10.2.0.1")
    for _ in range(35):
        assert _sign_in(noisy, f"nobody.{secrets.token_hex(4)}", "wrong-password").status_code == 401
    # a colleague behind the same address (a proxy: everyone)
    assert _sign_in(_client(app, "10.2.0.1"), user.username, user.password).status_code == 302


def test_failures_from_one_address_do_not_lock_the_account_at_another(app, make_user):
    user = make_user("analyst")
    guessing = _client(app, "10.3.0.1")
    for _ in range(users.MAX_FAILURES):
        assert _sign_in(guessing, user.username, "guess-guess").status_code == 401
    assert _sign_in(guessing, user.username, user.password).status_code == 429
    assert _sign_in(_client(app, "10.3.0.2"), user.username, user.password).status_code == 302


def _age_attempts(engine, username: str, minutes: float) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE auth.login_attempts SET attempted_at = attempted_at - "
                             "make_interval(secs => :s) WHERE username = :u"), {"s": minutes * 60, "u": username})


def test_the_wait_doubles_with_each_further_failure_and_a_success_resets_it(app, engine, make_user):
    user = make_user("analyst")
    client = _client(app, "10.4.0.1")
    base = int(users.BACKOFF_BASE.total_seconds())
    for _ in range(users.MAX_FAILURES):
        assert _sign_in(client, user.username, "guess-guess").status_code == 401
    waits = []
    for _ in range(3):
        throttled = _sign_in(client, user.username, "guess-guess")
        assert throttled.status_code == 429
        waits.append(int(throttled.headers["Retry-After"]))
        # knocking while throttled does not lengthen the wait
        assert abs(int(_sign_in(client, user.username, "guess-guess").headers["Retry-After"]) - waits[-1]) <= 2
        _age_attempts(engine, user.username, waits[-1] / 60 + 0.1)  # the wait passes ...
        assert _sign_in(client, user.username, "guess-guess").status_code == 401  # ... one more guess
    assert [round(w / base) for w in waits] == [1, 2, 4]
    # the right password after the wait: signed in, and the count starts again
    _age_attempts(engine, user.username, 8 * base / 60 + 0.1)
    assert _sign_in(client, user.username, user.password).status_code == 302
    for _ in range(users.MAX_FAILURES - 1):
        assert _sign_in(_client(app, "10.4.0.1"), user.username, "guess-guess").status_code == 401
    assert _sign_in(_client(app, "10.4.0.1"), user.username, user.password).status_code == 302


def test_guesses_spread_over_many_addresses_throttle_the_account_everywhere(app, make_user):
    user = make_user("analyst")
    for i in range(users.MAX_ACCOUNT_FAILURES):
        assert _sign_in(_client(app, f"10.5.{i}.1"), user.username, "guess-guess").status_code == 401
    throttled = _sign_in(_client(app, "10.5.250.1"), user.username, user.password)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 60


def test_one_password_sprayed_over_many_accounts_slows_only_accounts_new_to_that_address(app, engine,
                                                                                         make_user):
    """From MAX_ADDRESS_FAILURES failures on, an address is slowed down for accounts it never
    signed in to; a colleague who signed in from there before goes on, as does any other address."""
    regular, newcomer = make_user("bureau_viewer"), make_user("analyst")
    assert _sign_in(_client(app, "10.9.0.1"), regular.username, regular.password).status_code == 302
    sprayer = _client(app, "10.9.0.1")
    with engine.begin() as conn:  # the spray's failures, as the sign-in records them
        conn.execute(sa.text(
            "INSERT INTO auth.login_attempts (username, remote_addr, succeeded) "
            "SELECT 'sprayed.' || g, '10.9.0.1', false FROM generate_series(1, :n) g"),
            {"n": users.MAX_ADDRESS_FAILURES})
    assert _sign_in(sprayer, newcomer.username, newcomer.password).status_code == 429
    assert _sign_in(_client(app, "10.9.0.1"), regular.username, regular.password).status_code == 302
    assert _sign_in(_client(app, "10.9.0.2"), newcomer.username, newcomer.password).status_code == 302
