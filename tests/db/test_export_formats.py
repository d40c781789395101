"""Export formats with limits of their own, checked with a real GIS client (GDAL's ogrinfo) on real
PostGIS data: KML is WGS84 whatever CRS was asked (with a note saying so) and its placemarks carry
the feature's name and the layer's colours; a Shapefile keeps texts longer than its 254-byte DBF
fields whole in a sidecar table, with a warning, and writes dates as DBF dates."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from gisapp import api
from gisapp.catalog.registry import get_layer
from gisapp.render.style import fill_color

pytestmark = pytest.mark.db

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
SHANGHAI_LON, SHANGHAI_LAT = (121.0, 122.5), (30.5, 31.6)


def ogrinfo(*args: str) -> str:
    """ogrinfo's output: a real client's reading of the file, not our own reader's."""
    exe = shutil.which("ogrinfo")
    # a missing client must not turn these checks into silent skips
    assert exe, "ogrinfo not found: install GDAL's command-line tools (Debian: apt-get install gdal-bin)"
    done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def small_zone(engine):
    """The zone with the fewest parcels (but some, and more than one status)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT z.code FROM land.zones z JOIN land.parcels p ON p.zone_id = z.id GROUP BY z.code "
            "HAVING count(*) >= 20 AND count(DISTINCT p.status) > 1 ORDER BY count(*), z.code LIMIT 1")).scalar_one()


@pytest.fixture(scope="module")
def parcels(engine, small_zone):
    return api.read_layer("parcels", zone=small_zone, engine=engine)


def _kml_colour(hex_rgb: str, opacity: float) -> str:
    """#rrggbb + opacity -> KML's aabbggrr."""
    rgb = hex_rgb.lstrip("#").lower()
    return f"{round(opacity * 255):02x}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _placemarks(path) -> list[ET.Element]:
    return ET.parse(path).getroot().findall(".//k:Placemark", KML_NS)


