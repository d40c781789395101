"""Vector tiles, search, parcel detail and dashboard exports through the app's routes."""

import io
import math

import openpyxl
import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import get_layer
from gisapp.queries import dashboard

WGQ = (121.60, 31.32)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def test_vector_tile_holds_the_declared_layer_and_its_fields(client):
    z, x, y = tile_of(*WGQ, 15)
    resp = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.mapbox-vector-tile"
    # kept by the client and revalidated (ETag), never shared between users (issue #21)
    assert resp.headers["Cache-Control"] == "private, max-age=0, must-revalidate" and resp.headers["ETag"]
    # MVT stores the layer name, the property keys and string values as plain protobuf strings
    assert b"parcels" in resp.data and b"status" in resp.data and b"WGQ-" in resp.data


def test_low_zoom_tile_carries_zone_summaries(client):
    z, x, y = tile_of(*WGQ, 9)
    assert z < get_layer("parcels").detail_min_zoom
    resp = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf")
    assert resp.status_code == 200
    assert b"aggregate" in resp.data and b"count" in resp.data and b"waigaoqiao_ftz" in resp.data
    assert b"WGQ-" not in resp.data  # no single parcels


def test_empty_tile_is_204(client):
    z, x, y = tile_of(100.0, 10.0, 15)
    assert client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf").status_code == 204


@pytest.mark.parametrize("url, status, reason", [
    ("/tiles/nope/1/0/0.pbf", 404, "unknown layer"),
    ("/tiles/parcels/3/8/0.pbf", 400, "out of range"),
    ("/tiles/parcels/3/0/-1.pbf", 400, "out of range"),
    ("/tiles/parcels/23/0/0.pbf", 400, "zoom 23"),
    ("/tiles/parcels/a/0/0.pbf", 400, "whole numbers"),
])
def test_bad_tiles_get_a_reason(client, url, status, reason):
    resp = client.get(url)
    assert resp.status_code == status and reason in resp.json["error"]


def test_search_finds_a_parcel_by_code_and_a_zone_by_name(client, engine):
    with engine.connect() as conn:
        code, minx, maxy = conn.execute(sa.text(
            "SELECT code, ST_XMin(geom), ST_YMax(geom) FROM land.parcels ORDER BY id DESC LIMIT 1")).one()
    hits = client.get(f"/api/search?q={code}").json
    assert hits[0]["layer"] == "parcels" and hits[0]["code"] == code
    assert hits[0]["bbox"][0] == pytest.approx(minx) and hits[0]["bbox"][3] == pytest.approx(maxy)
    zone_hits = client.get("/api/search?q=嘉定").json
    assert zone_hits[0]["layer"] == "zones" and zone_hits[0]["code"] == "jiading"
    enterprise = client.get("/api/search?q=（合成）&limit=3").json
    assert len(enterprise) == 3 and all("（合成）" in h["value"] for h in enterprise)


def test_search_treats_wildcards_as_text(client):
    assert client.get("/api/search?q=%25%25").json == []  # '%%' matches no name, not everything


@pytest.mark.parametrize("url, reason", [
    ("/api/search?q=a", "at least 2"),
    ("/api/search", "at least 2"),
    ("/api/search?q=WGQ&limit=x", "limit"),
    ("/api/search?q=WGQ&limit=500", "limit"),
])
def test_bad_searches_get_a_reason(client, url, reason):
    resp = client.get(url)
    assert resp.status_code == 400 and reason in resp.json["error"]


