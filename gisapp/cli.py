"""Command line: gisapp demo | db | migrate | serve (and later import, export, assess, users).

Errors that a person can fix (GisappError) are printed as one sentence, without a traceback.
"""

from __future__ import annotations

import signal
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
        except Exception as exc:  # a database refusal: its sentence, not a traceback
            from sqlalchemy.exc import DBAPIError

            if not isinstance(exc, DBAPIError):
                raise
            first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            click.echo(f"gisapp: the database refused: {first}", err=True)
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


@db.command("check")
@friendly
def db_check() -> None:
    """Check the database roles, the request-context key and the stored rows (a sentence per problem)."""
    from gisapp.db.engine import owner_engine
    from gisapp.db.invariants import broken_rules
    from gisapp.db.roles import check_roles

    problems = check_roles(get_settings())
    if not problems:
        problems = broken_rules(owner_engine())
    if not problems:
        click.echo("database: ok (the app logs in as an unprivileged role, contexts verify, every stored row "
                   "obeys every rule)")
        return
    for line in problems:
        click.echo(f"- {line}", err=True)
    raise SystemExit(1)


def ensure_database(owner: bool = True) -> None:
    """Start the local cluster when it is the one in use, then check the connection (as the
    tables' owner, or as the app's login role)."""
    from gisapp.db.engine import check_connection, get_engine, owner_engine

    settings = get_settings()
    if settings.uses_local_cluster:
        _cluster().up()
    check_connection(owner_engine() if owner else get_engine())


@main.command()
@friendly
def migrate() -> None:
    """Apply new migrations, then re-apply views and security (idempotent)."""
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate as run_migrate

    ensure_database()
    report = run_migrate(owner_engine(), get_settings().sql_dir)
    click.echo(report.describe())


# -- demo and serving ----------------------------------------------------------------------

@main.command("load-demo")
@click.option("--parcels", type=int, default=None, help="Total parcels (city scale for benchmarks, e.g. 1000000).")
@click.option("--seed", type=int, default=20210115, show_default=True)
@click.option("--replace", is_flag=True, help="Replace existing data.")
@friendly
def load_demo_cmd(parcels: int | None, seed: int, replace: bool) -> None:
    """Load the synthetic demo dataset (deterministic for a seed)."""
    from gisapp.db.engine import owner_engine
    from gisapp.db.migrate import migrate as run_migrate
    from gisapp.demo.load import load_demo

    ensure_database()
    engine = owner_engine()
    run_migrate(engine, get_settings().sql_dir)
    summary = load_demo(engine, total_parcels=parcels, seed=seed, replace=replace)
    click.echo(summary)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="Threads answering requests (default 8).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of waitress.")
@click.option("--debug", is_flag=True, help="Development server with Dash's debugger and reloader (implies --dev).")
@click.option("--no-worker", is_flag=True, help="Do not start `gisapp worker` beside the server (live findings).")
@friendly
def serve(host: str | None, port: int | None, threads: int | None, dev: bool,
          debug: bool, no_worker: bool) -> None:
    """Serve the web map (waitress; --dev for Werkzeug's development server)."""
    from gisapp.web.server import check_data_dir, check_port

    settings = get_settings()
    host, port = host or settings.web_host, port or settings.web_port
    # before the database and the app: a busy port or a folder that cannot be written is said at once
    check_port(host, port)
    check_data_dir(settings)
    ensure_database(owner=False)
    if dev or debug:
        from gisapp.web.app import create_app

        create_app().run(host=host, port=port, debug=debug)
        return
    from gisapp.rules.worker_processes import workers_beside
    from gisapp.web.server import run_server

    with workers_beside(not no_worker):
        run_server(host, port, threads=threads, settings=settings,
                   announce=lambda line: click.echo(f"{line} (waitress; Ctrl+C stops)"))


def _assess_demo_once(engine) -> None:
    """Run the rules on the demo data (as of its scenario date) unless findings exist already,
    so that the map's rule layers show something on the first start."""
    import sqlalchemy as sa

    from gisapp.rules.assess import run_assessment

    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM rules.current_findings)")).scalar():
            return
    summary = run_assessment(engine)  # as of the clock, which the demo fixed at its scenario date
    click.echo(f"rules assessed as of {summary.as_of.isoformat()} (assessment run {summary.run_id})")


