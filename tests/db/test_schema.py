"""Schema facts: models mirror the SQL, geometry columns are EPSG:4490 with GiST indexes,
editable tables are versioned and audited."""

import pytest
import sqlalchemy as sa

from gisapp import models

SCHEMAS = ("land", "rules", "auth", "audit", "gisapp_meta")
#: auth.request_context.xid is an xid8, which SQLAlchemy's reflection does not know (it says so)
pytestmark = pytest.mark.filterwarnings("ignore:Did not recognize type 'xid8'")


def _type_name(column_type) -> str:
    """The type as PostgreSQL names it (ARRAY, xid8: by their own spelling)."""
    from sqlalchemy.dialects import postgresql

    try:
        name = column_type.compile(dialect=postgresql.dialect())
    except sa.exc.CompileError:
        return type(column_type).__name__.upper()
    return name.upper().replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ").replace("DOUBLE PRECISION", "FLOAT8")


def test_every_table_is_mapped_and_every_column_has_its_type(engine):
    """The typed table map (gisapp.models) is the database's: no table left out, no type restated
    wrongly (a float8 mapped as real, JSON text mapped as jsonb)."""
    insp = sa.inspect(engine)
    mapped = {(m.local_table.schema, m.local_table.name): m.local_table for m in models.Base.registry.mappers}
    tables = {(schema, name) for schema in SCHEMAS for name in insp.get_table_names(schema=schema)}
    assert sorted(tables - set(mapped)) == [], "tables without a model"
    wrong = []
    for schema, name in sorted(tables):
        table = mapped[(schema, name)]
        for column in insp.get_columns(name, schema=schema):
            if isinstance(column["type"], sa.types.NullType):  # a type SQLAlchemy does not know (xid8)
                continue
            stored, declared = _type_name(column["type"]), _type_name(table.c[column["name"]].type)
            if stored != declared:
                wrong.append(f"{schema}.{name}.{column['name']}: {stored} in the database, {declared} mapped")
    assert wrong == []


def test_every_mapped_column_exists_with_the_same_nullability(engine):
    insp = sa.inspect(engine)
    for mapper in models.Base.registry.mappers:
        table = mapper.local_table
        db_cols = {c["name"]: c for c in insp.get_columns(table.name, schema=table.schema)}
        assert set(db_cols) == {c.name for c in table.columns}, f"{table.schema}.{table.name} columns differ"
        for col in table.columns:
            if col.primary_key:
                continue
            assert db_cols[col.name]["nullable"] == col.nullable, f"{table.schema}.{table.name}.{col.name}"


def test_geometry_columns_are_4490_with_gist_indexes(engine):
    with engine.connect() as conn:
        cols = conn.execute(sa.text(
            "SELECT f_table_schema, f_table_name, f_geometry_column, srid, type FROM geometry_columns "
            "WHERE f_table_schema = 'land'")).all()
        assert cols
        for schema, table, column, srid, gtype in cols:
            assert srid == 4490, f"{schema}.{table}.{column}"
            assert gtype == "MULTIPOLYGON"
            has_gist = conn.execute(sa.text(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = :s AND tablename = :t "
                "AND indexdef ILIKE '%USING gist (' || :c || ')%'"), {"s": schema, "t": table, "c": column}).scalar()
            assert has_gist, f"{schema}.{table}.{column} has no GiST index"


def test_every_editable_table_has_version_triggers_and_audit(engine):
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            "SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.column_name = 'version' AND t.table_type = 'BASE TABLE' "
            "AND c.table_schema IN ('land', 'rules', 'auth')")).scalars().all()
        assert "land.parcels" in tables and "land.land_grants" in tables
        for qualified in tables:
            triggers = set(conn.execute(sa.text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
                {"t": qualified}).scalars())
            assert {"touch_row", "audit_change"} <= triggers, qualified


