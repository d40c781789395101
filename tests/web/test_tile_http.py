"""Vector tiles as GIS clients need them (issue #21): numbers as numbers, feature ids, gzip,
ETag / Last-Modified with 304s that an edit invalidates at once, TileJSON, the tile matrix set.
Tiles are decoded by GDAL's MVT driver (ogrinfo), a real client."""

from __future__ import annotations

import base64
import gzip
import math
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa

OGRINFO = shutil.which("ogrinfo")


def basic(user) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user.username}:{user.password}".encode()).decode()}


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def reader(make_user):
    return make_user("bureau_viewer")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture(scope="module")
def parcel_tile(engine) -> tuple[int, int, int]:
    """The z14 tile holding the first parcel's centre."""
    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM land.parcels ORDER BY id LIMIT 1) p")).one()
    return tile_of(lon, lat, 14)


def ogr_fields(tile_bytes: bytes, tmp_path, z: int, x: int, y: int) -> tuple[dict[str, str], str]:
    """The fields GDAL's MVT driver reads from a tile, ``{name: type}``, and its full report."""
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tile_bytes)
    report = subprocess.run([OGRINFO, "-ro", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"^(\w+): (\w+(?:\(\w+\))?) \(", report, re.M))
    return fields, report


def test_tile_numbers_are_numbers_and_features_have_ids(client, reader, parcel_tile, tmp_path, engine):
    z, x, y = parcel_tile
    got = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf", headers=basic(reader))
    assert got.status_code == 200
    fields, report = ogr_fields(got.data, tmp_path, z, x, y)
    assert fields["area_m2"] == "Real" and fields["version"] == "Integer" and fields["code"] == "String"
    assert fields["is_synthetic"] == "Integer(Boolean)"
    # the feature id (GDAL's mvt_id) is the parcel's id, not written again as a property
    ids = [int(v) for v in re.findall(r"^\s+mvt_id \(Integer64\) = (\d+)$", report, re.M)]
    own = [int(v) for v in re.findall(r"^\s+id \(Integer\) = (\d+)$", report, re.M)]
    assert ids and ids == own and "gisapp_fid" not in fields
    areas = [float(v) for v in re.findall(r"^\s+area_m2 \(Real\) = ([\d.]+)$", report, re.M)]
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, area_m2 FROM layers.parcels WHERE id = ANY(:i)"),
                                   {"i": ids}).all())
    assert areas == pytest.approx([float(stored[i]) for i in ids], abs=0.01)


def test_aggregate_tiles_carry_zone_ids_and_numeric_counts(client, reader, parcel_tile, tmp_path):
    z, x, y = tile_of(*_centre_of(parcel_tile), 10)
    got = client.get(f"/tiles/parcels/{z}/{x}/{y}.pbf", headers=basic(reader))
    assert got.status_code == 200
    fields, report = ogr_fields(got.data, tmp_path, z, x, y)
    assert fields["count"] == "Integer64" or fields["count"] == "Integer"
    assert re.search(r"^\s+mvt_id \(Integer64\) = \d+$", report, re.M)


def _centre_of(tile: tuple[int, int, int]) -> tuple[float, float]:
    z, x, y = tile
    n = 2**z
    lon = (x + 0.5) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lon, lat


