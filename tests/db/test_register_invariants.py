"""The register's invariants hold on every write path (form, SQL under the app's roles, import):
finite numbers, status dates that move only with a real transition and never into the future,
no overlap on INSERT, mixed-use shares that sum to 100% even when two editors race."""

from __future__ import annotations

import datetime as dt
import json
import threading

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import shape

from gisapp.errors import InputError
from gisapp.i18n import problem_texts
from gisapp.io.importer import import_file
from gisapp.queries import edits
from gisapp.queries.edits import Actor, acting_as

pytestmark = pytest.mark.db

WGQ = 1
EDITOR = Actor("ed.invariants", "zone_editor", (WGQ,))
ADMIN = Actor("admin.invariants", "bureau_admin")


def _parcel(eng, status: str = "in_production", offset: int = 0) -> dict:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT id, code, status, version, status_since, zone_id FROM land.parcels "
            "WHERE zone_id = :z AND status = :s ORDER BY id OFFSET :o LIMIT 1"),
            {"z": WGQ, "s": status, "o": offset}).mappings().one())


def _scalar(eng, sql: str, **params):
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


# -- 2. a same-status "change" and dates in the future ------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "1900-01-01", None])
def test_a_same_status_change_is_refused_and_keeps_the_idle_clock(isolated_engine, day):
    p = _parcel(isolated_engine, "granted_unbuilt", offset=1)
    before_history = _scalar(isolated_engine, "SELECT count(*) FROM land.parcel_status_history WHERE parcel_id = :p",
                             p=p["id"])
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.change_status(isolated_engine, EDITOR, p["code"], {
            "to_status": p["status"], "changed_on": day or dt.date.today().isoformat(),
            "reason": "restart the clock", "version": p["version"]})
    assert set(refused.value.problems) & {"to_status", "changed_on"}
    after = _parcel(isolated_engine, "granted_unbuilt", offset=1)
    assert after["status_since"] == p["status_since"] and after["version"] == p["version"]
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.parcel_status_history WHERE parcel_id = :p",
                   p=p["id"]) == before_history


def test_a_same_status_change_is_refused_with_its_reason_in_both_languages(isolated_engine):
    p = _parcel(isolated_engine, "granted_unbuilt", offset=2)
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.change_status(isolated_engine, EDITOR, p["code"], {
            "to_status": p["status"], "changed_on": dt.date.today().isoformat(), "reason": "x",
            "version": p["version"]})
    assert "already has this status" in problem_texts(refused.value.problems, "en")["to_status"]
    assert "已处于该状态" in problem_texts(refused.value.problems, "zh")["to_status"]


def test_status_since_cannot_be_rewritten_in_sql_without_a_transition(isolated_engine):
    p = _parcel(isolated_engine, "granted_unbuilt", offset=3)
    for who in (EDITOR, ADMIN):
        with pytest.raises(sa.exc.DatabaseError, match="changes only with a status change"), \
                acting_as(isolated_engine, who, "rewrite") as conn:
            conn.execute(sa.text("UPDATE land.parcels SET status_since = DATE '1900-01-01' WHERE id = :i"),
                         {"i": p["id"]})
    # the owner in psql is held to it as well
    with pytest.raises(sa.exc.DatabaseError, match="changes only with a status change"), \
            isolated_engine.begin() as conn:
        conn.execute(sa.text("UPDATE land.parcels SET status_since = current_date WHERE id = :i"), {"i": p["id"]})


def test_a_status_change_dated_in_the_future_is_refused_on_every_path(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=4)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.change_status(isolated_engine, EDITOR, p["code"], {
            "to_status": "low_efficiency", "changed_on": tomorrow, "reason": "x", "version": p["version"]})
    assert refused.value.problems["changed_on"].key == "edit.err.future"
    with pytest.raises(sa.exc.DatabaseError, match="future|not_future"), isolated_engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL gisapp.reason = 'psql'; SET LOCAL gisapp.status_dated = 'true'"))
        conn.execute(sa.text("UPDATE land.parcels SET status = 'low_efficiency', status_since = :d WHERE id = :i"),
                     {"d": tomorrow, "i": p["id"]})
    with pytest.raises(sa.exc.IntegrityError, match="not_future"), isolated_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO land.construction_progress (parcel_id, reported_on) VALUES (:p, :d)"),
                     {"p": p["id"], "d": tomorrow})


