"""One style, two renderers: the hideout the web map's JS style function reads, the style
function folium calls, and the legend entries both show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gisapp.catalog.schema import Layer


@dataclass(frozen=True)
class LegendItem:
    color: str
    label: str


def legend(layer: Layer, lang: str = "zh") -> list[LegendItem]:
    style = layer.style
    if style.kind == "categories":
        return [LegendItem(c.color, c.label.get(lang)) for c in style.categories]
    if style.kind == "classes":
        return [LegendItem(c.color, c.label.get(lang)) for c in style.classes]
    return [LegendItem(style.color, layer.title.get(lang))]


def category_label(layer: Layer, value: object, lang: str = "zh") -> str | None:
    """The legend label of a style value (e.g. ``"class_d"`` -> ``"D 类（低效候选）"``), or None."""
    for c in layer.style.categories:
        if str(c.value) == str(value):
            return c.label.get(lang)
    return None


def hideout(layer: Layer, count_label: str | None = None, lang: str = "zh") -> dict:
    """Parameters for ``gisapp.style`` and ``gisapp.label`` in web/assets/gisapp.js.

    ``count_label`` (e.g. ``"{count} 个"``) labels the zone-level aggregates drawn at low zooms;
    ``lang`` picks the field of the layer's ``labels`` (its features' permanent names). ``order``
    keeps the layers that share a canvas stacked as declared; ``base`` layers (the offline base
    map) are drawn behind the others and take no clicks.
    """
    s = layer.style
    return {
        "layer": layer.id,
        "order": layer.order,
        "base": layer.base,
        "labelField": layer.labels.field(lang) if layer.labels else None,
        "labelMinZoom": layer.labels.min_zoom if layer.labels else None,
        "countLabel": count_label,
        "kind": s.kind,
        "field": s.field,
        "color": s.color,
        "categories": {str(c.value): c.color for c in s.categories},
        "classes": [{"min": c.min, "max": c.max, "color": c.color} for c in s.classes],
        "lineColor": s.line_color,
        "weight": s.weight,
        "fillOpacity": s.fill_opacity,
        "dashArray": s.dash_array,
    }


def fill_color(layer: Layer, properties: dict) -> str:
    """The fill colour of one feature (the same decision as the JS style function)."""
    s = layer.style
    value = properties.get(s.field) if s.field else None
    if s.kind == "categories":
        for c in s.categories:
            if str(c.value) == str(value):
                return c.color
    elif s.kind == "classes" and value is not None:
        for c in s.classes:
            if (c.min is None or value >= c.min) and (c.max is None or value < c.max):
                return c.color
    return s.color


def folium_style_function(layer: Layer) -> Callable[[dict], dict]:
    s = layer.style

    def style(feature: dict) -> dict:
        color = fill_color(layer, feature.get("properties", {}))
        return {"fillColor": color, "color": s.line_color or color, "weight": s.weight,
                "fillOpacity": s.fill_opacity, "dashArray": s.dash_array}

    return style
