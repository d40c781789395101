"""OGC API – Features under /ogc: every declared layer, paging, CRSs, filters, as-of, errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import all_layers, get_layer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def epsg(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


def body(resp) -> dict:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return json.loads(resp.get_data(as_text=True))


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_landing_page_links_the_api_conformance_and_collections(viewer):
    doc = body(viewer.get("/ogc"))
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    conformance = body(viewer.get("/ogc/conformance"))["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance


def test_every_declared_layer_is_a_collection_with_extent_and_crs(viewer, engine):
    doc = body(viewer.get("/ogc/collections"))
    by_id = {c["id"]: c for c in doc["collections"]}
    assert list(by_id) == [layer.id for layer in all_layers()]
    zones = by_id["zones"]
    assert zones["storageCrs"] == epsg(4490)
    assert {CRS84, epsg(4490), epsg(4326), epsg(4549), epsg(3857)} <= set(zones["crs"])
    west, south, east, north = zones["extent"]["spatial"]["bbox"][0]
    with engine.connect() as conn:
        box = conn.execute(sa.text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                   "(SELECT ST_Extent(geom) e FROM layers.zones) x")).one()
    assert west == pytest.approx(box[0], abs=1e-5) and north == pytest.approx(box[3], abs=1e-5)
    assert {link["rel"] for link in zones["links"]} >= {"items", "describedby",
                                                         "http://www.opengis.net/def/rel/ogc/1.0/queryables"}


def test_items_count_and_page_through_next_links_exactly_once(viewer, engine):
    total = count(engine, "SELECT count(*) FROM layers.idle_land")
    assert total >= 3, "the demo data should hold a few idle-land rows"
    limit = total // 3  # three pages at least
    url, ids, pages = f"/ogc/collections/idle_land/items?limit={limit}", [], 0
    while url:
        page = body(viewer.get(url))
        assert page["numberMatched"] == total and page["numberReturned"] == len(page["features"])
        ids += [f["id"] for f in page["features"]]
        pages += 1
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
        if pages > 1:
            assert any(link["rel"] == "prev" for link in page["links"])
    assert pages == -(-total // limit) >= 3
    assert len(ids) == total == len(set(ids))
    assert ids == sorted(ids), "pages come in the order of the ids"


def test_numbers_are_numbers_and_ids_are_the_layers_ids(viewer, engine):
    feature = body(viewer.get("/ogc/collections/parcels/items?limit=1"))["features"][0]
    props = feature["properties"]
    assert isinstance(props["area_m2"], float) and isinstance(props["version"], int)
    assert isinstance(props["is_synthetic"], bool)
    code = count(engine, "SELECT code FROM layers.parcels WHERE id = :i", i=feature["id"])
    assert code == props["code"]
    single = body(viewer.get(f"/ogc/collections/parcels/items/{feature['id']}"))
    assert single["id"] == feature["id"] and single["properties"] == props


def _first_point(feature: dict) -> list[float]:
    return feature["geometry"]["coordinates"][0][0][0]


@pytest.mark.parametrize("crs, srid, north_first", [(epsg(4490), 4490, True), (epsg(4326), 4326, True),
                                                     (epsg(4549), 4549, True), (epsg(3857), 3857, False),
                                                     (CRS84, 4326, False)])
def test_crs_gives_coordinates_in_that_crs_and_its_axis_order(viewer, engine, crs, srid, north_first):
    resp = viewer.get(f"/ogc/collections/zones/items/1?crs={crs}")
    feature = body(resp)
    assert resp.headers["Content-Crs"] == f"<{crs}>"
    with engine.connect() as conn:
        x, y = conn.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1), "
            ":srid) p FROM layers.zones WHERE id = 1) q"), {"srid": srid}).one()
    expected = [y, x] if north_first else [x, y]
    assert _first_point(feature) == pytest.approx(expected, abs=1e-3 if srid in (4549, 3857) else 1e-6)


def test_bbox_in_any_offered_crs_selects_the_same_features(viewer, engine):
    lon0, lat0, lon1, lat1 = 121.55, 31.28, 121.65, 31.36
    expected = count(engine, "SELECT count(*) FROM layers.parcels WHERE ST_Intersects(geom, "
                     "ST_MakeEnvelope(:a, :b, :c, :d, 4490))", a=lon0, b=lat0, c=lon1, d=lat1)
    assert 0 < expected < count(engine, "SELECT count(*) FROM layers.parcels")
    base = "/ogc/collections/parcels/items?limit=1"
    lon_lat = body(viewer.get(f"{base}&bbox={lon0},{lat0},{lon1},{lat1}"))
    lat_lon = body(viewer.get(f"{base}&bbox={lat0},{lon0},{lat1},{lon1}&bbox-crs={epsg(4490)}"))
    assert lon_lat["numberMatched"] == expected == lat_lon["numberMatched"]
    with engine.connect() as conn:
        box = conn.execute(sa.text("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                                   "ST_Transform(ST_MakeEnvelope(:a, :b, :c, :d, 4490), 3857) b) q"),
                           {"a": lon0, "b": lat0, "c": lon1, "d": lat1}).one()
    mercator = body(viewer.get(f"{base}&bbox={','.join(map(str, box))}&bbox-crs={epsg(3857)}"))
    # the Mercator box is the same box drawn in another projection: within a few parcels on its edges
    assert abs(mercator["numberMatched"] - expected) <= max(3, expected // 50)


def test_property_filters_on_declared_fields(viewer, engine):
    status = count(engine, "SELECT status FROM layers.parcels GROUP BY status ORDER BY count(*) DESC LIMIT 1")
    expected = count(engine, "SELECT count(*) FROM layers.parcels WHERE status = :s", s=status)
    page = body(viewer.get(f"/ogc/collections/parcels/items?status={status}&limit=50"))
    assert page["numberMatched"] == expected
    assert {f["properties"]["status"] for f in page["features"]} == {status}
    versions = body(viewer.get("/ogc/collections/parcels/items?version=1&is_synthetic=true&limit=1"))
    assert versions["numberMatched"] == count(engine, "SELECT count(*) FROM layers.parcels WHERE version = 1 "
                                                      "AND is_synthetic")


def test_datetime_reads_the_layer_as_of_that_day(viewer, engine):
    day = dt.date(2022, 1, 1)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.as_of', :d, true)"), {"d": day.isoformat()})
        expected = conn.execute(sa.text("SELECT count(*) FROM layers.parcels_as_of")).scalar_one()
        zones = conn.execute(sa.text("SELECT count(*) FROM layers.zones")).scalar_one()
    assert body(viewer.get(f"/ogc/collections/parcels/items?datetime={day}&limit=1"))["numberMatched"] == expected
    instant = "2021-12-31T20:00:00Z"  # 1 January 2022, 04:00 in Shanghai
    assert body(viewer.get(f"/ogc/collections/parcels/items?datetime={instant}&limit=1"))["numberMatched"] == expected
    assert body(viewer.get(f"/ogc/collections/zones/items?datetime={day}"))["numberMatched"] == zones


@pytest.mark.parametrize("url, status, says", [
    ("/ogc/collections/nowhere", 404, "nowhere"),
    ("/ogc/collections/parcels/items/999999999", 404, "999999999"),
    ("/ogc/collections/parcels/items/not-a-number", 404, "not-a-number"),
    ("/ogc/no/such/path", 404, "/ogc/no/such/path"),
    ("/ogc/collections/parcels/items?limit=0", 400, "limit"),
    ("/ogc/collections/parcels/items?limit=10001", 400, "limit"),
    ("/ogc/collections/parcels/items?offset=-1", 400, "offset"),
    ("/ogc/collections/parcels/items?bbox=1,2,3", 400, "bbox"),
    ("/ogc/collections/parcels/items?bbox=121,31,122,32&bbox-crs=EPSG:2000", 400, "bbox-crs"),
    ("/ogc/collections/parcels/items?crs=EPSG:9999", 400, "crs"),
    ("/ogc/collections/parcels/items?datetime=2022-01-01/2022-02-01", 400, "interval"),
    ("/ogc/collections/districts/items?datetime=2022-01-01", 400, "current state"),
    ("/ogc/collections/parcels/items?version=abc", 400, "whole number"),
    ("/ogc/collections/parcels/items?status_since=yesterday", 400, "date"),
    ("/ogc/collections/parcels/items?colour=red", 400, "colour"),
    ("/ogc/collections/parcels/items?f=xml", 400, "xml"),
])
def test_errors_are_ogc_exceptions_with_their_status(viewer, url, status, says):
    resp = viewer.get(url)
    assert resp.status_code == status
    doc = json.loads(resp.get_data(as_text=True))
    assert set(doc) == {"code", "description"} and says in doc["description"]


def test_only_reads_are_allowed(viewer):
    resp = viewer.post("/ogc/collections/parcels/items")
    assert resp.status_code == 405
    assert json.loads(resp.get_data(as_text=True))["code"] == "MethodNotAllowed"


def test_html_pages_for_browsers_and_f_html(viewer):
    page = viewer.get("/ogc/collections/parcels/items?f=html&limit=3&lang=en")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert get_layer("parcels").title.en in text and text.count("<tr>") == 1 + 3
    assert "<script" not in text
    browser = viewer.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "text/html" and "idle_land" in browser.get_data(as_text=True)


def test_not_signed_in_gets_401_and_no_features(app):
    client = app.server.test_client()
    for headers in ({}, {"Authorization": "Basic bm9ib2R5Ondyb25n"}):  # nobody:wrong
        resp = client.get("/ogc/collections/parcels/items", headers=headers)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
        assert b"FeatureCollection" not in resp.data


def test_the_urls_of_the_docs_answer(viewer):
    """Every /ogc URL in docs/gis_clients.md's OGC API table answers."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "gis_clients.md").read_text(encoding="utf-8")
    section = text.split("## OGC API – Features", 1)[1].split("\n## ", 1)[0]
    urls = re.findall(r"`http://127\.0\.0\.1:8050(/ogc[^`]*)`", section.split("### ", 1)[0])
    assert len(urls) >= 8
    for url in urls:
        assert viewer.get(url).status_code == 200, url