# -- 4. infinity is not a number to store ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "-1e400", "Infinity", "NaN"])
def test_a_non_finite_number_is_refused_by_the_form(isolated_engine, value):
    p = _parcel(isolated_engine, "under_construction")
    before = _scalar(isolated_engine, "SELECT count(*) FROM land.construction_progress WHERE parcel_id = :p",
                     p=p["id"])
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.record_progress(isolated_engine, EDITOR, p["code"], {
            "reported_on": dt.date.today().isoformat(), "should_develop_area_m2": value})
    assert "should_develop_area_m2" in refused.value.problems
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.construction_progress WHERE parcel_id = :p",
                   p=p["id"]) == before


@pytest.mark.parametrize("table, column, extra", [
    ("construction_progress", "should_develop_area_m2", {"reported_on": "2024-01-01"}),
    ("green_areas", "green_area_m2", {"measured_on": "2024-01-02"}),
    ("enterprise_metrics", "tax_wan", {"year": 2019}),
])
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN"])
def test_a_non_finite_number_is_refused_by_the_database(isolated_engine, table, column, extra, value):
    p = _parcel(isolated_engine, "in_production", offset=5)
    columns = {"parcel_id": p["id"], **extra, column: value}
    if table == "enterprise_metrics":
        columns["enterprise_id"] = _scalar(isolated_engine, "SELECT min(id) FROM land.enterprises")
    names = ", ".join(columns)
    binds = ", ".join(f"CAST(:{c} AS {'float8' if c == column else 'text'})" if c == column else f":{c}"
                      for c in columns)
    with pytest.raises(sa.exc.DatabaseError), acting_as(isolated_engine, ADMIN, "inf") as conn:
        conn.execute(sa.text(f"INSERT INTO land.{table} ({names}) VALUES ({binds})"), columns)
    assert _scalar(isolated_engine, f"SELECT count(*) FROM land.{table} WHERE NOT ({column} > '-Infinity' "
                                    f"AND {column} < 'Infinity')") == 0


def test_every_stored_number_column_is_checked_finite(isolated_engine):
    with isolated_engine.connect() as conn:
        unchecked = conn.execute(sa.text("""
            SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE t.table_type = 'BASE TABLE' AND c.table_schema = 'land'
              AND c.data_type IN ('double precision', 'real', 'numeric')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                              WHERE k.conrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                                AND k.contype = 'c' AND k.conname LIKE '%finite'
                                AND pg_get_constraintdef(k.oid) LIKE '%' || c.column_name || '%')""")).scalars().all()
    assert unchecked == []


# -- 3. new parcels may not overlap, whatever path inserts them ---------------------------------------------


def _neighbour_copy(eng, code: str, shift_fraction: float) -> dict:
    """The parcel's geometry moved east by a fraction of its width (as GeoJSON)."""
    with eng.connect() as conn:
        geojson = conn.execute(sa.text("SELECT ST_AsGeoJSON(geom) FROM land.parcels WHERE code = :c"),
                               {"c": code}).scalar()
    geometry = json.loads(geojson)
    xs = [x for poly in geometry["coordinates"] for ring in poly for x, _y in ring]
    dx = (max(xs) - min(xs)) * shift_fraction
    return {"type": geometry["type"], "coordinates": [
        [[[x + dx, y] for x, y in ring] for ring in poly] for poly in geometry["coordinates"]]}


def test_a_sql_insert_overlapping_an_existing_parcel_is_refused(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=6)
    moved = json.dumps(_neighbour_copy(isolated_engine, p["code"], 0.3))
    for who in (ADMIN, None):
        with pytest.raises(sa.exc.DatabaseError, match="overlap") as refused:
            ctx = acting_as(isolated_engine, who, "insert") if who else isolated_engine.begin()
            with ctx as conn:
                conn.execute(sa.text(
                    "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) "
                    "VALUES ('OVL-1', :z, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4490)), '1001', "
                    "'approved_unsupplied')"), {"z": WGQ, "g": moved})
        assert p["code"] in str(refused.value)
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.parcels WHERE code = 'OVL-1'") == 0


