"""Shared fixtures: the real PostGIS the project starts itself, migrated, with demo data.

Tests use their own database (``gisapp_test``) in the project's private cluster, so they never
touch the demo database; with GISAPP_DATABASE_URL set they use that database instead.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GISAPP_DB_NAME", "gisapp_test")

from gisapp.settings import get_settings  # noqa: E402

get_settings.cache_clear()


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
    """Engine on a freshly created, migrated test database holding the synthetic demo data."""
    from gisapp.db.engine import check_connection, get_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import load_demo

    if cluster is not None:
        cluster.drop_database(settings.db_name)
        cluster.create_database(settings.db_name)
    eng = get_engine()
    check_connection(eng)
    migrate(eng, settings.sql_dir)
    load_demo(eng, replace=True)
    return eng


@pytest.fixture(scope="session")
def demo_frames():
    """The frames the demo loader wrote (same seed), with the scenario of each record."""
    from gisapp.demo.load import build_dataset

    return build_dataset()
