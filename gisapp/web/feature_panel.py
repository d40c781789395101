"""The map's detail panel for a clicked feature that is neither a parcel nor a zone (a district's
quota balance, a zone's assessment coverage): the layer's title, the feature's name and its
declared popup fields."""

from __future__ import annotations

from dash import html

from gisapp.catalog.schema import Layer
from gisapp.web.parcel_panel import fmt


def feature_panel(layer: Layer, props: dict, lang: str) -> list:
    """The panel's children: ``<layer title>: <name>`` and the popup fields of ``lang``."""
    name = props.get(f"name_{lang}") or props.get("name_zh") or props.get("code") or ""
    rows = [html.Tr([html.Th(layer.label(f.name, lang) + (f" ({f.unit})" if f.unit else "")),
                     html.Td(fmt(props.get(f.name), lang))])
            for f in layer.popup_fields(lang)]
    sep = "：" if lang == "zh" else ": "
    return [html.H3(f"{layer.title.get(lang)}{sep}{name}", id="map-detail-title"),
            html.Table(rows, className="detail-table", id="map-detail-table")]
