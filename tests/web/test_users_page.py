"""The accounts page of bureau admins (/admin/users, issue #18): add, disable, enable, new password,
zones; each change audited with the admin's name; refused for everyone else by the page and, on
any path, by the database's account functions (sql/security/0710)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.db.context import Actor, acting_as
from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.queries import users
from tests.signin import form_token, post_login
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(engine):
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def admin(app, engine):
    client = app.server.test_client()
    sign_in(client, engine, ("users.admin", "users-admin-password", "bureau_admin"))
    return client


def _post(client, lang: str = "zh", **data):
    page = client.get(f"/admin/users?lang={lang}").get_data(as_text=True)
    return client.post(f"/admin/users?lang={lang}", data={"csrf": form_token(page), **data})


def _audit(engine, username: str) -> list[tuple]:
    """The account's audited changes, oldest first: (action, app_user, reason, new_row)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT c.action, c.app_user, c.reason, c.new_row FROM audit.change_log c "
            "WHERE c.table_schema = 'auth' AND c.table_name = 'users' "
            "AND c.row_id = (SELECT id::text FROM auth.users WHERE username = :u) ORDER BY c.id"), {"u": username})]


def test_the_page_lists_the_accounts_in_both_languages(admin, make_user):
    user = make_user("zone_editor", ("yangshan",))
    zh = admin.get("/admin/users").get_data(as_text=True)
    assert "用户管理" in zh and user.username in zh and "园区编辑" in zh and "洋山特殊综合保税区" in zh
    en = admin.get("/admin/users?lang=en")
    assert en.status_code == 200
    text = en.get_data(as_text=True)
    assert "User accounts" in text and "Zone editor" in text and "Last sign-in" in text
    assert 'id="app-nav-users"' in text  # linked in the navigation for admins


def test_admin_adds_disables_enables_resets_and_assigns_zones_all_audited(app, admin, engine):
    name = "web.added"
    resp = _post(admin, "en", action="add", username=name, display_name="Added on the web", role="zone_editor",
                 zones=["waigaoqiao_ftz"], password="first-password-1")
    assert resp.status_code == 200 and f"Account {name} added" in resp.get_data(as_text=True)
    account = users.find_account(engine, name)
    assert (account.role, account.zone_codes, account.disabled) == ("zone_editor", ("waigaoqiao_ftz",), False)

    resp = _post(admin, action="zones", username=name, zones=["yangshan", "jiading"])
    assert resp.status_code == 200 and "已更新" in resp.get_data(as_text=True)
    assert set(users.find_account(engine, name).zone_codes) == {"yangshan", "jiading"}

    assert _post(admin, action="disable", username=name).status_code == 200
    assert users.find_account(engine, name).disabled
    assert post_login(app.server.test_client(), name, "first-password-1").status_code == 401
    assert _post(admin, action="enable", username=name).status_code == 200
    assert not users.find_account(engine, name).disabled

    assert _post(admin, action="password", username=name, password="second-password-2").status_code == 200
    assert post_login(app.server.test_client(), name, "first-password-1").status_code == 401
    assert post_login(app.server.test_client(), name, "second-password-2").status_code == 302

    log = _audit(engine, name)
    assert [(action, who) for action, who, _r, _n in log] == [("INSERT", "users.admin")] + [("UPDATE", "users.admin")] * 4
    assert [reason for _a, _w, reason, _n in log] == [
        f"add user {name}", f"zones of {name}: yangshan, jiading", f"disable user {name}", f"enable user {name}",
        f"new password for {name}"]
    assert log[-1][3].get("password_changed") is True
    assert all("password_hash" not in (new or {}) for _a, _w, _r, new in log)


@pytest.mark.parametrize("lang, words", [("zh", "园区编辑须至少负责一个园区"), ("en", "at least one zone")])
def test_bad_forms_are_refused_with_a_message_and_write_nothing(admin, engine, lang, words):
    resp = _post(admin, lang, action="add", username="web.nozone", role="zone_editor", password="long-enough-1")
    assert resp.status_code == 400 and words in resp.get_data(as_text=True)
    with pytest.raises(NotFoundError):
        users.find_account(engine, "web.nozone")
    short = _post(admin, lang, action="add", username="web.short", role="analyst", password="short")
    assert short.status_code == 400
    taken = _post(admin, lang, action="add", username="users.admin", role="analyst", password="long-enough-1")
    assert taken.status_code == 400 and "users.admin" in taken.get_data(as_text=True)


def test_an_admin_cannot_disable_the_account_it_is_signed_in_with(admin, engine):
    resp = _post(admin, "en", action="disable", username="users.admin")
    assert resp.status_code == 400 and "signed in with" in resp.get_data(as_text=True)
    assert not users.find_account(engine, "users.admin").disabled


