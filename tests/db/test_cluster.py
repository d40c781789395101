"""The private cluster's lifecycle, and bad set-up answered with a sentence, not a traceback."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from gisapp.db.cluster import LocalCluster
from gisapp.db.engine import check_connection
from gisapp.errors import SetupError
from gisapp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def private_settings():
    # Not under pytest's tmp folder: pytest keeps that mode 700, and the unprivileged DB user
    # must be able to enter the data folder.
    data = Path(tempfile.mkdtemp(prefix="gisapp-cluster-test-", dir="/var/tmp"))
    data.chmod(0o755)
    yield Settings(data_dir=data / "gisapp", db_port=free_port(), db_name="lifecycle")
    shutil.rmtree(data, ignore_errors=True)


def test_up_status_down_of_a_fresh_cluster(private_settings):
    cluster = LocalCluster(private_settings)
    try:
        status = cluster.up()
        assert status.running
        assert f"127.0.0.1:{private_settings.db_port}" in status.describe()
        assert str(cluster.pgdata) in status.describe()
        if os.geteuid() == 0:
            owner = cluster.pgdata.stat().st_uid
            assert owner != 0, "as root the cluster must belong to an unprivileged user"
            assert "owned by system user" in status.describe()
        engine = sa.create_engine(cluster.url())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == "lifecycle"
        engine.dispose()
        assert cluster.up().running, "up is idempotent"
    finally:
        stopped = cluster.down()
    assert not stopped.running
    assert not cluster.status().running


def test_port_in_use_is_a_sentence(private_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", private_settings.db_port))
        sock.listen(1)
        cluster = LocalCluster(private_settings)
        try:
            with pytest.raises(SetupError, match=f"Port {private_settings.db_port} .* already in use"):
                cluster.up()
        finally:
            cluster.down()


def test_postgis_missing_says_how_to_install(tmp_path):
    fake_bin = tmp_path / "99" / "bin"  # a PostgreSQL version with no PostGIS anywhere
    fake_bin.mkdir(parents=True)
    for prog in ("initdb", "pg_ctl"):
        (fake_bin / prog).write_text("#!/bin/sh\nexit 0\n")
        (fake_bin / prog).chmod(0o755)
    settings = Settings(data_dir=tmp_path / "data", pg_bin_dir=fake_bin, db_port=free_port())
    with pytest.raises(SetupError, match="PostGIS is not installed.*apt-get install .*postgis"):
        LocalCluster(settings).up()


def test_unwritable_data_folder_is_a_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Settings(data_dir=blocker / "gisapp", db_port=free_port())
    with pytest.raises(SetupError, match="data folder .* is not writable.*GISAPP_DATA_DIR"):
        LocalCluster(settings).up()


def test_unreachable_external_database_is_a_sentence():
    engine = sa.create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nowhere")
    with pytest.raises(SetupError, match="Cannot reach the database at .*GISAPP_DATABASE_URL"):
        check_connection(engine)


def test_cli_prints_the_sentence_without_a_traceback():
    env = dict(os.environ, GISAPP_DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/nowhere")
    proc = subprocess.run([sys.executable, "-m", "gisapp.cli", "migrate"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gisapp: Cannot reach the database")
    assert "Traceback" not in proc.stderr


def test_db_commands_refuse_when_an_external_database_is_configured():
    env = dict(os.environ, GISAPP_DATABASE_URL="postgresql://x@127.0.0.1:1/y")
    proc = subprocess.run([sys.executable, "-m", "gisapp.cli", "db", "up"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1 and "external database" in proc.stderr


def test_processes_bringing_up_the_running_cluster_at_once_all_succeed():
    """`gisapp serve` starts three workers at once, each making sure the cluster is up: none may
    fail for another's doing (a shared probe file unlinked under one of them did)."""
    from gisapp.settings import get_settings

    settings = get_settings()
    if not settings.uses_local_cluster:
        pytest.skip("the suite's database is not the private cluster")
    script = ("import sys; from gisapp.db.cluster import LocalCluster; from gisapp.settings import get_settings\n"
              "for _ in range(40): LocalCluster(get_settings()).up()\n")
    procs = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    failures = [err for p in procs if (err := p.communicate(timeout=300)[1]) and p.returncode != 0]
    assert not failures, failures[0]
