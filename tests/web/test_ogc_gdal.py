"""Real clients of the OGC API – Features service: GDAL's OAPIF driver, as Debian 12's ``ogrinfo`` /
``ogr2ogr`` (GDAL 3.6, gdal-bin from scripts/bootstrap.sh) and as pyogrio's own GDAL (3.10 or later,
which reads Part 2's CRSs), against the app served on a loopback port.

They sign in the three ways a client can: HTTP Basic with the account's password, a personal API
token as the Basic password (GDAL_HTTP_AUTH=BASIC, GDAL_HTTP_USERPWD), and a browser session's
cookie (GDAL_HTTP_COOKIE, with the user agent of the sign-in: a session is bound to its client).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.queries.ogc_items import field_types
from tests.servers import app_in_thread
from tests.signin import post_login

USER_AGENT = "gisapp-test-gdal"
#: OGR's field type for each JSON type the service declares (GDAL's OAPIF driver reads them)
OGR_TYPES = {"integer": ("Integer", "Integer64"), "number": ("Real",), "boolean": ("Integer(Boolean)",),
             "string": ("String",), "date": ("Date",)}

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                reason="GDAL's command line tools (gdal-bin) are not installed")


@pytest.fixture(scope="module")
def served(engine, make_user):
    """(base URL, {way of signing in: environment for GDAL}) of the app served on a free port."""
    from gisapp.queries.tokens import create_token

    user = make_user("bureau_viewer")
    _token_id, token = create_token(engine, user.username, "GDAL tests")
    base_env = {**os.environ, "GDAL_HTTP_TIMEOUT": "120", "CPL_DEBUG": "OFF"}
    with app_in_thread("gisapp-ogc-gdal") as base:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        assert post_login(session, user.username, user.password, prefix=base).status_code == 302
        cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
        yield base, {
            "basic": {**base_env, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{user.username}:{user.password}"},
            "token": {**base_env, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{user.username}:{token}"},
            "cookie": {**base_env, "GDAL_HTTP_COOKIE": cookie, "GDAL_HTTP_USERAGENT": USER_AGENT},
        }


def gdal(env: dict, *args: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


@pytest.mark.parametrize("way", ["basic", "token", "cookie"])
def test_ogrinfo_lists_every_declared_layer(served, way):
    base, ways = served
    out = gdal(ways[way], "ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc")
    listed = [line.split(": ", 1)[1].split(" ")[0] for line in out.splitlines() if line[:1].isdigit()]
    assert listed == [layer.id for layer in all_layers()]


@pytest.mark.parametrize("layer_id, way", [("parcels", "basic"), ("zones", "token"), ("per_mu", "cookie")])
def test_ogrinfo_counts_and_field_types(served, engine, layer_id, way):
    base, ways = served
    out = gdal(ways[way], "ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", layer_id)
    layer = get_layer(layer_id)
    assert f"Feature Count: {scalar(engine, f'SELECT count(*) FROM {layer.source}')}" in out
    fields = dict(line.split(": ", 1) for line in out.splitlines() if line.split(":")[0] in layer.field_names)
    for name, kind in field_types(engine, layer).items():
        ogr = fields[name].split(" (")[0]
        assert ogr in OGR_TYPES[kind.format if kind.format == "date" else kind.json], (name, ogr, kind)


def test_ogr2ogr_pages_through_every_feature_in_wgs84(served, engine, tmp_path):
    base, ways = served
    env = ways["token"]
    target = tmp_path / "idle.geojson"
    total = scalar(engine, "SELECT count(*) FROM layers.idle_land")
    assert total >= 3, "the demo data should hold a few idle-land rows"
    gdal(env, "ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-oo", f"PAGE_SIZE={total // 3}", str(target),
         f"OAPIF:{base}/ogc", "idle_land")  # three pages at least
    features = json.loads(target.read_text())["features"]
    assert len(features) == total
    codes = [f["properties"]["code"] for f in features]
    assert len(set(codes)) == total
    first = features[0]
    lon, lat = scalar(engine, "SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_Transform(ST_PointN(ST_ExteriorRing("
                              "ST_GeometryN(geom, 1)), 1), 4326) p FROM layers.idle_land WHERE code = :c) q",
                      c=first["properties"]["code"])
    assert first["geometry"]["coordinates"][0][0][0] == pytest.approx([lon, lat], abs=1e-6)


def test_ogr2ogr_reads_in_cgcs2000_and_sends_where_to_the_server(served, engine, tmp_path):
    base, ways = served
    env = ways["basic"]
    status = scalar(engine, "SELECT status FROM layers.parcels GROUP BY 1 ORDER BY count(*) LIMIT 1")
    target = tmp_path / "parcels.geojson"
    # GDAL 3.6 reads CRS84 from the service (its driver has no Part 2); -t_srs gives CGCS2000
    gdal(env, "ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4490", "-oo", "PAGE_SIZE=1000",
         "-where", f"status = '{status}'", str(target), f"OAPIF:{base}/ogc", "parcels")
    features = json.loads(target.read_text())["features"]
    assert len(features) == scalar(engine, "SELECT count(*) FROM layers.parcels WHERE status = :s", s=status)
    assert {f["properties"]["status"] for f in features} == {status}
    code = features[0]["properties"]["code"]
    stored = scalar(engine, "SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_PointN(ST_ExteriorRing("
                            "ST_GeometryN(geom, 1)), 1) p FROM layers.parcels WHERE code = :c) q", c=code)
    assert features[0]["geometry"]["coordinates"][0][0][0] == pytest.approx(stored, abs=1e-6)


#: pyogrio in a process of its own: in this one its GDAL would hold the interpreter while it waits
#: for the server thread that has to answer it
PYOGRIO_READ = """
import json, sys, pyogrio
frame = pyogrio.read_dataframe(sys.argv[1], layer="zones", CRS=sys.argv[2])
first = frame.iloc[0]
print(json.dumps({"crs": ":".join(frame.crs.to_authority()), "count": len(frame), "code": first["code"],
                  "xy": list(first.geometry.geoms[0].exterior.coords[0])}))
