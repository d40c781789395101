"""Coordinate reference systems at the border: resolve ``--crs`` strings, convert to and from the
storage CRS (CGCS2000, EPSG:4490), and the Chinese web-map offsets GCJ-02 and BD-09.

GCJ-02 (Gaode/Tencent) and BD-09 (Baidu) have no EPSG code: they are lon/lat with a deliberate,
position-dependent offset (about 0.5 km in Shanghai). The forward GCJ-02 formula below is the
widely published one (e.g. the ``eviltransform`` and ``coordtransform`` libraries); its inverse has
no closed form, so :func:`gcj02_to_wgs84` iterates until the forward image matches to 1e-10 degrees
(well under a millimetre). WGS84 and CGCS2000 differ by a few centimetres here; as in PROJ's
"ballpark" transformation they are treated as the same lon/lat.

Example:
    >>> lon, lat = wgs84_to_gcj02(121.5, 31.2)
    >>> round(float(lon) - 121.5, 4), round(float(lat) - 31.2, 4)
    (0.0044, -0.002)
    >>> resolve_crs("gcj02").label
    'GCJ-02'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gisapp.errors import InputError

STORAGE_EPSG = 4490
STORAGE_LABEL = "EPSG:4490"

# Krasovsky 1940 ellipsoid parameters used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    # The offset is applied inside mainland China's rough box only (as the published formula does).
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    """WGS84 (≈ CGCS2000) lon/lat to GCJ-02; arrays or scalars."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, tol: float = 1e-10, max_iter: int = 30):
    """GCJ-02 lon/lat back to WGS84 by fixed-point iteration on the forward formula.

    The offset changes slowly with position, so each step removes almost all of the remaining
    error; 4-6 steps reach ``tol`` degrees.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to Baidu's BD-09 (the published formula)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, tol: float = 1e-10, max_iter: int = 30):
    """BD-09 back to GCJ-02: the published approximate inverse, refined by iteration."""
    blon = np.asarray(lon, dtype=float)
    blat = np.asarray(lat, dtype=float)
    x = blon - 0.0065
    y = blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - blon, flat - blat
        glon = glon - elon
        glat = glat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return glon, glat


# -- CRS names --------------------------------------------------------------------------------

_GCJ_ALIASES = {"gcj02", "gcj-02", "gcj_02", "gcj", "gaode", "amap", "autonavi", "tencent", "高德", "火星坐标"}
_BD_ALIASES = {"bd09", "bd-09", "bd_09", "baidu", "bd09ll", "百度"}
_NAMED = {"wgs84": 4326, "wgs 84": 4326, "wgs-84": 4326, "crs84": 4326, "cgcs2000": STORAGE_EPSG,
          "cgcs 2000": STORAGE_EPSG, "cgcs-2000": STORAGE_EPSG}


@dataclass(frozen=True)
class CrsSpec:
    """A CRS as the application understands it.

    ``crs`` is what PROJ knows; ``offset`` is ``"gcj02"`` or ``"bd09"`` for the Chinese web-map
    systems, which are lon/lat on WGS84 plus an offset. ``label`` is what is stored in
    ``source_crs`` and shown in messages (``EPSG:4549``, ``GCJ-02``).
    """

    label: str
    crs: CRS
    offset: str | None = None

    @property
    def is_storage(self) -> bool:
        return self.offset is None and self.crs.to_epsg() == STORAGE_EPSG

    @property
    def is_geographic(self) -> bool:
        return self.crs.is_geographic


def resolve_crs(text: str | int | CRS | CrsSpec) -> CrsSpec:
    """Resolve a ``--crs`` value: ``EPSG:4549``, ``4490``, ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``,
    or any WKT/PROJ string PROJ understands. An unknown name is an InputError saying what is accepted.
    """
    if isinstance(text, CrsSpec):
        return text
    if isinstance(text, CRS):
        return from_pyproj(text, where="the given CRS")
    raw = str(text).strip()
    key = raw.lower()
    if key in _GCJ_ALIASES:
        return CrsSpec("GCJ-02", _epsg(4326), "gcj02")
    if key in _BD_ALIASES:
        return CrsSpec("BD-09", _epsg(4326), "bd09")
    if key in _NAMED:
        return CrsSpec(f"EPSG:{_NAMED[key]}", _epsg(_NAMED[key]))
    if re.fullmatch(r"\d{4,6}", key):
        key = "epsg:" + key
    try:
        crs = CRS.from_user_input(raw if not key.startswith("epsg:") else key.upper())
    except CRSError:
        raise InputError(f"unknown CRS {raw[:80]!r}: give an EPSG code (EPSG:4490 CGCS2000, EPSG:4326 WGS84, "
                         "EPSG:4549/4550 CGCS2000 Gauss-Krüger CM 120°E/123°E, EPSG:4528/4529 the same with "
                         "zone-number prefix) or gcj02 (Gaode/Tencent) or bd09 (Baidu)") from None
    return from_pyproj(crs, where=f"CRS {raw[:80]!r}")


@lru_cache(maxsize=64)
def _epsg(code: int) -> CRS:
    return CRS.from_epsg(code)


def from_pyproj(crs: CRS, where: str) -> CrsSpec:
    """A CrsSpec for a CRS read from a file; refuse what cannot be placed on the earth."""
    if not (crs.is_geographic or crs.is_projected):
        raise InputError(f"{where} is {crs.name!r}, which is neither geographic nor projected (a local or "
                         "engineering system cannot be placed on the map); give the data's real CRS with --crs")
    # our own exports label offset coordinates by name (see gisapp.io.writers.offset_crs)
    name = crs.name.upper().replace("_", "-")  # ESRI .prj files write GCS_GCJ-02
    if "GCJ-02" in name:
        return CrsSpec("GCJ-02", _epsg(4326), "gcj02")
    if "BD-09" in name:
        return CrsSpec("BD-09", _epsg(4326), "bd09")
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is not None:
        return CrsSpec(f"EPSG:{epsg}", _epsg(epsg))
    return CrsSpec(crs.to_string()[:200], crs)


STORAGE = CrsSpec(STORAGE_LABEL, _epsg(STORAGE_EPSG))


@lru_cache(maxsize=32)
def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _xy_fn(spec: CrsSpec, to_storage: bool):
    """A function on an (N, 2) coordinate array converting spec <-> storage."""
    if spec.offset is not None:
        def offset_fn(coords: np.ndarray) -> np.ndarray:
            x, y = coords[:, 0], coords[:, 1]
            if to_storage:
                if spec.offset == "bd09":
                    x, y = bd09_to_gcj02(x, y)
                x, y = gcj02_to_wgs84(x, y)
            else:
                x, y = wgs84_to_gcj02(x, y)
                if spec.offset == "bd09":
                    x, y = gcj02_to_bd09(x, y)
            return np.column_stack([x, y])
        return offset_fn
    src, dst = (spec.crs, STORAGE.crs) if to_storage else (STORAGE.crs, spec.crs)
    tr = _transformer(src, dst)

    def proj_fn(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])
    return proj_fn


def keeps_coordinates(spec: CrsSpec) -> bool:
    """True when converting ``spec`` to EPSG:4490 leaves every coordinate as it is: EPSG:4490
    itself, and WGS84, whose conversion is PROJ's ballpark (identity) transformation."""
    return spec.is_storage or (spec.offset is None and spec.crs.to_epsg() == 4326)


