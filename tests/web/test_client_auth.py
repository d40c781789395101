"""GIS clients sign in without the sign-in page: HTTP Basic or a personal API token on reads of
/api, /tiles, /styles and /ogc; 401 with a Basic challenge, never a redirect; CORS for the
listed origins (issue #21)."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

TILEJSON = "/tiles/parcels.json"


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def client(app):
    """A client of the module's app that never signs in through the page."""
    return app.server.test_client()


@pytest.mark.parametrize("path", ["/api/layers", TILEJSON, "/ogc/tileMatrixSets/WebMercatorQuad"])
def test_basic_credentials_read_with_get_head_and_options(client, make_user, path):
    user = make_user("analyst")
    got = client.get(path, headers=basic(user.username, user.password))
    assert got.status_code == 200 and got.is_json
    head = client.head(path, headers=basic(user.username, user.password))
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    options = client.options(path, headers=basic(user.username, user.password))
    assert options.status_code == 200 and "GET" in options.headers["Allow"]


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_clients_without_valid_credentials_get_a_basic_challenge_not_a_redirect(client, make_user, method):
    user = make_user("bureau_viewer")
    for headers in ({}, basic(user.username, "wrong-password-1")):
        refused = getattr(client, method)(TILEJSON, headers=headers)
        assert refused.status_code == 401, (method, headers)
        assert refused.headers["WWW-Authenticate"].startswith('Basic realm="gisapp"')
        assert "Location" not in refused.headers


def test_a_browser_is_not_challenged_and_pages_still_go_to_the_sign_in_page(client):
    # the web map's own fetches: a password dialog popping up over the map would be wrong
    fetched = client.get("/api/layers", headers={"Sec-Fetch-Mode": "cors"})
    assert fetched.status_code == 401 and "WWW-Authenticate" not in fetched.headers
    navigated = client.get("/styles/parcels.json", headers={"Sec-Fetch-Mode": "navigate"})
    assert navigated.status_code == 302 and navigated.headers["Location"].startswith("/login?next=/styles/")
    assert client.get("/").status_code == 302


def test_basic_runs_as_the_account_with_its_role_and_zones(app, client, make_user):
    from flask import g

    from gisapp.web.auth import current_actor

    editor = make_user("zone_editor", ("waigaoqiao_ftz",))
    with app.server.test_request_context(TILEJSON, headers=basic(editor.username, editor.password)):
        app.server.preprocess_request()
        actor = current_actor()
        assert actor.username == editor.username and actor.role == "zone_editor" and len(actor.zone_ids) == 1
        assert "_login_user" in g  # for this request only: no session was made
        from flask import session

        assert "sid" not in session


def test_a_disabled_account_and_a_new_password_are_refused_at_once(client, make_user, engine):
    from gisapp.queries.users import set_disabled, set_password

    user = make_user("bureau_viewer")
    assert client.get(TILEJSON, headers=basic(user.username, user.password)).status_code == 200  # now kept
    set_password(engine, user.username, "another-password-1")
    assert client.get(TILEJSON, headers=basic(user.username, user.password)).status_code == 401
    assert client.get(TILEJSON, headers=basic(user.username, "another-password-1")).status_code == 200
    set_disabled(engine, user.username)
    assert client.get(TILEJSON, headers=basic(user.username, "another-password-1")).status_code == 401


def test_basic_never_authorizes_a_write(client, make_user):
    admin = make_user("bureau_admin")
    refused = client.post("/api/edits/parcels/X/status", json={}, headers=basic(admin.username, admin.password))
    assert refused.status_code == 401


def test_api_tokens_read_as_bearer_and_as_basic_password_and_never_write(client, make_user, engine):
    from gisapp.queries.tokens import create_token

    admin = make_user("bureau_admin")
    other = make_user("analyst")
    _token_id, token = create_token(engine, admin.username, "QGIS")
    assert client.get(TILEJSON, headers=bearer(token)).status_code == 200
    assert client.head(TILEJSON, headers=bearer(token)).status_code == 200
    assert client.get(TILEJSON, headers=basic(admin.username, token)).status_code == 200
    # a token is its own user's: another user name with it signs nobody in
    assert client.get(TILEJSON, headers=basic(other.username, token)).status_code == 401
    assert client.get(TILEJSON, headers=bearer(token + "x")).status_code == 401
    # read-only: a bureau admin's token cannot edit
    write = client.post("/api/edits/parcels/X/status", json={}, headers=bearer(token))
    assert write.status_code == 401
    # nor open the web app's pages
    assert client.get("/", headers=bearer(token)).status_code == 302


