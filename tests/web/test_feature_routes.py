"""The viewport endpoint through Flask's test client: features, limits, 4xx with reasons."""

import json

import pytest

from gisapp.web.app import create_app

WAIGAOQIAO = "121.55,31.28,121.65,31.36"


@pytest.fixture(scope="module")
def client(engine):
    return create_app().server.test_client()


def test_parcels_in_a_viewport_come_as_geojson_with_declared_fields(client):
    resp = client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=14")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = json.loads(resp.data)
    assert body["type"] == "FeatureCollection" and body["count"] == len(body["features"]) > 50
    props = body["features"][0]["properties"]
    assert {"code", "status", "zone_code", "area_m2"} <= set(props)
    assert "crs" not in body["features"][0]["geometry"]
    assert all(f["properties"]["zone_code"] == "waigaoqiao_ftz" for f in body["features"])


def test_low_zoom_sends_a_count_not_polygons(client):
    body = json.loads(client.get(f"/api/layers/parcels/features?bbox={WAIGAOQIAO}&zoom=9").data)
    assert body["features"] == [] and body["count"] > 50 and body["detail_min_zoom"] == 12


def test_zone_filter(client):
    body = json.loads(client.get(f"/api/layers/parcels/features?bbox=120,30,123,32&zoom=14&zone=jiading").data)
    assert body["count"] > 0 and {f["properties"]["zone_code"] for f in body["features"]} == {"jiading"}


@pytest.mark.parametrize("url, status, reason", [
    ("/api/layers/nope/features?bbox=1,2,3,4&zoom=3", 404, "unknown layer"),
    ("/api/layers/parcels/features?bbox=1,2,3&zoom=3", 400, "4 comma-separated"),
    ("/api/layers/parcels/features?bbox=1,2,3,4&zoom=99", 400, "out of range"),
    ("/api/layers/parcels/features?bbox=1,2,3,4", 400, "zoom"),
    ("/api/layers/parcels;drop/features?bbox=1,2,3,4&zoom=3", 404, "unknown layer"),
])
def test_bad_requests_get_a_reason(client, url, status, reason):
    resp = client.get(url)
    assert resp.status_code == status
    assert reason in resp.json["error"]


def test_map_page_is_served(client):
    assert client.get("/").status_code == 200
