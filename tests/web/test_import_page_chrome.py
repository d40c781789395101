"""The import page as people see it: the app's header and navigation, every word in the page's
language (the report's too, with the form's words instead of command-line options), and for
anyone but a bureau administrator only the refusal."""

from __future__ import annotations

import io
import re

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from gisapp.i18n import t
from tests.web.test_import_page import _client, _gpkg, _token

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(engine):
    from gisapp.web.app import create_app

    return create_app()


def _bowtie_gpkg(engine) -> bytes:
    """A parcel whose ring crosses itself: refused unless the form asks for a repair."""
    from gisapp import api

    minx, miny, _, _ = api.read_layer("zones", engine=engine).iloc[0].geometry.bounds
    x, y = minx + 1e-3, miny + 1e-3
    bowtie = shapely.Polygon([(x, y), (x + 1e-4, y + 1e-4), (x + 1e-4, y), (x, y + 1e-4), (x, y)])
    frame = gpd.GeoDataFrame({"code": ["WEB-BOW"], "land_use_code": ["1001"]}, geometry=[bowtie], crs=4490)
    buf = io.BytesIO()
    frame.to_file(buf, driver="GPKG")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_checkbox_of_the_form_has_its_label(app, engine, lang):
    page = _client(app, engine, "bureau_admin").get(f"/admin/import?lang={lang}").get_data(as_text=True)
    assert "built-in method" not in page and "object at 0x" not in page
    for word in ("dry_run", "repair", "update_existing"):
        assert t(f"import.page.{word}", lang) in page
    assert re.search(r'id="import-update"[^>]*>\s*' + re.escape(t("import.page.update_existing", lang)), page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_import_page_has_the_apps_header_and_navigation(app, engine, lang):
    page = _client(app, engine, "bureau_admin").get(f"/admin/import?lang={lang}").get_data(as_text=True)
    other = "en" if lang == "zh" else "zh"
    assert 'id="app-header"' in page and t("app.title", lang) in page
    assert f'href="/?lang={lang}"' in page and f'href="/dashboard?lang={lang}"' in page
    assert f'id="app-nav-import" href="/admin/import?lang={lang}"' in page
    assert f'id="app-lang-switch" class="lang-switch" href="/admin/import?lang={other}"' in page
    assert 'id="app-user-name"' in page and 'id="app-logout"' in page


@pytest.mark.parametrize("role", ["bureau_viewer", "analyst"])
def test_anyone_else_sees_only_the_refusal(app, engine, role):
    client = _client(app, engine, role)
    for lang in ("zh", "en"):
        resp = client.get(f"/admin/import?lang={lang}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 403
        assert t("import.page.forbidden", lang) in page
        assert "import-form" not in page and 'type="file"' not in page and t("import.page.crs", lang) not in page
        assert 'id="app-header"' in page and "app-nav-import" not in page  # no link to a page they cannot use


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bad_files_report_is_in_the_pages_language_with_the_forms_words(app, engine, lang):
    admin = _client(app, engine, "bureau_admin")
    data = {"csrf": _token(admin), "kind": "parcels", "file": (io.BytesIO(_bowtie_gpkg(engine)), "bowtie.gpkg")}
    resp = admin.post(f"/admin/import?lang={lang}", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, page[-800:]
    assert "--repair" not in page and "rerun" not in page
    report = page[page.index('id="import-report"'):]
    assert t("import.page.repair", lang) in report  # tick the box, not a command-line option
    assert t("import.where.feature", lang, id=1) in report
    if lang == "zh":
        assert "feature" not in report and "invalid geometry" not in report


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_written_import_is_reported_in_the_pages_language(app, engine, lang):
    admin = _client(app, engine, "bureau_admin")
    data = {"csrf": _token(admin), "kind": "parcels", "file": (io.BytesIO(_gpkg(engine)), "新地块.gpkg")}
    try:
        resp = admin.post(f"/admin/import?lang={lang}", data=data, content_type="multipart/form-data")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200, page[-800:]
        summary = re.search(r'<h3 id="import-summary">([^<]*)</h3>', page).group(1)
        import_id = re.search(r"#(\d+)", summary).group(1)
        assert summary == t("import.wrote", lang, file="新地块.gpkg", inserted=1, updated=0, import_id=import_id)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM land.parcels WHERE code = 'WEB-1'"))