@main.command()
@friendly
def demo() -> None:
    """Start the database, migrate, load the synthetic demo data (once), serve the map."""
    from gisapp.db.engine import assessor_engine, owner_engine
    from gisapp.db.migrate import migrate as run_migrate
    from gisapp.demo.load import demo_loaded, load_demo
    from gisapp.web.server import check_data_dir, check_port

    settings = get_settings()
    check_port(settings.web_host, settings.web_port)
    check_data_dir(settings, always=True)
    ensure_database()
    engine = owner_engine()
    click.echo(run_migrate(engine, settings.sql_dir).describe())
    if demo_loaded(engine):
        click.echo("synthetic demo data already loaded")
    else:
        click.echo(load_demo(engine))
    _assess_demo_once(assessor_engine())
    from gisapp.demo.revitalization import history_loaded, load_demo_history

    if not history_loaded(engine):
        click.echo(load_demo_history(engine))
    from gisapp.queries.users import ensure_demo_accounts

    accounts = ensure_demo_accounts(engine, settings.data_dir / "demo_accounts.txt")
    if accounts:
        click.echo("sign in with a demo account (user, password, role; kept in .gisapp/demo_accounts.txt):")
        click.echo("\n".join(accounts))
    from gisapp.rules.worker_processes import workers_beside
    from gisapp.web.server import run_server

    with workers_beside(True):
        run_server(settings=settings,
                   announce=lambda line: click.echo(f"{line}  (synthetic demo data; Ctrl+C stops)"))


# -- rules -----------------------------------------------------------------------------------------

@main.command()
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Assess as of this date (YYYY-MM-DD; default: the assessment clock, see `gisapp clock`).")
@click.option("--zone", "zones", multiple=True, help="Zone code (repeat for several; default all zones).")
@click.option("--rule", "rules", multiple=True, help="Rule name (repeat for several; default all registered rules).")
@click.option("--workers", type=click.IntRange(1, 16), default=None,
              help="Processes evaluating rule modules (default: 2 at city scale, else 1).")
@friendly
def assess(as_of, zones: tuple[str, ...], rules: tuple[str, ...], workers: int | None) -> None:
    """Run the policy rules and store their findings (rules.findings)."""
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.assess import run_assessment

    ensure_database()
    summary = run_assessment(assessor_engine(), as_of.date() if as_of else None, zones or None, rules or None,
                             workers=workers)
    click.echo(f"assessment run {summary.run_id} as of {summary.as_of.isoformat()}"
               f" ({', '.join(summary.zone_codes) if summary.zone_codes else 'all zones'}):"
               f" {summary.finding_count} findings, {summary.superseded} previous findings superseded,"
               f" {summary.carried_reviews} reviews carried over")
    click.echo(summary.table())
    click.echo("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items()))
    from gisapp.rules.overrides import unknown_overrides

    for problem in unknown_overrides(assessor_engine()):
        click.echo(f"warning: {problem} (gisapp params list)", err=True)


@main.command()
@click.option("--once", is_flag=True, help="Do what is queued now, then exit.")
@click.option("--kind", type=click.Choice(["parcels", "zones", "city", "all"]), default="all", show_default=True,
              help="What to take from the queue: the parcels' own rules, the zones' rules, the whole-city "
                   "rules, or all in turn.")
@friendly
def worker(once: bool, kind: str) -> None:
    """Keep findings live: re-assess what each committed change touched (runs until stopped)."""
    import logging
    import threading

    from gisapp.db.backend_priority import follow_this_process
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.worker import describe, run_forever, run_once, settle_in

    ensure_database(owner=False)
    engine = assessor_engine()
    if once:
        while (done := run_once(engine, kind)) is not None:
            click.echo(describe(done))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gisapp worker %(process)d: %(message)s")
    settle_in()
    follow_this_process(engine)  # its database sessions at its own priority (below the server's)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_forever(engine, stop, kind=kind)
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--fix", "fixed", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Assess as of this date from now on (YYYY-MM-DD).")
@click.option("--today", is_flag=True, help="Assess as of today in Asia/Shanghai (the default).")
@friendly
def clock(fixed, today: bool) -> None:
    """Show or set the date live findings and `gisapp assess` are as of."""
    import sqlalchemy as sa

    from gisapp.db.engine import owner_engine

    ensure_database()
    with owner_engine().begin() as conn:
        if fixed or today:
            conn.execute(sa.text("UPDATE rules.assessment_clock SET fixed_on = :d"),
                         {"d": fixed.date() if fixed else None})
            conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) "
                                 "SELECT id, 'clock' FROM land.zones UNION ALL SELECT NULL, 'clock'"))
        fixed_on, as_of = conn.execute(
            sa.text("SELECT fixed_on, rules.live_as_of() FROM rules.assessment_clock")).one()
    click.echo(f"findings are as of {as_of.isoformat()}"
               + (" (fixed)" if fixed_on else " (today in Asia/Shanghai)"))


