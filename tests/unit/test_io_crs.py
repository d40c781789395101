"""CRS handling at the border: GCJ-02 / BD-09 round trips, --crs resolution, conversions."""

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gisapp.errors import InputError
from gisapp.io import crs as crsmod

GEOD = Geod(ellps="GRS80")


def _shanghai_points(n=20_000, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(120.85, 122.2, n), rng.uniform(30.6, 31.9, n)


def test_gcj02_round_trip_errs_less_than_a_metre():
    lon, lat = _shanghai_points()
    back_lon, back_lat = crsmod.gcj02_to_wgs84(*crsmod.wgs84_to_gcj02(lon, lat))
    err_m = GEOD.inv(lon, lat, back_lon, back_lat)[2]
    assert err_m.max() < 1.0
    assert err_m.max() < 1e-3  # the iterative inverse is in fact sub-millimetre


def test_gcj02_offset_in_shanghai_is_hundreds_of_metres():
    lon, lat = _shanghai_points(1000)
    glon, glat = crsmod.wgs84_to_gcj02(lon, lat)
    offset = GEOD.inv(lon, lat, glon, glat)[2]
    assert 300 < offset.min() and offset.max() < 800


def test_bd09_round_trip_errs_less_than_a_metre():
    lon, lat = _shanghai_points(5000, seed=2)
    g = crsmod.wgs84_to_gcj02(lon, lat)
    b = crsmod.gcj02_to_bd09(*g)
    back = crsmod.gcj02_to_wgs84(*crsmod.bd09_to_gcj02(*b))
    assert GEOD.inv(lon, lat, back[0], back[1])[2].max() < 1.0


def test_no_offset_outside_china():
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    assert np.allclose(crsmod.wgs84_to_gcj02(lon, lat), (lon, lat))


@pytest.mark.parametrize("text,label,offset", [
    ("gcj02", "GCJ-02", "gcj02"), ("GCJ-02", "GCJ-02", "gcj02"), ("高德", "GCJ-02", "gcj02"),
    ("bd09", "BD-09", "bd09"), ("EPSG:4549", "EPSG:4549", None), ("4550", "EPSG:4550", None),
    ("wgs84", "EPSG:4326", None), ("CGCS2000", "EPSG:4490", None), ("epsg:4528", "EPSG:4528", None),
])
def test_resolve_crs_names(text, label, offset):
    spec = crsmod.resolve_crs(text)
    assert (spec.label, spec.offset) == (label, offset)


@pytest.mark.parametrize("text", ["EPSG:999999", "mars", "", "+proj=nonsense"])
def test_unknown_crs_is_refused_with_the_choices(text):
    with pytest.raises(InputError, match="unknown CRS.*gcj02"):
        crsmod.resolve_crs(text)


def test_gauss_kruger_zones_convert_to_the_same_place():
    # a point west of 121.5°E in CM 120°E metres and one in Pudong in CM 123°E metres
    for epsg, lon, lat in ((4549, 121.30, 31.00), (4550, 121.80, 31.15), (4528, 121.30, 31.00)):
        spec = crsmod.resolve_crs(f"EPSG:{epsg}")
        projected = crsmod.from_storage(np.array([shapely.Point(lon, lat)]), spec)
        assert abs(projected[0].x - lon) > 1000  # really metres
        back = crsmod.to_storage(projected, spec)[0]
        assert abs(back.x - lon) < 1e-9 and abs(back.y - lat) < 1e-9


def test_polygon_gcj02_round_trip_within_1e7_degrees():
    poly = shapely.Polygon([(121.5, 31.2), (121.51, 31.2), (121.51, 31.21), (121.5, 31.21)])
    spec = crsmod.resolve_crs("gcj02")
    there = crsmod.from_storage(np.array([poly]), spec)[0]
    assert shapely.hausdorff_distance(there, poly) > 0.003  # it really moved (~0.5 km)
    back = crsmod.to_storage(np.array([there]), spec)[0]
    assert shapely.hausdorff_distance(back, poly) < 1e-7


def test_offset_crs_written_by_exports_is_recognised():
    from gisapp.io.writers import offset_crs

    spec = crsmod.from_pyproj(offset_crs(crsmod.resolve_crs("gcj02")), where="test")
    assert spec.offset == "gcj02"


def test_engineering_crs_is_refused():
    from pyproj import CRS

    local = CRS.from_wkt('LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]')
    with pytest.raises(InputError, match="neither geographic nor projected"):
        crsmod.from_pyproj(local, where="file x.shp")


def test_hint_recognises_gauss_kruger_metres():
    assert "EPSG:4549" in crsmod.guess_hint(600_000, 3_400_000, 610_000, 3_410_000)
    assert "EPSG:4528" in crsmod.guess_hint(40_600_000, 3_400_000, 40_610_000, 3_410_000)
