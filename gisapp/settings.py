"""Settings: the only reader of the environment (variables prefixed GISAPP_, or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def _default_project_root() -> Path:
    # In a source checkout the data folder sits next to pyproject.toml, wherever the
    # process was started (a notebook in notebooks/ must find the same database).
    if (SOURCE_ROOT / "pyproject.toml").exists():
        return SOURCE_ROOT
    return Path.cwd()


class Settings(BaseSettings):
    """Configuration of one gisapp installation.

    Example:
        >>> Settings(database_url="postgresql+psycopg://u@db/gis").uses_local_cluster
        False
    """

    model_config = SettingsConfigDict(env_prefix="GISAPP_", env_file=".env", extra="ignore")

    #: External PostGIS (production), as the app's login role (gisapp_app, docs/security.md).
    #: When set, no local cluster is started.
    database_url: str | None = None
    #: The same database as the role that owns the tables: `gisapp migrate`, demo and bulk loads,
    #: accounts, assessments. Defaults to ``database_url`` (an operator who gives only one URL
    #: gives the owner's, and the app then warns that it runs with the owner's privileges).
    owner_database_url: str | None = None
    #: The same database as the role that runs assessments (`gisapp assess`, `prune-findings`):
    #: it reads everything and writes the findings only. Defaults to the owner's URL.
    assessor_database_url: str | None = None

    #: Project data folder holding the private PostgreSQL cluster.
    data_dir: Path = _default_project_root() / ".gisapp"
    db_port: int = 54329
    db_name: str = "gisapp"
    db_superuser: str = "gis"
    #: Directory holding initdb/pg_ctl; found automatically when empty.
    pg_bin_dir: Path | None = None
    #: Unprivileged system user that runs PostgreSQL when gisapp runs as root.
    db_os_user: str = "postgres"

    web_host: str = "127.0.0.1"
    web_port: int = 8050
    secret_key: str | None = None
    #: Send the session cookie over HTTPS only (set true behind TLS).
    cookie_secure: bool = False
    language: str = "zh"
    tianditu_key: str | None = None
    #: Web origins (``https://maps.example.gov.cn``) whose pages may read /api, /tiles, /styles and
    #: /ogc from the browser (CORS), comma-separated in GISAPP_CORS_ORIGINS; none by default
    cors_origins: Annotated[list[str], NoDecode] = []

    #: shipped in the package (links to the top-level sql/ and layers/ in a source checkout)
    sql_dir: Path = PACKAGE_DIR / "sql"
    layers_dir: Path = PACKAGE_DIR / "layers"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @property
    def uses_local_cluster(self) -> bool:
        return not self.database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
