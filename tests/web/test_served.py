"""The app as `gisapp serve` runs it: gunicorn, several worker processes, each with its own pools,
account cache and listeners. Signing in, pages, Dash callbacks and the map's reads work through
any worker, and an account changed in the database is refused at once by every worker, on the
map's reads (checked after their query) as on every other route."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests
import sqlalchemy as sa

from gisapp.queries import users

pytestmark = pytest.mark.db

WORKERS = 2
# one fresh connection per request: gunicorn hands each to whichever worker accepts it first
CLOSE = {"Connection": "close"}
VIEWPORT = "/api/layers/parcels/features?bbox=121.55,31.28,121.65,31.36&zoom=14&format=geobuf&properties=style"
TILE = "/tiles/parcels/14/13726/6689.pbf"  # Waigaoqiao, where the demo has parcels


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(engine, settings, findings_source):
    """``gisapp serve`` (gunicorn) on a free port, on the test database."""
    port = _free_port()
    env = {**os.environ, "GISAPP_DB_NAME": settings.db_name}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from gisapp.cli import main; main()", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(WORKERS), "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # each worker imports the app (seconds on a busy machine)
    try:
        while True:
            try:
                if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # workers still loading the app
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
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(f"{base}/login", headers=CLOSE).text).group(1)
    resp = session.post(f"{base}/login", data={"csrf": token, "username": user.username, "password": user.password,
                                               "next": "/"}, headers=CLOSE, allow_redirects=False)
    assert resp.status_code == 302, resp.text[:200]
    return session


def _user_bar(session: requests.Session, base: str) -> requests.Response:
    payload = {"output": "app-user.children", "outputs": {"id": "app-user", "property": "children"},
               "inputs": [{"id": "_pages_location", "property": "search", "value": "?lang=en"}],
               "changedPropIds": ["_pages_location.search"], "state": []}
    return session.post(f"{base}/_dash-update-component", json=payload, headers=CLOSE)


def test_gunicorn_serves_pages_callbacks_and_the_map_from_every_worker(served, make_user):
    user = make_user("bureau_viewer")
    session = _signed_in(served, user)
    for _ in range(4 * WORKERS):
        page = session.get(f"{served}/", headers=CLOSE)
        assert page.status_code == 200 and page.headers["Server"].startswith("gunicorn")
        bar = _user_bar(session, served)  # a Dash callback: who is signed in (the display name is the user name)
        assert bar.status_code == 200 and user.username in bar.text, bar.text[:300]
        viewport = session.get(f"{served}{VIEWPORT}", headers=CLOSE)
        assert viewport.status_code == 200 and int(viewport.headers["X-Feature-Count"]) > 0
        assert session.get(f"{served}{TILE}", headers=CLOSE).status_code == 200
    # anonymous: refused everywhere
    assert requests.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 401
    assert requests.get(f"{served}{TILE}", headers=CLOSE, allow_redirects=False).status_code == 302


@pytest.mark.parametrize("change", ["disable", "zones"])
def test_every_worker_refuses_an_account_changed_in_the_database_at_once(served, make_user, engine, change):
    user = make_user("zone_editor", ["jiading"])
    session = _signed_in(served, user)
    # warm every worker's account cache (several connections land on every worker)
    for _ in range(4 * WORKERS):
        assert session.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 200
        assert session.get(f"{served}{TILE}", headers=CLOSE).status_code == 200
    # and kept-alive connections, as a browser keeps: these go on with the same worker
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
    for _ in range(4 * WORKERS):
        assert session.get(f"{served}{VIEWPORT}", headers=CLOSE).status_code == 401
        assert session.get(f"{served}{TILE}", headers=CLOSE, allow_redirects=False).status_code in (302, 401)
        assert session.get(f"{served}/api/layers", headers=CLOSE).status_code == 401