def test_two_new_parcels_overlapping_each_other_are_refused_in_one_insert(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=7)
    with isolated_engine.connect() as conn:
        inside = conn.execute(sa.text(
            "SELECT ST_AsText(ST_Buffer(ST_PointOnSurface(b.geom), 0.0004)) FROM land.zone_boundaries b "
            "WHERE b.zone_id = :z AND b.valid_to IS NULL"), {"z": WGQ}).scalar()
    with pytest.raises(sa.exc.DatabaseError, match="OVL-A overlap with OVL-B|OVL-B overlap with OVL-A"), \
            isolated_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.parcels WHERE geom && ST_GeomFromText(:w, 4490)"), {"w": inside})
        conn.execute(sa.text(
            "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) "
            "SELECT c, :z, ST_Multi(ST_GeomFromText(:w, 4490)), '1001', 'approved_unsupplied' "
            "FROM unnest(ARRAY['OVL-A', 'OVL-B']) c"), {"z": WGQ, "w": inside})
    del p


def test_a_small_import_overlapping_an_existing_parcel_is_refused_and_writes_nothing(isolated_engine, tmp_path):
    first, second = _parcel(isolated_engine, "in_production", offset=8), _parcel(isolated_engine, offset=20)
    count = _scalar(isolated_engine, "SELECT count(*) FROM land.parcels")
    frame = gpd.GeoDataFrame({"parcel_code": ["IMP-OVL-1", "IMP-OVL-2"], "land_use_code": ["1001", "1001"],
                              "status": ["approved_unsupplied"] * 2},
                             geometry=[shape(_neighbour_copy(isolated_engine, p["code"], 0.25))
                                       for p in (first, second)], crs=4490)
    path = tmp_path / "two.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="overlap") as refused:
        import_file(isolated_engine, "parcels", path)
    assert first["code"] in str(refused.value) and second["code"] in str(refused.value)
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.parcels") == count


# -- 1. mixed-use shares: two editors at the same instant on an empty record ---------------------------------


def _no_components_parcel(eng, offset: int) -> dict:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT p.id, p.code FROM land.parcels p WHERE p.zone_id = :z AND NOT EXISTS "
            "(SELECT 1 FROM land.mixed_use_components m WHERE m.parcel_id = p.id) ORDER BY p.id OFFSET :o LIMIT 1"),
            {"z": WGQ, "o": offset}).mappings().one())


@pytest.mark.parametrize("same_use", [False, True])
def test_two_editors_saving_shares_on_an_empty_parcel_one_wins_the_other_gets_a_conflict(isolated_engine,
                                                                                          same_use):
    for attempt in range(10):
        p = _no_components_parcel(isolated_engine, offset=20 * same_use + attempt)
        uses = ["1001", "1001"] if same_use else ["1001", "1101"]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def save(use: str) -> None:
            barrier.wait()
            try:
                edits.set_mixed_use(isolated_engine, EDITOR, p["code"],
                                    {"components": [[use, 100]], "expected": [], "reason": "race"})
                outcomes.append("saved")
            except edits.EditConflict:
                outcomes.append("conflict")
            except Exception as exc:  # noqa: BLE001 - the test reports any other answer
                outcomes.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=save, args=(u,)) for u in uses]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["conflict", "saved"], outcomes
        total = _scalar(isolated_engine, "SELECT sum(floor_share_pct) FROM land.mixed_use_components "
                                         "WHERE parcel_id = :p", p=p["id"])
        assert total == 100


def test_shares_that_do_not_sum_to_100_are_refused_by_the_database_too(isolated_engine):
    p = _no_components_parcel(isolated_engine, offset=60)
    with pytest.raises(sa.exc.DatabaseError, match="not 100%"), \
            acting_as(isolated_engine, EDITOR, "psql") as conn:
        conn.execute(sa.text("INSERT INTO land.mixed_use_components (parcel_id, land_use_code, floor_share_pct) "
                             "VALUES (:p, '1001', 100), (:p, '1101', 100)"), {"p": p["id"]})
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.mixed_use_components WHERE parcel_id = :p",
                   p=p["id"]) == 0


