"""QGIS layer styles (QML) from the layer declarations: a rule-based renderer whose rules are the
web map's decisions (gisapp.render.style.fill_color), one per legend entry with its label, and an
"else" rule in the declared fallback colour. A layer summarised below its detail zoom gets the
zone summaries' rules (by their ``dominant`` value) under a rule of their own.

Symbol layer properties are written both as ``<prop k= v=>`` (read by QGIS 3.22) and as an
``<Option type="Map">`` (read by QGIS 3.26 and later): the same file serves both.

Example:
    >>> from gisapp.catalog.registry import get_layer
    >>> "<renderer-v2 type=\\"RuleRenderer\\"" in qml(get_layer("parcels"), "en")
    True
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gisapp.catalog.schema import Layer, Style

QGIS_VERSION = "3.22.0"
#: the zone summaries (as gisapp.js draws them): fill opacity and outline width in pixels
SUMMARY_OPACITY = 0.35
SUMMARY_WIDTH = 2.0


def rgba(color: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a``."""
    hex_part = color.lstrip("#")
    if len(hex_part) == 3:
        hex_part = "".join(ch * 2 for ch in hex_part)
    r, g, b = (int(hex_part[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, opacity)) * 255)}"


def field_ref(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _symbol(parent: ET.Element, name: str, fill: str, outline: str, width: float, dash: str | None) -> None:
    symbol = ET.SubElement(parent, "symbol", {"type": "fill", "name": name, "alpha": "1", "clip_to_extent": "1",
                                              "force_rhr": "0"})
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
    props = {
        "color": fill, "style": "solid", "outline_color": outline, "outline_style": "dash" if dash else "solid",
        "outline_width": f"{width:g}", "outline_width_unit": "Pixel", "joinstyle": "round",
    }
    if dash:
        props |= {"use_custom_dash": "1", "customdash": ";".join(dash.replace(",", " ").split()),
                  "customdash_unit": "Pixel"}
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"name": key, "type": "QString", "value": value})
    for key, value in props.items():
        ET.SubElement(layer, "prop", {"k": key, "v": value})


def _tests(style: Style, field: str) -> list[tuple[str, str, object]]:
    """``(filter expression, colour, legend label)`` per legend entry, in the declared order."""
    if style.kind == "categories":
        return [(f"{field_ref(field)} = {literal(c.value)}", c.color, c.label) for c in style.categories]
    if style.kind == "classes":
        out = []
        for c in style.classes:
            parts = [f"{field_ref(field)} IS NOT NULL"]
            if c.min is not None:
                parts.append(f"{field_ref(field)} >= {literal(c.min)}")
            if c.max is not None:
                parts.append(f"{field_ref(field)} < {literal(c.max)}")
            out.append((" AND ".join(parts), c.color, c.label))
        return out
    return []


def qml(layer: Layer, lang: str = "zh") -> str:
    """The QML document that styles ``layer``'s vector tiles (or any copy of its features) in QGIS."""
    s = layer.style
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology"})
    renderer = ET.SubElement(root, "renderer-v2", {"type": "RuleRenderer", "symbollevels": "0",
                                                   "enableorderby": "0", "forceraster": "0"})
    rules = ET.SubElement(renderer, "rules", {"key": "root"})
    symbols = ET.SubElement(renderer, "symbols")
    counter = iter(range(10_000))

    def add_rule(parent: ET.Element, label: str, color: str, expression: str | None, summary: bool = False) -> None:
        name = str(next(counter))
        attrs = {"key": f"rule-{name}", "symbol": name, "label": label}
        if expression is None:
            attrs["filter"] = "ELSE"
        else:
            attrs["filter"] = expression
        ET.SubElement(parent, "rule", attrs)
        if summary:
            _symbol(symbols, name, rgba(color, SUMMARY_OPACITY), rgba(color), SUMMARY_WIDTH, None)
        else:
            _symbol(symbols, name, rgba(color, s.fill_opacity), rgba(s.line_color or color), s.weight, s.dash_array)

    def add_rules(parent: ET.Element, field: str | None, summary: bool = False) -> None:
        tests = _tests(s, field) if field else []
        for expression, color, label in tests:
            add_rule(parent, label.get(lang), color, expression, summary)
        add_rule(parent, layer.title.get(lang), s.color, None if tests else "TRUE", summary)

    if layer.aggregate:
        detail = ET.SubElement(rules, "rule", {"key": "detail", "filter": f"{field_ref('aggregate')} IS NULL",
                                                "label": layer.title.get(lang)})
        add_rules(detail, s.field)
        summaries = ET.SubElement(rules, "rule", {"key": "summaries",
                                                  "filter": f"{field_ref('aggregate')} IS NOT NULL",
                                                  "label": layer.title.get(lang)})
        add_rules(summaries, "dominant" if s.field else None, summary=True)
    else:
        add_rules(rules, s.field)
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