def test_a_quota_layers_year_filter_reads_that_year_of_the_ledger(viewer, engine):
    with engine.connect() as conn:
        years = [int(y) for y in conn.execute(sa.text("SELECT year FROM layers.quota_years ORDER BY year")).scalars()]
    assert len(years) >= 2, "the demo ledger should hold more than one year"
    latest = body(viewer.get("/ogc/collections/quota_land/items?limit=100"))
    assert {f["properties"]["year"] for f in latest["features"]} == {years[-1]}
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('gisapp.year', :y, true)"), {"y": str(years[0])})
        expected = conn.execute(sa.text("SELECT count(*) FROM layers.quota_land")).scalar_one()
    earlier = body(viewer.get(f"/ogc/collections/quota_land/items?year={years[0]}&limit=100"))
    assert earlier["numberMatched"] == expected > 0
    assert {f["properties"]["year"] for f in earlier["features"]} == {years[0]}


def test_a_count_that_takes_too_long_is_left_out_not_waited_for(viewer, monkeypatch):
    import time

    from gisapp.queries import ogc_items

    slow = sa.text("SELECT 0 FROM pg_sleep(2)")
    monkeypatch.setattr(ogc_items, "count_statement", lambda *_args: (slow, {}))
    monkeypatch.setattr(ogc_items, "COUNT_WAIT_MS", 100)
    started = time.monotonic()
    page = body(viewer.get("/ogc/collections/parcels/items?limit=5"))
    assert time.monotonic() - started < 1.5
    assert "numberMatched" not in page and page["numberReturned"] == len(page["features"]) == 5
    assert any(link["rel"] == "next" for link in page["links"])
    html = viewer.get("/ogc/collections/parcels/items?limit=5&f=html&lang=en").get_data(as_text=True)
    assert "Features 1–5" in html
    # a single page needs no count: it is its own
    zones = body(viewer.get("/ogc/collections/zones/items?limit=100"))
    assert zones["numberMatched"] == zones["numberReturned"] > 0
