"""Command line: gisapp demo | db | migrate | serve (and later import, export, assess, users).

Errors that a person can fix (GisappError) are printed as one sentence, without a traceback.
"""

from __future__ import annotations

import sys
from functools import wraps

import click

from gisapp.errors import GisappError
from gisapp.settings import get_settings


def friendly(func):
    """Print GisappError messages as a sentence and exit 1."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GisappError as exc:
            click.echo(f"gisapp: {exc}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
def main() -> None:
    """Land resources of Shanghai's comprehensive bonded zones."""


# -- database ----------------------------------------------------------------------------

@main.group()
def db() -> None:
    """The private PostGIS cluster (ignored when GISAPP_DATABASE_URL is set)."""


def _cluster():
    from gisapp.db.cluster import LocalCluster

    settings = get_settings()
    if not settings.uses_local_cluster:
        raise GisappError("GISAPP_DATABASE_URL points at an external database; there is no local cluster "
                          "to manage. Unset it to use the embedded one.")
    return LocalCluster(settings)


@db.command("up")
@friendly
def db_up() -> None:
    """Create (if needed) and start the cluster."""
    click.echo(_cluster().up().describe())


@db.command("down")
@friendly
def db_down() -> None:
    """Stop the cluster."""
    click.echo(_cluster().down().describe())


@db.command("status")
@friendly
def db_status() -> None:
    """Say whether the cluster runs, where, and who owns it."""
    status = _cluster().status()
    click.echo(status.describe())
    sys.exit(0 if status.running else 3)


@db.command("url")
@friendly
def db_url() -> None:
    """Print the database URL in use."""
    from gisapp.db.engine import database_url

    click.echo(database_url())


def ensure_database() -> None:
    """Start the local cluster when it is the one in use, then check the connection."""
    from gisapp.db.engine import check_connection, get_engine

    settings = get_settings()
    if settings.uses_local_cluster:
        _cluster().up()
    check_connection(get_engine())


@main.command()
@friendly
def migrate() -> None:
    """Apply new migrations, then re-apply views and security (idempotent)."""
    from gisapp.db.engine import get_engine
    from gisapp.db.migrate import migrate as run_migrate

    ensure_database()
    report = run_migrate(get_engine(), get_settings().sql_dir)
    click.echo(report.describe())


# -- demo and serving ----------------------------------------------------------------------

@main.command("load-demo")
@click.option("--parcels", type=int, default=None, help="Total parcels (city scale for benchmarks, e.g. 1000000).")
@click.option("--seed", type=int, default=20210115, show_default=True)
@click.option("--replace", is_flag=True, help="Replace existing data.")
@friendly
def load_demo_cmd(parcels: int | None, seed: int, replace: bool) -> None:
    """Load the synthetic demo dataset (deterministic for a seed)."""
    from gisapp.db.engine import get_engine
    from gisapp.db.migrate import migrate as run_migrate
    from gisapp.demo.load import load_demo

    ensure_database()
    engine = get_engine()
    run_migrate(engine, get_settings().sql_dir)
    summary = load_demo(engine, total_parcels=parcels, seed=seed, replace=replace)
    click.echo(summary)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--debug", is_flag=True)
@friendly
def serve(host: str | None, port: int | None, debug: bool) -> None:
    """Serve the web map."""
    from gisapp.web.app import create_app

    settings = get_settings()
    ensure_database()
    app = create_app()
    app.run(host=host or settings.web_host, port=port or settings.web_port, debug=debug)


@main.command()
@friendly
def demo() -> None:
    """Start the database, migrate, load the synthetic demo data (once), serve the map."""
    from gisapp.db.engine import get_engine
    from gisapp.db.migrate import migrate as run_migrate
    from gisapp.demo.load import demo_loaded, load_demo
    from gisapp.web.app import create_app

    settings = get_settings()
    ensure_database()
    engine = get_engine()
    click.echo(run_migrate(engine, settings.sql_dir).describe())
    if demo_loaded(engine):
        click.echo("synthetic demo data already loaded")
    else:
        click.echo(load_demo(engine))
    click.echo(f"serving on http://{settings.web_host}:{settings.web_port}/  (synthetic demo data; Ctrl+C stops)")
    create_app().run(host=settings.web_host, port=settings.web_port, debug=False)


if __name__ == "__main__":
    main()