def test_a_form_without_the_token_is_refused(admin, engine, make_user):
    user = make_user("analyst")
    resp = admin.post("/admin/users", data={"action": "disable", "username": user.username})
    assert resp.status_code == 400
    assert not users.find_account(engine, user.username).disabled


@pytest.mark.parametrize("role", ["bureau_viewer", "zone_editor", "analyst"])
def test_everyone_but_a_bureau_admin_gets_only_the_refusal(app, engine, make_user, role):
    me = make_user(role, ("yangshan",) if role == "zone_editor" else ())
    victim = make_user("analyst")
    client = app.server.test_client()
    sign_in(client, engine, (me.username, me.password, role))
    for lang, words in (("zh", "只有规划局管理员可以管理用户账户"), ("en", "Only bureau administrators may manage")):
        resp = client.get(f"/admin/users?lang={lang}")
        text = resp.get_data(as_text=True)
        assert resp.status_code == 403 and words in text
        assert victim.username not in text and 'id="users-add-form"' not in text and "app-nav-users" not in text
    resp = client.post("/admin/users", data={"action": "disable", "username": victim.username, "csrf": "x"})
    assert resp.status_code == 403
    assert not users.find_account(engine, victim.username).disabled


def test_anonymous_requests_go_to_sign_in(app):
    assert app.server.test_client().get("/admin/users").status_code == 302


@pytest.mark.parametrize("actor", [Actor("db.viewer", "bureau_viewer"), Actor("db.editor", "zone_editor", (1,)),
                                   Actor("db.analyst", "analyst")])
def test_the_database_refuses_account_changes_in_a_non_admin_context(engine, make_user, actor):
    victim = make_user("analyst")
    hashed = users.hash_password("some-password-9")
    calls = [("SELECT auth.set_account_disabled(:u, true)", {"u": victim.username}),
             ("SELECT auth.set_account_password(:u, :h)", {"u": victim.username, "h": hashed}),
             ("SELECT auth.add_account('db.intruder', 'x', :h, 'bureau_admin', '{}')", {"h": hashed})]
    for sql, values in calls:
        with pytest.raises(sa.exc.DBAPIError) as refused:
            with acting_as(get_engine(), actor) as conn:  # the app's login, the request role, signed context
                conn.execute(sa.text(sql), values)
        assert refused.value.orig.sqlstate == "42501", sql
        assert "only a bureau admin" in str(refused.value.orig)
    # the queries' own path says the same as an error a person reads
    with pytest.raises(users.AccountChangeRefused):
        users.set_disabled(get_engine(), victim.username, actor=actor)
    assert not users.find_account(engine, victim.username).disabled
    with pytest.raises(NotFoundError):
        users.find_account(engine, "db.intruder")


def test_the_database_refuses_the_app_login_without_a_signed_in_admin(engine, make_user):
    victim = make_user("analyst")
    app_engine = get_engine()
    # the login role itself has no EXECUTE (NOINHERIT); the request role without a context is nobody
    for setup in ("", "SET LOCAL ROLE gisapp_web; "):
        with pytest.raises(sa.exc.DBAPIError) as refused:
            with app_engine.begin() as conn:
                if setup:
                    conn.execute(sa.text(setup))
                conn.execute(sa.text("SELECT set_config('gisapp.user', 'users.admin', true)"))
                conn.execute(sa.text("SELECT auth.set_account_disabled(:u, true)"), {"u": victim.username})
        assert refused.value.orig.sqlstate == "42501"
    with pytest.raises(users.AccountChangeRefused):
        users.set_disabled(app_engine, victim.username, actor="users.admin")  # a name is no context
    assert not users.find_account(engine, victim.username).disabled


def test_a_bureau_admin_context_passes_the_database_and_is_audited(engine, make_user):
    victim = make_user("analyst")
    users.set_disabled(get_engine(), victim.username, actor=Actor("ctx.admin", "bureau_admin"))
    assert users.find_account(engine, victim.username).disabled
    action, who, reason, _new = _audit(engine, victim.username)[-1]
    assert (action, who, reason) == ("UPDATE", "ctx.admin", f"disable user {victim.username}")


def test_the_cli_path_as_the_owner_still_works_and_is_audited(engine):
    account = users.add_user(engine, "cli.added", "cli-password-1", "analyst", actor="someone-at-the-cli")
    assert account.role == "analyst"
    assert _audit(engine, "cli.added")[0][:3] == ("INSERT", "someone-at-the-cli", "add user cli.added")


def test_a_disabled_users_session_stops_working_at_once(app, admin, engine, make_user):
    user = make_user("zone_editor", ("yangshan",))
    client = app.server.test_client()
    sign_in(client, engine, (user.username, user.password, "zone_editor"))
    assert client.get("/api/layers").status_code == 200
    assert _post(admin, action="disable", username=user.username).status_code == 200
    assert client.get("/api/layers").status_code == 401
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id "
                                    "WHERE u.username = :u"), {"u": user.username}).scalar() == 0
