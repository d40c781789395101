"""Outputs of the map's view (issue #18): the printed map (PNG, PDF) with title, legend, scale,
date and the synthetic-data note; the parcels in the view as Excel and GeoPackage, the same rows
the map's feature route gives the same signed-in user; bad input refused in the user's language."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import tempfile
from pathlib import Path

import geopandas as gpd
import openpyxl
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
def view(engine) -> str:
    """A bbox around a handful of one zone's parcels (a detail-zoom view of the map)."""
    with engine.connect() as conn:
        minx, miny, maxx, maxy = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM "
            "(SELECT geom FROM layers.parcels ORDER BY code LIMIT 12) s) x")).one()
    return f"{minx:.6f},{miny:.6f},{maxx:.6f},{maxy:.6f}"


def map_codes(client, bbox: str) -> set[str]:
    """The parcels the map's feature route gives ``client`` for the view (detail zoom, all fields)."""
    resp = client.get(f"/api/layers/parcels/features?bbox={bbox}&zoom=17&format=geojson&properties=all")
    assert resp.status_code == 200 and resp.headers["X-Mode"] == "detail"
    return {f["properties"]["code"] for f in resp.get_json()["features"]}


def gpkg(data: bytes) -> tuple[gpd.GeoDataFrame, str]:
    """A downloaded GeoPackage and its layer's description."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "download.gpkg"
        path.write_bytes(data)
        with sqlite3.connect(path) as db:
            description = db.execute("SELECT description FROM gpkg_contents WHERE table_name = 'parcels'").fetchone()[0]
        return gpd.read_file(path), description


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


@pytest.mark.parametrize("ext", ["xlsx", "gpkg"])
def test_the_parcels_export_holds_the_parcels_the_map_shows_in_the_view(viewer, view, ext):
    expected = map_codes(viewer, view)
    assert expected
    resp = viewer.get(f"/map/parcels.{ext}?bbox={view}&lang=en")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    if ext == "gpkg":
        frame, description = gpkg(resp.data)
        assert frame.crs.to_epsg() == 4490 and frame.geometry.notna().all()
        assert description == t("app.synthetic", "en")
        codes = list(frame["code"])
    else:
        book = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
        rows = list(book["parcels"].iter_rows(values_only=True))
        codes = [r[rows[0].index("code")] for r in rows[1:]]
        about = list(book["说明 About"].iter_rows(values_only=True))
        assert ("note", t("app.synthetic", "en"), "说明", "Note") in about
    assert len(codes) == len(set(codes)) and set(codes) == expected


def test_a_zone_editor_exports_what_the_map_gives_it_and_nobody_signed_out_gets_anything(app, engine, view,
                                                                                         make_user):
    """Reading follows the map's rules for the signed-in user: the map shows a zone editor every
    zone's parcels (only writes are per zone), so the export does too; without sign-in nothing."""
    zone = engine.connect().execute(sa.text("SELECT zone_code FROM layers.parcels ORDER BY code LIMIT 1")).scalar()
    editor = make_user("zone_editor", (zone,))
    client = app.server.test_client()
    sign_in(client, engine, (editor.username, editor.password, "zone_editor"))
    frame, _ = gpkg(client.get(f"/map/parcels.gpkg?bbox={view}").data)
    assert set(frame["code"]) == map_codes(client, view)
    anonymous = app.server.test_client()
    for path in (f"/map/parcels.gpkg?bbox={view}", f"/map/print.pdf?bbox={view}"):
        resp = anonymous.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


@pytest.mark.parametrize("path", ["/map/print.png", "/map/print.pdf", "/map/parcels.xlsx", "/map/parcels.gpkg"])
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


def test_a_past_days_export_holds_the_parcels_the_map_shows_that_day(viewer, view):
    day = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    resp = viewer.get(f"/api/layers/parcels/features?bbox={view}&zoom=17&format=geojson&as_of={day}")
    expected = {f["properties"]["code"] for f in resp.get_json()["features"]}
    assert expected
    frame, _ = gpkg(viewer.get(f"/map/parcels.gpkg?bbox={view}&as_of={day}").data)
    assert set(frame["code"]) == expected


def names_in(engine, table: str, bbox: str, lang: str) -> set[str]:
    """The names (in ``lang``) of the districts or zones whose shape meets the view."""
    column = "name_zh" if lang == "zh" else "name_en"
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            f"SELECT {column} FROM layers.{table} WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4490))"),
            dict(zip("abcd", (float(v) for v in bbox.split(","))))).scalars())


