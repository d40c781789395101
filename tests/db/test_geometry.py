"""Geometry facts: EPSG:4490 round trip, ellipsoidal areas, parcels inside their boundary."""

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Geod
from shapely import wkb


def test_geometry_round_trips_in_4490(engine):
    original = shapely.MultiPolygon([shapely.Polygon(
        [(121.5012345, 31.2012345), (121.5056789, 31.2011111), (121.5051234, 31.2054321), (121.5012345, 31.2012345)])])
    with engine.connect() as conn:
        back = conn.execute(sa.text(
            "SELECT ST_SRID(g), ST_AsBinary(g) FROM (SELECT ST_GeomFromWKB(:w, 4490) AS g) s"),
            {"w": original.wkb}).one()
        conn.rollback()
    assert back[0] == 4490
    assert wkb.loads(bytes(back[1])).equals_exact(original, tolerance=0)


def test_parcel_areas_agree_with_pyproj_geod_within_a_tenth_of_a_percent(engine):
    parcels = gpd.read_postgis("SELECT id, area_m2, geom FROM land.parcels", engine, geom_col="geom")
    assert parcels.crs.to_epsg() == 4490
    geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 only in the 11th digit of f
    geod_area = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in parcels.geometry])
    rel = np.abs(parcels["area_m2"].to_numpy() - geod_area) / geod_area
    assert rel.max() < 0.001, f"worst parcel differs by {rel.max():.4%}"
    assert parcels["area_m2"].between(500, 100_000).all(), "areas are in m², not degrees"


def test_every_demo_parcel_lies_inside_its_zones_boundary_in_force(engine):
    with engine.connect() as conn:
        outside = conn.execute(sa.text("""
            SELECT p.code FROM land.parcels p
            JOIN land.zone_boundaries b ON b.zone_id = p.zone_id AND b.valid_to IS NULL
            WHERE NOT ST_Within(p.geom, b.geom)""")).scalars().all()
        without_boundary = conn.execute(sa.text("""
            SELECT count(*) FROM land.parcels p WHERE NOT EXISTS (
              SELECT 1 FROM land.zone_boundaries b WHERE b.zone_id = p.zone_id AND b.valid_to IS NULL)""")).scalar()
    assert outside == [] and without_boundary == 0


def test_zone_boundaries_match_approved_areas_and_are_multi_part_where_the_zone_is(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT z.code, z.approved_area_m2, b.area_m2, ST_NumGeometries(b.geom)
            FROM land.zones z JOIN land.zone_boundaries b ON b.zone_id = z.id AND b.valid_to IS NULL""")).all()
    parts = {code: n for code, _, _, n in rows}
    assert parts["yangshan"] == 3 and parts["songjiang"] == 2 and parts["jinqiao"] == 1
    for code, approved, measured, _ in rows:
        assert abs(measured - approved) / approved < 0.005, code


def test_boundaries_are_versioned_with_one_in_force_per_day(engine):
    with engine.connect() as conn:
        versions = conn.execute(sa.text("""
            SELECT b.valid_from, b.valid_to, b.area_m2 FROM land.zone_boundaries b
            JOIN land.zones z ON z.id = b.zone_id WHERE z.code = 'yangshan' ORDER BY b.valid_from""")).all()
        try:
            conn.execute(sa.text("""
                INSERT INTO land.zone_boundaries (zone_id, valid_from, geom)
                SELECT zone_id, valid_from + 1, geom FROM land.zone_boundaries WHERE valid_to IS NULL LIMIT 1"""))
            overlap_refused = False
        except sa.exc.IntegrityError:
            overlap_refused = True
        conn.rollback()
    assert len(versions) == 2 and versions[0][1] == versions[1][0], "the 2023 expansion follows the 2020 boundary"
    assert versions[0][2] < versions[1][2]
    assert overlap_refused