def test_a_revoked_token_is_refused_at_once_and_tokens_are_stored_hashed(client, make_user, engine):
    from gisapp.queries.tokens import create_token, list_tokens, revoke_token

    user = make_user("bureau_viewer")
    token_id, token = create_token(engine, user.username, "GDAL script")
    assert client.get(TILEJSON, headers=bearer(token)).status_code == 200  # kept in memory now
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM auth.api_tokens WHERE id = :i"), {"i": token_id}).scalar()
        audit = conn.execute(sa.text(
            "SELECT action, new_row::text FROM audit.change_log WHERE table_name = 'api_tokens' AND row_id = :i"),
            {"i": str(token_id)}).all()
    assert token.encode() not in bytes(stored) and len(bytes(stored)) == 32
    assert [a for a, _row in audit] == ["INSERT"] and "token_hash" not in audit[0][1]
    revoke_token(engine, user.username, token_id)
    assert client.get(TILEJSON, headers=bearer(token)).status_code == 401
    assert not list_tokens(engine, user.username)[0].active


def test_a_token_is_changed_by_its_own_user_only(engine, make_user):
    from gisapp.db.context import Actor
    from gisapp.queries.tokens import create_token, revoke_token
    from gisapp.queries.users import AccountChangeRefused, get_account

    owner = make_user("analyst")
    admin = make_user("bureau_admin")
    token_id, _token = create_token(engine, owner.username, "mine")
    from gisapp.queries.users import find_account

    admin_account = find_account(engine, admin.username)
    as_admin = Actor(admin.username, "bureau_admin", admin_account.zone_ids)
    from gisapp.web.engine import web_engine

    with pytest.raises(AccountChangeRefused):
        revoke_token(web_engine(), owner.username, token_id, actor=as_admin)
    with pytest.raises(AccountChangeRefused):
        create_token(web_engine(), owner.username, "not yours", actor=as_admin)
    account = get_account(engine, find_account(engine, owner.username).id)
    mine = Actor(owner.username, account.role, account.zone_ids)
    revoke_token(web_engine(), owner.username, token_id, actor=mine)


@pytest.mark.parametrize("path", ["/ogc/no-such-thing", "/styles/no/such/thing", "/tiles/parcels/x"])
def test_unknown_paths_under_the_client_prefixes_are_json_404(client, make_user, path):
    user = make_user("analyst")
    missing = client.get(path, headers=basic(user.username, user.password))
    # JSON, in the app's contract or in OGC API's exception format (code, description)
    assert missing.status_code == 404 and missing.is_json
    assert "error" in missing.json or "description" in missing.json


@pytest.fixture(scope="module")
def cors_client(engine, findings_source):
    from gisapp.settings import get_settings
    from gisapp.web.app import create_app

    settings = get_settings().model_copy(update={"cors_origins": ["http://maps.example.test"]})
    return create_app(settings).server.test_client()


def test_cors_preflight_needs_no_credentials_and_lists_reads_only(cors_client):
    asked = {"Origin": "http://maps.example.test", "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "authorization"}
    preflight = cors_client.options(TILEJSON, headers=asked)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://maps.example.test"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    other = cors_client.options(TILEJSON, headers={**asked, "Origin": "http://evil.example.test"})
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers
    write = cors_client.options(TILEJSON, headers={**asked, "Access-Control-Request-Method": "POST"})
    assert write.status_code == 403


def test_cors_answers_carry_the_origin_for_listed_origins_only(cors_client, make_user, engine):
    from gisapp.queries.tokens import create_token

    user = make_user("bureau_viewer")
    _id, token = create_token(engine, user.username, "department map")
    read = cors_client.get(TILEJSON, headers={**bearer(token), "Origin": "http://maps.example.test"})
    assert read.status_code == 200
    assert read.headers["Access-Control-Allow-Origin"] == "http://maps.example.test"
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    assert "Origin" in read.headers["Vary"]
    # a refusal too, so that the page can tell a wrong token from a network failure
    refused = cors_client.get(TILEJSON, headers={"Origin": "http://maps.example.test"})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "http://maps.example.test"
    elsewhere = cors_client.get(TILEJSON, headers={**bearer(token), "Origin": "http://evil.example.test"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    # the web app's own pages never answer across origins
    page = cors_client.get("/login", headers={"Origin": "http://maps.example.test"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_security_headers_stay_on_client_answers(client, make_user):
    user = make_user("analyst")
    read = client.get(TILEJSON, headers=basic(user.username, user.password))
    assert read.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in read.headers["Content-Security-Policy"]