@pytest.fixture(scope="module")
def zone_view(engine) -> tuple[str, str]:
    """A view around one zone at the map's zoom for it, and the zone's code."""
    with engine.connect() as conn:
        code, minx, miny, maxx, maxy = conn.execute(sa.text(
            "SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM layers.zones "
            "WHERE code = 'waigaoqiao_port'")).one()
    pad = 0.01
    return f"{minx - pad:.6f},{miny - pad:.6f},{maxx + pad:.6f},{maxy + pad:.6f}", code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_map_names_the_districts_and_the_zone_in_view(viewer, engine, zone_view, lang):
    bbox, code = zone_view
    resp = viewer.get(f"/map/print.pdf?bbox={bbox}&layers=districts,zones,parcels&zoom=14&lang={lang}")
    assert resp.status_code == 200
    text, _fonts = pdf_text(resp.data)
    assert zone_name(engine, code, lang) in text
    drawn = names_in(engine, "districts", bbox, lang)
    with engine.connect() as conn:  # the district the zone lies in is named on its print
        home = conn.execute(sa.text(
            f"SELECT d.name_{lang} FROM layers.districts d JOIN layers.zones z ON ST_Contains(d.geom, "
            "ST_PointOnSurface(z.geom)) WHERE z.code = :c"), {"c": code}).scalar_one()
    assert home in text
    with engine.connect() as conn:
        every = set(conn.execute(sa.text(f"SELECT name_{lang} FROM layers.districts")).scalars())
    assert not {name for name in every - drawn if name in text}, "a district not in view is named"
    # the page's furniture besides: title, legend, scale, north arrow, date, the synthetic-data note
    for words in (t("map.print.title", lang), t("map.legend", lang), t("map.print.north", lang),
                  t("app.synthetic", lang), dt.datetime.now(SHANGHAI).date().isoformat(),
                  scale_label(scale_length(view_width_m([float(v) for v in bbox.split(",")])))):
        assert words in text, words


