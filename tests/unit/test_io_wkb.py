"""The file's own WKB: kept by the reader, handed on by validation only for geometry it left as
read, and merged with freshly encoded WKB for the COPY (the database side: tests/db/test_import_export.py)."""

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from pyproj import CRS
from shapely.affinity import translate

from gisapp.io.fields import KINDS
from gisapp.io.importer import geometry_wkb
from gisapp.io.readers import Source, read_source
from gisapp.io.report import Report
from gisapp.io.validate import _geometry

SQUARE = shapely.box(121.5, 31.2, 121.501, 31.201)


def _multi(dx: float) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([translate(SQUARE, dx)])


def test_a_geopackage_is_read_with_the_bytes_it_holds(tmp_path):
    frame = gpd.GeoDataFrame({"code": ["A", "B", "C"]}, geometry=[_multi(0), None, _multi(0.01)], crs=4490)
    path = tmp_path / "t.gpkg"
    frame.to_file(path)
    with sqlite3.connect(path) as db:  # stripped of the GeoPackage header: 8 bytes and an envelope
        rows = [b for (b,) in db.execute("SELECT geom FROM t ORDER BY fid")]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    blobs = [None if b is None else bytes(b[8 + envelope[(b[3] >> 1) & 7]:]) for b in rows]
    src = read_source(path)
    assert src.wkb.to_pylist() == blobs and blobs[0] is not None
    assert shapely.equals_exact(np.asarray(src.geometry[[0, 2]]), np.asarray(frame.geometry.values[[0, 2]]), 0).all()
    part = src.slice(1, 3)
    assert part.wkb.to_pylist() == blobs[1:] and list(part.ids) == [2, 3]


def test_a_csv_gives_no_wkb(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"code": ["A"], "wkt": [SQUARE.wkt]}).to_csv(path, index=False)
    assert read_source(path).wkb is None


def _source(geoms: list, wkb: list, epsg: int = 4490) -> Source:
    n = len(geoms)
    return Source(None, "t.gpkg", pd.DataFrame({"code": [f"P{i}" for i in range(n)]}),
                  np.array(geoms, dtype=object), CRS.from_epsg(epsg), f"EPSG:{epsg}", np.arange(1, n + 1),
                  "feature", "native", wkb=pa.chunked_array([pa.array(wkb, pa.large_binary())]))


@pytest.mark.parametrize("repair", [False, True])
def test_validation_hands_on_the_files_wkb_only_for_geometry_it_left_as_read(repair):
    x0, y0, x1, y1 = _multi(0.03).bounds
    bowtie = shapely.MultiPolygon([shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])])
    three_d = shapely.force_3d(_multi(0.04), 1.0)
    geoms = [_multi(0), _multi(0.01), _multi(0.02).geoms[0], three_d, bowtie]
    wkb = [shapely.to_wkb(_multi(0)),
           shapely.to_wkb(_multi(0.01), byte_order=0),  # big-endian: not what the COPY sends as is
           shapely.to_wkb(geoms[2]), shapely.to_wkb(three_d), shapely.to_wkb(bowtie)]
    report = Report("t.gpkg", "parcels")
    _, out, kept, _ = _geometry(KINDS["parcels"], _source(geoms, wkb), report, None, repair, [], keep_wkb=True)
    # the promoted Polygon, the 2D copy of the 3D one and (with --repair) the repaired bow tie are
    # new geometries; the bow tie unrepaired is the file's (its error is found later)
    assert kept.to_pylist() == [wkb[0], None, None, None, None if repair else wkb[4]]
    assert all(g.geom_type == "MultiPolygon" and not g.has_z for g in out)
    _, _, none, _ = _geometry(KINDS["parcels"], _source(geoms, wkb), report, None, repair, [])
    assert none is None  # not asked (zones)


@pytest.mark.parametrize("epsg, reused", [(4549, False), (4326, True)])
def test_validation_hands_on_the_files_wkb_only_when_the_coordinates_stay(epsg, reused):
    geom = _multi(0)
    if epsg == 4549:
        geom = gpd.GeoSeries([geom], crs=4490).to_crs(epsg).iloc[0]
    wkb = [shapely.to_wkb(geom)]
    _, out, kept, _ = _geometry(KINDS["parcels"], _source([geom], wkb, epsg), Report("t.gpkg", "parcels"), None,
                             False, [], keep_wkb=True)
    assert kept.to_pylist() == (wkb if reused else [None])  # WGS84 is stored as it is (ballpark)
    assert out[0].equals_exact(_multi(0), 1e-9)


def test_the_copy_takes_the_files_wkb_where_given_and_encodes_the_rest():
    geoms = np.array([_multi(i * 0.01) for i in range(5)], dtype=object)
    given = [b"\x01file-0", None, b"\x01file-2", None, None]  # marked: the file's bytes are taken as they are
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([given[:2], given[2:]], pa.large_binary())))
    wkb, reused = geometry_wkb(geoms, column)
    assert reused == 2 and wkb.type == pa.large_binary()
    assert wkb.to_pylist() == [g if g is not None else shapely.to_wkb(geoms[i]) for i, g in enumerate(given)]
    encoded, none = geometry_wkb(geoms, None)
    assert none == 0 and encoded.to_pylist() == list(shapely.to_wkb(geoms))
    everything, all_reused = geometry_wkb(geoms, pd.Series(pd.arrays.ArrowExtensionArray(
        pa.chunked_array([[b"x"] * 5], pa.large_binary()))))
    assert all_reused == 5 and everything.to_pylist() == [b"x"] * 5
