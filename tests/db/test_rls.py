"""Per-zone permissions enforced by PostgreSQL: SQL run under the app's role (gisapp_web) with a
user's context set, as each web request's transaction runs it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.queries.edits import Actor, acting_as

pytestmark = pytest.mark.db

WGQ, WGP = 1, 2  # zone ids of waigaoqiao_ftz and waigaoqiao_port in the demo data
EDITOR_WGQ = Actor("ed.wgq", "zone_editor", (WGQ,))


def _parcel(eng, zone_id: int, status: str = "in_production", offset: int = 0) -> dict:
    with eng.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT id, code, status, version, land_use_code FROM land.parcels WHERE zone_id = :z "
                    "AND status = :s "
                    "ORDER BY id OFFSET :o LIMIT 1"
                ),
                {"z": zone_id, "s": status, "o": offset},
            )
            .mappings()
            .one()
        )


def _scalar(eng, sql: str, **params):
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_zone_editor_cannot_update_another_zones_parcel_in_sql(isolated_engine):
    other = _parcel(isolated_engine, WGP)
    with acting_as(isolated_engine, EDITOR_WGQ, "test") as conn:
        hidden = conn.execute(
            sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE id = :id"), {"id": other["id"]}
        )
        assert hidden.rowcount == 0
        # the row is readable (everyone signed in reads) but not writable
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM land.parcels WHERE id = :id"), {"id": other["id"]}
            ).scalar()
            == 1
        )
    assert (
        _scalar(isolated_engine, "SELECT land_use_code FROM land.parcels WHERE id = :id", id=other["id"])
        == other["land_use_code"]
    )


def test_zone_editor_cannot_change_another_zones_status_through_the_sql_function(isolated_engine):
    other = _parcel(isolated_engine, WGP)
    with (
        pytest.raises(sa.exc.ProgrammingError, match="may not edit parcel .* waigaoqiao_port"),
        acting_as(isolated_engine, EDITOR_WGQ) as conn,
    ):
        conn.execute(
            sa.text("SELECT land.change_parcel_status(:c, 'low_efficiency', current_date, 'x')"),
            {"c": other["code"]},
        )
    assert (
        _scalar(isolated_engine, "SELECT status FROM land.parcels WHERE id = :id", id=other["id"])
        == "in_production"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) VALUES (:pid, current_date, 9)",
        "INSERT INTO land.construction_progress (parcel_id, reported_on) VALUES (:pid, current_date)",
    ],
)
def test_zone_editor_cannot_add_records_to_another_zones_parcel(isolated_engine, sql):
    other = _parcel(isolated_engine, WGP)
    before = _scalar(isolated_engine, "SELECT count(*) FROM audit.change_log")
    with (
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        acting_as(isolated_engine, EDITOR_WGQ, "test") as conn,
    ):
        conn.execute(sa.text(sql), {"pid": other["id"]})
    assert _scalar(isolated_engine, "SELECT count(*) FROM audit.change_log") == before


def test_zone_editor_cannot_pull_another_zones_parcel_into_own_zone(isolated_engine):
    other = _parcel(isolated_engine, WGP)
    with acting_as(isolated_engine, EDITOR_WGQ, "test") as conn:
        assert (
            conn.execute(
                sa.text("UPDATE land.parcels SET zone_id = :z WHERE id = :id"), {"z": WGQ, "id": other["id"]}
            ).rowcount
            == 0
        )
    assert _scalar(isolated_engine, "SELECT zone_id FROM land.parcels WHERE id = :id", id=other["id"]) == WGP


def test_zone_editor_cannot_move_own_parcel_into_another_zone(isolated_engine):
    own = _parcel(isolated_engine, WGQ)
    # refused by the policy's WITH CHECK (or first by the geometry check: it lies outside that zone)
    with (
        pytest.raises(sa.exc.DatabaseError, match="row-level security|outside_boundary"),
        acting_as(isolated_engine, EDITOR_WGQ, "test") as conn,
    ):
        conn.execute(
            sa.text("UPDATE land.parcels SET zone_id = :z WHERE id = :id"), {"z": WGP, "id": own["id"]}
        )
    assert _scalar(isolated_engine, "SELECT zone_id FROM land.parcels WHERE id = :id", id=own["id"]) == WGQ


def test_zone_editor_writes_rows_of_own_zone(isolated_engine):
    own = _parcel(isolated_engine, WGQ, offset=3)
    with acting_as(isolated_engine, EDITOR_WGQ, "own zone") as conn:
        assert (
            conn.execute(
                sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE id = :id"), {"id": own["id"]}
            ).rowcount
            == 1
        )
        conn.execute(
            sa.text(
                "INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) "
                "VALUES (:pid, '2026-01-02', 10)"
            ),
            {"pid": own["id"]},
        )
    row = _scalar(isolated_engine, "SELECT to_jsonb(p) FROM land.parcels p WHERE id = :id", id=own["id"])
    assert (
        row["land_use_code"] == "0802"
        and row["updated_by"] == "ed.wgq"
        and row["version"] == own["version"] + 1
    )


@pytest.mark.parametrize("role", ["bureau_viewer", "analyst"])
def test_read_only_roles_write_nothing(isolated_engine, role):
    actor = Actor(f"ro.{role}", role)
    target = _parcel(isolated_engine, WGQ, offset=5)
    with acting_as(isolated_engine, actor, "test") as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar() > 3000  # reads everything
        assert (
            conn.execute(
                sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE id = :id"), {"id": target["id"]}
            ).rowcount
            == 0
        )
    with (
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        acting_as(isolated_engine, actor, "test") as conn,
    ):
        conn.execute(
            sa.text(
                "INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) "
                "VALUES (:pid, current_date, 1)"
            ),
            {"pid": target["id"]},
        )
    with (
        pytest.raises(sa.exc.ProgrammingError, match="may not edit"),
        acting_as(isolated_engine, actor) as conn,
    ):
        conn.execute(
            sa.text("SELECT land.change_parcel_status(:c, 'low_efficiency', current_date, 'x')"),
            {"c": target["code"]},
        )


def test_a_zone_editor_without_zones_writes_nothing(isolated_engine):
    target = _parcel(isolated_engine, WGQ, offset=6)
    with acting_as(isolated_engine, Actor("ed.none", "zone_editor", ()), "test") as conn:
        assert (
            conn.execute(
                sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE id = :id"), {"id": target["id"]}
            ).rowcount
            == 0
        )


def test_bureau_admin_writes_every_zone(isolated_engine):
    targets = [_parcel(isolated_engine, z, offset=7) for z in (WGQ, WGP, 4)]
    with acting_as(isolated_engine, Actor("admin1", "bureau_admin"), "admin fix") as conn:
        for p in targets:
            assert (
                conn.execute(
                    sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE id = :id"), {"id": p["id"]}
                ).rowcount
                == 1
            )


def test_without_a_signed_in_user_the_web_role_sees_nothing(isolated_engine):
    with acting_as(isolated_engine, Actor("", "bureau_admin")) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar() == 0
        assert conn.execute(sa.text("UPDATE land.parcels SET land_use_code = '0802'")).rowcount == 0


def test_the_web_role_cannot_read_accounts_or_their_history(isolated_engine, make_user):
    make_user("analyst")
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        acting_as(isolated_engine, EDITOR_WGQ) as conn,
    ):
        conn.execute(sa.text("SELECT password_hash FROM auth.users"))
    with acting_as(isolated_engine, EDITOR_WGQ) as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM audit.change_log WHERE table_schema = 'auth'")
            ).scalar()
            == 0
        )
    assert _scalar(isolated_engine, "SELECT count(*) FROM audit.change_log WHERE table_schema = 'auth'") > 0


def test_context_settings_any_sql_can_set_grant_nothing(isolated_engine):
    """The policies read the verified context only: the old settings are names for nobody."""
    with isolated_engine.begin() as conn:
        conn.execute(
            sa.text(
                "SELECT set_config('role', 'gisapp_web', true), set_config('gisapp.user', 'x', true),"
                " set_config('gisapp.role', 'bureau_admin', true),"
                " set_config('gisapp.user_zones', '{1,2,3}', true)"
            )
        )
        assert conn.execute(sa.text("UPDATE land.parcels SET land_use_code = '0802' WHERE zone_id = 1")).rowcount == 0
        conn.rollback()


def test_the_app_role_has_no_way_around_the_policies(isolated_engine):
    with isolated_engine.connect() as conn:
        role = conn.execute(
            sa.text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'gisapp_web'")
        ).one()
        assert tuple(role) == (False, False, False)
        unprotected = (
            conn.execute(
                sa.text("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN information_schema.columns col ON col.table_schema = n.nspname AND col.table_name = c.relname
            WHERE n.nspname = 'land' AND c.relkind = 'r' AND col.column_name = 'version'
              AND NOT c.relrowsecurity
        """)
            )
            .scalars()
            .all()
        )
        assert unprotected == []
