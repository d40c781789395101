"""Areas on the ellipsoid for many geometries at once.

PostGIS computes ``land.parcels.area_m2`` (``ST_Area(geom::geography)``, a trigger since migration
0900) for every ordinary write. Bulk loaders write with row triggers off and compute the same
area here, for a million parcels in 2-3 s, without a Python call per geometry.

The coordinates are projected, all at once, to an Albers equal-area projection of the GRS80
ellipsoid (CGCS2000's to 0.1 mm), where a planar area is the area on the ellipsoid. What remains
is that a straight edge in the projection is not quite the geodesic PostGIS follows: against
``ST_Area(geography)`` (and geographiclib) the demo parcels agree to ~3e-8 relative, irregular
polygons of 100 m to 1 km to ~2e-7, a 50 km² zone boundary to ~1e-6 (tests/db/test_geometry.py
measures it against PostGIS). The area of a 1 ha parcel is thus off by less than 0.01 m².
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

#: equal-area everywhere; centred on Shanghai, where projected edges stay closest to geodesics
_TO_EQUAL_AREA = pyproj.Transformer.from_crs(
    "EPSG:4490", "+proj=aea +lat_0=31 +lon_0=121.5 +lat_1=30.5 +lat_2=31.5 +ellps=GRS80 +units=m +no_defs",
    always_xy=True)


def ellipsoid_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Area in m² on the CGCS2000 ellipsoid of each lon/lat (EPSG:4490) geometry; 0 for a missing
    or empty one, and for the parts of a collection that are not polygons."""
    geoms = np.asarray(geoms, dtype=object)
    area = np.zeros(len(geoms))
    if geoms.size == 0:
        return area
    parts, owner = shapely.get_parts(geoms, return_index=True)
    measurable = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    parts, owner = parts[measurable], owner[measurable]
    with_holes = np.zeros(len(geoms), dtype=bool)
    with_holes[owner[shapely.get_num_interior_rings(parts) > 0]] = True
    simple = ~with_holes[owner]
    area += _exterior_area(parts[simple], owner[simple], len(geoms))
    if with_holes.any():  # rare: GEOS measures the projected geometry, holes and all
        area[with_holes] = shapely.area(shapely.transform(geoms[with_holes], _project))
    return area


def _exterior_area(polygons: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Summed projected areas of hole-free ``polygons`` per ``owner``: the shoelace formula over
    each exterior ring's coordinates, with no geometry built (about twice as fast as projecting
    the geometries and measuring them)."""
    if polygons.size == 0:
        return np.zeros(n)
    counts = shapely.get_num_coordinates(polygons)
    x, y = _project(shapely.get_coordinates(polygons)).T
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # relative to each ring's first vertex: small numbers, no cancellation; and the one product
    # that spans two rings (a ring's closing vertex, now at 0, with the next ring's first) is 0
    x -= np.repeat(x[starts], counts)
    y -= np.repeat(y[starts], counts)
    cross = np.append(x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    ring_area = np.abs(np.add.reduceat(cross, starts)) / 2
    return np.bincount(owner, weights=ring_area, minlength=n)


def _project(lonlat: np.ndarray) -> np.ndarray:
    x, y = _TO_EQUAL_AREA.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])
