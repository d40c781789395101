"""The quota layers for a chosen year (``?year=``, issue #18) through the app's routes, the vector
tiles and ``gisapp.api.read_layer`` on the demo data: the same year everywhere, the latest by
default, a year only for the layers read by year, a bad year refused by its field."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp import api
from gisapp.demo.facts import ESCALATED_DISTRICT, UNESCALATED_DISTRICT
from gisapp.queries.quotas import district_escalations, parse_year, quota_years

CITY = "120.8,30.6,122.2,31.9"


@pytest.fixture(scope="module")
def years(engine) -> list[int]:
    found = quota_years(engine)
    assert len(found) >= 2, "the demo ledger holds more than one year"
    return found


def classes(client, layer: str, **query) -> dict[str, tuple[int, str]]:
    """District code -> (year, quota class) of a quota layer's features in the city."""
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    resp = client.get(f"/api/layers/{layer}/features?bbox={CITY}&zoom=10{extra}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {f["properties"]["code"]: (f["properties"]["year"], f["properties"]["quota_class"])
            for f in resp.get_json()["features"]}


def test_the_energy_layer_shows_the_year_asked_for_and_the_latest_by_default(viewer, engine, years):
    """2025: Songjiang over quota and escalated, Fengxian over quota without; the latest year:
    every district within quota (the demo's scenario)."""
    by_default, latest = classes(viewer, "quota_energy"), classes(viewer, "quota_energy", year=years[-1])
    assert by_default == latest and {y for y, _c in latest.values()} == {years[-1]}
    earlier = classes(viewer, "quota_energy", year=years[0])
    assert {y for y, _c in earlier.values()} == {years[0]}
    assert earlier[ESCALATED_DISTRICT][1] == "over_escalated"
    assert earlier[UNESCALATED_DISTRICT][1] == "over_not_escalated"
    assert latest[ESCALATED_DISTRICT][1] != "over_escalated"


def test_a_feature_of_a_year_has_that_years_numbers(viewer, engine, years):
    with engine.connect() as conn:
        district = conn.execute(sa.text("SELECT id FROM land.districts WHERE code = :c"),
                                {"c": ESCALATED_DISTRICT}).scalar_one()
    earlier = viewer.get(f"/api/layers/quota_energy/features/{district}?year={years[0]}").get_json()
    latest = viewer.get(f"/api/layers/quota_energy/features/{district}").get_json()
    assert (earlier["year"], latest["year"]) == (years[0], years[-1])
    assert float(earlier["escalated"]) > 0 and float(latest["escalated"]) == 0


@pytest.mark.parametrize("layer,year,field", [("parcels", "2025", "year"), ("quota_energy", "25", "year"),
                                              ("quota_energy", "2025.0", "year"), ("quota_energy", "1800", "year")])
def test_a_year_the_layer_cannot_take_is_refused_by_its_field(viewer, layer, year, field):
    resp = viewer.get(f"/api/layers/{layer}/features?bbox={CITY}&zoom=10&year={year}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["field"] == field and (layer in body["error"] or year in body["error"])


def test_a_year_of_no_account_shows_no_district(viewer, years):
    assert classes(viewer, "quota_land", year=years[0] - 5) == {}


def test_tiles_and_read_layer_take_the_year_too(viewer, engine, years):
    # the z9 tile holding Songjiang (31.03 N, 121.23 E); MVT keeps string values as plain protobuf
    # strings: Songjiang's class of the year asked for is in the tile, not in the latest year's
    earlier = viewer.get(f"/tiles/quota_energy/9/428/209.pbf?year={years[0]}")
    latest = viewer.get("/tiles/quota_energy/9/428/209.pbf")
    assert earlier.status_code == latest.status_code == 200
    assert b"over_escalated" in earlier.data and b"over_escalated" not in latest.data
    assert viewer.get("/tiles/parcels/9/428/209.pbf?year=2025").status_code == 400
    frame = api.read_layer("quota_energy", year=years[0], engine=engine)
    assert set(frame["year"]) == {years[0]}
    assert set(api.read_layer("quota_energy", engine=engine)["year"]) == {years[-1]}


def test_the_escalations_of_a_district_are_those_of_the_year_and_resources_asked(engine, years):
    energy = district_escalations(engine, ESCALATED_DISTRICT, years[0], ["energy"])
    assert len(energy) == 1 and energy[0]["resource"] == "energy" and float(energy[0]["amount"]) > 0
    assert district_escalations(engine, ESCALATED_DISTRICT, years[-1], ["energy"]) == []
    assert district_escalations(engine, ESCALATED_DISTRICT, years[0], ["cod", "construction_land"]) == []


def test_parse_year_reads_four_ascii_digits_only():
    assert parse_year(" 2025 ") == 2025 and parse_year("") is None
    for bad in ("２０２５", "20251", "-2025", "1989", "abcd"):
        with pytest.raises(Exception, match="not a year"):
            parse_year(bad)
