"""Shanghai's real districts (issue #18): the vendored GCJ-02 boundaries reach land.districts through
gisapp's importer, converted to EPSG:4490, and every demo zone lies in the district it records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod
from shapely.geometry import Point, shape

from gisapp.demo import DEMO_AS_OF
from gisapp.demo.districts import DISTRICTS_FILE, district_table
from gisapp.demo.facts import ZONES
from gisapp.geodesy import ellipsoid_area_m2
from gisapp.queries.rule_inputs import load_inputs
from gisapp.rules import boundary_qa

pytestmark = pytest.mark.db

#: share of a zone's area (its parts inside Shanghai) that must lie in its recorded district
IN_DISTRICT = 0.95


def _districts(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT code, name_zh, name_en, source_crs, ST_AsBinary(geom) FROM land.districts ORDER BY code")).all()
    return {r[0]: (r[1], r[2], r[3], None if r[4] is None else shapely.from_wkb(bytes(r[4]))) for r in rows}


def test_the_demo_holds_the_16_real_districts_imported_from_gcj02(engine):
    stored = _districts(engine)
    table = district_table()
    assert list(stored) == list(table["code"]) and len(stored) == 16
    assert stored["310101"][:2] == ("黄浦区", "Huangpu District")
    assert stored["310151"][:2] == ("崇明区", "Chongming District")
    assert all(g is not None and g.is_valid for *_, g in stored.values())
    assert {crs for _, _, crs, _ in stored.values()} == {"GCJ-02"}
    with engine.connect() as conn:
        logged = conn.execute(sa.text("SELECT source_crs, updated FROM audit.imports WHERE kind = 'districts' "
                                      "ORDER BY id DESC LIMIT 1")).one()
    assert logged == ("GCJ-02", 16)


def test_district_boundaries_are_converted_from_gcj02_not_read_as_wgs84(engine):
    """The file's Huangpu, read as WGS84, lies ~0.5 km from the stored one: the GCJ-02 offset."""
    feature = next(f for f in json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))["features"]
                   if f["properties"]["code"] == "310101")
    raw = shape(feature["geometry"]).centroid
    stored = _districts(engine)["310101"][3].centroid
    offset = Geod(ellps="GRS80").inv(raw.x, raw.y, stored.x, stored.y)[2]
    assert 300 < offset < 800
    assert stored.x < raw.x and stored.y > raw.y  # in Shanghai GCJ-02 lies east and south of WGS84


def test_every_demo_zone_lies_in_its_recorded_district(engine):
    stored = _districts(engine)
    outside_parts = {z.code: [Point(p.lon, p.lat) for p in z.parts if p.outside_shanghai] for z in ZONES}
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT z.code, d.code, b.valid_from, ST_AsBinary(b.geom) FROM land.zones z "
            "JOIN land.districts d ON d.id = z.district_id JOIN land.zone_boundaries b ON b.zone_id = z.id "
            "WHERE z.kind <> 'benchmark' ORDER BY z.code, b.valid_from")).all()
    assert {r[0] for r in rows} == {z.code for z in ZONES}
    city = shapely.union_all([g for *_, g in stored.values()])
    misplaced = []
    for zone, district, valid_from, wkb in rows:
        parts = list(shapely.from_wkb(bytes(wkb)).geoms)
        declared = [p for p in parts if any(p.contains(pt) for pt in outside_parts[zone])]
        for part in declared:  # a part said to lie outside Shanghai does
            assert not part.intersects(city), f"{zone}: a part marked outside Shanghai lies in a district"
        counted = np.array([p for p in parts if p not in declared], dtype=object)
        inside = ellipsoid_area_m2(shapely.intersection(counted, stored[district][3])).sum()
        share = inside / ellipsoid_area_m2(counted).sum()
        if share <= IN_DISTRICT:
            misplaced.append((zone, str(valid_from), district, round(float(share), 3)))
    assert misplaced == []


def test_the_city_outline_is_the_union_of_the_districts(engine):
    """The offline base map: one feature whose edge is the coast and the provincial border."""
    stored = _districts(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT districts, ST_AsBinary(geom) FROM layers.base_outline")).all()
        shown = conn.execute(sa.text("SELECT count(*), sum(zones) FROM layers.districts")).one()
    assert len(rows) == 1 and rows[0][0] == 16
    outline = shapely.from_wkb(bytes(rows[0][1]))
    union = shapely.union_all([g for *_, g in stored.values()])
    assert outline.is_valid and outline.symmetric_difference(union).area < 1e-9
    # the districts meet without seams: the outline has no holes (no slivers between neighbours)
    assert sum(len(p.interiors) for p in outline.geoms) == 0
    assert tuple(shown) == (16, len(ZONES))


def test_boundary_qa_finds_each_demo_zone_in_its_recorded_district_and_a_moved_one_mismatched(engine):
    inputs = load_inputs(engine, [*boundary_qa.INPUTS, "parameter_overrides"], as_of=DEMO_AS_OF)
    assert len(inputs["districts"]) == 16
    found = boundary_qa.evaluate(inputs, DEMO_AS_OF, inputs["parameter_overrides"])
    zone = found[found["subject_type"] == "zone"]
    recorded = inputs["zones"].set_index("id")["district_code"]
    assert {int(z): e["district_from_geometry"] for z, e in zip(zone["zone_id"], zone["evidence"])} == \
        {int(z): c for z, c in recorded.items()}
    assert found[found["subject_type"] == "zone_district"].empty
    # the same zones recorded in the wrong district (as a file import might): each one is reported
    wrong = inputs["zones"].assign(district_id=inputs["districts"]["id"].iloc[0])  # all in 黄浦区
    found = boundary_qa.evaluate({**inputs, "zones": wrong}, DEMO_AS_OF, inputs["parameter_overrides"])
    mismatched = found[found["subject_type"] == "zone_district"]
    assert set(mismatched["outcome"]) == {"district_mismatch"} and len(mismatched) == len(ZONES)