def test_update_bumps_version_and_is_audited_with_user_and_reason(engine):
    with engine.begin() as conn:
        pid, version = conn.execute(sa.text("SELECT id, version FROM land.parcels ORDER BY id LIMIT 1")).one()
        conn.execute(sa.text("SELECT set_config('gisapp.user', 'tester', true), "
                             "set_config('gisapp.reason', 'unit test', true)"))
        conn.execute(sa.text("UPDATE land.parcels SET floor_area_m2 = 1234.5 WHERE id = :id"), {"id": pid})
        new_version, by = conn.execute(sa.text("SELECT version, updated_by FROM land.parcels WHERE id = :id"),
                                       {"id": pid}).one()
        audit = conn.execute(sa.text(
            "SELECT action, app_user, reason, new_row ->> 'floor_area_m2', old_row ->> 'geom' FROM audit.change_log "
            "WHERE table_name = 'parcels' AND row_id = :id ORDER BY id DESC LIMIT 1"), {"id": str(pid)}).one()
        conn.rollback()
    assert new_version == version + 1 and by == "tester"
    assert audit[:4] == ("UPDATE", "tester", "unit test", "1234.5")
    assert audit[4].startswith("SRID=4490;MULTIPOLYGON"), "the old geometry is kept so a parcel can be shown as it was"


def test_parcel_area_is_computed_by_postgis_and_cannot_be_forged(engine):
    """Migration 0900: a trigger keeps the area; a value written by hand is replaced, and a changed
    geometry gets its new area."""
    with engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT min(id) FROM land.parcels")).scalar()
        conn.execute(sa.text("UPDATE land.parcels SET area_m2 = 1 WHERE id = :id"), {"id": pid})
        forged, true_area = conn.execute(sa.text(
            "SELECT area_m2, ST_Area(geom::geography) FROM land.parcels WHERE id = :id"), {"id": pid}).one()
        conn.execute(sa.text("UPDATE land.parcels SET geom = ST_SetSRID(ST_Multi(ST_Buffer(ST_PointOnSurface(geom)"
                             "::geography, 10)::geometry), 4490) WHERE id = :id"), {"id": pid})
        shrunk, shrunk_true = conn.execute(sa.text(
            "SELECT area_m2, ST_Area(geom::geography) FROM land.parcels WHERE id = :id"), {"id": pid}).one()
        conn.rollback()
    assert forged == true_area > 1
    assert shrunk == shrunk_true and shrunk < 400  # a 10 m circle: ~314 m²


def test_invalid_geometry_is_refused(engine):
    bowtie = "SRID=4490;MULTIPOLYGON(((121.5 31.2,121.6 31.3,121.6 31.2,121.5 31.3,121.5 31.2)))"
    with engine.connect() as conn:
        zone_id = conn.execute(sa.text("SELECT min(id) FROM land.zones")).scalar()
        try:
            conn.execute(sa.text(
                "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) "
                "VALUES ('BAD-1', :z, ST_GeomFromEWKT(:g), '1001', 'approved_unsupplied')"), {"z": zone_id, "g": bowtie})
            refused = False
        except sa.exc.IntegrityError as exc:
            refused = "parcels_geom_check" in str(exc)
        conn.rollback()
    assert refused


def test_status_transitions_graph_is_connected_from_approval(engine):
    with engine.connect() as conn:
        edges = conn.execute(sa.text("SELECT from_status, to_status FROM land.parcel_status_transitions")).all()
        statuses = set(conn.execute(sa.text("SELECT code FROM land.parcel_statuses")).scalars())
    reach, frontier = {"approved_unsupplied"}, ["approved_unsupplied"]
    while frontier:
        node = frontier.pop()
        for a, b in edges:
            if a == node and b not in reach:
                reach.add(b)
                frontier.append(b)
    assert reach == statuses


def test_password_hashes_never_reach_the_audit_history(engine):
    with engine.begin() as conn:
        uid = conn.execute(sa.text(
            "INSERT INTO auth.users (username, display_name, password_hash, role) "
            "VALUES ('audit_probe', 'Audit probe', '$argon2id$secret-hash-1', 'analyst') RETURNING id")).scalar()
        conn.execute(sa.text("UPDATE auth.users SET password_hash = '$argon2id$secret-hash-2' WHERE id = :id"),
                     {"id": uid})
        rows = conn.execute(sa.text(
            "SELECT coalesce(old_row::text, '') || coalesce(new_row::text, '') FROM audit.change_log "
            "WHERE table_name = 'users' AND row_id = :id ORDER BY id"), {"id": str(uid)}).scalars().all()
        conn.rollback()
    assert len(rows) == 2
    assert not any("secret-hash" in r for r in rows)
    assert '"password_changed": true' in rows[1]
