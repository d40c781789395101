"""Outputs of the map's view (issue #18): the printed map (PNG, PDF) with title, legend, scale,
date and the synthetic-data note, for signed-in users only; bad input refused in the user's
language."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from gisapp.catalog.registry import get_layer
from gisapp.i18n import t
from gisapp.render.map_print import PNG_SIZE, SHANGHAI, map_figure, scale_label, scale_length, view_width_m
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(engine, findings_source):
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def viewer(app, engine):
    client = app.server.test_client()
    sign_in(client, engine, ("print.viewer", "print-viewer-password", "bureau_viewer"))
    return client


@pytest.fixture(scope="module")
def view(engine) -> str:
    """A bbox around a handful of one zone's parcels (a detail-zoom view of the map)."""
    with engine.connect() as conn:
        minx, miny, maxx, maxy = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM "
            "(SELECT geom FROM layers.parcels ORDER BY code LIMIT 12) s) x")).one()
    return f"{minx:.6f},{miny:.6f},{maxx:.6f},{maxy:.6f}"


def pdf_text(data: bytes) -> tuple[str, set[str]]:
    """The text of the PDF's page and the names of its fonts."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = {str(f.get_object().get("/BaseFont")) for f in page["/Resources"]["/Font"].values()}
    return page.extract_text(), fonts


def test_the_printed_png_is_the_page_size(viewer, view):
    resp = viewer.get(f"/map/print.png?bbox={view}&layers=zones,parcels")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert "attachment" in resp.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(resp.data))
    image.load()
    assert image.format == "PNG" and image.size == PNG_SIZE
    # something was drawn in the parcels' colours, not only a blank page
    colours = {c for _n, c in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert len(colours) > 20


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_pdf_says_title_layers_date_scale_and_that_the_data_is_synthetic(viewer, view, lang):
    resp = viewer.get(f"/map/print.pdf?bbox={view}&layers=zones,parcels&lang={lang}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    text, fonts = pdf_text(resp.data)
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    parcels = get_layer("parcels")
    for words in (t("map.print.title", lang), t("app.synthetic", lang), today, t("map.legend", lang),
                  parcels.title.get(lang), parcels.style.categories[0].label.get(lang), t("map.print.north", lang)):
        assert words in text, words
    bbox = [float(v) for v in view.split(",")]
    assert scale_label(scale_length(view_width_m(bbox))) in text
    # the Chinese is drawn in a font that has its glyphs (not boxes in DejaVu)
    assert any("WenQuanYi" in f for f in fonts), fonts


def test_the_printed_map_draws_the_ticked_layers_only(viewer, view):
    text, _fonts = pdf_text(viewer.get(f"/map/print.pdf?bbox={view}&layers=zones&lang=en").data)
    assert get_layer("zones").title.get("en") in text
    assert get_layer("parcels").title.get("en") not in text


def test_scale_bar_length_follows_the_latitude():
    """A degree of longitude is shorter at 60° than at the equator: half as many metres."""
    at_equator, at_60 = view_width_m((0, -0.01, 1, 0.01)), view_width_m((0, 59.99, 1, 60.01))
    assert at_equator == pytest.approx(111_320, rel=2e-3)
    assert at_60 == pytest.approx(at_equator / 2, rel=5e-3)
    assert scale_length(at_60) == 10_000 and scale_label(10_000) == "10 km" and scale_label(500) == "500 m"


def test_the_figure_without_a_note_carries_none():
    """The note is what the caller gives: a page of real data says nothing about synthetic data."""
    page = map_figure([], (121.5, 31.2, 121.6, 31.3), "en", note=None)
    words = [x.get_text() for x in page.figure.texts]
    assert t("app.synthetic", "en") not in words and page.title in words


@pytest.mark.parametrize("path", ["/map/print.png", "/map/print.pdf"])
@pytest.mark.parametrize("bbox", ["", "1,2,3", "121.6,31.3,121.5,31.2", "a,b,c,d", "121.5,31.2,121.6,inf"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bad_bbox_is_refused_with_a_sentence_in_the_users_language(viewer, path, bbox, lang):
    resp = viewer.get(f"{path}?bbox={bbox}&lang={lang}")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert ("地图范围（bbox）无效" if lang == "zh" else "The map extent (bbox) is not valid") in body


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_layers_and_formats_are_named(viewer, view, lang):
    resp = viewer.get(f"/map/print.pdf?bbox={view}&layers=zones,nope&lang={lang}")
    assert resp.status_code == 404 and "nope" in resp.get_data(as_text=True)
    resp = viewer.get(f"/map/print.svg?bbox={view}&lang={lang}")
    assert resp.status_code == 404 and "svg" in resp.get_data(as_text=True)
    resp = viewer.get(f"/map/print.pdf?bbox={view}&as_of=yesterday&lang={lang}")
    assert resp.status_code == 400 and "YYYY-MM-DD" in resp.get_data(as_text=True)


def test_a_past_day_prints_the_dated_layers_and_names_the_others(viewer, view):
    day = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    resp = viewer.get(f"/map/print.pdf?bbox={view}&layers=parcels,idle_land&as_of={day}&lang=en")
    assert resp.status_code == 200
    text, _fonts = pdf_text(resp.data)
    assert t("map.print.as_of", "en", day=day) in text
    assert get_layer("idle_land").title.get("en") in text.split("current state only")[-1]


def test_nobody_signed_out_gets_a_print(app, view):
    resp = app.server.test_client().get(f"/map/print.pdf?bbox={view}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
