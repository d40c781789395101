"""The viewport endpoint through Flask's test client: features, encodings, low-zoom aggregates,
freshness after an edit, 4xx with reasons."""

import json

import geobuf
import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import get_layer
from gisapp.queries.features import BBox, features, map_fields

WAIGAOQIAO = "121.55,31.28,121.65,31.36"


def test_parcels_in_a_viewport_come_as_geojson_with_declared_fields(client):
    resp = client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=14")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = json.loads(resp.data)
    assert body["type"] == "FeatureCollection" and body["count"] == len(body["features"]) > 50
    assert resp.headers["X-Feature-Count"] == str(body["count"]) and body["truncated"] is False
    props = body["features"][0]["properties"]
    assert set(props) == set(get_layer("parcels").field_names) | {"id"}
    assert "crs" not in body["features"][0]["geometry"]
    assert all(f["properties"]["zone_code"] == "waigaoqiao_ftz" for f in body["features"])


def test_geobuf_carries_the_same_features_with_only_what_the_map_draws(client):
    as_json = json.loads(client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=14").data)
    resp = client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=14&format=geobuf&properties=style")
    assert resp.status_code == 200 and resp.mimetype == "application/x-protobuf"
    decoded = geobuf.decode(resp.data)
    assert len(decoded["features"]) == as_json["count"] == int(resp.headers["X-Feature-Count"])
    assert set(decoded["features"][0]["properties"]) == set(map_fields(get_layer("parcels"))) == {"id", "status"}
    ids = {f["properties"]["id"] for f in decoded["features"]}
    assert ids == {f["properties"]["id"] for f in as_json["features"]}
    assert len(resp.data) * 3 < len(client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=14").data)


def test_one_feature_by_id_has_every_declared_field(client, engine):
    with engine.connect() as conn:
        pid, code = conn.execute(sa.text("SELECT id, code FROM land.parcels ORDER BY id LIMIT 1")).one()
    body = client.get(f"/api/layers/parcels/features/{pid}").json
    assert body["code"] == code and set(body) == set(get_layer("parcels").field_names) | {"id"}
    assert client.get("/api/layers/parcels/features/abc").status_code == 404
    assert client.get("/api/layers/parcels/features/999999999").status_code == 404


def test_empty_viewport_is_a_valid_empty_answer_in_both_encodings(client):
    far = "100.0,10.0,100.1,10.1"
    body = json.loads(client.get(f"/api/layers/parcels/features?bbox={far}&zoom=15").data)
    assert body["features"] == [] and body["count"] == 0
    resp = client.get(f"/api/layers/parcels/features?bbox={far}&zoom=15&format=geobuf")
    assert geobuf.decode(resp.data) == {"type": "FeatureCollection", "features": []}


def test_low_zoom_sends_one_summary_per_zone_not_parcels(client, engine):
    resp = client.get("/api/layers/parcels/features?bbox=120.8,30.6,122.2,31.8&zoom=10")
    body = json.loads(resp.data)
    assert resp.headers["X-Mode"] == "aggregate" and body["aggregated"] is True
    assert body["detail_min_zoom"] == get_layer("parcels").detail_min_zoom
    with engine.connect() as conn:
        per_zone = dict(conn.execute(sa.text(
            "SELECT z.code, count(*) FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id GROUP BY 1")).all())
    got = {f["properties"]["zone_code"]: f["properties"]["count"] for f in body["features"]}
    assert got == per_zone
    one = body["features"][0]["properties"]
    assert one["aggregate"] is True and sum(one["breakdown"].values()) == one["count"]
    assert one["status"] == max(one["breakdown"], key=one["breakdown"].get)
    # the map asks for geobuf: the same summaries, compact
    packed = client.get("/api/layers/parcels/features?bbox=120.8,30.6,122.2,31.8&zoom=10&format=geobuf")
    assert packed.mimetype == "application/x-protobuf" and packed.headers["X-Mode"] == "aggregate"
    decoded = geobuf.decode(packed.data)["features"]
    assert {f["properties"]["zone_code"]: f["properties"]["count"] for f in decoded} == per_zone
    assert json.loads(decoded[0]["properties"]["breakdown"]) == one["breakdown"]


def test_a_viewport_with_too_many_features_gets_the_zone_summary_not_a_random_part(engine):
    layer = get_layer("parcels").model_copy(update={"max_features": 20})
    bbox = BBox.parse(WAIGAOQIAO)
    answer = features(engine, layer, bbox, 15)
    body = json.loads(answer.body)
    assert answer.mode == "aggregate" and body["aggregated"] is True
    assert body["count"] == features(engine, get_layer("parcels"), bbox, 15).count > 20
    unlimited = features(engine, get_layer("zones").model_copy(update={"max_features": 1}),
                         BBox.parse("120,30,123,32"), 15)
    assert unlimited.mode == "detail" and unlimited.truncated  # no summary declared: cut, and says so


def test_zone_filter(client):
    body = json.loads(client.get("/api/layers/parcels/features?bbox=120,30,123,32&zoom=14&zone=jiading").data)
    assert body["count"] > 0 and {f["properties"]["zone_code"] for f in body["features"]} == {"jiading"}


def test_a_saved_edit_shows_on_the_next_request(client, engine):
    """No cache anywhere between the database and the map."""
    with engine.connect() as conn:
        pid, code, version = conn.execute(sa.text(
            "SELECT p.id, p.code, p.version FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE z.code = 'jiading' ORDER BY p.id LIMIT 1")).one()

    def version_on_map() -> int:
        body = json.loads(client.get("/api/layers/parcels/features?bbox=120,30,123,32&zoom=14&zone=jiading").data)
        return next(f["properties"]["version"] for f in body["features"] if f["properties"]["code"] == code)

    assert version_on_map() == version
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.user', 'web-test', true), "
                             "set_config('gisapp.reason', 'freshness test', true)"))
        conn.execute(sa.text("UPDATE land.parcels SET floor_area_m2 = floor_area_m2 WHERE id = :id"), {"id": pid})
    assert version_on_map() == version + 1


@pytest.mark.parametrize("url, status, reason", [
    ("/api/layers/nope/features?bbox=1,2,3,4&zoom=3", 404, "unknown layer"),
    ("/api/layers/parcels/features?bbox=1,2,3&zoom=3", 400, "4 comma-separated"),
    ("/api/layers/parcels/features?bbox=1,2,x,4&zoom=3", 400, "not a number"),
    ("/api/layers/parcels/features?bbox=3,2,1,4&zoom=3", 400, "inverted"),
    ("/api/layers/parcels/features?bbox=1,2,3,4&zoom=99", 400, "out of range"),
    ("/api/layers/parcels/features?bbox=1,2,3,4&zoom=1.5", 400, "whole number"),
    ("/api/layers/parcels/features?bbox=1,2,3,4", 400, "zoom"),
    ("/api/layers/parcels/features?bbox=1,2,3,4&zoom=3&format=xml", 400, "format"),
    ("/api/layers/parcels/features?bbox=1,2,3,4&zoom=3&properties=some", 400, "properties"),
    ("/api/layers/parcels;drop/features?bbox=1,2,3,4&zoom=3", 404, "unknown layer"),
])
def test_bad_requests_get_a_reason(client, url, status, reason):
    resp = client.get(url)
    assert resp.status_code == status
    assert reason in resp.json["error"]


def test_map_page_and_dashboard_are_served(client):
    assert client.get("/").status_code == 200
    assert client.get("/dashboard?zone=jiading&lang=en").status_code == 200