def to_storage(geoms: np.ndarray, spec: CrsSpec) -> np.ndarray:
    """Geometries in ``spec`` converted to EPSG:4490 (the same objects when
    :func:`keeps_coordinates`)."""
    if keeps_coordinates(spec):
        return np.asarray(geoms)
    return shapely.transform(np.asarray(geoms), _xy_fn(spec, to_storage=True))


def from_storage(geoms: np.ndarray, spec: CrsSpec) -> np.ndarray:
    """Geometries in EPSG:4490 converted to ``spec``."""
    if keeps_coordinates(spec):
        return np.asarray(geoms)
    return shapely.transform(np.asarray(geoms), _xy_fn(spec, to_storage=False))


def guess_hint(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """A hint for coordinates that do not look like lon/lat in China (what CRS they look like)."""
    if 40_000_000 <= minx and maxx < 41_000_000:
        return "they look like CGCS2000 3-degree Gauss-Krüger zone 40 with zone prefix (EPSG:4528)"
    if 41_000_000 <= minx and maxx < 42_000_000:
        return "they look like CGCS2000 3-degree Gauss-Krüger zone 41 with zone prefix (EPSG:4529)"
    if 100_000 <= minx and maxx <= 900_000 and 2_000_000 <= miny and maxy <= 6_000_000:
        return ("they look like CGCS2000 3-degree Gauss-Krüger metres without zone prefix "
                "(EPSG:4549 for CM 120°E west of 121.5°E, EPSG:4550 for CM 123°E, Pudong)")
    if 3 <= minx and maxx <= 54 and 73 <= miny and maxy <= 136:
        # Shanghai is at lon 121.5, lat 31.2: x 31.2, y 121.5 is a spreadsheet's columns in the wrong order
        return "they look like lat/lon in the wrong order (x holds the latitude): swap the two columns"
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        return "they look like lon/lat degrees (EPSG:4490, EPSG:4326 or gcj02)"
    return "they do not look like lon/lat degrees or CGCS2000 Gauss-Krüger metres"