def test_parcel_detail_has_attributes_history_grant_and_findings(client, engine):
    with engine.connect() as conn:
        code, n_history, n_req = conn.execute(sa.text("""
            SELECT p.code,
                   (SELECT count(*) FROM land.parcel_status_history h WHERE h.parcel_id = p.id),
                   (SELECT count(*) FROM land.grant_requirements q WHERE q.grant_id = g.id)
            FROM land.parcels p JOIN land.land_grants g ON g.parcel_id = p.id
            WHERE g.is_standardized AND EXISTS (SELECT 1 FROM rules.current_findings f WHERE f.parcel_id = p.id)
            ORDER BY p.id LIMIT 1""")).one()
        n_findings = conn.execute(sa.text("""
            SELECT count(*) FROM rules.current_findings f, land.parcels p
            WHERE p.code = :c AND (f.parcel_id = p.id OR (f.subject_type = 'grant' AND f.subject_id IN
                                   (SELECT g.id::text FROM land.land_grants g WHERE g.parcel_id = p.id)))"""),
            {"c": code}).scalar()
    body = client.get(f"/api/parcels/{code}").json
    assert body["attributes"]["code"] == code and body["attributes"]["is_synthetic"] is True
    assert len(body["history"]) == n_history > 0
    assert len(body["grants"]) >= 1 and len(body["grants"][0]["requirements"]) == n_req > 0
    assert len(body["findings"]) == n_findings > 0
    assert all(f["explanation_zh"] and f["explanation_en"] for f in body["findings"])
    assert body["geometry"]["type"] == "MultiPolygon"


def test_unknown_parcel_is_404(client):
    resp = client.get("/api/parcels/NO-SUCH-1")
    assert resp.status_code == 404 and "NO-SUCH-1" in resp.json["error"]


def test_dashboard_exports_csv_and_excel_with_translated_headers(client, engine):
    frame = dashboard.dataset(engine, "status_breakdown", "jiading")
    csv = client.get("/api/dashboard/status_breakdown.csv?zone=jiading&lang=zh")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.data.decode("utf-8-sig").strip().splitlines()
    assert lines[0].split(",")[:2] == ["园区编码", "园区"] and len(lines) == len(frame) + 1
    xlsx = client.get("/api/dashboard/status_breakdown.xlsx?zone=jiading&lang=en")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Zone code", "Zone", "Status") and len(rows) == len(frame) + 1
    assert {r[2] for r in rows[1:]} <= set(frame["status_en"])


@pytest.mark.parametrize("url, status, reason", [
    ("/api/dashboard/nope.csv", 404, "unknown dashboard table"),
    ("/api/dashboard/status_breakdown.pdf", 400, "csv, xlsx"),
    ("/api/dashboard/status_breakdown.csv?zone=atlantis", 404, "unknown zone"),
    ("/api/dashboard/status_breakdown.csv?lang=fr", 400, "lang"),
])
def test_bad_exports_get_a_reason(client, url, status, reason):
    resp = client.get(url)
    assert resp.status_code == status and reason in resp.json["error"]


def test_layer_catalogue_lists_tiles_and_legends(client):
    body = client.get("/api/layers?lang=en").json
    ids = [layer["id"] for layer in body]
    assert {"zones", "parcels", "idle_land", "per_mu", "grants", "mixed_use", "green_balance"} <= set(ids)
    parcels = body[ids.index("parcels")]
    assert parcels["tiles"] == "/tiles/parcels/{z}/{x}/{y}.pbf"
    assert {"color": "#3182bd", "label": "In production"} in parcels["legend"]


def test_basemaps_are_offline_by_default_and_tianditu_needs_a_key(client, monkeypatch):
    import sys

    import dash

    from gisapp.settings import Settings

    # the module Dash loaded for "/" (importing it anew would register the page twice)
    page = sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/")]
    names = [b.name for b in page._basemaps("zh")]
    assert names[0] == "无底图（离线）" and page._basemaps("zh")[0].checked is True
    assert "天地图" not in names
    monkeypatch.setattr(page, "get_settings", lambda: Settings(tianditu_key="k123"))
    with_key = page._basemaps("en")
    assert [b.name for b in with_key][-1] == "Tianditu"
    urls = [tile.url for tile in with_key[-1].children.children]
    assert len(urls) == 2 and all(u.endswith("tk=k123") for u in urls) and "LAYER=cva" in urls[1]
