"""GDAL's MVT driver, a real GIS client, opens a layer of the served app through its TileJSON
(``/vsicurl/`` with default settings: HEAD requests, the metadata.json probe) with HTTP Basic
credentials or an API token, and reads typed fields (issue #21)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from tests.servers import app_in_thread

OGRINFO = shutil.which("ogrinfo")


@pytest.fixture(scope="module")
def served(engine, findings_source):
    with app_in_thread("gdal-mvt") as url:
        yield url


def ogrinfo(url: str, userpwd: str, *args: str) -> subprocess.CompletedProcess:
    assert OGRINFO, "ogrinfo (Debian's gdal-bin) is missing: scripts/bootstrap.sh installs it"
    env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": userpwd,
           "CPL_VSIL_CURL_CACHE_SIZE": "0", "GDAL_HTTP_TIMEOUT": "60"}
    return subprocess.run([OGRINFO, "-ro", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def parcel_box(engine) -> tuple[float, float, float, float]:
    """A small box (EPSG:3857) around the first parcel."""
    with engine.connect() as conn:
        x, y = conn.execute(sa.text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 3857) c "
            "FROM land.parcels ORDER BY id LIMIT 1) p")).one()
    return x - 200, y - 200, x + 200, y + 200


def _fields(report: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+): (\w+(?:\(\w+\))?) \(", report, re.M))


def test_gdal_opens_a_layer_through_its_tilejson_with_basic_auth(served, make_user, parcel_box, engine):
    user = make_user("analyst")
    url = f"MVT:/vsicurl/{served}/tiles/parcels/14"
    summary = ogrinfo(url, f"{user.username}:{user.password}", "-so", url, "parcels")
    assert summary.returncode == 0, summary.stderr
    fields = _fields(summary.stdout)
    # the types come from the TileJSON's vector_layers (the declaration and the source view)
    assert fields["area_m2"] == "Real" and fields["code"] == "String" and fields["zone_code"] == "String"
    assert fields["is_synthetic"] == "Integer(Boolean)"
    read = ogrinfo(url, f"{user.username}:{user.password}", "-spat", *map(str, parcel_box), url, "parcels")
    assert read.returncode == 0, read.stderr
    codes = re.findall(r"^\s+code \(String\) = (\S+)$", read.stdout, re.M)
    areas = [float(a) for a in re.findall(r"^\s+area_m2 \(Real\) = ([\d.]+)$", read.stdout, re.M)]
    assert codes and len(areas) == len(codes)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT code, area_m2 FROM layers.parcels WHERE code = ANY(:c)"),
                                   {"c": codes}).all())
    assert set(codes) <= set(stored)
    assert areas == pytest.approx([float(stored[c]) for c in codes], abs=0.01)


def test_gdal_reads_with_an_api_token_as_the_basic_password(served, make_user, parcel_box, engine):
    from gisapp.queries.tokens import create_token

    user = make_user("bureau_viewer")
    _id, token = create_token(engine, user.username, "GDAL")
    url = f"MVT:/vsicurl/{served}/tiles/zones/12"
    summary = ogrinfo(url, f"{user.username}:{token}", "-so", url, "zones")
    assert summary.returncode == 0, summary.stderr
    assert _fields(summary.stdout)["approved_area_m2"] == "Real"


def test_gdal_with_wrong_credentials_reads_nothing(served, make_user):
    user = make_user("analyst")
    url = f"MVT:/vsicurl/{served}/tiles/parcels/14"
    refused = ogrinfo(url, f"{user.username}:not-the-password", "-so", url, "parcels")
    assert refused.returncode != 0 or "area_m2" not in refused.stdout

