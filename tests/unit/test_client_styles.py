"""MapLibre and QGIS styles are generated from the layer declarations: every legend entry of every
layer, with its colour and label, and the web map's fallback colour (issue #21)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.render.maplibre_style import fill_color, style, style_layers
from gisapp.render.qgis_style import qml, rgba
from gisapp.render.style import legend

LAYERS = [layer.id for layer in all_layers()]


def evaluate(expression, properties: dict) -> str:
    """A tiny evaluator of the expressions fill_color writes (match / case / literal)."""
    if isinstance(expression, str):
        return expression
    op = expression[0]
    if op == "match":
        value = properties.get(expression[1][1][1])
        text = None if value is None else ("true" if value is True else "false" if value is False else str(value))
        pairs, default = expression[2:-1], expression[-1]
        for label, color in zip(pairs[::2], pairs[1::2], strict=True):
            if label == text:
                return color
        return default
    if op == "case":
        for test, color in zip(expression[1:-1:2], expression[2:-1:2], strict=True):
            field = test[1][1][1]
            value = properties.get(field)
            ok = value is not None
            for cond in test[2:]:
                ok = ok and (value >= cond[2] if cond[0] == ">=" else value < cond[2])
            if ok:
                return color
        return expression[-1]
    raise AssertionError(f"unexpected expression {expression!r}")


@pytest.mark.parametrize("layer_id", LAYERS)
def test_maplibre_colours_are_the_web_maps(layer_id):
    from gisapp.render.style import fill_color as web_fill

    layer = get_layer(layer_id)
    s = layer.style
    samples = [{s.field: c.value} for c in s.categories] if s.field else [{}]
    samples += [{s.field: (c.min if c.min is not None else (c.max or 0) - 1)} for c in s.classes]
    samples.append({s.field: "no-such-value"} if s.field and s.kind == "categories" else {})
    for props in samples:
        assert evaluate(fill_color(layer), props) == web_fill(layer, props), props


@pytest.mark.parametrize("layer_id", LAYERS)
def test_maplibre_style_layers_carry_the_legend_and_zoom_range(layer_id):
    layer = get_layer(layer_id)
    layers = style_layers(layer, "en")
    fill = layers[0]
    assert fill["source-layer"] == layer.id and fill["minzoom"] == layer.zoom.min
    assert fill["metadata"]["gisapp:legend"] == [{"color": i.color, "label": i.label} for i in legend(layer, "en")]
    assert fill["layout"]["visibility"] == ("visible" if layer.visible else "none")
    assert fill["paint"]["fill-opacity"] == layer.style.fill_opacity
    if layer.aggregate:
        assert fill["filter"] == ["!", ["has", "aggregate"]]
        assert any(sl["id"] == f"{layer.id}-summary-fill" for sl in layers)


def test_the_map_style_draws_base_layers_first_then_the_declared_order():
    doc = style(list(all_layers()), "http://gis.test", "map", "zh")
    assert doc["version"] == 8 and doc["layers"][0]["type"] == "background"
    order = [sl["metadata"]["gisapp:layer"] for sl in doc["layers"][1:]]
    first = list(dict.fromkeys(order))
    declared = sorted(all_layers(), key=lambda layer: (not layer.base, layer.order))
    assert first == [layer.id for layer in declared]
    assert doc["sources"]["parcels"] == {"type": "vector", "url": "http://gis.test/tiles/parcels.json"}


@pytest.mark.parametrize("layer_id", LAYERS)
def test_qml_has_one_rule_per_legend_entry_with_its_colour(layer_id):
    layer = get_layer(layer_id)
    root = ET.fromstring(qml(layer, "en").split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    scope = renderer.find("rules")
    if layer.aggregate:
        scope = next(r for r in scope if r.get("key") == "detail")
    rules = list(scope)
    entries = legend(layer, "en")
    labels = [r.get("label") for r in rules]
    for item in entries:
        assert item.label in labels
    for rule in rules:
        props = {p.get("k"): p.get("v") for p in symbols[rule.get("symbol")].iter("prop")}
        options = {o.get("name"): o.get("value") for o in symbols[rule.get("symbol")].iter("Option")
                   if o.get("name")}
        assert props == options
        item = next((i for i in entries if i.label == rule.get("label")), None)
        if item is not None and rule.get("filter") != "ELSE":
            assert props["color"] == rgba(item.color, layer.style.fill_opacity)
    assert rules[-1].get("filter") in ("ELSE", "TRUE")


def test_qml_quotes_values_as_qgis_expressions():
    layer = get_layer("parcels")
    text = qml(layer, "zh")
    assert "&quot;status&quot; = 'idle'" in text and "闲置（已认定）" in text
    assert rgba("#b30000", 0.6) == "179,0,0,153"
