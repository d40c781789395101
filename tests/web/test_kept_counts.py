"""Zone summaries from the parcel counts the database keeps (sql/migrations/0600): the same answer
as counting the parcels in view, current within the transaction that changes a parcel, through
bulk loads in replica mode, moves, deletes and truncation. Every change here is rolled back."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import get_layer
from gisapp.queries.features import BBox, run_viewport_query, viewport_query

pytestmark = pytest.mark.db

CITY = BBox(120.8, 30.6, 122.2, 31.8)


def summaries(conn, bbox: BBox, zone: str | None = None) -> dict[str, dict[str, int]]:
    """The aggregate answer of the parcels layer at z10 as {zone: {status: count}}."""
    answer = run_viewport_query(conn, viewport_query(get_layer("parcels"), bbox, 10, zone=zone))
    assert answer.mode == "aggregate"
    return {f["properties"]["zone_code"]: f["properties"]["breakdown"] for f in json.loads(answer.body)["features"]}


def counted(conn, bbox: BBox, zone: str | None = None) -> dict[str, dict[str, int]]:
    """The same, counted from the parcels in view (zones with a boundary in force only)."""
    rows = conn.execute(sa.text("""
        SELECT p.zone_code, p.status, count(*) FROM layers.parcels p
        WHERE p.geom && ST_MakeEnvelope(:a, :b, :c, :d, 4490)
          AND p.zone_code IN (SELECT code FROM layers.zones)
          AND (CAST(:zone AS text) IS NULL OR p.zone_code = :zone)
        GROUP BY 1, 2"""), {"a": bbox.minx, "b": bbox.miny, "c": bbox.maxx, "d": bbox.maxy, "zone": zone}).all()
    out: dict[str, dict[str, int]] = {}
    for zone_code, status, n in rows:
        out.setdefault(zone_code, {})[status] = n
    return out


def zone_box(conn, code: str) -> BBox:
    west, south, east, north = conn.execute(sa.text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(p.geom) AS e "
        "FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id WHERE z.code = :c) x"), {"c": code}).one()
    return BBox(west, south, east, north)


@pytest.fixture()
def conn(engine):
    """One connection in a transaction that is rolled back: changes stay invisible to other tests."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT set_config('gisapp.user', 'kept-counts-test', true), "
                                   "set_config('gisapp.reason', 'kept counts test', true)"))
        yield connection
        connection.rollback()


def test_summaries_from_kept_counts_equal_a_fresh_count(conn):
    whole = zone_box(conn, "jiading")
    # the whole city; a view holding one zone entirely and cutting others; one cutting a zone in half
    half = BBox(whole.minx, whole.miny, (whole.minx + whole.maxx) / 2, whole.maxy)
    wider = BBox(whole.minx - 0.05, whole.miny - 0.05, whole.maxx + 0.05, whole.maxy + 0.05)
    for bbox in (CITY, wider, half):
        assert summaries(conn, bbox) == counted(conn, bbox)
    assert summaries(conn, CITY, zone="jiading") == counted(conn, CITY, zone="jiading")
    assert summaries(conn, half)["jiading"] != summaries(conn, CITY)["jiading"]  # the cut zone is counted


def test_a_zone_wholly_in_view_is_read_from_the_kept_counts(conn):
    zone_id = conn.execute(sa.text("SELECT id FROM land.zones WHERE code = 'jiading'")).scalar()
    before = summaries(conn, CITY)["jiading"]
    # a delta written by hand (never done for real): the answer follows it, so it is what is read
    box = zone_box(conn, "jiading")
    conn.execute(sa.text("INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north) "
                         "VALUES (:z, 'idle', 1000, :w, :s, :e, :n)"),
                 {"z": zone_id, "w": box.minx, "s": box.miny, "e": box.maxx, "n": box.maxy})
    assert summaries(conn, CITY)["jiading"].get("idle", 0) == before.get("idle", 0) + 1000


