"""Routes that describe the vector tiles: TileJSON per layer at ``/tiles/<layer>.json`` (where
MapLibre and tileserver-gl style clients look) and ``/tiles/<layer>/metadata.json`` (where GDAL's
MVT driver looks first when it opens ``/tiles/<layer>/<z>``), and the OGC API - Tiles
WebMercatorQuad tile matrix set at ``/ogc/tileMatrixSets/WebMercatorQuad``.
Adapters only: the documents are built by gisapp.queries.tilejson.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, jsonify, request

from gisapp.i18n import t
from gisapp.queries.meta import is_synthetic
from gisapp.queries.tilejson import tilejson, web_mercator_quad
from gisapp.web.auth import request_lang
from gisapp.web.engine import web_engine
from gisapp.web.layer_access import readable_layer

tile_docs = Blueprint("tile_docs", __name__)

#: clients keep the documents and ask again each time (a layer's bounds move with its data)
REVALIDATE = {"Cache-Control": "private, max-age=0, must-revalidate"}


def tiles_url(layer_id: str) -> str:
    """The absolute tile URL template of a layer, with the request's ``year`` (a quota layer's)."""
    query = {k: v for k, v in (("year", request.args.get("year")),) if v}
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{request.url_root.rstrip('/')}/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.pbf{suffix}"


def attribution(lang: str) -> str:
    engine = web_engine()
    return t("tiles.attribution_synthetic" if is_synthetic(engine) else "tiles.attribution", lang)


@tile_docs.get("/tiles/<layer_id>.json")
@tile_docs.get("/tiles/<layer_id>/metadata.json")
def layer_tilejson(layer_id: str):
    """TileJSON 3.0.0 of a declared layer (``?lang=en`` for English names)."""
    layer = readable_layer(layer_id)
    lang = request_lang()
    doc = tilejson(web_engine(), layer, tiles_url(layer.id), lang, attribution(lang))
    return jsonify(doc), 200, REVALIDATE


@tile_docs.get("/ogc/tileMatrixSets/WebMercatorQuad")
def web_mercator_quad_doc():
    """The tile matrix set of every vector tile of the app (OGC 2D Tile Matrix Set 2.0)."""
    return jsonify(web_mercator_quad()), 200, {"Cache-Control": "public, max-age=86400"}