def _free_squares(eng, n: int, half: float = 0.0002) -> list:
    """n squares inside zone WGQ's boundary, clear of its parcels and of each other."""
    import numpy as np
    import shapely

    from gisapp import api

    boundary = api.read_layer("zones", engine=eng).set_index("id").geometry[WGQ]
    taken = shapely.STRtree(api.read_layer("parcels", fields=["code"], engine=eng).geometry.values)
    minx, miny, maxx, maxy = boundary.bounds
    rng = np.random.default_rng(3)
    found = []
    for x, y in zip(rng.uniform(minx, maxx, 50000), rng.uniform(miny, maxy, 50000)):
        sq = shapely.box(x - half, y - half, x + half, y + half)
        if (boundary.contains(sq) and not len(taken.query(sq, predicate="intersects"))
                and not any(sq.intersects(f) for f in found)):
            found.append(sq)
            if len(found) == n:
                return found
    raise AssertionError("no free space left in the zone")


def test_a_file_whose_parcels_overlap_each_other_is_refused_feature_by_feature(isolated_engine, tmp_path):
    from shapely.affinity import translate

    square, = _free_squares(isolated_engine, 1)
    frame = gpd.GeoDataFrame({"parcel_code": ["FILE-OVL-1", "FILE-OVL-2"], "land_use_code": ["1001"] * 2},
                             geometry=[square, translate(square, 0.0001, 0)], crs=4490)
    path = tmp_path / "self.geojson"
    frame.to_file(path, driver="GeoJSON")
    count = _scalar(isolated_engine, "SELECT count(*) FROM land.parcels")
    # a small import, the bulk load (COPY, triggers off), and the bulk load fed chunk by chunk
    for threshold, chunk_rows in ((10_000, 100_000), (1, 100_000), (1, 1)):
        with pytest.raises(InputError, match=r"FILE-OVL-2\).*overlaps feature 0 \(code FILE-OVL-1\) by [\d,.]+ m²"):
            import_file(isolated_engine, "parcels", path, bulk_threshold=threshold, chunk_rows=chunk_rows)
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.parcels") == count


def test_a_bulk_load_overlapping_existing_parcels_is_refused_and_writes_nothing(isolated_engine, tmp_path):
    p = _parcel(isolated_engine, "in_production", offset=9)
    free, = _free_squares(isolated_engine, 1)
    frame = gpd.GeoDataFrame({"parcel_code": ["BULK-OVL-1", "BULK-FREE-1"], "land_use_code": ["1001"] * 2},
                             geometry=[shape(_neighbour_copy(isolated_engine, p["code"], 0.25)), free], crs=4490)
    path = tmp_path / "bulk.geojson"
    frame.to_file(path, driver="GeoJSON")
    count = _scalar(isolated_engine, "SELECT count(*) FROM land.parcels")
    with pytest.raises(InputError, match=f"parcel BULK-OVL-1 overlaps the existing parcel {p['code']} by"):
        import_file(isolated_engine, "parcels", path, bulk_threshold=1)
    assert _scalar(isolated_engine, "SELECT count(*) FROM land.parcels") == count
    # the free one alone loads (the refusal above was the overlap's)
    alone = tmp_path / "free.geojson"
    frame.iloc[[1]].to_file(alone, driver="GeoJSON")
    assert import_file(isolated_engine, "parcels", alone, bulk_threshold=1).inserted == 1


def test_a_child_record_written_in_sql_waits_for_the_parcels_editor(isolated_engine):
    """Any path that writes a parcel's record queues behind an edit of that parcel (psql too)."""
    p = _parcel(isolated_engine, "in_production", offset=30)
    with isolated_engine.connect() as editor, isolated_engine.connect() as other:
        editor.begin()
        editor.execute(sa.text("SELECT 1 FROM land.parcels WHERE id = :i FOR NO KEY UPDATE"), {"i": p["id"]})
        other.begin()
        other.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            other.execute(sa.text("INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) "
                                  "VALUES (:p, DATE '2020-02-02', 1)"), {"p": p["id"]})
        other.rollback()
        editor.rollback()


