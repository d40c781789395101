"""A private PostgreSQL + PostGIS cluster in the project's data folder.

PostgreSQL refuses to run as root, so when gisapp runs as root the cluster belongs to an
unprivileged system user (``Settings.db_os_user``) and every server command runs through
``runuser``. The cluster listens on 127.0.0.1 on its own port and keeps its socket in the
data folder, so it never collides with a system PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gisapp.errors import SetupError
from gisapp.settings import Settings

INSTALL_HINT = (
    "as root on Debian/Ubuntu: apt-get install postgresql-15 postgresql-15-postgis-3 "
    "(or run `make demo`, which does it); with conda: conda env create -f environment.yml"
)


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    data_dir: Path
    port: int
    os_user: str | None
    url: str

    def describe(self) -> str:
        state = "running" if self.running else "stopped"
        owner = f", owned by system user {self.os_user}" if self.os_user else ""
        return f"PostGIS cluster {state}: {self.data_dir} on 127.0.0.1:{self.port}{owner}\n{self.url}"


def _is_root() -> bool:
    return os.geteuid() == 0


def find_pg_bin_dir(settings: Settings) -> Path:
    """The directory with initdb and pg_ctl, or a SetupError saying how to install them."""
    candidates: list[Path] = []
    if settings.pg_bin_dir:
        candidates.append(Path(settings.pg_bin_dir))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    raise SetupError(f"PostgreSQL server programs (initdb, pg_ctl) were not found. Install them: {INSTALL_HINT}")


def _share_dir(bin_dir: Path) -> Path:
    pg_config = bin_dir / "pg_config"
    if pg_config.exists():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        if out.returncode == 0:
            return Path(out.stdout.strip())
    # Debian: /usr/lib/postgresql/15/bin -> /usr/share/postgresql/15
    return Path("/usr/share/postgresql") / bin_dir.parent.name


def check_postgis_installed(bin_dir: Path) -> None:
    """Raise a SetupError naming the package when the PostGIS extension is missing."""
    control = _share_dir(bin_dir) / "extension" / "postgis.control"
    if not control.exists():
        raise SetupError(f"PostGIS is not installed for the PostgreSQL in {bin_dir} ({control} is missing). "
                         f"Install it: {INSTALL_HINT}")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class LocalCluster:
    """Manage the private cluster: ``up``, ``down``, ``status``, ``url``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.data_dir = Path(settings.data_dir).resolve()
        self.port = settings.db_port
        self.os_user = settings.db_os_user if _is_root() else None

    # -- where things live -------------------------------------------------------------
    @property
    def cluster_dir(self) -> Path:
        """Where the cluster files are: in the data folder, unless the DB user cannot reach it."""
        pointer = self.data_dir / "cluster-location"
        if pointer.exists():
            return Path(pointer.read_text().strip())
        return self.data_dir / "pg"

    @property
    def pgdata(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.cluster_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "log" / "postgresql.log"

    def url(self, database: str | None = None, user: str | None = None) -> str:
        db = database or self.settings.db_name
        return f"postgresql+psycopg://{user or self.settings.db_superuser}@127.0.0.1:{self.port}/{db}"

    # -- running commands --------------------------------------------------------------
    def _as_db_user(self, args: list[str]) -> list[str]:
        if self.os_user:
            return ["runuser", "-u", self.os_user, "--", *args]
        return args

    def _run(self, args: list[str], what: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._as_db_user(args), capture_output=True, text=True)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise SetupError(f"{what} failed: {' '.join(detail)} (log: {self.log_file})")
        return proc

    def _ensure_os_user(self) -> None:
        if not self.os_user:
            return
        try:
            pwd.getpwnam(self.os_user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            self.os_user], check=True, capture_output=True)

    def _os_user_can_reach(self, path: Path) -> bool:
        if not self.os_user:
            return True
        probe = subprocess.run(["runuser", "-u", self.os_user, "--", "test", "-x", str(path)])
        return probe.returncode == 0

    def _prepare_dirs(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # a file of its own: the server's three workers start at once, and one's probe of a
            # shared name was unlinked under another, which then ended as "not writable"
            with tempfile.TemporaryFile(dir=self.data_dir):
                pass
        except OSError as exc:
            raise SetupError(f"The data folder {self.data_dir} is not writable ({exc.strerror}). "
                             "Set GISAPP_DATA_DIR to a folder you can write.") from exc
        self._ensure_os_user()
        if not (self.data_dir / "cluster-location").exists() and not self._os_user_can_reach(self.data_dir):
            # e.g. a checkout under /root (mode 700): the DB user cannot enter it.
            digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
            outside = Path("/var/tmp") / f"gisapp-{digest}"
            (self.data_dir / "cluster-location").write_text(str(outside))
        for path in (self.cluster_dir, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
            if self.os_user:
                shutil.chown(path, user=self.os_user, group=self.os_user)

    # -- lifecycle ---------------------------------------------------------------------
    def is_running(self) -> bool:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return False
        bin_dir = find_pg_bin_dir(self.settings)
        proc = subprocess.run(self._as_db_user([str(bin_dir / "pg_ctl"), "status", "-D", str(self.pgdata)]),
                              capture_output=True, text=True)
        return proc.returncode == 0

    def status(self) -> ClusterStatus:
        running = self.pgdata.exists() and self.is_running()
        return ClusterStatus(running, self.pgdata, self.port, self.os_user, self.url())

    def up(self) -> ClusterStatus:
        """Create the cluster if needed, start it, make the database; idempotent."""
        bin_dir = find_pg_bin_dir(self.settings)
        check_postgis_installed(bin_dir)
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run([str(bin_dir / "initdb"), "-D", str(self.pgdata), "-A", "trust", "-U",
                       self.settings.db_superuser, "-E", "UTF8", "--locale=C.UTF-8"], "initdb")
            self._write_config()
        if not self.is_running():
            if port_in_use(self.port):
                raise SetupError(f"Port {self.port} on 127.0.0.1 is already in use by another program. "
                                 "Stop it, or choose another port with GISAPP_DB_PORT.")
            self._run([str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.pgdata),
                       "-l", str(self.log_file)], "Starting PostgreSQL")
        self._wait_ready(bin_dir)
        self.create_database(self.settings.db_name)
        return self.status()

    def down(self) -> ClusterStatus:
        if self.pgdata.exists() and self.is_running():
            bin_dir = find_pg_bin_dir(self.settings)
            self._run([str(bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata)],
                      "Stopping PostgreSQL")
        return self.status()

    def _write_config(self) -> None:
        conf = self.pgdata / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "shared_buffers": "'512MB'",
            "work_mem": "'32MB'",
            "maintenance_work_mem": "'256MB'",
            "max_connections": "200",
            "synchronous_commit": "off",
            "jit": "off",
            # `gisapp assess` writes ~4M findings (~2.5 GB) per city-scale run: with the default 1 GB
            # of WAL between checkpoints each run forced several checkpoints, each followed by
            # full-page images of every touched page (measured: COPY of 2M findings 46 s -> 30 s)
            "max_wal_size": "'4GB'",
            "checkpoint_timeout": "'15min'",
            "wal_compression": "lz4",
        }
        lines = [f"{key} = {value}\n" for key, value in settings.items()]
        # postgresql.auto.conf belongs to the DB user; write through it.
        subprocess.run(self._as_db_user(["tee", "-a", str(conf)]), input="".join(lines), text=True,
                       check=True, capture_output=True)

    def _wait_ready(self, bin_dir: Path) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise SetupError(f"PostgreSQL did not accept connections on 127.0.0.1:{self.port} within 30 s "
                         f"(log: {self.log_file})")

    def create_database(self, name: str) -> None:
        """Create database ``name`` if it does not exist (with PostGIS enabled later by migrate)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.settings.db_superuser,
                             dbname="postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.settings.db_superuser,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
