"""Synthetic shapes: zone boundaries around the known points, parcels as blocks between roads.

Everything is built in metres in one local transverse Mercator (centred on Shanghai, GRS80) and
transformed to EPSG:4490 at the end. Vectorised with shapely 2 so that a million parcels take
seconds.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

LOCAL_CRS = "+proj=tmerc +lat_0=31 +lon_0=121.5 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
_TO_LOCAL = Transformer.from_crs("EPSG:4490", LOCAL_CRS, always_xy=True)
_TO_4490 = Transformer.from_crs(LOCAL_CRS, "EPSG:4490", always_xy=True)


def to_local(lon: float, lat: float) -> tuple[float, float]:
    return _TO_LOCAL.transform(lon, lat)


def to_4490(geoms: np.ndarray) -> np.ndarray:
    """Transform local-metre geometries to EPSG:4490 lon/lat."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_4490.transform(xy[:, 0], xy[:, 1])))


def blob(cx: float, cy: float, area_m2: float, rng: np.random.Generator, vertices: int = 11) -> Polygon:
    """An irregular convex-ish polygon centred near (cx, cy) with exactly ``area_m2``."""
    angle0 = rng.uniform(0, math.pi)
    aspect = rng.uniform(1.2, 1.8)
    theta = np.sort(rng.uniform(0, 2 * math.pi, vertices))
    radius = rng.uniform(0.85, 1.15, vertices)
    x = aspect * radius * np.cos(theta)
    y = radius * np.sin(theta)
    rot_x = x * math.cos(angle0) - y * math.sin(angle0)
    rot_y = x * math.sin(angle0) + y * math.cos(angle0)
    poly = shapely.convex_hull(Polygon(np.column_stack([rot_x, rot_y])))
    scale = math.sqrt(area_m2 / poly.area)
    coords = np.asarray(poly.exterior.coords) * scale + [cx, cy]
    return Polygon(coords)


def zone_boundary(parts: list[tuple[float, float, float]], rng: np.random.Generator) -> MultiPolygon:
    """A (multi-part) boundary in local metres; ``parts`` = (lon, lat, area_m2)."""
    polys = []
    for lon, lat, area in parts:
        cx, cy = to_local(lon, lat)
        polys.append(blob(cx, cy, area, rng))
    return MultiPolygon(polys)


def grid_parcels(boundary: MultiPolygon, block_w: float, block_h: float, road: float,
                 rng: np.random.Generator, inset: float = 5.0) -> np.ndarray:
    """Blocks of ``block_w`` x ``block_h`` m between roads of width ``road``, rotated with a random
    street-grid angle, kept only where they lie wholly inside ``boundary`` (shrunk by ``inset``).

    Returns an array of Polygons in local metres.
    """
    inner = boundary.buffer(-inset)
    shapely.prepare(inner)
    out = []
    for part in boundary.geoms:
        angle = rng.uniform(-0.4, 0.4)
        cx, cy = part.centroid.x, part.centroid.y
        reach = math.sqrt(part.area) * 1.6 + math.hypot(block_w, block_h)
        pitch_x, pitch_y = block_w + road, block_h + road
        nx, ny = int(2 * reach / pitch_x) + 1, int(2 * reach / pitch_y) + 1
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
        x0 = -reach + ix.ravel() * pitch_x
        y0 = -reach + iy.ravel() * pitch_y
        # blocks vary a little in width so the map does not look like graph paper
        w = block_w * rng.uniform(0.75, 1.0, x0.size)
        corners_x = np.stack([x0, x0 + w, x0 + w, x0, x0], axis=1)
        corners_y = np.stack([y0, y0, y0 + block_h, y0 + block_h, y0], axis=1)
        ca, sa = math.cos(angle), math.sin(angle)
        rx = cx + corners_x * ca - corners_y * sa
        ry = cy + corners_x * sa + corners_y * ca
        blocks = shapely.polygons(np.stack([rx, ry], axis=2))
        keep = shapely.contains(inner, blocks)
        out.append(blocks[keep])
    return np.concatenate(out) if out else np.empty(0, dtype=object)


def as_multipolygons(polys: np.ndarray) -> np.ndarray:
    return shapely.multipolygons(np.asarray(polys)[:, None])
