"""The database stopped and started under a running server (issue 16): during the outage every
API request gets a 503 with a sentence and every page a readable page in the user's language;
the first request after the restart is served.

The outage is made on a second, throwaway PostgreSQL cluster this module starts in a temporary
folder, so tests running at the same time on the project's cluster are not disturbed."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from tests.servers import app_in_thread, free_port

pytestmark = pytest.mark.db

#: the environment this module points at the throwaway cluster (and gives back afterwards)
SWITCHED = ("GISAPP_DATA_DIR", "GISAPP_DB_PORT", "GISAPP_DB_NAME", "GISAPP_DATABASE_URL", "GISAPP_SECRET_KEY")
DB_DOWN = {"zh": "数据库暂时无法连接", "en": "database cannot be reached"}


@pytest.fixture(scope="module")
def outage_cluster(settings):
    """A private cluster of its own, migrated, made the process's database for this module."""
    from gisapp.db import engine as db_engine
    from gisapp.db.cluster import LocalCluster
    from gisapp.db.migrate import migrate
    from gisapp.settings import get_settings

    if not settings.uses_local_cluster:
        pytest.skip("needs PostgreSQL's server programs (the project's local cluster is not in use)")
    # under /var/tmp and world-readable: when the tests run as root the cluster runs as the
    # unprivileged database user, which must reach its folder
    folder = Path(tempfile.mkdtemp(prefix="gisapp-outage-", dir="/var/tmp"))
    folder.chmod(0o755)
    before = {name: os.environ.get(name) for name in SWITCHED}
    os.environ.pop("GISAPP_DATABASE_URL", None)
    os.environ.update(GISAPP_DATA_DIR=str(folder), GISAPP_DB_PORT=str(free_port()),
                      GISAPP_DB_NAME="gisapp_outage", GISAPP_SECRET_KEY="outage-test-key")
    get_settings.cache_clear()
    cluster = LocalCluster(get_settings())
    try:
        cluster.up()
        migrate(db_engine.owner_engine(), get_settings().sql_dir)
        yield cluster
    finally:
        _let_go(db_engine)
        cluster.down()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        shutil.rmtree(folder, ignore_errors=True)


def _let_go(db_engine) -> None:
    """Close this process's connections to the throwaway cluster (pools, the account listener)."""
    from gisapp.queries.features import read_engine
    from gisapp.web.account_cache import account_cache

    for engine in (db_engine.get_engine(), db_engine.owner_engine()):
        account_cache(engine).close()
        read_engine(engine).dispose()
        engine.dispose()


@pytest.fixture(scope="module")
def base_url(outage_cluster):
    with app_in_thread("gisapp-outage-server") as url:
        yield url


@pytest.fixture(scope="module")
def session(base_url, make_user, login):
    user = make_user("bureau_admin")
    signed_in = requests.Session()
    login(signed_in, user.username, user.password, base_url=base_url)
    return signed_in


API_READS = ["/api/search?q=WGQ", "/api/parcels/WGQ-00001", "/api/layers", "/api/edits/parcels/WGQ-00001",
             "/api/layers/parcels/features?bbox=121.5,31.2,121.7,31.4&zoom=15", "/tiles/parcels/15/27441/13371.pbf",
             "/api/dashboard/zones.csv"]


def test_requests_during_an_outage_get_503_with_a_sentence_and_the_first_after_it_is_served(
    outage_cluster, base_url, session
):
    assert session.get(f"{base_url}/api/search?q=WGQ").status_code == 200  # warm pools and caches
    stranger = requests.Session()  # about to sign in when the database goes away
    token = re.search(r'name="csrf" value="([^"]+)"', stranger.get(f"{base_url}/login?lang=en", timeout=10).text)

    outage_cluster.down()
    try:
        for path in API_READS:
            resp = session.get(f"{base_url}{path}", timeout=30)
            assert resp.status_code == 503, (path, resp.status_code, resp.text[:300])
            assert resp.headers["Content-Type"].startswith("application/json"), path
            body = resp.json()
            assert DB_DOWN["zh"] in body["error"] and body["field"] is None, (path, body)
            assert resp.headers.get("Retry-After"), path
        edit = session.post(f"{base_url}/api/edits/parcels/WGQ-00001/status?lang=en", timeout=30,
                            json={"to_status": "idle", "changed_on": "2024-01-01", "reason": "r", "version": 1})
        assert edit.status_code == 503 and DB_DOWN["en"] in edit.json()["error"], edit.text[:300]
        for lang in ("zh", "en"):
            page = session.get(f"{base_url}/?lang={lang}", timeout=30)
            assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html"), page.text[:300]
            assert DB_DOWN[lang] in page.text and "Traceback" not in page.text
        sign_in = stranger.post(f"{base_url}/login?lang=en", timeout=30, allow_redirects=False,
                                data={"csrf": token.group(1), "username": "someone", "password": "x", "next": "/"})
        assert sign_in.status_code == 503 and DB_DOWN["en"] in sign_in.text, sign_in.text[:300]
    finally:
        outage_cluster.up()

    first = session.get(f"{base_url}/api/search?q=WGQ", timeout=30)
    assert first.status_code == 200, first.text[:300]
    assert session.get(f"{base_url}/tiles/parcels/15/27441/13371.pbf", timeout=30).status_code in (200, 204)
    assert session.get(f"{base_url}/", timeout=30).status_code == 200
