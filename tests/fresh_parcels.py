"""Test helper: new parcels for an import, inside a zone and clear of the parcels already there
(the database refuses overlaps and parcels outside their zone)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gisapp import api


def new_parcels(engine, zone: str, n: int = 4, seed: int = 7, prefix: str = "NEW") -> gpd.GeoDataFrame:
    """``n`` small squares (codes ``<prefix>-1`` ...) around random interior points of ``zone``."""
    boundary = api.read_layer("zones", engine=engine).set_index("code").geometry[zone]
    taken = shapely.STRtree(api.read_layer("parcels", zone=zone, fields=["code"], engine=engine).geometry.values)
    minx, miny, maxx, maxy = boundary.bounds
    rng = np.random.default_rng(seed)
    squares = []
    for x, y in zip(rng.uniform(minx, maxx, 20000), rng.uniform(miny, maxy, 20000)):
        sq = shapely.box(x - 0.0002, y - 0.0002, x + 0.0002, y + 0.0002)
        if (boundary.contains(sq) and not len(taken.query(sq, predicate="intersects"))
                and not any(sq.intersects(s) for s in squares)):
            squares.append(sq)
        if len(squares) == n:
            break
    assert len(squares) == n, f"no room for {n} new parcels in {zone}"
    return gpd.GeoDataFrame({"code": [f"{prefix}-{i}" for i in range(1, n + 1)], "land_use_code": "1001",
                             "status": "approved_unsupplied", "zone_code": zone}, geometry=squares, crs=4490)
