"""The web import report speaks the page's language and the form's words, and never shows the
server's temporary folder. Refusals only: nothing is written."""

from __future__ import annotations

import html
import io
import re

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from gisapp import api
from tests.signin import form_token
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def admin(engine):
    from gisapp.web.app import create_app

    client = create_app().server.test_client()
    sign_in(client, engine, ("hostile.import.admin", "hostile-import-password", "bureau_admin"))
    return client


def _post(client, name: str, content: bytes, lang: str, **form) -> tuple[int, str]:
    page = client.get(f"/admin/import?lang={lang}").get_data(as_text=True)
    token = form_token(page)
    resp = client.post(f"/admin/import?lang={lang}", content_type="multipart/form-data",
                       data={"csrf": token, "kind": "parcels", "file": (io.BytesIO(content), name), **form})
    return resp.status_code, html.unescape(resp.get_data(as_text=True))


def _parcels_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()


@pytest.fixture(scope="module")
def bowtie(engine) -> bytes:
    zone = api.read_layer("zones", engine=engine).iloc[0]
    x, y = zone.geometry.representative_point().coords[0]
    frame = gpd.GeoDataFrame({"code": ["WEBBOW-1"], "land_use_code": ["1001"]},
                             geometry=[shapely.Polygon([(x, y), (x + 1e-3, y + 1e-3), (x + 1e-3, y), (x, y + 1e-3)])],
                             crs=4490)
    buf = io.BytesIO()
    frame.to_file(buf, driver="GPKG")
    return buf.getvalue()


@pytest.mark.parametrize("lang, words, severity", [
    ("zh", "勾选“自动修复无效几何”后重新提交可修复", "错误"),
    ("en", "tick 'Repair invalid geometries' and submit again", "error"),
])
def test_the_report_uses_the_pages_language_and_the_forms_words(engine, admin, bowtie, lang, words, severity):
    before = _parcels_count(engine)
    status, page = _post(admin, "bow.gpkg", bowtie, lang)
    assert status == 422
    assert words in page and f"<td>{severity}</td>" in page
    assert "--repair" not in page and "--crs" not in page
    if lang == "zh":
        assert "几何无效" in page and "未写入任何数据" in page
    assert _parcels_count(engine) == before


def test_a_crs_problem_names_the_crs_field(engine, admin, bowtie):
    status, page = _post(admin, "bow.gpkg", bowtie, "zh", crs="EPSG:4549")
    assert status == 422
    assert "“坐标系”栏" in page and "--crs" not in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unreadable_upload_shows_its_name_not_the_servers_folder(engine, admin, lang):
    status, page = _post(admin, "损坏.gpkg", b"SQLite format 3\x00" + bytes(range(256)) * 4, lang)
    assert status == 400
    error = re.search(r'id="import-error"[^>]*>([^<]*)<', page).group(1)
    assert "损坏.gpkg" in error and "cannot be read" in error
    assert "gisapp-import-" not in page and "/tmp" not in page