def zone_name(engine, code: str, lang: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT name_{lang} FROM layers.zones WHERE code = :c"), {"c": code}).scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_zone_names_are_printed_from_the_zoom_the_map_writes_them_at(viewer, engine, lang):
    """Districts are named from z9 on, zones from z11 (layers/*.yml ``labels.min_zoom``), as on the map."""
    city = "120.85,30.68,122.0,31.55"
    zones = names_in(engine, "zones", city, lang)
    districts = names_in(engine, "districts", city, lang)
    assert get_layer("zones").labels.min_zoom == 11 and get_layer("districts").labels.min_zoom == 9
    for zoom, zones_named in (("10", False), ("", False), ("8", False), ("11", True)):
        text, _fonts = pdf_text(viewer.get(f"/map/print.pdf?bbox={city}&layers=districts,zones&zoom={zoom}"
                                           f"&lang={lang}").data)
        named = {z for z in zones if z in text}
        assert bool(named) == zones_named, (zoom, named)
        named_districts = {d for d in districts if d in text}
        assert (len(named_districts) >= 8) == (zoom != "8"), (zoom, named_districts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_quota_layer_is_of_the_year_asked_for(viewer, engine, lang):
    with engine.connect() as conn:
        years = list(conn.execute(sa.text("SELECT year FROM layers.quota_years ORDER BY year")).scalars())
    city = "120.85,30.68,122.0,31.55"
    for asked, shown in ((years[0], years[0]), (None, years[-1])):
        path = f"/map/print.pdf?bbox={city}&layers=districts,quota_energy&lang={lang}" + (
            f"&year={asked}" if asked else "")
        text, _fonts = pdf_text(viewer.get(path).data)
        assert t("map.print.quota_year", lang, year=shown) in text
    text, _fonts = pdf_text(viewer.get(f"/map/print.pdf?bbox={city}&layers=districts&year={years[0]}").data)
    assert t("map.print.quota_year", "zh", year=years[0]) not in text  # no quota layer, no quota year
    for bad in ("20x5", "1800", "２０２５"):
        resp = viewer.get(f"/map/print.pdf?bbox={city}&year={bad}&lang={lang}")
        assert resp.status_code == 400 and ("年度" if lang == "zh" else "year") in resp.get_data(as_text=True)
    resp = viewer.get(f"/map/print.pdf?bbox={city}&zoom=99&lang={lang}")
    assert resp.status_code == 400 and "99" in resp.get_data(as_text=True)


@pytest.fixture(scope="module")
def idle_view(engine, findings_source) -> str:
    """A view around a dozen parcels of a zone with suspected or confirmed idle land among them."""
    with engine.connect() as conn:
        minx, miny, maxx, maxy = conn.execute(sa.text("""
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(p.geom) AS e FROM (
                SELECT geom FROM layers.parcels WHERE zone_code = (SELECT zone_code FROM layers.idle_land
                                                                  ORDER BY code LIMIT 1)
                ORDER BY code LIMIT 60) p) x""")).one()
    return f"{minx:.6f},{miny:.6f},{maxx:.6f},{maxy:.6f}"


def layer_codes(client, layer_id: str, bbox: str) -> set[str]:
    """The parcels the map's feature route gives ``client`` of one layer in the view (detail zoom)."""
    resp = client.get(f"/api/layers/{layer_id}/features?bbox={bbox}&zoom=17&format=geojson&properties=all")
    assert resp.status_code == 200 and resp.headers["X-Mode"] == "detail"
    return {f["properties"]["code"] for f in resp.get_json()["features"]}


def gpkg_layers(data: bytes) -> dict[str, set[str]]:
    """Each layer of a downloaded GeoPackage and the parcel codes it holds."""
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "download.gpkg"
        path.write_bytes(data)
        return {name: set(gpd.read_file(path, layer=name)["code"]) for name, _kind in pyogrio.list_layers(path)}


def xlsx_sheets(data: bytes) -> dict[str, set[str]]:
    """Each data sheet of a downloaded workbook and the parcel codes it holds."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    out = {}
    for name in book.sheetnames:
        rows = list(book[name].iter_rows(values_only=True))
        if "code" in rows[0]:
            out[name] = {r[rows[0].index("code")] for r in rows[1:]}
    return out


@pytest.mark.parametrize("ext", ["xlsx", "gpkg"])
def test_the_export_holds_what_each_ticked_parcel_layer_shows(viewer, idle_view, ext):
    """Ticked idle land alone: the idle parcels of the view, not every parcel; ticked beside the
    parcels by status: both, one sheet or layer each; the zones (not parcels) are not written."""
    idle, every = layer_codes(viewer, "idle_land", idle_view), layer_codes(viewer, "parcels", idle_view)
    assert idle and len(idle) < len(every), "the view should hold idle parcels among others"
    read = gpkg_layers if ext == "gpkg" else xlsx_sheets
    resp = viewer.get(f"/map/parcels.{ext}?bbox={idle_view}&layers=zones,idle_land&lang=en")
    assert resp.status_code == 200
    assert read(resp.data) == {"idle_land": idle}
    resp = viewer.get(f"/map/parcels.{ext}?bbox={idle_view}&layers=districts,zones,parcels,idle_land&lang=en")
    assert read(resp.data) == {"parcels": every, "idle_land": idle}
    if ext == "xlsx":  # one 说明 sheet says what every sheet's columns are
        about = {r[0]: r for r in openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)["说明 About"]
                 .iter_rows(values_only=True)}
        assert about["note"][1] == t("app.synthetic", "en")
        for layer_id in ("parcels", "idle_land"):
            field = get_layer(layer_id).style.field
            assert about[field][2:] == (get_layer(layer_id).label(field, "zh"), get_layer(layer_id).label(field, "en"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_export_with_no_parcel_layer_ticked_says_which_to_tick(viewer, view, lang):
    resp = viewer.get(f"/map/parcels.gpkg?bbox={view}&layers=districts,zones&lang={lang}")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert get_layer("idle_land").title.get(lang) in body
    assert ("没有地块图层" if lang == "zh" else "None of the ticked layers is a parcel layer") in body


def test_a_zone_editors_export_of_a_rule_layer_is_what_their_map_shows(app, engine, idle_view, make_user):
    zone = engine.connect().execute(sa.text("SELECT zone_code FROM layers.idle_land ORDER BY code LIMIT 1")).scalar()
    editor = make_user("zone_editor", (zone,))
    client = app.server.test_client()
    sign_in(client, engine, (editor.username, editor.password, "zone_editor"))
    shown = {layer: layer_codes(client, layer, idle_view) for layer in ("parcels", "idle_land")}
    resp = client.get(f"/map/parcels.gpkg?bbox={idle_view}&layers=parcels,idle_land")
    assert gpkg_layers(resp.data) == shown
