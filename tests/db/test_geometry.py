"""Geometry facts: EPSG:4490 round trip, ellipsoidal areas, parcels inside their boundary."""

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Geod
from shapely import wkb

from gisapp.geodesy import ellipsoid_area_m2


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


def test_stored_and_vectorised_areas_agree_with_postgis_on_every_demo_parcel(engine):
    """The demo loader writes area_m2 itself (row triggers off, migration 0900): it and the
    vectorised computation agree with PostGIS's own ST_Area(geography) to 1e-7 relative."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT ST_AsBinary(geom), area_m2, ST_Area(geom::geography) FROM land.parcels")).all()
        conn.rollback()
    geoms = shapely.from_wkb([bytes(r[0]) for r in rows])
    stored = np.array([r[1] for r in rows])
    postgis = np.array([r[2] for r in rows])
    assert (np.abs(stored - postgis) / postgis).max() < 1e-7
    assert (np.abs(ellipsoid_area_m2(geoms) - postgis) / postgis).max() < 1e-7


def test_vectorised_area_of_holes_parts_and_missing_geometries(engine):
    square = shapely.box(121.50, 31.20, 121.51, 31.21)
    hole = shapely.box(121.502, 31.202, 121.505, 31.205)
    two_parts_with_a_hole = shapely.MultiPolygon([shapely.Polygon(square.exterior, [hole.exterior]),
                                                  shapely.box(121.52, 31.20, 121.525, 31.203)])
    with engine.connect() as conn:
        postgis = conn.execute(sa.text("SELECT ST_Area(ST_GeomFromWKB(:w, 4490)::geography)"),
                               {"w": two_parts_with_a_hole.wkb}).scalar()
        conn.rollback()
    got = ellipsoid_area_m2(np.array([two_parts_with_a_hole, None, shapely.Polygon()], dtype=object))
    assert abs(got[0] - postgis) / postgis < 1e-7
    assert 1.0e6 < got[0] < 1.2e6  # ~1 km x 0.95 km minus the hole, plus 0.5 x 0.3 km
    assert got[1] == 0 and got[2] == 0
    assert ellipsoid_area_m2(np.array([], dtype=object)).shape == (0,)


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
