"""The map's detail panel for a clicked feature that is neither a parcel nor a zone (a district's
quota balance, a zone's assessment coverage): the layer's title, the feature's name and its
declared popup fields; a quota layer's district also lists its escalations to the city in the
year shown (gisapp.queries.quotas)."""

from __future__ import annotations

from dash import html

from gisapp.catalog.schema import Layer
from gisapp.i18n import label, t
from gisapp.web.parcel_panel import fmt


def _fields_table(layer: Layer, props: dict, lang: str) -> html.Table:
    rows = [html.Tr([html.Th(layer.label(f.name, lang) + (f" ({label('unit', f.unit, lang)})" if f.unit else "")),
                     html.Td(fmt(props.get(f.name), lang))])
            for f in layer.popup_fields(lang)]
    return html.Table(rows, className="detail-table", id="map-detail-table")


def _name(props: dict, lang: str) -> str:
    return props.get(f"name_{lang}") or props.get("name_zh") or props.get("code") or ""


def feature_panel(layer: Layer, props: dict, lang: str) -> list:
    """The panel's children: ``<layer title>: <name>`` and the popup fields of ``lang``."""
    sep = "：" if lang == "zh" else ": "
    return [html.H3(f"{layer.title.get(lang)}{sep}{_name(props, lang)}", id="map-detail-title"),
            _fields_table(layer, props, lang)]


def quota_panel(layer: Layer, props: dict, escalations: list[dict], lang: str) -> list:
    """A district of a quota layer: its balance in the year shown (the feature's ``year``) and
    each escalation to the city of that year (date, resource, amount, reference, note)."""
    year = props.get("year")
    title = t("detail.quota_title", lang, layer=layer.title.get(lang), name=_name(props, lang), year=year)
    out: list = [html.H3(title, id="map-detail-title"), _fields_table(layer, props, lang),
                 html.H4(t("detail.escalations", lang, year=year))]
    if not escalations:
        out.append(html.P(t("detail.no_escalations", lang, year=year), className="muted", id="map-detail-escalations"))
        return out
    headers = [t(f"col.{c}", lang) for c in ("recorded_on", "resource", "amount", "reference", "note")]
    rows = [html.Tr([html.Td(str(e["recorded_on"])), html.Td(e.get(f"resource_{lang}") or e["resource_zh"]),
                     html.Td(f"{fmt(float(e['amount']), lang)} {label('unit', e['unit'], lang)}"),
                     html.Td(fmt(e.get("reference"), lang)), html.Td(fmt(e.get("note"), lang))],
                    className="escalation", **{"data-resource": e["resource"]})
            for e in escalations]
    out.append(html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(rows)],
                          className="detail-grid", id="map-detail-escalations"))
    return out
