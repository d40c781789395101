"""MapLibre style documents (style spec v8) from the layer declarations, so that other web maps
draw the vector tiles with the web map's colours, legend and zoom ranges.

The decisions are the web map's (gisapp.render.style.fill_color and gisapp.js's style function):
a categories style matches the field's value as text, a classes style takes the first class
with ``min <= value < max``, anything else gets the declared colour; below a layer's detail zoom
its tiles carry zone summaries (``aggregate``), drawn in the colour of their ``dominant`` value
with a stronger outline. Labels are not drawn: a symbol layer needs a glyph server, which an
offline installation does not have.

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> fill_color(get_layer("parcels"))[:2]
    ['match', ['to-string', ['get', 'status']]]
"""

from __future__ import annotations

from gisapp.catalog.schema import Layer
from gisapp.render.style import legend

STYLE_VERSION = 8
#: where the map opens when no extent is known: Shanghai
SHANGHAI = (121.47, 31.23)
#: the zone summaries below a layer's detail zoom (as gisapp.js draws them)
SUMMARY_OPACITY = 0.35
SUMMARY_WIDTH = 2.0


def value_text(value: object) -> str:
    """A declared category value as MapLibre's ``to-string`` writes the tile's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill_color(layer: Layer, field: str | None = None) -> str | list:
    """The fill colour of ``layer``'s features as a style expression (``field``: another field
    holding the style value, e.g. a zone summary's ``dominant``)."""
    s = layer.style
    field = field or s.field
    if s.kind == "categories":
        pairs: list = []
        seen: set[str] = set()
        for c in s.categories:
            text = value_text(c.value)
            if text not in seen:  # a match expression refuses a label given twice
                seen.add(text)
                pairs += [text, c.color]
        return ["match", ["to-string", ["get", field]], *pairs, s.color]
    if s.kind == "classes":
        cases: list = ["case"]
        for c in s.classes:
            test: list = ["all", ["!=", ["get", field], None]]
            if c.min is not None:
                test.append([">=", ["to-number", ["get", field]], c.min])
            if c.max is not None:
                test.append(["<", ["to-number", ["get", field]], c.max])
            cases += [test, c.color]
        return [*cases, s.color]
    return s.color


def _dasharray(layer: Layer) -> list[float] | None:
    """Leaflet's dash pattern in pixels ("6 4") as MapLibre's, in line widths."""
    if not layer.style.dash_array:
        return None
    width = layer.style.weight or 1.0
    return [round(float(part) / width, 3) for part in layer.style.dash_array.replace(",", " ").split()]


def style_layers(layer: Layer, lang: str = "zh") -> list[dict]:
    """The style layers that draw ``layer`` (its tiles' source and source-layer are its id)."""
    s = layer.style
    common = {
        "source": layer.id, "source-layer": layer.id, "minzoom": layer.zoom.min, "maxzoom": layer.zoom.max + 1,
        "layout": {"visibility": "visible" if layer.visible else "none"},
    }
    legend_items = [{"color": item.color, "label": item.label} for item in legend(layer, lang)]
    meta = {"gisapp:layer": layer.id, "gisapp:title": layer.title.get(lang), "gisapp:legend": legend_items}
    color = fill_color(layer)
    line: dict = {"line-color": s.line_color or color, "line-width": s.weight}
    dashes = _dasharray(layer)
    if dashes:
        line["line-dasharray"] = dashes
    detail = ["!", ["has", "aggregate"]] if layer.aggregate else None
    layers = [
        {"id": f"{layer.id}-fill", "type": "fill", **common, "metadata": meta,
         "paint": {"fill-color": color, "fill-opacity": s.fill_opacity}},
        {"id": f"{layer.id}-line", "type": "line", **common, "metadata": {"gisapp:layer": layer.id},
         "layout": {**common["layout"], "line-join": "round"}, "paint": line},
    ]
    if detail:
        for style_layer in layers:
            style_layer["filter"] = detail
        summary_color = fill_color(layer, "dominant")
        summary = ["has", "aggregate"]
        layers += [
            {"id": f"{layer.id}-summary-fill", "type": "fill", **common, "filter": summary,
             "metadata": {"gisapp:layer": layer.id, "gisapp:summary": True},
             "paint": {"fill-color": summary_color, "fill-opacity": SUMMARY_OPACITY}},
            {"id": f"{layer.id}-summary-line", "type": "line", **common, "filter": summary,
             "metadata": {"gisapp:layer": layer.id, "gisapp:summary": True},
             "paint": {"line-color": summary_color, "line-width": SUMMARY_WIDTH}},
        ]
    return layers


def source(layer: Layer, base_url: str, query: str = "") -> dict:
    """The vector source of ``layer``: its TileJSON (bounds, zoom range, tile URL)."""
    return {"type": "vector", "url": f"{base_url}/tiles/{layer.id}.json{query}"}


def style(layers: list[Layer], base_url: str, name: str, lang: str = "zh", query: str = "",
          center: tuple[float, float] = SHANGHAI, zoom: float = 9) -> dict:
    """A whole style drawing ``layers`` in the web map's order (base layers first, then by the
    declared ``order``), their tiles from ``base_url`` (``query``, e.g. ``?year=2025``, is passed on)."""
    ordered = sorted(layers, key=lambda layer: (not layer.base, layer.order))
    return {
        "version": STYLE_VERSION,
        "name": name,
        "metadata": {"gisapp:lang": lang},
        "center": [round(center[0], 6), round(center[1], 6)],
        "zoom": zoom,
        "sources": {layer.id: source(layer, base_url, query) for layer in ordered},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#f4f4f2"}},
                   *(sl for layer in ordered for sl in style_layers(layer, lang))],
    }
