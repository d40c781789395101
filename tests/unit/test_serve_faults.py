"""`gisapp serve` and `gisapp demo` on a machine that is not ready (issue 16): a busy port and a
data folder that cannot be written each end in one sentence on stderr, before anything is
announced as served, never in a traceback. No database is needed: both are checked first."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gisapp.errors import GisappError

ROOT = Path(__file__).resolve().parents[2]
#: an external database that is never reached: the checks come before any connection
UNREACHED_DB = "postgresql+psycopg://gisapp_app@127.0.0.1:9/never"


def _gisapp(*args: str, env: dict | None = None, as_nobody: bool = False) -> subprocess.CompletedProcess:
    prefix = []
    if as_nobody:
        # root writes anywhere whatever the mode: run as an unprivileged user without capabilities
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                  "--bounding-set=-all"]
    return subprocess.run([*prefix, sys.executable, "-c", "from gisapp.cli import main; main()", *args],
                          cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


def _assert_one_sentence(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "serving on" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gisapp: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture()
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_a_busy_port_ends_in_one_sentence_before_serving(busy_port, command):
    args = [*command, "--port", str(busy_port)] if command == ["serve"] else command
    result = _gisapp(*args, env={"GISAPP_WEB_PORT": str(busy_port), "GISAPP_DATABASE_URL": UNREACHED_DB})
    _assert_one_sentence(result, f"port {busy_port}", "already in use", "--port")


def test_a_port_taken_after_the_check_is_still_one_sentence_and_never_announced(busy_port, tmp_path):
    from gisapp.settings import Settings
    from gisapp.web.server import run_server

    announced = []
    settings = Settings(secret_key="test-secret", data_dir=tmp_path, database_url=UNREACHED_DB)
    with pytest.raises(GisappError, match=f"port {busy_port} on 127.0.0.1 is already in use"):
        run_server("127.0.0.1", busy_port, settings=settings, announce=announced.append)
    assert announced == []


@pytest.fixture()
def read_only_dir():
    if shutil.which("setpriv") is None and os.geteuid() == 0:
        pytest.skip("needs setpriv to drop root's privileges")
    folder = Path(tempfile.mkdtemp(prefix="gisapp-ro-"))
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_read_only_data_folder_ends_in_one_sentence(read_only_dir, command):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()
    env = {"GISAPP_DATA_DIR": str(read_only_dir), "GISAPP_DATABASE_URL": UNREACHED_DB, "GISAPP_SECRET_KEY": "",
           "GISAPP_WEB_PORT": str(free), "HOME": str(read_only_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    result = _gisapp(command, env=env, as_nobody=os.geteuid() == 0)
    _assert_one_sentence(result, str(read_only_dir), "cannot be written", "GISAPP_SECRET_KEY")


def test_a_read_only_data_folder_is_fine_when_the_secret_comes_from_the_environment(read_only_dir):
    from gisapp.settings import Settings
    from gisapp.web.server import check_data_dir

    check_data_dir(Settings(data_dir=read_only_dir, secret_key="given", database_url=UNREACHED_DB))