# -- KML -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("crs", ["EPSG:4549", "gcj02"])
def test_kml_asked_in_another_crs_is_written_in_wgs84_with_a_note(engine, small_zone, parcels, tmp_path, crs):
    path = tmp_path / "parcels.kml"
    notes: list[str] = []
    api.export("parcels", path, crs=crs, zone=small_zone, engine=engine, warn=notes.append)
    label = "EPSG:4549" if crs == "EPSG:4549" else "GCJ-02"
    assert len(notes) == 1 and "WGS84" in notes[0] and label in notes[0], notes
    info = ogrinfo("-ro", "-al", "-so", str(path))
    assert re.search(r'ID\["EPSG",4326\]', info), info
    assert re.search(rf"Feature Count: {len(parcels)}\b", info), info
    minx, miny, maxx, maxy = map(float, re.search(
        r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", info).groups())
    assert SHANGHAI_LON[0] < minx <= maxx < SHANGHAI_LON[1] and SHANGHAI_LAT[0] < miny <= maxy < SHANGHAI_LAT[1]
    # the coordinates are the stored lon/lat (CGCS2000 = WGS84 within centimetres), not 4549 metres
    # nor the GCJ-02 offset (~500 m, i.e. ~0.005 degrees)
    back = pyogrio.read_dataframe(path).set_index("Name").loc[list(parcels.code)]
    dist = shapely.hausdorff_distance(np.asarray(back.geometry.values), np.asarray(parcels.geometry.values))
    assert dist.max() < 1e-7
    # and the file itself says so, for whoever opens it without our message
    doc = ET.parse(path).getroot().find("k:Document", KML_NS)
    assert "WGS84" in doc.findtext("k:description", "", KML_NS) and label in doc.findtext("k:description", "", KML_NS)


def test_kml_in_wgs84_or_the_storage_crs_needs_no_note(engine, small_zone, tmp_path):
    for crs in ("EPSG:4490", "EPSG:4326"):
        notes: list[str] = []
        api.export("parcels", tmp_path / "p.kml", crs=crs, zone=small_zone, engine=engine, warn=notes.append)
        assert notes == []


def test_kml_placemarks_carry_the_code_as_name_and_the_layers_colours(engine, small_zone, parcels, tmp_path):
    path = tmp_path / "parcels.kml"
    api.export("parcels", path, zone=small_zone, engine=engine)
    decl = get_layer("parcels")
    style = decl.style
    marks = _placemarks(path)
    assert [m.findtext("k:name", None, KML_NS) for m in marks] == list(parcels.code)
    want = [_kml_colour(fill_color(decl, {"status": s}), style.fill_opacity) for s in parcels.status]
    got = [m.findtext("k:Style/k:PolyStyle/k:color", None, KML_NS) for m in marks]
    assert got == want
    assert len(set(got)) > 1  # more than one status: the colours really follow the features
    lines = {m.findtext("k:Style/k:LineStyle/k:color", None, KML_NS) for m in marks}
    assert lines == {_kml_colour(style.line_color, 1.0)}
    # a real client sees the same: names and the style of each feature
    info = ogrinfo("-ro", "-al", str(path))
    assert info.count("Name (String) = ") == len(parcels)
    for status in parcels.status.unique():
        rgb = fill_color(decl, {"status": status}).lstrip("#").upper()
        assert re.search(rf"Style = .*BRUSH\(fc:#{rgb}", info), f"no {rgb} brush for {status}"


def test_kml_of_a_single_style_layer_uses_its_colour(engine, tmp_path):
    path = tmp_path / "zones.kml"
    api.export("zones", path, crs="EPSG:4549", engine=engine, warn=lambda note: None)
    decl = get_layer("zones")
    zones = api.read_layer("zones", engine=engine)
    marks = _placemarks(path)
    assert [m.findtext("k:name", None, KML_NS) for m in marks] == list(zones.code)
    assert {m.findtext("k:Style/k:PolyStyle/k:color", None, KML_NS) for m in marks} == {
        _kml_colour(decl.style.color, decl.style.fill_opacity)}


# -- Shapefile ----------------------------------------------------------------------------------------------

def _short_names(path) -> dict[str, str]:
    """full name -> DBF name, from the fields.csv our Shapefile exports carry."""
    _, raw = _zip_text(path, "fields.csv")
    return {r["name"]: r["short"] for r in csv.DictReader(io.StringIO(raw.decode("utf-8")))}


def _zip_text(path, suffix: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.endswith(suffix)]
        assert len(names) == 1, zf.namelist()
        return names[0], zf.read(names[0])


@pytest.fixture()
def long_texts(parcels):
    """Four parcels; two with enterprise names longer than a DBF field holds in UTF-8 (Chinese
    characters take 3 bytes: 100 of them are 300 bytes), one exactly at the limit."""
    frame = parcels.head(4).copy()
    frame.attrs = parcels.attrs
    frame["enterprise_zh"] = frame["enterprise_zh"].astype(object)
    frame["enterprise_en"] = frame["enterprise_en"].astype(object)
    frame.iloc[0, frame.columns.get_loc("enterprise_zh")] = "上海外高桥" + "保税区企业" * 19      # 100 chars
    frame.iloc[1, frame.columns.get_loc("enterprise_zh")] = "洋" * 84 + "ab"                      # 254 bytes
    frame.iloc[2, frame.columns.get_loc("enterprise_en")] = "Shanghai " + "x" * 291               # 300 bytes
    frame.iloc[3, frame.columns.get_loc("enterprise_zh")] = "临港" * 60 + "新片区"                  # 369 bytes
    return frame


def test_shapefile_texts_too_long_for_dbf_are_kept_whole_in_a_sidecar(long_texts, tmp_path):
    path = tmp_path / "parcels.zip"
    notes: list[str] = []
    api.export(long_texts, path, format="shp", warn=notes.append)
    assert len(notes) == 1, notes
    assert re.search(r"3 text values", notes[0]) and "enterprise_zh" in notes[0] and "enterprise_en" in notes[0]
    name, raw = _zip_text(path, "_long_texts.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM as UTF-8
    assert name in notes[0]
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by_key = {(int(r["id"]), r["field"]): r["value"] for r in rows}
    ids = list(long_texts["id"])
    assert by_key == {(ids[0], "enterprise_zh"): long_texts["enterprise_zh"].iloc[0],
                      (ids[2], "enterprise_en"): long_texts["enterprise_en"].iloc[2],
                      (ids[3], "enterprise_zh"): long_texts["enterprise_zh"].iloc[3]}
    # the DBF holds valid UTF-8 within 254 bytes, the value at the limit whole; a real client reads it
    back = pyogrio.read_dataframe(f"/vsizip/{path}/parcels.shp", encoding="UTF-8").set_index("id")
    short = _short_names(path)
    for col in ("enterprise_zh", "enterprise_en"):
        assert back[short[col]].fillna("").str.encode("utf-8").str.len().max() <= 254
    assert back.loc[ids[1], short["enterprise_zh"]] == long_texts["enterprise_zh"].iloc[1]
    assert back.loc[ids[0], short["enterprise_zh"]].startswith("上海外高桥保税区企业")
    info = ogrinfo("-ro", "-al", f"/vsizip/{path}/parcels.shp")
    assert "上海外高桥保税区企业" in info  # GDAL itself decodes the cut value (no broken UTF-8 sequence)


def test_shapefile_without_long_texts_has_no_sidecar_and_no_warning(parcels, tmp_path):
    path = tmp_path / "parcels.zip"
    notes: list[str] = []
    api.export(parcels.head(5), path, format="shp", warn=notes.append)
    assert notes == []
    with zipfile.ZipFile(path) as zf:
        assert [n for n in zf.namelist() if n.endswith(".csv")] == ["fields.csv"]


def test_shapefile_dates_are_dbf_dates(parcels, tmp_path):
    path = tmp_path / "parcels.zip"
    api.export(parcels, path, format="shp")
    info = ogrinfo("-ro", "-al", "-so", f"/vsizip/{path}/parcels.shp")
    short = _short_names(path)["status_since"]
    assert re.search(rf"^{short}: Date \(", info, re.M), info
    back = pyogrio.read_dataframe(f"/vsizip/{path}/parcels.shp").set_index("code").loc[list(parcels.code)]
    want = pd.to_datetime(parcels["status_since"]).dt.date.tolist()
    assert pd.to_datetime(back[short]).dt.date.tolist() == want


def test_shapefile_names_cut_to_ten_characters_stay_unique_and_are_listed(parcels, tmp_path):
    path = tmp_path / "parcels.zip"
    api.export(parcels.head(3), path, format="shp")
    back = pyogrio.read_dataframe(f"/vsizip/{path}/parcels.shp")
    fields = [c for c in back.columns if c != "geometry"]
    assert all(len(c.encode("utf-8")) <= 10 for c in fields) and len({c.lower() for c in fields}) == len(fields)
    listed = {short: full for full, short in _short_names(path).items()}
    assert set(listed) == set(fields)
    assert set(listed.values()) == {c for c in parcels.columns if c != "geometry"}
    short = _short_names(path)
    assert short["enterprise_zh"] != short["enterprise_en"]  # both cut from "enterprise": still two fields


def test_geopandas_reads_our_kml_and_shapefile(engine, small_zone, parcels, tmp_path):
    """The files open in the ordinary Python stack too (pyogrio via geopandas)."""
    api.export("parcels", tmp_path / "p.kml", zone=small_zone, engine=engine)
    api.export("parcels", tmp_path / "p.zip", zone=small_zone, engine=engine)
    assert len(gpd.read_file(tmp_path / "p.kml")) == len(parcels)
    assert len(gpd.read_file(f"/vsizip/{tmp_path / 'p.zip'}/parcels.shp")) == len(parcels)


def test_cli_export_says_what_the_kml_could_not_hold(engine, small_zone, tmp_path):
    from click.testing import CliRunner

    from gisapp.cli import main

    out = tmp_path / "p.kml"
    res = CliRunner().invoke(main, ["export", "parcels", str(out), "--zone", small_zone, "--crs", "EPSG:4549"])
    assert res.exit_code == 0, res.output
    assert re.search(r"^warning: p\.kml: KML is always WGS84 \(EPSG:4326\): written in WGS84, not in the "
                     r"EPSG:4549 asked for", res.output, re.M), res.output
    assert "Traceback" not in res.output and f"wrote {out}" in res.output
