"""The styles GIS clients load: MapLibre style.json per layer and for the map, QML per layer, the
viewer page and its vendored MapLibre (issue #21)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest


@pytest.fixture(scope="module")
def reader(app, make_user):
    user = make_user("analyst")
    return app.server.test_client(), {
        "Authorization": "Basic " + base64.b64encode(f"{user.username}:{user.password}".encode()).decode()}


def test_layer_style_points_at_the_layers_tilejson(reader):
    client, auth = reader
    doc = client.get("/styles/idle_land.json?year=2025", headers=auth).json
    assert doc["sources"] == {"idle_land": {"type": "vector", "url": "http://localhost/tiles/idle_land.json?year=2025"}}
    assert {sl["id"] for sl in doc["layers"]} >= {"idle_land-fill", "idle_land-line"}


def test_map_style_has_every_declared_layer(reader):
    from gisapp.catalog.registry import all_layers

    client, auth = reader
    doc = client.get("/styles/map.json?lang=en", headers=auth).json
    assert set(doc["sources"]) == {layer.id for layer in all_layers()}
    assert doc["metadata"]["gisapp:lang"] == "en"


def test_qml_is_served_as_xml_in_the_asked_language(reader):
    client, auth = reader
    answer = client.get("/styles/parcels.qml?lang=en", headers=auth)
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    root = ET.fromstring(answer.get_data(as_text=True).split("\n", 1)[1])
    labels = {r.get("label") for r in root.iter("rule")}
    assert "Idle (confirmed)" in labels
    assert client.get("/styles/no_such_layer.qml", headers=auth).status_code == 404


def test_the_viewer_loads_maplibre_from_the_app_not_a_cdn(reader):
    client, auth = reader
    page = client.get("/styles/viewer?style=parcels&lon=121.6&lat=31.3&zoom=15", headers=auth)
    html = page.get_data(as_text=True)
    import re

    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert page.status_code == 200 and sources
    assert all(src.startswith("/styles/static/") for src in sources), sources
    script = client.get("/styles/static/maplibre-gl/maplibre-gl.js", headers=auth)
    assert script.status_code == 200 and b"maplibre" in script.data[:2000].lower()
    assert client.get("/styles/viewer?zoom=99", headers=auth).status_code == 400
