"""The migrator: idempotent, recorded with checksums, refuses a changed applied migration."""

import shutil

import pytest
import sqlalchemy as sa

from gisapp.db.engine import get_engine, owner_engine
from gisapp.db.migrate import migrate
from gisapp.errors import MigrationError


@pytest.fixture()
def scratch_engine(cluster, settings):
    """An empty database of its own, dropped afterwards."""
    if cluster is None:
        pytest.skip("scratch databases need the local cluster")
    name = f"{settings.db_name}_scratch"
    cluster.drop_database(name)
    cluster.create_database(name)
    eng = sa.create_engine(cluster.url(name))
    yield eng
    eng.dispose()
    cluster.drop_database(name)


def test_second_migrate_applies_nothing_and_keeps_data(engine, settings):
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    report = migrate(engine, settings.sql_dir)
    assert report.applied == []
    assert len(report.already) == len(list((settings.sql_dir / "migrations").glob("*.sql")))
    assert report.reapplied, "views and security are re-applied on every run"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar() == before
        recorded = conn.execute(sa.text("SELECT count(*) FROM gisapp_meta.migrations")).scalar()
    assert recorded == len(report.already)


def test_changed_applied_migration_stops_with_a_clear_message(scratch_engine, settings, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    migrate(scratch_engine, sql_dir)
    target = sorted((sql_dir / "migrations").glob("*.sql"))[1]
    target.write_text(target.read_text() + "\n-- edited after it ran\n")
    with pytest.raises(MigrationError, match=rf"{target.name} was changed after it was applied.*new, higher-numbered"):
        migrate(scratch_engine, sql_dir)


def test_failing_migration_is_rolled_back_and_not_recorded(scratch_engine, settings, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    (sql_dir / "migrations" / "9999_break_things.sql").write_text(
        "CREATE TABLE land.half_done (id int);\nSELECT no_such_function();\n")
    with pytest.raises(MigrationError, match="9999_break_things.sql failed"):
        migrate(scratch_engine, sql_dir)
    with scratch_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('land.half_done')")).scalar() is None
        assert conn.execute(sa.text(
            "SELECT count(*) FROM gisapp_meta.migrations WHERE filename = '9999_break_things.sql'")).scalar() == 0


def test_badly_named_migration_is_refused(scratch_engine, settings, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(settings.sql_dir, sql_dir)
    (sql_dir / "migrations" / "add stuff.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_verb_object.sql"):
        migrate(scratch_engine, sql_dir)


def test_engine_is_made_once(engine):
    assert owner_engine() is engine
    assert get_engine() is get_engine() and get_engine() is not engine


def test_a_migration_waits_for_a_running_assessment_instead_of_deadlocking_it(engine, settings):
    """Re-applying the views locks them; during a run that deadlocked with the run's reads. The
    migrator takes the assessment's lock first, so it waits for the run (held here by hand)."""
    import threading

    from gisapp.db import locks

    done: list[object] = []
    with engine.connect() as run:
        run.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": locks.ASSESSMENT})
        run.commit()
        worker = threading.Thread(target=lambda: done.append(migrate(engine, settings.sql_dir)), daemon=True)
        worker.start()
        waiting = 0
        for _ in range(600):  # until the migrator is seen waiting for that very lock (or 60 s)
            waiting = run.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = :k AND pid <> pg_backend_pid()"), {"k": locks.ASSESSMENT}).scalar()
            run.commit()
            if waiting or not worker.is_alive():
                break
            worker.join(0.1)
        assert waiting == 1 and not done, "the migrator must wait while an assessment runs"
        run.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": locks.ASSESSMENT})
        run.commit()
        worker.join(120)
    assert done and done[0].reapplied, "once the run is over the migration goes ahead"
    with engine.connect() as conn:  # and it let go of both locks
        held = conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
    assert held == 0
