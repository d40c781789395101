"""Checks that the database's roles give the app least privilege (``gisapp db check``).

The app's login role (``gisapp_app`` on the local cluster) must be neither superuser nor the
owner of the tables, must not bypass row-level security, must not inherit the request role's
privileges, and must sign contexts with the key the database holds. docs/security.md says what
an operator creates on an external database.
"""

from __future__ import annotations

import sqlalchemy as sa

from gisapp.db.context import WEB_ROLE, context_key_matches
from gisapp.db.engine import assessor_engine, database_url, get_engine, owner_engine
from gisapp.settings import Settings


def _reach(engine: sa.Engine, who: str) -> str | None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        return f"cannot connect as {who} ({where}): {reason}"
    return None


def _login_role(engine: sa.Engine) -> dict:
    """What the role ``engine`` logs in as may do: its attributes, whether it owns (or inherits the
    owner of) a table of the register, may act as the request role, may write a land table."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolinherit, r.rolcreaterole, r.rolcreatedb, "
            "pg_has_role(current_user, :web, 'MEMBER') AS can_web, "
            "EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname IN ('land', 'rules', 'audit', 'auth') "
            "        AND pg_has_role(current_user, t.tableowner, 'USAGE')) AS owns, "
            "has_table_privilege(current_user, 'land.parcels', 'UPDATE') AS writes_land "
            "FROM pg_roles r WHERE r.rolname = current_user"), {"web": WEB_ROLE}).mappings().one())


def check_roles(settings: Settings) -> list[str]:
    """One sentence per problem; an empty list when all is well."""
    problems: list[str] = []
    app, owner = get_engine(settings), owner_engine(settings)
    for engine, who in ((owner, "the tables' owner"), (app, "the app's login role"),
                        (assessor_engine(settings), "the assessment's login role")):
        failure = _reach(engine, who)
        if failure:
            problems.append(failure)
    if problems:
        return problems
    if database_url(settings) == database_url(settings, owner=True):
        problems.append("the app and the owner use the same database URL: give the app its own login role "
                        "(GISAPP_DATABASE_URL as gisapp_app, GISAPP_OWNER_DATABASE_URL as the owner)")
    me = _login_role(app)
    name = me["rolname"]
    if me["rolsuper"]:
        problems.append(f"the app logs in as {name}, a superuser: it could switch off row-level security and "
                        "the audit; create gisapp_app (docs/security.md) and use it in GISAPP_DATABASE_URL")
    if me["rolbypassrls"]:
        problems.append(f"the app's login role {name} has BYPASSRLS: ALTER ROLE {name} NOBYPASSRLS")
    if me["owns"] and not me["rolsuper"]:
        problems.append(f"the app's login role {name} owns (or inherits the owner of) the land tables: "
                        "the owner is not bound by row-level security; log in as a role that owns nothing")
    if me["rolinherit"] and not me["rolsuper"]:
        problems.append(f"the app's login role {name} inherits its roles' privileges: ALTER ROLE {name} NOINHERIT")
    if me["rolcreaterole"] or me["rolcreatedb"]:
        problems.append(f"the app's login role {name} may create roles or databases: "
                        f"ALTER ROLE {name} NOCREATEROLE NOCREATEDB")
    if not me["can_web"]:
        problems.append(f"the app's login role {name} is not a member of {WEB_ROLE}: GRANT {WEB_ROLE} TO {name} "
                        "(gisapp migrate does it for gisapp_app)")
    problems += _assessor_problems(assessor_engine(settings))
    try:
        if not context_key_matches(app, settings):
            problems.append("the database's request-context key is not this app's: run `gisapp migrate` with the "
                            "same GISAPP_SECRET_KEY (or data folder) as the server, else every edit is refused")
    except sa.exc.ProgrammingError:
        problems.append("the database has no request-context functions yet: run `gisapp migrate`")
    return problems


def _assessor_problems(engine: sa.Engine) -> list[str]:
    """The assessment's role may bypass row-level security (its COPY needs it) but must not be a
    superuser or own the tables: then its writes stay limited to the findings."""
    me = _login_role(engine)
    name = me["rolname"]
    if me["rolsuper"] or me["owns"]:
        return [f"assessments run as {name}, which is a superuser or owns the tables: create gisapp_assessor "
                "(docs/security.md) and use it in GISAPP_ASSESSOR_DATABASE_URL"]
    if me["writes_land"]:
        return [f"the assessment's login role {name} may write land.parcels: it should write findings only "
                f"(REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA land FROM {name})"]
    return []
