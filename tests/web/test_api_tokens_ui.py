"""Personal API tokens made and revoked by their user on /account/tokens and by the owner with
`gisapp tokens` (issue #21)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from tests.signin import form_token, sign_in

TILEJSON = "/tiles/parcels.json"


@pytest.fixture()
def signed_in(app, make_user):
    user = make_user("zone_editor", ("waigaoqiao_ftz",))
    client = app.server.test_client()
    sign_in(client, user.username, user.password)
    return client, user


def _post(client, lang: str = "zh", **form):
    page = client.get(f"/account/tokens?lang={lang}")
    return client.post(f"/account/tokens?lang={lang}", data={"csrf": form_token(page.get_data(as_text=True)), **form})


def test_a_user_makes_a_token_sees_it_once_and_revokes_it(app, signed_in):
    client, user = signed_in
    made = _post(client, "en", action="create", label="QGIS on the planning PC")
    html = made.get_data(as_text=True)
    assert made.status_code == 200
    token = re.search(r'<code id="tokens-new">([^<]+)</code>', html).group(1)
    assert "QGIS on the planning PC" in html
    reader = app.server.test_client()  # no session: the token alone
    assert reader.get(TILEJSON, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = client.get("/account/tokens?lang=en").get_data(as_text=True)
    assert token not in listed  # shown once only
    token_id = re.search(r'name="token_id" value="(\d+)"', listed).group(1)
    revoked = _post(client, "en", action="revoke", token_id=token_id)
    assert revoked.status_code == 200 and "Revoked" in revoked.get_data(as_text=True)
    assert reader.get(TILEJSON, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_nobody_revokes_another_users_token(app, signed_in, engine, make_user):
    from gisapp.queries.tokens import create_token, list_tokens

    client, _user = signed_in
    other = make_user("analyst")
    token_id, token = create_token(engine, other.username, "theirs")
    refused = _post(client, action="revoke", token_id=str(token_id))
    assert refused.status_code == 422 and 'id="tokens-error"' in refused.get_data(as_text=True)
    assert list_tokens(engine, other.username)[0].active


def test_the_page_refuses_a_form_without_its_token_and_an_empty_name(signed_in):
    client, _user = signed_in
    assert client.post("/account/tokens", data={"action": "create", "label": "x"}).status_code == 400
    assert _post(client, action="create", label="   ").status_code == 422


def test_a_token_cannot_open_the_token_page(app, engine, make_user):
    from gisapp.queries.tokens import create_token

    user = make_user("bureau_admin")
    _id, token = create_token(engine, user.username, "script")
    page = app.server.test_client().get("/account/tokens", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_the_cli_creates_lists_and_revokes_tokens(app, engine, make_user):
    from gisapp.cli import main

    user = make_user("bureau_viewer")
    runner = CliRunner()
    made = runner.invoke(main, ["tokens", "create", "--user", user.username, "--label", "GDAL batch"])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    reader = app.server.test_client()
    assert reader.get(TILEJSON, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = runner.invoke(main, ["tokens", "list", "--user", user.username])
    assert "GDAL batch" in listed.output and "active" in listed.output and token not in listed.output
    token_id = listed.output.split()[0]
    assert runner.invoke(main, ["tokens", "revoke", "--user", user.username, token_id]).exit_code == 0
    assert reader.get(TILEJSON, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    missing = runner.invoke(main, ["tokens", "create", "--user", "no.such.user", "--label", "x"])
    assert missing.exit_code == 1 and "no.such.user" in missing.output