def test_status_changes_inserts_moves_and_deletes_show_at_once(conn):
    # the triggers fold the deltas by chance (random() < 0.02): a fixed seed makes this test's draws
    # the same on every run, so the explicit fold below always has deltas to fold
    conn.execute(sa.text("SELECT setseed(0.25)"))
    pid = conn.execute(sa.text(
        "SELECT p.id FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
        "WHERE z.code = 'jiading' AND p.status = 'in_production' ORDER BY p.id LIMIT 1")).scalar()
    before = summaries(conn, CITY)["jiading"]
    conn.execute(sa.text("UPDATE land.parcels SET status = 'idle' WHERE id = :id"), {"id": pid})
    after = summaries(conn, CITY)["jiading"]
    assert after["in_production"] == before["in_production"] - 1
    assert after.get("idle", 0) == before.get("idle", 0) + 1
    assert summaries(conn, CITY) == counted(conn, CITY)

    # a copy of the parcel, moved 0.3° east: the zone now reaches out of its old extent (outside its
    # boundary: the geometry checks are switched off for this rolled-back transaction)
    conn.execute(sa.text("ALTER TABLE land.parcels DISABLE TRIGGER parcel_insert_geometry_check, "
                         "DISABLE TRIGGER parcel_geometry_check"))
    conn.execute(sa.text("""
        INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status, is_synthetic)
        SELECT code || '-COPY', zone_id, ST_Translate(geom, 0.3, 0), land_use_code, status, true
        FROM land.parcels WHERE id = :id"""), {"id": pid})
    whole = zone_box(conn, "jiading")
    inside_before = BBox(whole.minx - 0.01, whole.miny - 0.01, whole.maxx - 0.2, whole.maxy + 0.01)
    assert summaries(conn, inside_before) == counted(conn, inside_before)
    assert summaries(conn, CITY) == counted(conn, CITY)

    conn.execute(sa.text("UPDATE land.parcels SET geom = ST_Translate(geom, -0.3, 0) WHERE code LIKE '%-COPY'"))
    conn.execute(sa.text("DELETE FROM land.parcels WHERE id = :id"), {"id": pid})
    assert summaries(conn, CITY) == counted(conn, CITY)
    assert summaries(conn, inside_before) == counted(conn, inside_before)

    # folding the deltas changes nothing that is read
    rows_before = conn.execute(sa.text("SELECT count(*) FROM layers.parcel_zone_counts")).scalar()
    groups = conn.execute(sa.text("SELECT count(*) FROM (SELECT 1 FROM layers.parcel_zone_counts "
                                  "GROUP BY zone_id, status HAVING sum(n) <> 0) g")).scalar()
    assert groups < rows_before
    conn.execute(sa.text("SELECT layers.fold_parcel_zone_counts()"))
    assert conn.execute(sa.text("SELECT count(*) FROM layers.parcel_zone_counts")).scalar() == groups
    assert summaries(conn, CITY) == counted(conn, CITY)


def test_bulk_loads_in_replica_mode_and_truncation_are_counted(conn):
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    conn.execute(sa.text("""
        INSERT INTO land.parcels (code, zone_id, geom, area_m2, land_use_code, status, is_synthetic)
        SELECT code || '-BULK', zone_id, geom, area_m2, land_use_code, 'exited', true FROM land.parcels"""))
    conn.execute(sa.text("SET LOCAL session_replication_role = DEFAULT"))
    assert summaries(conn, CITY) == counted(conn, CITY)
    conn.execute(sa.text("TRUNCATE land.parcels CASCADE"))
    assert conn.execute(sa.text("SELECT count(*) FROM layers.parcels_zone_summary")).scalar() == 0
    assert summaries(conn, CITY) == {}
    total = conn.execute(sa.text("SELECT layers.rebuild_parcel_zone_counts()")).scalar()
    assert total == 0