"""


@pytest.mark.parametrize("crs, srid, read_as", [("EPSG:4490", 4490, "EPSG:4490"), ("EPSG:4549", 4549, "EPSG:4549"),
                                                ("EPSG:4326", 4326, "OGC:CRS84")])
def test_pyogrio_gdal_reads_the_crs_the_service_offers(served, engine, crs, srid, read_as):
    """pyogrio's GDAL (3.10 or later) asks the service for the CRS (Part 2) and reads its axis order
    (for WGS 84 it asks for CRS84, the same datum with longitude first, which the service offers)."""
    pytest.importorskip("pyogrio")
    base, ways = served
    got = json.loads(gdal(ways["token"], sys.executable, "-c", PYOGRIO_READ, f"OAPIF:{base}/ogc", crs))
    assert got["crs"] == read_as and got["count"] == scalar(engine, "SELECT count(*) FROM layers.zones")
    x, y = scalar(engine, "SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_Transform(ST_PointN(ST_ExteriorRing("
                          "ST_GeometryN(geom, 1)), 1), :srid) p FROM layers.zones WHERE code = :c) q",
                  srid=srid, c=got["code"])
    assert got["xy"] == pytest.approx([x, y], abs=1e-3 if srid == 4549 else 1e-7)


def test_without_credentials_gdal_is_refused(served):
    base, ways = served
    env = {k: v for k, v in ways["basic"].items() if k not in ("GDAL_HTTP_AUTH", "GDAL_HTTP_USERPWD")}
    wrong = {**ways["basic"], "GDAL_HTTP_USERPWD": "nobody:wrong-password"}
    for attempt in (env, wrong):
        done = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc"], env=attempt, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode != 0 and "401" in done.stderr + done.stdout


def _docs_section(title: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "gis_clients.md").read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_gdal_commands_of_the_docs_work(served, tmp_path):
    """docs/gis_clients.md's OGC API GDAL commands, as written, against the served app."""
    base, ways = served
    block = _docs_section("OGC API – Features").split("### GDAL", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("export ")]
    assert [c.split()[0] for c in commands] == ["ogrinfo", "ogrinfo", "ogr2ogr", "ogr2ogr"]
    for command in commands:
        args = shlex.split(command.replace("http://127.0.0.1:8050", base))
        done = subprocess.run(args, env=ways["basic"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stderr[-1000:])
    assert (tmp_path / "idle_parcels.gpkg").exists() and (tmp_path / "zones_cgcs2000.gpkg").exists()
