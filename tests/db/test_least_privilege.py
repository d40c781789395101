"""Least privilege, tried as SQL injected into a request would try it: connected as the web's
login role inside a request's transaction. Each way around the rules is refused, and the same
write with a correctly established context succeeds (so the refusals are not vacuous)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.db.context import APP_ROLE, ASSESSOR_ROLE, Actor, establish
from gisapp.db.engine import get_engine
from gisapp.settings import get_settings

pytestmark = pytest.mark.db

WGQ, YANGSHAN = 1, 4
EDITOR = Actor("ed.privilege", "zone_editor", (WGQ,))


@pytest.fixture(scope="module")
def app_engine(isolated_engine):
    """The engine of the app's login role on the module's database (what the web server uses)."""
    return get_engine()


def _other_zone_parcel(owner) -> int:
    with owner.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM land.parcels WHERE zone_id <> :z ORDER BY id LIMIT 1"),
                            {"z": WGQ}).scalar_one()


def _own_parcel(owner) -> int:
    with owner.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM land.parcels WHERE zone_id = :z ORDER BY id LIMIT 1"),
                            {"z": WGQ}).scalar_one()


def _floor(owner, parcel_id: int):
    with owner.connect() as conn:
        return conn.execute(sa.text("SELECT floor_area_m2 FROM land.parcels WHERE id = :i"), {"i": parcel_id}).scalar()


def _write_floor(conn, parcel_id: int, value: float) -> int:
    return conn.execute(sa.text("UPDATE land.parcels SET floor_area_m2 = :v WHERE id = :i"),
                        {"v": value, "i": parcel_id}).rowcount


def test_the_web_login_role_is_neither_superuser_nor_owner(app_engine, isolated_engine):
    with app_engine.connect() as conn:
        me = conn.execute(sa.text("SELECT current_user, rolsuper, rolbypassrls, rolinherit FROM pg_roles "
                                  "WHERE rolname = current_user")).one()
        owners = set(conn.execute(sa.text("SELECT DISTINCT tableowner FROM pg_tables "
                                          "WHERE schemaname IN ('land', 'rules', 'audit', 'auth')")).scalars())
    assert me[0] == APP_ROLE and me[1:] == (False, False, False)
    assert me[0] not in owners


def test_a_correct_context_writes_own_zone(app_engine, isolated_engine):
    own = _own_parcel(isolated_engine)
    with app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test: allowed")
        assert _write_floor(conn, own, 1234.5) == 1
    assert _floor(isolated_engine, own) == 1234.5


def test_without_set_role_the_login_role_writes_nothing(app_engine, isolated_engine):
    own = _own_parcel(isolated_engine)
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        _write_floor(conn, own, 1.0)


def test_reset_role_inside_a_request_gives_no_write(app_engine, isolated_engine):
    other = _other_zone_parcel(isolated_engine)
    before = _floor(isolated_engine, other)
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text("RESET ROLE"))
        _write_floor(conn, other, 1.0)
    assert _floor(isolated_engine, other) == before


@pytest.mark.parametrize("role", ["gis", "pg_execute_server_program", "pg_write_all_data"])
def test_set_role_to_the_owner_or_a_privileged_role_is_refused(app_engine, role):
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text(f'SET ROLE "{role}"'))


@pytest.mark.parametrize("forge", [
    "SELECT set_config('gisapp.role', 'bureau_admin', true)",
    "SELECT set_config('gisapp.user_zones', '{1,2,3,4,5,6,7,8,9,10}', true)",
    "SELECT set_config('gisapp.user', 'demo.admin', true), set_config('gisapp.role', 'bureau_admin', true)",
])
def test_forging_the_context_with_settings_changes_nothing(app_engine, isolated_engine, forge):
    other = _other_zone_parcel(isolated_engine)
    before = _floor(isolated_engine, other)
    with app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text(forge))
        assert _write_floor(conn, other, 1.0) == 0
    assert _floor(isolated_engine, other) == before


def test_a_second_context_in_the_same_transaction_is_refused(app_engine):
    with pytest.raises(sa.exc.ProgrammingError, match="established once"), app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        establish(conn, Actor("demo.admin", "bureau_admin"), "privilege test")


def test_a_context_without_the_apps_signature_is_refused(app_engine):
    with pytest.raises(sa.exc.ProgrammingError, match="not signed"), app_engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL ROLE gisapp_web"))
        conn.execute(sa.text("SELECT auth.begin_request('x', 'bureau_admin', '{}', 9999999999, repeat('0', 64))"))


def test_a_signature_made_for_another_session_is_refused(app_engine):
    """A signed context seen elsewhere (e.g. in pg_stat_activity) cannot be replayed."""
    from gisapp.db.context import sign

    admin = Actor("demo.admin", "bureau_admin")
    with app_engine.connect() as other:  # held open: the attempt below runs on another session
        other_pid = other.connection.driver_connection.info.backend_pid
        signature = sign(admin, other_pid, 9999999999)
        with pytest.raises(sa.exc.ProgrammingError, match="not signed"), app_engine.begin() as conn:
            assert conn.connection.driver_connection.info.backend_pid != other_pid
            conn.execute(sa.text("SET LOCAL ROLE gisapp_web"))
            conn.execute(sa.text("SELECT auth.begin_request('demo.admin', 'bureau_admin', '{}', 9999999999, :s)"),
                         {"s": signature})
        # the same signature on its own session is accepted: the refusal above is the session's
        with other.begin():
            other.execute(sa.text("SET LOCAL ROLE gisapp_web"))
            other.execute(sa.text("SELECT auth.begin_request('demo.admin', 'bureau_admin', '{}', 9999999999, :s)"),
                          {"s": signature})
            assert other.execute(sa.text("SELECT auth.app_role()")).scalar() == "bureau_admin"


def test_the_key_and_the_context_table_cannot_be_read_or_written(app_engine):
    for sql in ("SELECT key FROM auth.context_key",
                "INSERT INTO auth.request_context (pid, xid, username, role) "
                "VALUES (pg_backend_pid(), pg_current_xact_id(), 'x', 'bureau_admin')"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
            establish(conn, EDITOR, "privilege test")
            conn.execute(sa.text(sql))


def test_switching_off_triggers_is_refused(app_engine):
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    with pytest.raises(sa.exc.ProgrammingError, match="must be owner|permission denied"), \
            app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text("ALTER TABLE land.parcels DISABLE TRIGGER audit_change"))


@pytest.mark.parametrize("table", ["land.parcels", "land.green_areas", "audit.change_log", "rules.findings"])
def test_truncate_is_refused(app_engine, table):
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test")
        conn.execute(sa.text(f"TRUNCATE {table} CASCADE"))


@pytest.mark.parametrize("sql", [
    "INSERT INTO audit.change_log (table_schema, table_name, row_id, action) VALUES ('land', 'parcels', '1', 'DELETE')",
    "UPDATE audit.change_log SET reason = 'rewritten'",
    "DELETE FROM audit.change_log",
    "INSERT INTO audit.imports (kind, file_name, file_sha256, rows_in_file, imported_by) "
    "VALUES ('parcels', 'x', repeat('0', 64), 0, 'x')",
    "DELETE FROM audit.imports",
    "INSERT INTO land.parcel_status_history (parcel_id, from_status, to_status, changed_on, reason, changed_by) "
    "VALUES (1, 'in_production', 'idle', current_date, 'x', 'x')",
    "UPDATE auth.users SET role = 'bureau_admin'",
])
def test_the_audit_history_and_accounts_cannot_be_written(app_engine, isolated_engine, sql):
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        establish(conn, Actor("admin.privilege", "bureau_admin"), "privilege test")
        conn.execute(sa.text(sql))


def test_the_owner_truncating_is_audited(isolated_engine):
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL gisapp.reason = 'privilege test: truncate'"))
        conn.execute(sa.text("CREATE TEMP TABLE keep AS SELECT * FROM land.idle_exemptions"))
        conn.execute(sa.text("TRUNCATE land.idle_exemptions"))
        conn.execute(sa.text("INSERT INTO land.idle_exemptions SELECT * FROM keep"))
    with isolated_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT action, reason FROM audit.change_log WHERE table_name = 'idle_exemptions' "
                                   "ORDER BY id DESC LIMIT 1 OFFSET 0")).first()
        truncated = conn.execute(sa.text("SELECT count(*) FROM audit.change_log WHERE action = 'TRUNCATE' "
                                         "AND reason = 'privilege test: truncate'")).scalar()
    assert truncated == 1 and row is not None


def test_the_audit_names_the_verified_user_not_a_setting(app_engine, isolated_engine):
    own = _own_parcel(isolated_engine)
    with app_engine.begin() as conn:
        establish(conn, EDITOR, "privilege test: who")
        conn.execute(sa.text("SELECT set_config('gisapp.user', 'somebody.else', true)"))
        _write_floor(conn, own, 4321.0)
    with isolated_engine.connect() as conn:
        app_user, updated_by = conn.execute(sa.text(
            "SELECT c.app_user, p.updated_by FROM audit.change_log c JOIN land.parcels p ON p.id::text = c.row_id "
            "WHERE c.table_name = 'parcels' AND c.row_id = :r ORDER BY c.id DESC LIMIT 1"), {"r": str(own)}).one()
    assert app_user == updated_by == EDITOR.username


def test_db_check_finds_the_local_roles_in_order(isolated_engine):
    from gisapp.db.roles import check_roles

    assert check_roles(get_settings()) == []


def test_db_check_says_when_the_app_would_log_in_as_the_superuser(isolated_engine):
    from gisapp.db.roles import check_roles
    from gisapp.settings import Settings

    owner_url = isolated_engine.url.render_as_string(hide_password=False)
    problems = check_roles(Settings(database_url=owner_url, owner_database_url=owner_url,
                                    data_dir=get_settings().data_dir))
    assert any("same database URL" in p for p in problems)
    assert any("a superuser" in p and "row-level security" in p for p in problems)


def test_db_check_says_when_the_context_key_is_not_the_apps(isolated_engine):
    from gisapp.db.roles import check_roles
    from gisapp.settings import Settings

    other = Settings(secret_key="not the key migrate stored", data_dir=get_settings().data_dir)
    assert any("request-context key" in p for p in check_roles(other))


def test_an_assessment_runs_as_the_assessor_which_writes_findings_only(isolated_engine):
    from gisapp.db.engine import assessor_engine
    from gisapp.demo import DEMO_AS_OF
    from gisapp.rules.assess import run_assessment

    assessor = assessor_engine()
    with assessor.connect() as conn:
        me = conn.execute(sa.text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")).one()
    assert me == (ASSESSOR_ROLE, False)
    summary = run_assessment(assessor, DEMO_AS_OF, ["jiading"], ["idle_land", "per_mu"])
    with isolated_engine.connect() as conn:
        written = conn.execute(sa.text("SELECT count(*) FROM rules.findings WHERE run_id = :r"),
                               {"r": summary.run_id}).scalar()
    assert written > 0
    for sql in ("UPDATE land.parcels SET floor_area_m2 = 1 WHERE id = 1", "TRUNCATE rules.findings",
                "SELECT key FROM auth.context_key",
                "DELETE FROM audit.change_log", "SELECT password_hash FROM auth.users"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), assessor.begin() as conn:
            conn.execute(sa.text(sql))
