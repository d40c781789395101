"""Shared fixtures: the real PostGIS the project starts itself, migrated, with demo data.

Tests use their own database (``gisapp_test``) in the project's private cluster, so they never
touch the demo database; with GISAPP_DATABASE_URL set they use that database instead.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GISAPP_DB_NAME", "gisapp_test")

from hypothesis import settings as hypothesis_settings  # noqa: E402

# CI runs the same property examples every time (a red CI run must be reproducible);
# locally hypothesis keeps exploring.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

from gisapp.settings import get_settings  # noqa: E402

get_settings.cache_clear()


#: Fixtures that start or use the project's PostGIS: a test that needs one (directly or through
#: another fixture) is a ``db`` test.
DATABASE_FIXTURES = {"cluster", "engine", "isolated_engine", "isolated_server", "make_user"}


def pytest_collection_modifyitems(config, items):
    """Mark every test ``unit``, ``db`` or ``browser`` from what it uses, so that
    ``pytest -m unit`` runs without PostGIS and Chromium and nobody has to remember a marker."""
    for item in items:
        uses_db = bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))
        if uses_db or item.get_closest_marker("db"):
            if not item.get_closest_marker("db"):
                item.add_marker(pytest.mark.db)
        if "browser" in item.path.parts and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        if not (item.get_closest_marker("db") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def settings():
    return get_settings()


@pytest.fixture(scope="session")
def cluster(settings):
    """The local cluster, started (not stopped afterwards: a second run reuses it)."""
    from gisapp.db.cluster import LocalCluster

    if not settings.uses_local_cluster:
        return None
    local = LocalCluster(settings)
    local.up()
    return local


@pytest.fixture(scope="session")
def engine(settings, cluster):
    """Engine (as the tables' owner) on a freshly created, migrated test database holding the
    synthetic demo data. The app under test connects as its own unprivileged login role."""
    from gisapp.db.engine import check_connection, owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import load_demo

    if cluster is not None:
        cluster.drop_database(settings.db_name)
        cluster.create_database(settings.db_name)
    eng = owner_engine()
    check_connection(eng)
    migrate(eng, settings.sql_dir)
    load_demo(eng, replace=True)
    return eng


@pytest.fixture(scope="session")
def demo_frames():
    """The frames the demo loader wrote (same seed), with the scenario of each record."""
    from gisapp.demo.load import build_dataset

    return build_dataset()


# -- accounts and signing in (the web app requires a session for every page, callback, route) ----

@pytest.fixture(scope="module")
def isolated_engine(engine, settings, cluster):
    """For tests that commit edits: a separate migrated database with the demo data, made the
    process's database (``get_engine()``, the web app, ``make_user``) for one test module, so the
    shared test database keeps its demo data intact for everyone else. Dropped afterwards.
    The engine is the owner's; ``get_engine()`` (the app's login role) points there too."""
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import load_demo

    if cluster is None:
        pytest.skip("needs the project's local cluster (GISAPP_DATABASE_URL points elsewhere)")
    name = f"{settings.db_name}_iso"
    cluster.drop_database(name)
    cluster.create_database(name)
    before = os.environ.get("GISAPP_DB_NAME")
    os.environ["GISAPP_DB_NAME"] = name
    get_settings.cache_clear()
    eng = owner_engine()
    try:
        migrate(eng, settings.sql_dir)
        load_demo(eng, replace=True)
        yield eng
    finally:
        eng.dispose()
        if before is None:
            os.environ.pop("GISAPP_DB_NAME", None)
        else:
            os.environ["GISAPP_DB_NAME"] = before
        get_settings.cache_clear()
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def make_user(engine):
    """Factory: ``make_user(role, zones=(), username=None, password=None)`` creates an account in
    the process's current database (the test database, or ``isolated_engine``'s while that is in
    use) and returns it as ``TestUser(username, password, role, zones)``.

    Roles: bureau_admin, bureau_viewer, zone_editor (give zone codes), analyst.
    """
    import itertools
    from collections import namedtuple

    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import add_user

    test_user = namedtuple("TestUser", "username password role zones")
    counter = itertools.count(1)

    def make(role: str, zones=(), username: str | None = None, password: str | None = None):
        name = username or f"t{next(counter)}.{role.replace('_', '-')}"
        secret = password or f"pw-{name}-0123"
        add_user(owner_engine(), name, secret, role, tuple(zones))
        return test_user(name, secret, role, tuple(zones))

    return make


@pytest.fixture(scope="session")
def login():
    """``login(target, username, password, base_url=None)``: :func:`tests.signin.sign_in`."""
    from tests.signin import sign_in

    return sign_in


@pytest.fixture(scope="module")
def isolated_server(isolated_engine):
    """The app on 127.0.0.1:<free port> in a thread, on ``isolated_engine``'s database (for tests
    that commit edits through the running server); yields its base URL."""
    from tests.servers import app_in_thread

    with app_in_thread("gisapp-isolated-server") as url:
        yield url
