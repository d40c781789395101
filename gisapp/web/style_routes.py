"""Styles for other GIS clients, generated from the layer declarations (layers/*.yml), so that
they draw what the web map draws: MapLibre style documents per layer and for the whole map
(``/styles/<layer>.json``, ``/styles/map.json``), QGIS styles per layer (``/styles/<layer>.qml``),
and a page that draws a style with the vendored MapLibre GL JS (``/styles/viewer``, no CDN).
Adapters only: gisapp.render.maplibre_style and gisapp.render.qgis_style build the documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template_string, request

from gisapp.errors import InputError
from gisapp.i18n import t
from gisapp.queries.tilejson import layer_bounds
from gisapp.render.maplibre_style import style
from gisapp.render.qgis_style import qml
from gisapp.web.auth import request_lang
from gisapp.web.engine import web_engine
from gisapp.web.layer_access import readable_layer, readable_layers

STATIC = Path(__file__).resolve().parent / "client_static"
MAPLIBRE_VERSION = "4.7.1"
styles = Blueprint("styles", __name__, url_prefix="/styles", static_folder=str(STATIC),
                   static_url_path="/static")
REVALIDATE = {"Cache-Control": "private, max-age=0, must-revalidate"}


def _base_url() -> str:
    return request.url_root.rstrip("/")


def _query() -> str:
    """The request's ``year`` (a quota layer's), passed on to the tiles."""
    year = request.args.get("year")
    return f"?{urlencode({'year': year})}" if year else ""


def _layer_style(layer_id: str, lang: str) -> dict:
    layer = readable_layer(layer_id)
    bounds = layer_bounds(web_engine(), layer)
    center = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2) if bounds else None
    extra = {"center": center} if center else {}
    return style([layer], _base_url(), layer.title.get(lang), lang, _query(),
                 zoom=max(layer.zoom.min, min(layer.detail_min_zoom, layer.zoom.max)), **extra)


def _map_style(lang: str) -> dict:
    return style(list(readable_layers()), _base_url(), t("app.title", lang), lang, _query())


@styles.get("/map.json")
def map_style():
    """Every declared layer in the web map's order (``?lang=en`` for English legend labels)."""
    return jsonify(_map_style(request_lang())), 200, REVALIDATE


@styles.get("/<layer_id>.json")
def layer_style(layer_id: str):
    """One layer's MapLibre style."""
    return jsonify(_layer_style(layer_id, request_lang())), 200, REVALIDATE


@styles.get("/<layer_id>.qml")
def layer_qml(layer_id: str):
    """One layer's QGIS style (Layer Properties > Symbology > Style > Load Style)."""
    layer = readable_layer(layer_id)
    return Response(qml(layer, request_lang()), mimetype="application/xml",
                    headers={**REVALIDATE, "Content-Disposition": f'inline; filename="{layer.id}.qml"'})


VIEWER_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ title }} · {{ app_title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url_for('styles.static', filename='maplibre-gl/maplibre-gl.css') }}">
<style>html, body { margin: 0; height: 100%; font-family: sans-serif; }
#viewer-map { position: absolute; top: 2.4em; bottom: 0; left: 0; right: 0; }
.viewer-bar { height: 2.4em; line-height: 2.4em; padding: 0 .8em; background: #f4f4f2; font-size: 14px; }
</style></head>
<body>
<div class="viewer-bar"><strong id="viewer-title">{{ title }}</strong> · <span>{{ synthetic }}</span></div>
<div id="viewer-map" data-style="{{ style_url }}" data-center="{{ center }}" data-zoom="{{ zoom }}"
     data-no-webgl="{{ no_webgl }}"></div>
<script src="{{ url_for('styles.static', filename='maplibre-gl/maplibre-gl.js') }}"></script>
<script src="{{ url_for('styles.static', filename='style_viewer.js') }}"></script>
</body></html>"""


def _number(name: str, low: float, high: float) -> float | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} {text[:20]!r} is not a number") from None
    if not low <= value <= high:
        raise InputError(f"{name} {value:g} is outside {low:g} to {high:g}")
    return value


@styles.get("/viewer")
def viewer():
    """``?style=map|<layer>[&lon=&lat=&zoom=][&lang=en]``: the style drawn by MapLibre GL JS."""
    lang = request_lang()
    name = request.args.get("style") or "map"
    title = t("app.title", lang) if name == "map" else readable_layer(name).title.get(lang)
    lon, lat, zoom = _number("lon", -180, 180), _number("lat", -85, 85), _number("zoom", 0, 22)
    query = {k: v for k, v in (("lang", lang), ("year", request.args.get("year"))) if v}
    body = render_template_string(
        VIEWER_PAGE, lang=lang, title=t("styles.viewer_title", lang, name=title), app_title=t("app.title", lang),
        synthetic=t("app.synthetic", lang), no_webgl=t("styles.no_webgl", lang),
        style_url=f"/styles/{name}.json?{urlencode(query)}",
        center=json.dumps([lon, lat]) if lon is not None and lat is not None else "",
        zoom="" if zoom is None else f"{zoom:g}")
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})