def test_tiles_are_gzip_compressed_when_accepted(client, reader, parcel_tile):
    z, x, y = parcel_tile
    url = f"/tiles/parcels/{z}/{x}/{y}.pbf"
    plain = client.get(url, headers={**basic(reader), "Accept-Encoding": "identity"})
    packed = client.get(url, headers={**basic(reader), "Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    assert "Accept-Encoding" in packed.headers["Vary"]


def test_repeat_requests_are_answered_304_and_cacheable_privately(client, reader, parcel_tile):
    z, x, y = parcel_tile
    url = f"/tiles/parcels/{z}/{x}/{y}.pbf"
    first = client.get(url, headers=basic(reader))
    assert first.headers["Cache-Control"].startswith("private, max-age=")
    assert "no-store" not in first.headers["Cache-Control"]
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={**basic(reader), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    since = client.get(url, headers={**basic(reader), "If-Modified-Since": modified})
    assert since.status_code == 304
    head = client.head(url, headers={**basic(reader), "If-None-Match": etag})
    assert head.status_code == 304
    other_tile = client.get(f"/tiles/parcels/{z}/{x + 1}/{y}.pbf", headers={**basic(reader), "If-None-Match": etag})
    assert other_tile.status_code in (200, 204)


def test_the_etag_is_keyed_on_the_users_role_and_zones(client, make_user, parcel_tile):
    z, x, y = parcel_tile
    url = f"/tiles/parcels/{z}/{x}/{y}.pbf"
    viewer, editor = make_user("bureau_viewer"), make_user("zone_editor", ("waigaoqiao_ftz",))
    viewer_etag = client.get(url, headers=basic(viewer)).headers["ETag"]
    editor_answer = client.get(url, headers={**basic(editor), "If-None-Match": viewer_etag})
    assert editor_answer.status_code == 200 and editor_answer.headers["ETag"] != viewer_etag


def test_any_committed_edit_invalidates_at_once(client, reader, parcel_tile, engine):
    z, x, y = parcel_tile
    url = f"/tiles/parcels/{z}/{x}/{y}.pbf"
    etag = client.get(url, headers=basic(reader)).headers["ETag"]
    assert client.get(url, headers={**basic(reader), "If-None-Match": etag}).status_code == 304
    with engine.begin() as conn:  # a statement that changes no row (a poller's) moves nothing
        conn.execute(sa.text("UPDATE land.parcels SET area_m2 = area_m2 WHERE false"))
        conn.execute(sa.text("DELETE FROM land.parcels WHERE false"))
    assert client.get(url, headers={**basic(reader), "If-None-Match": etag}).status_code == 304
    with engine.begin() as conn:  # a committed change of any row the layers read moves it
        conn.execute(sa.text("UPDATE gisapp_meta.dataset SET value = value WHERE key = 'seed'"))
    after = client.get(url, headers={**basic(reader), "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_an_uncommitted_edit_changes_nothing(client, reader, parcel_tile, engine):
    z, x, y = parcel_tile
    url = f"/tiles/parcels/{z}/{x}/{y}.pbf"
    etag = client.get(url, headers=basic(reader)).headers["ETag"]
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(sa.text("UPDATE gisapp_meta.dataset SET value = value WHERE key = 'seed'"))
        assert client.get(url, headers={**basic(reader), "If-None-Match": etag}).status_code == 304
        tx.rollback()
    assert client.get(url, headers={**basic(reader), "If-None-Match": etag}).status_code == 304


def test_tilejson_describes_the_layer_from_its_declaration(client, reader, engine):
    from gisapp.catalog.registry import get_layer

    doc = client.get("/tiles/parcels.json?lang=en", headers=basic(reader)).json
    layer = get_layer("parcels")
    assert doc["tilejson"] == "3.0.0" and doc["name"] == layer.title.en
    assert doc["tiles"] == ["http://localhost/tiles/parcels/{z}/{x}/{y}.pbf"]
    assert (doc["minzoom"], doc["maxzoom"]) == (layer.zoom.min, layer.zoom.max)
    assert "Synthetic" in doc["attribution"]
    (vector_layer,) = doc["vector_layers"]
    assert vector_layer["id"] == "parcels"
    assert set(layer.field_names) <= set(vector_layer["fields"])
    assert vector_layer["fields"]["area_m2"] == "Number" and vector_layer["fields"]["code"] == "String"
    assert vector_layer["fields"]["is_synthetic"] == "Boolean"
    with engine.connect() as conn:
        west, south, east, north = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(ST_Transform(geom, 4326)) e FROM layers.parcels) p")).one()
    bounds = doc["bounds"]
    assert bounds[0] <= west and bounds[1] <= south and bounds[2] >= east and bounds[3] >= north
    assert client.get("/tiles/parcels/metadata.json?lang=en", headers=basic(reader)).json == doc
    assert client.get("/tiles/no_such_layer.json", headers=basic(reader)).status_code == 404


def test_the_web_mercator_quad_tile_matrix_set(client, reader):
    doc = client.get("/ogc/tileMatrixSets/WebMercatorQuad", headers=basic(reader)).json
    assert doc["id"] == "WebMercatorQuad" and doc["crs"].endswith("/EPSG/0/3857")
    level = doc["tileMatrices"][14]
    assert level["matrixWidth"] == 2**14 and level["scaleDenominator"] == pytest.approx(34123.67, rel=1e-5)
