"""The map's data endpoint as of a past day (``?as_of=``) and the zone totals of its low-zoom
summaries (issue #18), through the app's routes on the demo data."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

#: before Yangshan's extension (2023-06-01 in the demo data) and many status changes
PAST = "2022-01-01"
CITY = "121.0,30.6,122.2,31.6"

#: parcels whose status changed after PAST and had one on or before it: (code, then, now, lon, lat)
CHANGED = sa.text("""
    SELECT p.code,
           (SELECT h.to_status FROM land.parcel_status_history h WHERE h.parcel_id = p.id
              AND h.changed_on <= CAST(:day AS date) ORDER BY h.changed_on DESC, h.id DESC LIMIT 1) AS then,
           p.status AS now, ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat
    FROM land.parcels p
    WHERE EXISTS (SELECT 1 FROM land.parcel_status_history h WHERE h.parcel_id = p.id
                    AND h.changed_on > CAST(:day AS date))
    ORDER BY p.id""")


def changed_parcel(engine, day: str = PAST):
    """A parcel with a status on ``day`` that differs from today's."""
    with engine.connect() as conn:
        return next(r for r in conn.execute(CHANGED, {"day": day}) if r.then and r.then != r.now)


def around(lon: float, lat: float, d: float = 0.002) -> str:
    return f"{lon - d},{lat - d},{lon + d},{lat + d}"


def get_features(client, layer: str, bbox: str, zoom: int, **query) -> dict:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    resp = client.get(f"/api/layers/{layer}/features?bbox={bbox}&zoom={zoom}{extra}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return json.loads(resp.get_data(as_text=True))


def test_parcels_as_of_a_past_day_have_the_status_they_had(client, engine):
    p = changed_parcel(engine)
    bbox = around(p.lon, p.lat)
    now = {f["properties"]["code"]: f["properties"]["status"] for f in get_features(client, "parcels", bbox, 17)["features"]}
    then = {f["properties"]["code"]: f["properties"]["status"]
            for f in get_features(client, "parcels", bbox, 17, as_of=PAST)["features"]}
    assert now[p.code] == p.now and then[p.code] == p.then


def test_zone_boundaries_as_of_a_past_day_are_those_in_force_then(client, engine):
    with engine.connect() as conn:
        areas = dict(conn.execute(sa.text(
            "SELECT b.valid_to IS NULL, round(b.area_m2) FROM land.zone_boundaries b "
            "JOIN land.zones z ON z.id = b.zone_id WHERE z.code = 'yangshan'")).all())

    def yangshan(**query) -> float:
        body = get_features(client, "zones", CITY, 10, **query)
        return round(next(f["properties"]["boundary_area_m2"] for f in body["features"]
                          if f["properties"]["code"] == "yangshan"))

    assert yangshan() == areas[True]
    assert yangshan(as_of=PAST) == areas[False] < areas[True]


def test_zone_summaries_carry_the_zone_total_next_to_the_count_in_view(client, engine):
    with engine.connect() as conn:
        totals = dict(conn.execute(sa.text(
            "SELECT z.code, count(*) FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id GROUP BY 1")).all())
    with engine.begin() as conn:  # the parcels of that day: those deleted since count, those added since do not
        conn.execute(sa.text("SELECT set_config('gisapp.as_of', :d, true)"), {"d": PAST})
        past_totals = dict(conn.execute(sa.text(
            "SELECT p.zone_code, count(*) FROM layers.parcels_as_of p GROUP BY 1")).all())
        # a view over the west half of the Waigaoqiao FTZ's parcels
        west, south, mid, north = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), (ST_XMin(e) + ST_XMax(e)) / 2, ST_YMax(e) FROM ("
            "SELECT ST_Extent(p.geom)::geometry AS e FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE z.code = 'waigaoqiao_ftz') x")).one()
    for query, expected in (({}, totals), ({"as_of": PAST}, past_totals)):
        body = get_features(client, "parcels", CITY, 10, **query)
        assert {f["properties"]["zone_code"]: f["properties"]["total"] for f in body["features"]} == \
            {k: v for k, v in expected.items() if k in {f["properties"]["zone_code"] for f in body["features"]}}
        part = get_features(client, "parcels", f"{west - 0.01},{south - 0.01},{mid},{north + 0.01}", 10, **query)
        wgq = next(f["properties"] for f in part["features"] if f["properties"]["zone_code"] == "waigaoqiao_ftz")
        assert wgq["count"] < wgq["total"] == expected["waigaoqiao_ftz"]


@pytest.mark.parametrize("query, wrong", [("layer=idle_land&as_of=2022-01-01", "current state only"),
                                          ("layer=parcels&as_of=2022-13-01", "not a date")])
def test_as_of_that_cannot_be_answered_is_a_400_naming_it(client, query, wrong):
    params = dict(kv.split("=") for kv in query.split("&"))
    resp = client.get(f"/api/layers/{params['layer']}/features?bbox={CITY}&zoom=10&as_of={params['as_of']}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert wrong in json.dumps(body) and "as_of" in json.dumps(body)