@main.command("prune-findings")
@click.option("--keep-runs", type=click.IntRange(0, None), default=3, show_default=True,
              help="Finished runs kept whole besides the current ones.")
@friendly
def prune_findings(keep_runs: int) -> None:
    """Delete the unreviewed findings of old assessment runs (reviewed ones and current runs stay)."""
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.assess import prune_findings as prune

    ensure_database()
    click.echo(f"{prune(assessor_engine(), keep_runs)} findings of old runs deleted")


@main.group()
def params() -> None:
    """The rules' parameters: what is in force, set a value (with its source), a value's history."""


@params.command("list")
@click.option("--rule", default=None, help="Only this rule's parameters.")
@click.option("--zone", default=None, help="The values in force for this zone (code).")
@click.option("--year", type=int, default=None, help="The values in force for this year.")
@friendly
def params_list(rule: str | None, zone: str | None, year: int | None) -> None:
    """Every parameter with its value in force today, its source and since when."""
    import json

    from gisapp.db.engine import assessor_engine
    from gisapp.rules.overrides import list_params, unknown_overrides

    engine = assessor_engine()
    for line in list_params(engine, rule, zone, year):
        mark = "*" if line.overridden else " "
        click.echo(f"{mark} {line.rule}.{line.name} = {json.dumps(line.value, ensure_ascii=False)}  "
                   f"[{line.source}; from {line.effective_from}]")
    for problem in unknown_overrides(engine):
        click.echo(f"! {problem}", err=True)
    click.echo("(* = set by the bureau in rules.parameter_overrides; the others are the rule's defaults)")


@params.command("set")
@click.argument("rule")
@click.argument("name")
@click.argument("value")
@click.option("--source", required=True, help="Where the value comes from (document, article).")
@click.option("--from", "effective_from", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The date the value applies from (YYYY-MM-DD).")
@click.option("--zone", default=None, help="Only for this zone (code).")
@click.option("--year", type=int, default=None, help="Only for this year.")
@friendly
def params_set(rule: str, name: str, value: str, source: str, effective_from, zone: str | None,
               year: int | None) -> None:
    """Set a parameter's value (JSON: 2, 0.25, true, [1, 2]; plain text for a text parameter)."""
    from gisapp.db.engine import owner_engine
    from gisapp.rules.overrides import set_param

    override_id = set_param(owner_engine(), rule, name, value, source=source,
                            effective_from=effective_from.date(), zone=zone, year=year)
    click.echo(f"{rule}.{name} set (override #{override_id}); the next `gisapp assess` uses it")


@params.command("history")
@click.argument("rule")
@click.argument("name")
@friendly
def params_history(rule: str, name: str) -> None:
    """Every value a parameter has had: the default, then each change, who made it and why."""
    from gisapp.db.engine import owner_engine
    from gisapp.rules.overrides import param_history

    frame = param_history(owner_engine(), rule, name)
    click.echo(frame.to_string(index=False))


# -- users ---------------------------------------------------------------------------------------

@main.group()
def users() -> None:
    """Accounts of the web app: bureau_admin, bureau_viewer, zone_editor (bound to zones), analyst."""


def _new_password(password: str | None) -> str:
    # Prompted (hidden, typed twice) unless given; --password is for scripts and tests.
    return password or click.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["bureau_admin", "bureau_viewer", "zone_editor", "analyst"]))
