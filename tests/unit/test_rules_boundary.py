"""Boundary QA: parcels outside the approved boundary beyond a tolerance in metres, overlapping
parcels beyond a tolerance in m², zone parcel area against the approved area."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, box

from gisapp.rules import boundary_qa as bq
from tests.unit.rule_frames import frame, override

AS_OF = dt.date(2026, 6, 30)
# metres in a local transverse Mercator around (121.5E, 31N), turned into EPSG:4490 lon/lat
_TO_LONLAT = Transformer.from_crs("+proj=tmerc +lat_0=31 +lon_0=121.5 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m",
                                  "EPSG:4490", always_xy=True)


def m_box(x0, y0, x1, y1, to_lonlat: Transformer = _TO_LONLAT) -> MultiPolygon:
    """A rectangle given in metres, as a lon/lat MultiPolygon (densified so edges stay straight)."""
    poly = shapely.segmentize(box(x0, y0, x1, y1), 5.0)
    return MultiPolygon([shapely.transform(poly, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0],
                                                                                               xy[:, 1])))])


def geodesic_m2(g) -> float:
    return abs(Geod(ellps="GRS80").geometry_area_perimeter(g)[0])


BOUNDARY = m_box(0, 0, 1000, 1000)


def parcels(geoms, zone=1, codes=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": range(1, len(geoms) + 1), "code": codes or [f"P{i}" for i in range(1, len(geoms) + 1)],
                             "zone_id": zone, "area_m2": [geodesic_m2(g) for g in geoms], "land_use_code": "100101",
                             "status": "in_production", "geom": geoms}, geometry="geom", crs="EPSG:4490")


def boundaries(valid_to=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [1], "zone_id": [1], "valid_from": [pd.Timestamp("2020-01-01")],
                             "valid_to": [pd.Timestamp(valid_to) if valid_to else pd.NaT], "approval_ref": ["批复"],
                             "area_m2": [geodesic_m2(BOUNDARY)], "geom": [BOUNDARY]}, geometry="geom",
                            crs="EPSG:4490")


def zones(approved=1_000_000.0) -> pd.DataFrame:
    return pd.DataFrame({"id": [1], "code": ["z1"], "name_zh": ["园区1"], "name_en": ["Zone 1"],
                         "approved_area_m2": [approved], "approved_area_is_demo": [False]})


def run(geoms, overrides=(), approved=1_000_000.0, valid_to=None) -> tuple[pd.DataFrame, pd.Series]:
    found = bq.evaluate({"parcels_geom": parcels(geoms), "zone_boundaries": boundaries(valid_to),
                         "zones": zones(approved)}, AS_OF, frame("parameter_overrides", list(overrides)))
    par = found[found["subject_type"] == "parcel"].set_index("parcel_id")
    zone = found[found["subject_type"] == "zone"].iloc[0]
    return par, zone


def test_parcel_inside_and_parcel_on_the_boundary_edge_are_inside():
    every = [override("boundary_qa", "parcel_findings", "all")]
    par, zone = run([m_box(100, 100, 200, 200), m_box(900, 100, 1000, 200)], every)
    assert list(par["outcome"]) == ["inside", "inside"] and not par["is_positive"].any()
    assert par.loc[1, "evidence"]["distance_m"] == 0.0 and "批准四至范围内" in par.loc[1, "explanation_zh"]
    assert zone["evidence"]["parcels_inside"] == 2


def test_by_default_only_exceptions_get_a_parcel_finding_and_the_zone_counts_the_rest():
    par, zone = run([m_box(100, 100, 200, 200), m_box(300, 100, 400, 200), m_box(900, 300, 1005, 400)])
    assert list(par.index) == [3] and par.loc[3, "outcome"] == "outside_boundary"
    ev = zone["evidence"]
    assert (ev["parcels"], ev["parcels_inside"], ev["parcels_outside_boundary"], ev["parcels_overlap"]) == (3, 2, 1, 0)
    assert "2 块位于批准四至范围内" in zone["explanation_zh"] and "2 lie inside" in zone["explanation_en"]


def test_reaching_half_a_metre_out_is_within_the_tolerance_five_metres_is_not():
    par, zone = run([m_box(900, 100, 1000.5, 200), m_box(900, 300, 1005, 400)])
    assert par.loc[1, "outcome"] == "inside" and not par.loc[1, "is_positive"]
    assert par.loc[1, "evidence"]["distance_m"] == pytest.approx(0.5, abs=0.05)
    assert "容差" in par.loc[1, "explanation_zh"] and "within the tolerances" in par.loc[1, "explanation_en"]
    f = par.loc[2]
    assert f["outcome"] == "outside_boundary" and f["is_positive"]
    assert f["evidence"]["distance_m"] == pytest.approx(5.0, abs=0.05)
    assert f["evidence"]["outside_m2"] == pytest.approx(500.0, rel=0.01)
    assert "5.00 m" in f["explanation_en"] and "超出" in f["explanation_zh"] and "1.0 m" in f["explanation_zh"]
    assert zone["evidence"]["parcels_not_covered"] == 2


def test_tolerance_override_in_metres():
    par, _ = run([m_box(900, 300, 1005, 400)], [override("boundary_qa", "outside_tolerance_m", 10.0, zone_id=1)])
    assert par.loc[1, "outcome"] == "inside" and "容差" in par.loc[1, "explanation_zh"]
    assert par.loc[1, "parameters"]["outside_tolerance_m"]["value"] == 10.0


def test_overlapping_parcels_are_both_flagged_with_the_area_on_the_ellipsoid():
    par, _ = run([m_box(100, 100, 200, 200), m_box(190, 190, 300, 300), m_box(400, 100, 500, 200),
                  m_box(500, 100, 600, 200)])
    for pid, other in ((1, 2), (2, 1)):
        f = par.loc[pid]
        assert f["outcome"] == "overlap" and f["is_positive"]
        assert f["evidence"]["overlap_m2"] == pytest.approx(100.0, rel=0.01)
        assert f["evidence"]["overlaps"][0]["parcel_id"] == other
    # parcels that only touch along an edge do not overlap: nothing to report about them
    assert 3 not in par.index and 4 not in par.index


def test_a_sliver_below_the_overlap_tolerance_is_not_reported():
    par, zone = run([m_box(100, 100, 200, 200), m_box(199.9, 100, 300, 104)])  # 0.1 x 4 = 0.4 m²
    assert set(par["outcome"]) == {"inside"}
    assert par.loc[2, "evidence"]["overlap_m2"] == pytest.approx(0.4, abs=0.02)
    assert zone["evidence"]["parcels_overlapping"] == 2


def test_zone_parcel_area_against_the_approved_area_with_its_tolerance():
    geoms = [m_box(0, 0, 500, 1000), m_box(500, 0, 1000, 1000)]
    used = sum(geodesic_m2(g) for g in geoms)
    _, zone = run(geoms, approved=used - 5000.0)
    assert zone["outcome"] == "area_within_approved" and not zone["is_positive"]  # exactly at the tolerance
    _, zone = run(geoms, approved=used - 5000.5)
    assert zone["outcome"] == "area_over_approved" and zone["is_positive"]
    assert zone["evidence"]["used_m2"] == pytest.approx(used, abs=0.1)
    assert zone["evidence"]["land_use_m2"] == {"100101": pytest.approx(used, abs=0.1)}
    assert "超过批准面积" in zone["explanation_zh"]


def test_missing_approved_area_or_boundary_gives_cannot_evaluate():
    par, zone = run([m_box(100, 100, 200, 200)], approved=float("nan"))
    assert zone["outcome"] == "cannot_evaluate" and "approved area" in zone["explanation_en"]
    par, _ = run([m_box(100, 100, 200, 200)], valid_to="2026-06-30")  # ended on the as-of date
    assert par.loc[1, "outcome"] == "cannot_evaluate" and "no approved boundary in force" in par.loc[1, "explanation_en"]
    found = bq.evaluate({"zones": zones()}, AS_OF)
    assert list(found["outcome"]) == ["cannot_evaluate"] and "parcels_geom" in found.iloc[0]["explanation_en"]


def test_distance_is_measured_in_metres_not_degrees():
    # 5 m east of a boundary near Beijing (40N), where a degree of longitude is 10% shorter than at 31N
    north = Transformer.from_crs("+proj=tmerc +lat_0=40 +lon_0=116.4 +k=1 +ellps=GRS80 +units=m", "EPSG:4490",
                                 always_xy=True)
    b = boundaries()
    b["geom"] = [m_box(0, 0, 1000, 1000, north)]
    m = bq.measure(parcels([m_box(900, 300, 1005, 400, north)]), b, AS_OF)
    assert m.iloc[0]["distance_m"] == pytest.approx(5.0, abs=0.05)
    assert m.iloc[0]["outside_m2"] == pytest.approx(500.0, rel=0.01)


# two districts side by side: the zone's boundary (0-1000 m) lies 40% in the first, 60% in the second
DISTRICTS = pd.DataFrame({"id": [1, 2], "code": ["310104", "310112"], "name_zh": ["徐汇区", "闵行区"],
                          "name_en": ["Xuhui District", "Minhang District"],
                          "geom": [m_box(-5000, -5000, 400, 5000), m_box(400, -5000, 5000, 5000)]})


def run_districts(recorded: int, districts=DISTRICTS) -> pd.DataFrame:
    z = zones().assign(district_id=[recorded])
    inputs = {"parcels_geom": parcels([m_box(100, 100, 200, 200)]), "zone_boundaries": boundaries(), "zones": z}
    if districts is not None:
        inputs["districts"] = districts
    return bq.evaluate(inputs, AS_OF, frame("parameter_overrides"))


def test_a_zone_recorded_in_another_district_than_its_boundary_gets_a_district_mismatch():
    found = run_districts(recorded=1)
    zone = found[found["subject_type"] == "zone"].iloc[0]
    assert zone["evidence"]["district_from_geometry"] == "310112"
    assert zone["evidence"]["district_share"] == pytest.approx(0.6, abs=0.002)
    mismatch = found[found["subject_type"] == "zone_district"]
    assert len(mismatch) == 1
    m = mismatch.iloc[0]
    assert m["outcome"] == "district_mismatch" and m["is_positive"] and m["zone_id"] == 1 and m["subject_id"] == "1"
    assert m["evidence"]["district_recorded"] == "310104"
    assert m["evidence"]["recorded_district_share"] == pytest.approx(0.4, abs=0.002)
    assert "徐汇区" in m["explanation_zh"] and "闵行区" in m["explanation_zh"] and "60.0%" in m["explanation_zh"]
    assert "recorded in Xuhui District" in m["explanation_en"] and "lies in Minhang District" in m["explanation_en"]


def test_the_district_with_the_largest_overlap_is_the_zones_district_even_without_a_majority():
    # 30% / 30% / 40% of the zone's boundary
    three = pd.DataFrame({"id": [1, 2, 3], "code": ["310104", "310112", "310120"],
                          "name_zh": ["徐汇区", "闵行区", "奉贤区"],
                          "name_en": ["Xuhui District", "Minhang District", "Fengxian District"],
                          "geom": [m_box(-5000, -5000, 300, 5000), m_box(300, -5000, 600, 5000),
                                   m_box(600, -5000, 5000, 5000)]})
    found = run_districts(recorded=1, districts=three)
    m = found[found["subject_type"] == "zone_district"].iloc[0]
    assert m["evidence"]["district_from_geometry"] == "310120"
    assert m["evidence"]["district_share"] == pytest.approx(0.4, abs=0.002)
    assert run_districts(recorded=3, districts=three).query("subject_type == 'zone_district'").empty
    assert run_districts(recorded=2).query("subject_type == 'zone_district'").empty  # recorded where 60% lies


def test_without_district_boundaries_nothing_is_said_about_the_district():
    found = run_districts(recorded=1, districts=None)
    assert found[found["subject_type"] == "zone_district"].empty
    assert "district_from_geometry" not in found[found["subject_type"] == "zone"].iloc[0]["evidence"]
    far = DISTRICTS.assign(geom=[m_box(50_000, 0, 60_000, 1000), m_box(60_000, 0, 70_000, 1000)])
    found = run_districts(recorded=1, districts=far)  # the zone lies in no district: nothing to compare
    assert found[found["subject_type"] == "zone_district"].empty
