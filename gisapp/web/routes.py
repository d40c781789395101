"""Flask routes: the layer catalogue and per-viewport features. Adapters only: parse, call
``queries``, shape the answer; bad input is a 4xx with a reason, never a query."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.db.engine import get_engine
from gisapp.errors import InputError, NotFoundError
from gisapp.queries.features import BBox, features_geojson, parse_zoom

api = Blueprint("api", __name__, url_prefix="/api")


@api.errorhandler(NotFoundError)
def _not_found(exc: NotFoundError):
    return jsonify(error=str(exc)), 404


@api.errorhandler(InputError)
def _bad_input(exc: InputError):
    return jsonify(error=str(exc)), 400


@api.get("/layers")
def layers():
    return jsonify([{"id": layer.id, "title": layer.title.model_dump(), "detail_min_zoom": layer.detail_min_zoom}
                    for layer in all_layers()])


@api.get("/layers/<layer_id>/features")
def features(layer_id: str):
    layer = get_layer(layer_id)
    bbox = BBox.parse(request.args.get("bbox"))
    zoom = parse_zoom(request.args.get("zoom"))
    zone = request.args.get("zone") or None
    body = features_geojson(get_engine(), layer, bbox, zoom, zone=zone)
    # always fresh: a saved edit must show on the next refresh
    return Response(body, mimetype="application/geo+json", headers={"Cache-Control": "no-store"})


@api.get("/health")
def health():
    return jsonify(status="ok")
