"""The coordinate reference systems the OGC API – Features service offers (Part 2, "crs" and
"bbox-crs"): their URIs, their axis order, and a bbox given in any of them as a filter in the
storage CRS.

The data are stored in CGCS2000 (EPSG:4490) as PostGIS keeps every geographic CRS: longitude
first. The standard wants coordinates in each CRS's own axis order: CRS84 and Web Mercator east
first, but EPSG:4326, EPSG:4490 and EPSG:4549 (whose X is the northing) north first. The order
is read from the EPSG definitions (pyproj), not written down here, and coordinates are swapped in
SQL (``ST_FlipCoordinates``) for the CRSs that put north first.

Example:
    >>> parse_crs("http://www.opengis.net/def/crs/EPSG/0/4549").north_first
    True
    >>> parse_crs(None).uri
    'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from gisapp.errors import InputError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
STORAGE_SRID = 4490


@dataclass(frozen=True)
class Crs:
    """One CRS of the service: its URI, the PostGIS SRID that holds it and its axis order."""

    uri: str
    srid: int
    north_first: bool
    geographic: bool

    @property
    def digits(self) -> int:
        """Decimals written: 1e-7 degree or a millimetre (both finer than the data's accuracy)."""
        return 7 if self.geographic else 3

    @property
    def header(self) -> str:
        """The value of the ``Content-Crs`` header for answers in this CRS."""
        return f"<{self.uri}>"


def _crs(uri: str, srid: int, authority_code: str) -> Crs:
    import pyproj

    definition = pyproj.CRS.from_user_input(authority_code)
    return Crs(uri, srid, definition.axis_info[0].direction == "north", definition.is_geographic)


@lru_cache(maxsize=1)
def supported() -> dict[str, Crs]:
    """The offered CRSs by URI: CRS84 (the default), the storage CRS CGCS2000, WGS 84,
    CGCS2000 / 3-degree Gauss-Kruger CM 120E (the survey grid of Shanghai's plans) and Web Mercator."""
    crss = [_crs(CRS84, 4326, "OGC:CRS84")]
    crss += [_crs(EPSG_URI.format(code=code), code, f"EPSG:{code}") for code in (STORAGE_SRID, 4326, 4549, 3857)]
    return {c.uri: c for c in crss}


def storage_crs() -> Crs:
    return supported()[EPSG_URI.format(code=STORAGE_SRID)]


def crs_uris() -> list[str]:
    return list(supported())


def parse_crs(text: str | None, name: str = "crs") -> Crs:
    """The CRS named by its URI (also accepted: ``EPSG:4490`` and ``[EPSG:4490]``-style short
    forms), CRS84 when none is given; anything else is an InputError naming the offered ones."""
    if not text:
        return supported()[CRS84]
    value = text.strip()
    if value.startswith("[") and value.endswith("]"):  # the safe CURIE form of OGC API – Common
        value = value[1:-1]
    short = value.upper()
    if short.startswith("EPSG:") and short[5:].isdigit():
        value = EPSG_URI.format(code=int(short[5:]))
    elif short in ("OGC:CRS84", "CRS84"):
        value = CRS84
    found = supported().get(value.replace("https://", "http://", 1))
    if found is None:
        raise InputError(f"{name} {text[:80]!r} is not offered; use one of: {', '.join(supported())}")
    return found


@dataclass(frozen=True)
class BBoxFilter:
    """A bbox as PostGIS envelopes in ``srid``, east first (two when it crosses the antimeridian),
    to be transformed to the storage CRS in SQL when ``srid`` is another one."""

    boxes: tuple[tuple[float, float, float, float], ...]
    srid: int
    geographic: bool = True


def parse_bbox(text: str | None, crs: Crs) -> BBoxFilter | None:
    """``bbox`` (4 or 6 numbers, in ``crs``'s axis order; a 6-number bbox's heights are
    ignored: the data are 2D) as envelopes, None when there is none."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InputError(f"bbox {text[:80]!r} must have 4 (or 6) comma-separated numbers")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"bbox {text[:80]!r} holds something that is not a number") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError("bbox values must be finite numbers")
    a1, b1, a2, b2 = (values[0], values[1], values[3], values[4]) if len(values) == 6 else values
    # first and second axis of the CRS; PostGIS wants east (x) first
    minx, miny, maxx, maxy = (b1, a1, b2, a2) if crs.north_first else (a1, b1, a2, b2)
    order = "latitude, longitude" if crs.north_first else "longitude, latitude"
    if crs.geographic and not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(f"bbox {text[:80]!r} is out of range or inverted for {crs.uri} ({order} order)")
    if miny > maxy or (minx > maxx and not crs.geographic):
        raise InputError(f"bbox {text[:80]!r} is inverted: the lower corner comes first")
    if minx > maxx:  # across the antimeridian: the part east of minx and the part west of maxx
        return BBoxFilter(((minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)), crs.srid, crs.geographic)
    return BBoxFilter(((minx, miny, maxx, maxy),), crs.srid, crs.geographic)