@click.option("--zone", "zones", multiple=True, help="Zone code a zone_editor edits (repeat for several).")
@click.option("--name", "display_name", default=None, help="Name shown in the app (default: the user name).")
@click.option("--password", default=None, help="Omit to be prompted.")
@friendly
def users_add(username: str, role: str, zones: tuple[str, ...], display_name: str | None,
              password: str | None) -> None:
    """Create an account."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import add_user

    ensure_database()
    account = add_user(owner_engine(), username, _new_password(password), role, zones, display_name)
    zones_text = f": {', '.join(account.zone_codes)}" if account.zone_codes else ""
    click.echo(f"added {account.username} ({account.role}{zones_text})")


@users.command("list")
@friendly
def users_list() -> None:
    """List the accounts."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import list_users

    ensure_database()
    for a in list_users(owner_engine()):
        state = "disabled" if a.disabled else "active"
        click.echo(f"{a.username}\t{a.role}\t{','.join(a.zone_codes) or '-'}\t{state}\t{a.display_name}")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again.")
@friendly
def users_disable(username: str, enable: bool) -> None:
    """Disable an account (its open sessions end at their next request)."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import set_disabled

    ensure_database()
    account = set_disabled(owner_engine(), username, disabled=not enable)
    click.echo(f"{account.username} is now {'disabled' if account.disabled else 'enabled'}")


@users.command("zones")
@click.argument("username")
@click.option("--zone", "zones", multiple=True, required=True, help="Zone code (repeat for several).")
@friendly
def users_zones(username: str, zones: tuple[str, ...]) -> None:
    """Bind a zone editor to exactly these zones."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import set_user_zones

    ensure_database()
    account = set_user_zones(owner_engine(), username, zones)
    click.echo(f"{account.username} edits {', '.join(account.zone_codes)}")


