"""The HTTP side of a vector tile: validators, 304s, gzip, caching headers.

A tile is answered with a weak ``ETag`` keyed on the layer, the tile, the quota year, the data
version (gisapp.queries.data_version: every committed edit moves it) and the signed-in user's
role and zones (row-level security may give two users different tiles), and a
``Last-Modified``. A request whose ``If-None-Match`` holds that ETag (or, without one, whose
``If-Modified-Since`` is not older than ``Last-Modified``) is answered 304 without computing the
tile: one small query for the version instead of the tile's. ``Cache-Control: private,
max-age=0, must-revalidate``: a client (QGIS, MapLibre, a browser) keeps tiles and asks again
each time, so an edit shows on its next request; shared caches keep nothing (per-user tiles).

Tiles are gzip-compressed when the client accepts it (MapLibre, QGIS and GDAL do): a z14 tile
of parcels shrinks to about a third.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import threading
import time
from collections import OrderedDict

from flask import Response, request

from gisapp.catalog.schema import Layer
from gisapp.queries.data_version import data_version
from gisapp.queries.tiles import TileAddress, tile
from gisapp.web.auth import current_actor
from gisapp.web.engine import web_engine

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "private, max-age=0, must-revalidate"
#: gzip level 1: ~3x smaller at a fraction of a millisecond; higher levels gain little on tiles
GZIP_LEVEL = 1
#: below this a tile is sent as it is (the gzip header would eat the saving)
GZIP_MIN_BYTES = 256

_seen_lock = threading.Lock()
#: data version -> when this process first saw it (whole seconds), the Last-Modified of its tiles
_first_seen: OrderedDict[str, int] = OrderedDict()
_last_stamp = 0


def last_modified(version: str) -> int:
    """The Last-Modified (seconds since 1970) of tiles of data version ``version``.

    The first moment this process saw the version, rounded up, and always later than any earlier
    version's: a client's If-Modified-Since of an older version never matches a newer one, even
    within the same second (HTTP dates have no fractions).
    """
    global _last_stamp
    with _seen_lock:
        stamp = _first_seen.get(version)
        if stamp is None:
            stamp = max(math.ceil(time.time()), _last_stamp + 1)
            _last_stamp = stamp
            _first_seen[version] = stamp
            while len(_first_seen) > 256:
                _first_seen.popitem(last=False)
        return stamp


def _etag(layer: Layer, address: TileAddress, year: int | None, version: str) -> str:
    actor = current_actor()
    who = f"{actor.role}|{','.join(map(str, actor.zone_ids))}" if actor else "-"
    key = f"{layer.id}|{address.z}/{address.x}/{address.y}|{year}|{version}|{who}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _not_modified(etag: str, stamp: int) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and since.timestamp() >= stamp


def tile_response(layer: Layer, address: TileAddress, year: int | None = None) -> Response:
    """The answer to a tile request: 304, 204 (an empty tile) or the tile, with validators."""
    engine = web_engine()
    version = data_version(engine)
    etag = _etag(layer, address, year, version)
    stamp = last_modified(version)
    if _not_modified(etag, stamp):
        answer = Response(status=304)
    else:
        data = tile(engine, layer, address) if year is None else tile(engine, layer, address, year=year)
        if not data:
            answer = Response(status=204)
        elif len(data) >= GZIP_MIN_BYTES and request.accept_encodings["gzip"] > 0:
            answer = Response(gzip.compress(data, GZIP_LEVEL, mtime=0), mimetype=MEDIA_TYPE)
            answer.headers["Content-Encoding"] = "gzip"
        else:
            answer = Response(data, mimetype=MEDIA_TYPE)
    answer.set_etag(etag, weak=True)
    answer.last_modified = stamp
    answer.headers["Cache-Control"] = CACHE_CONTROL
    answer.vary.add("Accept-Encoding")
    return answer
