"""The app as `gisapp serve` runs it: waitress, in a process of its own with its pools, account
cache and listeners. Signing in, pages, Dash callbacks and the map's reads work over many
connections at once, and an account changed in the database is refused at once, on the map's
reads (checked after their query) as on every other route, on new and kept-alive connections."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
import sqlalchemy as sa

from gisapp.queries import users
from tests.servers import free_port
from tests.signin import post_login

pytestmark = pytest.mark.db

ROUNDS = 4
# one fresh connection per request (a kept-alive one is tried besides)
CLOSE = {"Connection": "close"}
VIEWPORT = "/api/layers/parcels/features?bbox=121.55,31.28,121.65,31.36&zoom=14&format=geobuf&properties=style"
TILE = "/tiles/parcels/14/13726/6689.pbf"  # Waigaoqiao, where the demo has parcels


@pytest.fixture(scope="module")
def served(engine, settings, findings_source):
    """``gisapp serve`` (waitress) on a free port, on the test database."""
    port = free_port()
    env = {**os.environ, "GISAPP_DB_NAME": settings.db_name}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from gisapp.cli import main; main()", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--threads", "4", "--no-worker"],  # the workers: tests/db/test_live_findings.py
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # the server imports the app first (seconds on a busy machine)
    try:
        while True:
            try:
                if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still loading the app
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gisapp serve did not start: {proc.stdout.read() if proc.poll() is not None else ''}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _signed_in(base: str, user) -> requests.Session:
    session = requests.Session()
    resp = post_login(session, user.username, user.password, prefix=base, headers=CLOSE)
    assert resp.status_code == 302, resp.text[:200]
    return session


def _user_bar(session: requests.Session, base: str) -> requests.Response:
    payload = {"output": "app-user.children", "outputs": {"id": "app-user", "property": "children"},
               "inputs": [{"id": "_pages_location", "property": "search", "value": "?lang=en"}],
               "changedPropIds": ["_pages_location.search"], "state": []}
    return session.post(f"{base}/_dash-update-component", json=payload, headers=CLOSE)


def test_the_served_app_signs_in_and_answers_pages_callbacks_and_the_map(served, make_user):
    user = make_user("bureau_viewer")
    session = _signed_in(served, user)
    for _ in range(ROUNDS):
        page = session.get(f"{served}/", headers=CLOSE)
        assert page.status_code == 200 and page.headers["Server"] == "gisapp"
        bar = _user_bar(session, served)  # a Dash callback: who is signed in (the display name is the user name)
        assert bar.status_code == 200 and user.username in bar.text, bar.text[:300]
        viewport = session.get(f"{served}{VIEWPORT}", headers=CLOSE)
        assert viewport.status_code == 200 and int(viewport.headers["X-Feature-Count"]) > 0
        assert session.get(f"{served}{TILE}", headers=CLOSE).status_code == 200
    # anonymous: refused everywhere
    assert requests.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 401
    # a tile client is challenged for credentials, never sent to the sign-in page (issue #21)
    assert requests.get(f"{served}{TILE}", headers=CLOSE, allow_redirects=False).status_code == 401


@pytest.mark.parametrize("change", ["disable", "zones"])
def test_the_served_app_refuses_an_account_changed_in_the_database_at_once(served, make_user, engine, change):
    user = make_user("zone_editor", ["jiading"])
    session = _signed_in(served, user)
    # the account kept in memory, the map's reads then take it from there
    for _ in range(ROUNDS):
        assert session.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 200
        assert session.get(f"{served}{TILE}", headers=CLOSE).status_code == 200
    # and kept-alive connections, as a browser keeps
    kept = [_signed_in(served, user) for _ in range(2)]
    for s in kept:
        assert s.get(f"{served}{VIEWPORT}").status_code == 200
    with engine.begin() as conn:
        if change == "disable":
            conn.execute(sa.text("UPDATE auth.users SET disabled = true WHERE username = :u"), {"u": user.username})
    if change == "zones":
        users.set_user_zones(engine, user.username, ("waigaoqiao_ftz",))
    # tiles are not under /api/: refused like a page, with a redirect to the sign-in page
    for s in kept:
        assert s.get(f"{served}{VIEWPORT}").status_code == 401
        assert s.get(f"{served}{TILE}", allow_redirects=False).status_code in (302, 401)
    for _ in range(ROUNDS):
        assert session.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 401
        assert session.get(f"{served}{TILE}", headers=CLOSE, allow_redirects=False).status_code in (302, 401)
        assert session.get(f"{served}/api/layers", headers=CLOSE).status_code == 401


@pytest.mark.parametrize("change", ["psql", "zones"])
def test_map_reads_take_the_account_from_memory_and_are_refused_after_a_change(engine, make_user,
                                                                               findings_source, change):
    """Viewports and tiles skip the listener's round trip (gisapp.web.auth.CHECKED_AFTER_QUERY):
    their own query tells whether an account changed, and the answer is held back if one did."""
    from gisapp.web.account_cache import account_cache
    from gisapp.web.app import create_app
    from gisapp.web.engine import web_engine
    from tests.web.conftest import sign_in

    user = make_user("zone_editor", ["jiading"])
    client = create_app().server.test_client()
    sign_in(client, engine, (user.username, user.password, user.role))
    account_id = users.find_account(engine, user.username).id
    cache = account_cache(web_engine())  # the app's own (its login role's), not the owner's

    def verified_at() -> float | None:
        kept = cache._accounts.get(account_id)
        return kept[2] if kept else None

    # a request that looks the account up (listener round trip) marks it verified anew; one
    # answered from memory does not. The first viewports may run on connections opened after
    # the account was verified, which cannot vouch for it (those look it up), or bring news of
    # the accounts made before (the cache is emptied, the next request reads it again).
    seen = []
    for _ in range(30):
        assert client.get(VIEWPORT).status_code == 200 and client.get(TILE).status_code == 200
        seen.append(verified_at())
        if len(seen) > 2 and seen[-1] is not None and seen[-1] == seen[-2] == seen[-3]:
            break
    else:
        pytest.fail(f"viewports and tiles never took the account from memory: {seen}")
    with engine.begin() as conn:
        if change == "psql":
            conn.execute(sa.text("UPDATE auth.users SET disabled = true WHERE id = :i"), {"i": account_id})
    if change == "zones":
        users.set_user_zones(engine, user.username, ("waigaoqiao_ftz",))
    assert client.get(VIEWPORT).status_code == 401
    assert client.get(TILE).status_code == 401