@users.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="Omit to be prompted.")
@friendly
def users_passwd(username: str, password: str | None) -> None:
    """Set a new password (the account's open sessions end)."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import set_password

    ensure_database()
    account = set_password(owner_engine(), username, _new_password(password))
    click.echo(f"new password set for {account.username}")


# -- import and export (gisapp/io) -----------------------------------------------------------------

@main.command("import")
@click.argument("kind", type=click.Choice(["parcels", "zones", "metrics", "districts"]))
@click.argument("file", type=click.Path(path_type=str))
@click.option("--crs", default=None, help="CRS of the file when it names none or names it wrongly: EPSG:4490, "
              "EPSG:4549/4550 (CGCS2000 Gauss-Krüger CM 120°E/123°E), gcj02 (Gaode/Tencent), bd09 (Baidu).")
@click.option("--layer", default=None, help="Layer, sheet or zip member when the file holds several.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--repair", is_flag=True, help="Repair invalid geometries (make_valid) instead of refusing them.")
@click.option("--update-existing", is_flag=True, help="Update rows whose key (code; parcel and year) already exists.")
@click.option("--report", "report_path", type=click.Path(path_type=str), default=None,
              help="Write every problem to this CSV file (file, where, field, problem, severity).")
@click.option("--encoding", default=None, help="Text encoding of a Shapefile's table or a CSV file (e.g. gb18030, "
              "utf-8) when it names none or names it wrongly; without it UTF-8 is tried, then GB18030.")
@friendly
def import_cmd(kind: str, file: str, crs: str | None, layer: str | None, dry_run: bool, repair: bool,
               update_existing: bool, report_path: str | None, encoding: str | None) -> None:
    """Import parcels, zones, metrics or districts from GeoPackage, Shapefile (zip or folder), GeoJSON, KML, CSV or
    Excel. All or nothing: a file with any error writes nothing and its report says why."""
    from gisapp.db.engine import owner_engine
    from gisapp.io.importer import ImportRejected, import_file

    ensure_database()
    try:
        result = import_file(owner_engine(), kind, file, crs=crs, layer=layer, dry_run=dry_run, repair=repair,
                             update_existing=update_existing, encoding=encoding)
    except ImportRejected as exc:
        if report_path:
            exc.result.report.to_csv(report_path)
        raise
    if report_path:
        result.report.to_csv(report_path)
    click.echo(result.describe())


@main.command("export")
@click.argument("layer_id")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--format", "fmt", default=None, help="gpkg, shp (zip), geojson, csv, xlsx or kml (default: from "
              "the file suffix).")
@click.option("--crs", default="EPSG:4490", show_default=True, help="CRS to write: an EPSG code, gcj02 or bd09.")
@click.option("--zone", default=None, help="Only this zone (layers with a zone_code field).")
@click.option("--bbox", default=None, help="Only features in minx,miny,maxx,maxy (degrees, EPSG:4490).")
@click.option("--as-of", "as_of", default=None, help="Read the layer as of this date (YYYY-MM-DD).")
@friendly
def export_cmd(layer_id: str, file: str, fmt: str | None, crs: str, zone: str | None, bbox: str | None,
               as_of: str | None) -> None:
    """Export a declared layer (or a filtered part of it) to a file."""
    from gisapp import api

    ensure_database(owner=False)
    # what the format could not hold as asked (KML reprojected, Shapefile texts cut) is said, not logged
    path = api.export(layer_id, file, format=fmt, crs=crs, zone=zone, bbox=bbox, as_of=as_of,
                      warn=lambda note: click.echo(f"warning: {note}", err=True))
    click.echo(f"wrote {path}")


# -- cases ----------------------------------------------------------------------------------------

@main.group()
def cases() -> None:
    """Disposal and exit cases (docs/casework.md): list, show, open, record a step, pay, close, split."""


def _case_actor(username: str | None):
    """The account a command acts as (its role and zones: row-level security applies as on the web)."""
    from gisapp.db.context import Actor
    from gisapp.db.engine import owner_engine
    from gisapp.queries.users import find_account

    if username is None:
        return None
    account = find_account(owner_engine(), username)
    if account.disabled:
        raise GisappError(f"the account {username} is disabled")
    return Actor(account.username, account.role, account.zone_ids)


def _case_call(func, *args, lang: str = "en"):
    """Run a casework query; a refusal becomes a sentence (ValidationFailed: each field's message)."""
    from gisapp.casework.text import problems
    from gisapp.queries.edit_errors import ValidationFailed

    try:
        return func(*args)
    except ValidationFailed as exc:
        raise GisappError(problems(exc.problems, lang)) from None


_AS = click.option("--as", "username", required=True, help="The account acting (gisapp users list).")
_LANG = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)


@cases.command("list")
@click.option("--as", "username", default=None, help="Read as this account (default: everything).")
@click.option("--zone", default=None, help="Zone code.")
@click.option("--kind", default=None, help="idle_land_disposal, low_efficiency_exit or zone_rectification.")
@click.option("--state", type=click.Choice(["open", "closed", "all"]), default="open", show_default=True)
@click.option("--overdue", is_flag=True, help="Only cases with a step or money overdue.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Overdue as of this day (default: the date findings are as of, `gisapp clock`).")
@_LANG
@friendly
def cases_list(username, zone, kind, state, overdue, as_of, lang) -> None:
    """The cases, one line each: next steps, what is overdue, money due."""
    from gisapp.casework.queries import list_cases
    from gisapp.casework.text import summary_lines
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    found = list_cases(get_engine(), _case_actor(username), zone=zone, kind=kind, state=state, overdue_only=overdue,
                       as_of=as_of and as_of.date())
    for line in summary_lines(found, lang):
        click.echo(line)
    click.echo(f"({len(found)} case(s))")


