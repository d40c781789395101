"""The web import page: bureau admins only, all or nothing, the report shown as text."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gisapp import api
from tests.signin import form_token
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(engine):
    from gisapp.web.app import create_app

    return create_app()


def _client(app, engine, role):
    client = app.server.test_client()
    sign_in(client, engine, (f"import.{role.replace('_', '.')}", "import-test-password", role))
    return client


def _token(client) -> str:
    page = client.get("/admin/import").get_data(as_text=True)
    return form_token(page)


def _gpkg(engine, enterprise=None, driver: str = "GPKG", tmp_path=None) -> bytes:
    zone = api.read_layer("zones", engine=engine).iloc[0]
    # a square inside the zone and clear of its parcels (the database refuses overlaps)
    taken = shapely.STRtree(api.read_layer("parcels", zone=zone.code, fields=["code"], engine=engine).geometry.values)
    minx, miny, maxx, maxy = zone.geometry.bounds
    rng = np.random.default_rng(11)
    square = next(sq for sq in (shapely.box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4)
                                for x, y in zip(rng.uniform(minx, maxx, 20000), rng.uniform(miny, maxy, 20000)))
                  if zone.geometry.contains(sq) and not len(taken.query(sq, predicate="intersects")))
    frame = gpd.GeoDataFrame({"code": ["WEB-1"], "land_use_code": ["1001"], "enterprise_zh": [enterprise]},
                             geometry=[square], crs=4490)
    if tmp_path is not None:  # drivers that write only to a file
        path = tmp_path / {"FlatGeobuf": "upload.fgb"}.get(driver, f"upload.{driver.lower()}")
        frame.to_file(path, driver=driver)
        return path.read_bytes()
    buf = io.BytesIO()
    frame.to_file(buf, driver=driver)
    return buf.getvalue()


def _count(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar(),
                conn.execute(sa.text("SELECT count(*) FROM audit.imports")).scalar())


def test_only_bureau_admins_may_import(app, engine):
    anonymous = app.server.test_client()
    assert anonymous.get("/admin/import").status_code == 302  # to the sign-in page
    viewer = _client(app, engine, "bureau_viewer")
    resp = viewer.get("/admin/import?lang=en")
    assert resp.status_code == 403 and "Only bureau administrators" in resp.get_data(as_text=True)
    resp = viewer.post("/admin/import", data={"kind": "parcels"})
    assert resp.status_code == 403


def test_admin_dry_run_then_import(app, engine):
    admin = _client(app, engine, "bureau_admin")
    before = _count(engine)
    data = {"csrf": _token(admin), "kind": "parcels", "dry_run": "1",
            "file": (io.BytesIO(_gpkg(engine)), "新地块.gpkg")}
    resp = admin.post("/admin/import", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert "试运行" in resp.get_data(as_text=True)
    assert _count(engine) == before
    data = {"csrf": _token(admin), "kind": "parcels", "file": (io.BytesIO(_gpkg(engine)), "新地块.gpkg")}
    resp = admin.post("/admin/import", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "导入成功" in resp.get_data(as_text=True)
    assert _count(engine) == (before[0] + 1, before[1] + 1)
    with engine.begin() as conn:
        who = conn.execute(sa.text("SELECT imported_by, file_name FROM audit.imports ORDER BY id DESC LIMIT 1")).one()
        conn.execute(sa.text("DELETE FROM land.parcels WHERE code = 'WEB-1'"))
    assert tuple(who) == ("web:import.bureau.admin", "新地块.gpkg")


def test_a_bad_file_shows_its_report_as_text_and_writes_nothing(app, engine):
    admin = _client(app, engine, "bureau_admin")
    before = _count(engine)
    data = {"csrf": _token(admin), "kind": "parcels",
            "file": (io.BytesIO(_gpkg(engine, "<script>alert(1)</script>")), "bad.gpkg")}
    resp = admin.post("/admin/import", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "enterprise_zh" in page and "未写入任何数据" in page  # the page's language (zh by default)
    assert _count(engine) == before


def test_the_form_needs_its_token(app, engine):
    admin = _client(app, engine, "bureau_admin")
    data = {"kind": "parcels", "file": (io.BytesIO(_gpkg(engine)), "x.gpkg")}
    resp = admin.post("/admin/import", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400


def test_the_page_takes_every_format_the_importer_reads_from_one_file(app, engine, tmp_path):
    """FlatGeobuf is read by the importer: the page accepts it too (one list of formats)."""
    admin = _client(app, engine, "bureau_admin")
    data = {"csrf": _token(admin), "kind": "parcels", "dry_run": "1",
            "file": (io.BytesIO(_gpkg(engine, driver="FlatGeobuf", tmp_path=tmp_path)), "survey.fgb")}
    resp = admin.post("/admin/import?lang=en", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)[-500:]
    shp = {"csrf": _token(admin), "kind": "parcels", "file": (io.BytesIO(b"not alone"), "survey.shp")}
    refused = admin.post("/admin/import?lang=en", data=shp, content_type="multipart/form-data")
    assert refused.status_code == 400 and ".zip" in refused.get_data(as_text=True)