def test_a_rule_that_old_rows_break_is_enforced_for_changes_and_listed_by_db_check(isolated_engine):
    """An upgrade of a database holding rows from before a rule (here: a measurement dated in
    the future) does not fail: the rule holds for every change, and db check names the rows."""
    from gisapp.db.invariants import broken_rules

    p = _parcel(isolated_engine, "in_production", offset=31)
    rule = "green_areas_measured_on_not_future"
    with isolated_engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE land.green_areas DROP CONSTRAINT {rule}"))
        conn.execute(sa.text("INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) "
                             "VALUES (:p, DATE '2999-01-01', 5)"), {"p": p["id"]})
        conn.execute(sa.text(f"ALTER TABLE land.green_areas ADD CONSTRAINT {rule} "
                             "CHECK (measured_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date) NOT VALID"))
        assert conn.execute(sa.text(
            f"SELECT gisapp_meta.validate_or_warn('land', 'green_areas', '{rule}')")).scalar() is False
    listed = [line for line in broken_rules(isolated_engine) if rule in line]
    assert len(listed) == 1 and listed[0].startswith(f"1 row(s) of land.green_areas break the rule {rule} ")
    assert "measured_on <=" in listed[0] and listed[0].endswith("correct them (new changes already obey it)")
    with pytest.raises(sa.exc.IntegrityError, match=rule), isolated_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO land.green_areas (parcel_id, measured_on, green_area_m2) "
                             "VALUES (:p, DATE '2998-01-01', 5)"), {"p": p["id"]})
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.green_areas WHERE measured_on = DATE '2999-01-01'"))
        assert conn.execute(sa.text(
            f"SELECT gisapp_meta.validate_or_warn('land', 'green_areas', '{rule}')")).scalar() is True
    assert not [line for line in broken_rules(isolated_engine) if rule in line]


@pytest.mark.parametrize("second", ["insert", "reshape"])
def test_two_writers_drawing_into_the_same_gap_at_once_cannot_both_pass(isolated_engine, second):
    """The first writer's parcel is not committed yet when the second one checks: the second
    waits for the first (a lock per zone) and its check then sees the first's parcel."""
    square, = _free_squares(isolated_engine, 1, half=0.0001)
    shifted = f"ST_Multi(ST_Translate(ST_GeomFromText('{square.wkt}', 4490), 0.00005, 0))"
    code = f"GAP-{second}"
    if second == "reshape":  # the second reshapes an existing parcel of the zone into the gap
        target = _parcel(isolated_engine, "in_production", offset=40)
    first = isolated_engine.connect()
    first.begin()
    first.execute(sa.text(
        "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) "
        f"VALUES (:c, :z, ST_Multi(ST_GeomFromText('{square.wkt}', 4490)), '1001', 'approved_unsupplied')"),
        {"c": f"{code}-1", "z": WGQ})
    outcome: list = []

    def write_second() -> None:
        try:
            with acting_as(isolated_engine, ADMIN, "second writer") as conn:
                if second == "insert":
                    conn.execute(sa.text(
                        "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) "
                        f"VALUES (:c, :z, {shifted}, '1001', 'approved_unsupplied')"), {"c": f"{code}-2", "z": WGQ})
                else:
                    conn.execute(sa.text(f"UPDATE land.parcels SET geom = {shifted} WHERE id = :i"),
                                 {"i": target["id"]})
            outcome.append("saved")
        except sa.exc.DatabaseError as exc:
            outcome.append(str(exc.orig))

    writer = threading.Thread(target=write_second)
    writer.start()
    writer.join(timeout=1.0)
    assert writer.is_alive(), "the second writer did not wait for the first"
    first.commit()
    first.close()
    writer.join(timeout=30)
    assert len(outcome) == 1 and "overlap" in outcome[0] and f"{code}-1" in outcome[0], outcome