@cases.command("show")
@click.argument("code")
@click.option("--as", "username", default=None, help="Read as this account (default: everything).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@_LANG
@friendly
def cases_show(code, username, as_of, lang) -> None:
    """A case's record: steps with their due dates and articles, next steps, money, extensions."""
    from gisapp.casework.queries import case_timeline
    from gisapp.casework.text import timeline_lines
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    timeline = case_timeline(get_engine(), _case_actor(username), code, as_of=as_of and as_of.date())
    for line in timeline_lines(timeline, lang):
        click.echo(line)


@cases.command("open")
@click.argument("kind")
@click.option("--parcel", default=None, help="The parcel's code (idle land, low-efficiency exit).")
@click.option("--zone", default=None, help="The zone's code (zone rectification).")
@click.option("--pathway", default=None, help="Default: the kind's first.")
@click.option("--on", "opened_on", default=None, help="Opened on (YYYY-MM-DD; default today).")
@click.option("--body", "responsible_body", default=None, help="The body responsible.")
@click.option("--idle-since", "idle_clock_from", default=None, help="The day the idle period runs from.")
@click.option("--note", default=None)
@_AS
@_LANG
@friendly
def cases_open(kind, parcel, zone, pathway, opened_on, responsible_body, idle_clock_from, note, username,
               lang) -> None:
    """Open a case by hand (a bureau admin's decision)."""
    from gisapp.casework.queries import open_case
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    data = {"kind": kind, "parcel": parcel, "zone": zone, "pathway": pathway, "opened_on": opened_on,
            "responsible_body": responsible_body, "idle_clock_from": idle_clock_from, "note": note}
    done = _case_call(open_case, get_engine(), _case_actor(username), data, lang=lang)
    click.echo(f"case {done.case_code} opened")


@cases.command("step")
@click.argument("code")
@click.argument("step")
@click.option("--on", "done_on", required=True, help="Done on (a notice or decision: the day it was served).")
@click.option("--result", default=None, help="The step's result, where it has one (e.g. received, none).")
@click.option("--doc-no", "doc_no", default=None, help="The document's number (文号).")
@click.option("--issued-on", "issued_on", default=None, help="The document's date (a fee decision: decided on).")
@click.option("--new-start", "new_start_on", default=None, help="supplementary_agreement: the new agreed start.")
@click.option("--new-completion", "new_completion_on", default=None)
@click.option("--note", default=None)
@_AS
@_LANG
@friendly
def cases_step(code, step, done_on, result, doc_no, issued_on, new_start_on, new_completion_on, note, username,
               lang) -> None:
    """Record that a step of a case was done (its due date is counted and kept with it)."""
    from gisapp.casework.queries import record_step
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    data = {"step": step, "done_on": done_on, "result": result, "doc_no": doc_no, "issued_on": issued_on,
            "new_start_on": new_start_on, "new_completion_on": new_completion_on, "note": note}
    done = _case_call(record_step, get_engine(), _case_actor(username), code, data, lang=lang)
    click.echo(f"case {code}: {step} recorded" + (f" (due {done.due_on})" if done.due_on else ""))


@cases.command("pay")
@click.argument("code")
@click.argument("paid_wan")
@click.option("--on", "paid_on", required=True, help="The day the total paid was reached.")
@click.option("--money", "money_id", default=None, type=int, help="Which sum (when the case holds several).")
@click.option("--settle", is_flag=True, help="When paid in full, also record the step the payment completes.")
@_AS
@_LANG
@friendly
def cases_pay(code, paid_wan, paid_on, money_id, settle, username, lang) -> None:
    """Record the total paid of money decided in a case (万元)."""
    from gisapp.casework.queries import record_payment
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    data = {"paid_wan": paid_wan, "paid_on": paid_on, "money_id": money_id, "settle": settle}
    _case_call(record_payment, get_engine(), _case_actor(username), code, data, lang=lang)
    click.echo(f"case {code}: {paid_wan} 万元 paid by {paid_on}")


@cases.command("close")
@click.argument("code")
@click.argument("outcome")
@click.option("--on", "closed_on", default=None, help="Closed on (default today).")
@click.option("--freed-m2", "freed_area_m2", default=None, help="The land the case gave back (m²).")
@click.option("--note", default=None)
@_AS
@_LANG
@friendly
def cases_close(code, outcome, closed_on, freed_area_m2, note, username, lang) -> None:
    """Close a case with its outcome (a bureau admin's decision)."""
    from gisapp.casework.queries import close_case
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    data = {"outcome": outcome, "closed_on": closed_on, "freed_area_m2": freed_area_m2, "note": note}
    _case_call(close_case, get_engine(), _case_actor(username), code, data, lang=lang)
    click.echo(f"case {code} closed: {outcome}")


@cases.command("split")
@click.argument("code")
@click.option("--cut", "cut_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="GeoJSON (EPSG:4490): the surplus as a polygon, or a line dividing the parcel.")
@click.option("--new-code", "new_code", required=True, help="The code of the new parcel (the surplus).")
@click.option("--reason", default="节余土地转让", show_default=True)
@click.option("--on", "split_on", default=None, help="Split on (default today).")
@_AS
@_LANG
@friendly
def cases_split(code, cut_file, new_code, reason, split_on, username, lang) -> None:
    """Split the parcel of a surplus land transfer case; records its parcel_split step."""
    from pathlib import Path

    from gisapp.casework.queries.split import split_parcel
    from gisapp.db.engine import get_engine

    ensure_database(owner=False)
    data = {"cut": Path(cut_file).read_bytes(), "new_code": new_code, "reason": reason, "split_on": split_on}
    done = _case_call(split_parcel, get_engine(), _case_actor(username), code, data, lang=lang)
    click.echo(f"case {code}: parcel {done.parcel_code} keeps {done.retained_area_m2:,.1f} m²; "
               f"new parcel {done.new_parcel_code} has {done.surplus_area_m2:,.1f} m²")


# -- the revitalization record and zone rectification (gisapp.revitalization) ----------------------

@main.group()
def snapshot() -> None:
    """Quarterly snapshots of the stock per zone: idle, low-efficiency, approved-unsupplied, supplied-unbuilt."""


@snapshot.command("take")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Record the quarter that ended last on or before this day (default: the day findings are as of).")
@friendly
def snapshot_take(on) -> None:
    """Count the stock from the current findings and keep it as the quarter's snapshot (once per quarter)."""
    from gisapp.db.engine import owner_engine
    from gisapp.revitalization.snapshots import take_snapshot

    ensure_database()
    taken = take_snapshot(owner_engine(), on.date() if on else None, via="command")
    click.echo(f"snapshot {taken.quarter} ({taken.quarter_end}) taken for {taken.zones} zones from findings as of "
               f"{taken.findings_as_of}:")
    for kind, (parcels, area_m2) in taken.totals.items():
        click.echo(f"  {kind:20s} {parcels:7d} parcels {area_m2 / 1e4:12.2f} ha")


@snapshot.command("list")
@click.option("--zone", default=None, help="Zone code (default: every zone).")
@friendly
def snapshot_list(zone: str | None) -> None:
    """The snapshots kept, per quarter, zone and kind."""
    from gisapp.db.engine import owner_engine
    from gisapp.revitalization.snapshots import snapshots

    ensure_database()
    frame = snapshots(owner_engine(), zone)
    if frame.empty:
        click.echo("no snapshot yet (gisapp snapshot take)")
        return
    shown = frame.assign(area_ha=frame["area_ha"].round(2))[
        ["quarter_end", "zone_code", "kind", "parcels", "area_ha", "findings_as_of", "taken_via", "taken_by"]]
    click.echo(shown.to_string(index=False))


@main.group()
def rectification() -> None:
    """Zone rectification (2021 opinions 3.5): published national results, their flags, the cases they open."""


@rectification.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default=None, help="Where the results were published, for rows that name no source.")
@_AS
@friendly
def rectification_import(file: str, source: str | None, username: str) -> None:
    """Import published results from a UTF-8 CSV (zone, year, national_class, below_region_average,
    source, and optionally regional_class, national_rank, national_count, score, region_average,
    published_on, note), all or nothing, as a bureau admin."""
    from gisapp.db.engine import get_engine
    from gisapp.revitalization.rectification import import_results

    ensure_database(owner=False)
    count = _case_call(import_results, get_engine(), _case_actor(username), file, source)
    click.echo(f"{count} national result(s) recorded from {file}")


@rectification.command("set")
@click.argument("zone")
@click.argument("year", type=int)
@click.option("--class", "national_class", required=True, help="The national class: A, B or C.")
@click.option("--regional-class", default=None, help="The class within the region: A, B or C.")
@click.option("--rank", "national_rank", type=int, default=None, help="The national rank.")
@click.option("--of", "national_count", type=int, default=None, help="The number of zones ranked nationally.")
@click.option("--below/--not-below", "below", required=True,
              help="Evaluated below the average of the zone's region (the eastern region) or not.")
@click.option("--score", default=None)
@click.option("--average", "region_average", default=None, help="The region's average score.")
@click.option("--source", required=True, help="Where the result was published (document, date).")
@click.option("--published-on", default=None, help="The day it was published (YYYY-MM-DD).")
@click.option("--note", default=None)
@_AS
@friendly
def rectification_set(zone, year, national_class, regional_class, national_rank, national_count, below, score,
                      region_average, source, published_on, note, username) -> None:
    """Enter (or correct) a zone's published result for a year, as a bureau admin."""
    from gisapp.db.engine import get_engine
    from gisapp.revitalization.rectification import record_result

    ensure_database(owner=False)
    data = {"zone": zone, "year": year, "national_class": national_class, "regional_class": regional_class,
            "national_rank": national_rank, "national_count": national_count, "below_region_average": below,
            "score": score, "region_average": region_average, "source": source, "published_on": published_on,
            "note": note}
    _case_call(record_result, get_engine(), _case_actor(username), data)
    click.echo(f"{zone} {year}: national class {national_class.upper()} recorded ({source})")


@rectification.command("flags")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day of the flags (default: the date findings are as of, `gisapp clock`).")
@click.option("--open-cases", is_flag=True, help="Open the zone_rectification cases the flags call for.")
@click.option("--as", "username", default=None, help="The bureau admin opening the cases (with --open-cases).")
@friendly
def rectification_flags(as_of, open_cases: bool, username: str | None) -> None:
    """Each zone's latest published result and what it calls for: rectification, interview, exit."""
    from gisapp.db.engine import get_engine
    from gisapp.revitalization.rectification import flags, open_due_cases

    ensure_database(owner=False)
    day = as_of.date() if as_of else None
    frame = flags(get_engine(), day)
    if frame.empty:
        click.echo("no published national result recorded (gisapp rectification import)")
    for r in frame.itertuples():
        called = [name for name in ("rectification", "interview", "exit_due") if getattr(r, name)]
        click.echo(f"{r.zone_code:14s} {r.year}: national {r.national_class}, regional {r.regional_class or '-'}, "
                   f"rank {r.national_rank or '-'}/{r.national_count or '-'}, below average {r.below_years} "
                   f"year(s) running -> {', '.join(called) or 'nothing'}")
    if open_cases:
        if username is None:
            raise GisappError("--open-cases needs --as: the bureau admin who opens the cases")
        for opened in _case_call(open_due_cases, get_engine(), _case_actor(username), day):
            click.echo(f"opened {opened.case_code} ({opened.pathway}) for {opened.zone_code}, result of {opened.year}")

@main.group()
def tokens() -> None:
    """Personal read-only API tokens for GIS clients (QGIS, GDAL, scripts): create, list, revoke."""


@tokens.command("create")
@click.option("--user", "username", required=True, help="The account the token reads as.")
@click.option("--label", required=True, help="What the token is for (e.g. QGIS on the planning PC).")
@friendly
def tokens_create(username: str, label: str) -> None:
    """Make a token; it is printed once and kept nowhere (the database holds its hash)."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.tokens import create_token

    ensure_database()
    token_id, token = create_token(owner_engine(), username, label)
    click.echo(f"token {token_id} for {username} ({label}); shown once, keep it like a password:")
    click.echo(token)


@tokens.command("list")
@click.option("--user", "username", required=True)
@friendly
def tokens_list(username: str) -> None:
    """A user's tokens: number, name, created, revoked."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.tokens import list_tokens

    ensure_database()
    for token in list_tokens(owner_engine(), username):
        revoked = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        click.echo(f"{token.id:>6}  {token.label:<40}  created {token.created_at:%Y-%m-%d %H:%M}  {revoked}")


@tokens.command("revoke")
@click.option("--user", "username", required=True)
@click.argument("token_id", type=int)
@friendly
def tokens_revoke(username: str, token_id: int) -> None:
    """Revoke a token: every client using it is refused from the next request on."""
    from gisapp.db.engine import owner_engine
    from gisapp.queries.tokens import revoke_token

    ensure_database()
    revoke_token(owner_engine(), username, token_id)
    click.echo(f"revoked token {token_id} of {username}")


if __name__ == "__main__":
    main()
