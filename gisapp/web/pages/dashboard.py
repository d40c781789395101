"""Zone dashboards, per zone or for all zones: Plotly charts, tables (dash-ag-grid) and CSV /
Excel exports of the same tables (``/api/dashboard/<table>.<csv|xlsx>``).

URL: ``/dashboard?zone=jiading&lang=en`` (both optional; a zone editor's opens on their zone, and
the zone chosen is written back to the address: ``?zone=all`` for all zones).
"""

from __future__ import annotations

from functools import lru_cache

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from gisapp.catalog.registry import get_layer
from gisapp.db.engine import get_engine
from gisapp.i18n import t
from gisapp.queries import dashboard as data
from gisapp.web import chart_margins, charts
from gisapp.web.components import header, page_lang, page_url
from gisapp.web.tables import header as column_header
from gisapp.web.tables import localized_columns

dash.register_page(__name__, path="/dashboard", name="dashboard")

ALL = "__all__"  # in the address: ?zone=all (gisapp/web/assets/dashboard.js), or no zone

# Every category a chart draws has one colour, given here: the map's colour where a layer
# declares the value (layers/*.yml), otherwise by what it means: greens for what meets the policy,
# oranges and reds for what needs action (the darker, the graver), greys and blues for what is
# neither (not yet due, exempt, not graded).
GOOD, GOOD_LIGHT, WATCH, ACTION, GRAVE = "#1a9850", "#91cf60", "#fdae61", "#e6550d", "#b30000"
NEUTRAL, NEUTRAL_LIGHT = "#6baed6", "#d9d9d9"
# (prefix of the codes, layer whose declared categories give their colours)
_DECLARED = (("status", "parcels"), ("outcome", "per_mu"), ("outcome", "grants"), ("outcome", "green_balance"),
             ("outcome", "mixed_use"))
# idle_land layer classes under the outcome codes the dashboard counts them by
_IDLE_LAYER = {"idle_confirmed": "confirmed", "idle_not_started": "suspected_not_started",
               "idle_stalled": "suspected_stalled", "idle_fee_due": "fee_due", "exempt": "exempt"}
_MEANING = {
    "outcome.approved_unsupplied": ("parcels", "approved_unsupplied"),
    "outcome.supplied_unbuilt": ("parcels", "granted_unbuilt"),
    "outcome.cannot_evaluate": NEUTRAL_LIGHT, "outcome.not_graded": NEUTRAL_LIGHT,
    "outcome.class_a": GOOD, "outcome.class_b": GOOD_LIGHT, "outcome.class_c": WATCH,
    "outcome.rectification": ACTION, "outcome.exit_risk": GRAVE,
    "outcome.notice_ok": GOOD, "outcome.notice_too_short": ACTION, "outcome.not_announced": GRAVE,
    "outcome.term_ok": GOOD, "outcome.major_below_preferred": WATCH, "outcome.term_above_max": GRAVE,
    "outcome.balanced": GOOD, "outcome.short": ACTION,
    "outcome.within_quota": GOOD, "outcome.over_quota_escalated": WATCH, "outcome.over_quota_not_escalated": GRAVE,
    "series.approved": NEUTRAL_LIGHT, "series.used": NEUTRAL, "series.built": "#3182bd",
    "series.quota": NEUTRAL_LIGHT, "series.allocated": NEUTRAL, "series.used_quota": "#3182bd",
    "series.escalated": GRAVE, "sign.+": "#41ab5d", "sign.−": "#fe9929",
}


def _declared(layer_id: str) -> dict[str, str]:
    return {str(c.value): c.color for c in get_layer(layer_id).style.categories}


def color(key: str) -> str | None:
    """The colour of ``prefix.code`` (e.g. ``outcome.exempt``), from the one table above."""
    prefix, _, code = key.partition(".")
    if prefix == "outcome" and code in _IDLE_LAYER:
        return _declared("idle_land")[_IDLE_LAYER[code]]
    meaning = _MEANING.get(key)
    if isinstance(meaning, tuple):
        return _declared(meaning[0]).get(meaning[1])
    if meaning:
        return meaning
    for declared_prefix, layer_id in _DECLARED:
        if declared_prefix == prefix and code in _declared(layer_id):
            return _declared(layer_id)[code]
    return None


def _colors(prefix: str, codes: pd.Series, labels: pd.Series) -> dict:
    """Plotly's ``color_discrete_map``: each label drawn in its code's colour."""
    return {lab: color(f"{prefix}.{code}") or NEUTRAL_LIGHT for code, lab in zip(codes, labels)}


def layout(lang: str | None = None, zone: str | None = None, **query) -> html.Div:
    lang = page_lang({"lang": lang})
    zones = data.zones(get_engine())
    options = [{"label": t("dash.all_zones", lang), "value": ALL}] + [
        {"label": row[f"name_{lang}"], "value": row["code"]} for _, row in zones.iterrows()]
    value = zone if zone in {o["value"] for o in options} else own_zone(zones) if zone is None else ALL
    zone = None if value == ALL else value
    return html.Div([
        dcc.Store(id="dash-lang", data=lang),
        dcc.Store(id="dash-all", data=ALL),
        dcc.Store(id="dash-preload", data=preload_urls()),
        html.Div(header(lang, "/dashboard", {"zone": zone} if zone else {}), id="dash-header"),
        html.Div([
            html.H2(t("dash.title", lang)),
            html.Div([html.Label(t("dash.zone", lang), htmlFor="dash-zone"),
                      dcc.Dropdown(id="dash-zone", options=options, value=value, clearable=False,
                                   className="zone-picker")], className="dash-controls"),
            dcc.Loading(html.Div(id="dash-content")),
        ], className="dash-page"),
    ], className="page")


def own_zone(zones: pd.DataFrame) -> str:
    """Where a dashboard opens without ``?zone=``: a zone editor's (first) zone, else all zones."""
    from gisapp.web.auth import current_actor

    actor = current_actor()
    if actor is None or actor.role != "zone_editor" or not actor.zone_ids:
        return ALL
    mine = zones[zones["id"].isin(actor.zone_ids)]
    return str(mine["code"].iloc[0]) if not mine.empty else ALL


# the chosen zone goes into the address (?zone=) and the language switch, without a reload
clientside_callback(ClientsideFunction(namespace="gisappDashboard", function_name="keepZone"),
                    Output("app-lang-switch", "href"), Input("dash-zone", "value"), State("dash-all", "data"),
                    State("dash-lang", "data"))
# plotly.js and the charts' and tables' own code load while the server computes the sections
# (gisapp/web/assets/dashboard.js)
clientside_callback(ClientsideFunction(namespace="gisappDashboard", function_name="preload"),
                    Output("dash-preload", "data"), Input("dash-zone", "value"), State("dash-preload", "data"))

#: what the charts and tables load only when they mount, after the server's answer: plotly.js
#: (dcc.Graph), the code of dcc.Graph and of the grids (webpack chunks of dcc and dash-ag-grid)
_LAZY = (("plotly", "package_data/plotly.min.js"), ("dash", "dcc/async-graph.js"),
         ("dash_ag_grid", "async-community.js"))


@lru_cache(maxsize=1)
def preload_urls() -> dict:
    """The lazily loaded scripts at the addresses Dash gives its page's own scripts (Dash's own
    method for them): with the package's version and the file's time in them, so that the
    browser keeps them for a year and does not ask again. Loaded from their plain addresses, as
    dcc.Graph and the grid do, the browser revalidates them on every page, and the server reads
    and hashes the files (plotly.js: 4.8 MB) beside the dashboard's own request."""
    urls = dash.get_app()._collect_and_register_resources(  # noqa: SLF001 (no public form)
        [{"relative_package_path": path, "namespace": namespace} for namespace, path in _LAZY])
    return {"plotly": urls[0], "chunks": urls[1:]}


def _section(name: str, figure, frame: pd.DataFrame, zone: str | None, lang: str) -> html.Div:
    shown = localized_columns(frame, lang)
    body: list = []
    if frame.empty:
        body.append(html.P(t("dash.empty", lang), className="muted"))
    else:
        if figure is not None:
            layout = figure["layout"]
            # margins that fit the labels already: plotly.js then draws the chart once
            layout.update(margin=chart_margins.fit(figure, {"l": 40, "r": 10, "t": 30, "b": 40}),
                          height=layout.get("height") or 340)
            layout["legend"]["title"] = {"text": ""}
            body.append(dcc.Graph(id=f"dash-graph-{name}", figure=figure, config={"displaylogo": False}))
        body.append(dag.AgGrid(
            id=f"dash-grid-{name}",
            columnDefs=[{"field": c, "headerName": column_header(c, lang)} for c in shown.columns],
            rowData=shown.to_dict("records"),
            defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
            dashGridOptions={"domLayout": "autoHeight"} if len(shown) <= 15 else {},
            style={} if len(shown) <= 15 else {"height": "360px"},
            columnSize="autoSize",
        ))
    exports = html.Div([
        html.A(t("dash.export_csv", lang), href=page_url(f"/api/dashboard/{name}.csv", lang, zone=zone),
               id=f"dash-export-csv-{name}", download=f"{name}.csv"),
        html.A(t("dash.export_xlsx", lang), href=page_url(f"/api/dashboard/{name}.xlsx", lang, zone=zone),
               id=f"dash-export-xlsx-{name}", download=f"{name}.xlsx"),
    ], className="dash-exports")
    if name == "green_balance":  # the question the section raises, answered on its own page
        body.insert(0, html.A(t("gwi.link", lang), href=page_url("/green-what-if", lang, zone=zone),
                              id="dash-green-what-if", className="dash-link"))
    return html.Div([html.H3(t(f"dash.{name}", lang)), exports, *body], className="dash-section",
                    id=f"dash-section-{name}")


def _kpis(frames: dict[str, pd.DataFrame], lang: str) -> html.Div:
    used = frames["approved_vs_used"]
    idle = frames["idle_land"]
    idle = idle[idle["outcome"].isin(data.IDLE_OUTCOMES)] if not idle.empty else idle
    items = [
        (t("dash.kpi.approved", lang), f"{used['approved_ha'].sum():,.1f} {t('dash.unit.ha', lang)}"),
        (t("dash.kpi.used", lang), f"{used['used_ha'].sum():,.1f} {t('dash.unit.ha', lang)}"),
        (t("dash.kpi.idle_area", lang), f"{idle['area_ha'].sum():,.1f} {t('dash.unit.ha', lang)}"),
        (t("dash.kpi.idle_fee", lang), f"{idle['fee_wan'].sum():,.1f} {t('dash.unit.wan', lang)}"),
    ]
    return html.Div([html.Div([html.Div(label), html.Div(value, className="value")], className="dash-kpi")
                     for label, value in items], className="dash-kpis", id="dash-kpis")


def _figures(frames: dict[str, pd.DataFrame], lang: str) -> dict:
    """One Plotly figure (a dict, gisapp.web.charts) per dataset (None where a table says it better)."""
    L = {c: column_header(c, lang) for f in frames.values() for c in localized_columns(f, lang).columns}
    figs: dict = {}
    f = localized_columns(frames["approved_vs_used"], lang)
    if not f.empty:
        long = f.melt(id_vars=["zone_name"], value_vars=["approved_ha", "used_ha", "built_ha"], var_name="series",
                      value_name="ha")
        names = {"approved_ha": t("dash.series.approved", lang), "used_ha": t("dash.series.used", lang),
                 "built_ha": t("dash.series.built", lang)}
        series_colors = {names[k]: color(f"series.{k.removesuffix('_ha')}") for k in names}
        long["series"] = long["series"].map(names)
        figs["approved_vs_used"] = charts.bar(long, "zone_name", "ha", "series", barmode="group",
                                              labels={"zone_name": L["zone_name"], "ha": t("dash.unit.ha", lang),
                                                      "series": ""},
                                              colors=series_colors)
    f = localized_columns(frames["land_use_mix"], lang)
    if not f.empty:
        figs["land_use_mix"] = charts.bar(f, "zone_name", "area_ha", "land_use", labels=L)
    raw = frames["status_breakdown"]
    f = localized_columns(raw, lang)
    if not f.empty:
        colors = _colors("status", raw["status"], f["status"])
        figs["status_breakdown"] = charts.bar(f, "zone_name", "area_ha", "status", labels=L, colors=colors)
    raw = frames["idle_land"]
    f = localized_columns(raw, lang)
    if not f.empty:
        figs["idle_land"] = charts.bar(f, "zone_name", "area_ha", "outcome", labels=L, hover=("fee_wan", "parcels"),
                                       colors=_colors("outcome", raw["outcome"], f["outcome"]))
    raw = frames["per_mu"]
    f = localized_columns(raw, lang)
    if not f.empty:
        colors = _colors("outcome", raw["outcome"], f["outcome"])
        figs["per_mu"] = charts.bar(f, "zone_name", "parcels", "outcome", labels=L, colors=colors)
    f = localized_columns(frames["grants_pipeline"], lang)
    if not f.empty:
        stages = f.groupby(["stage_order", "stage"], as_index=False)["grants"].sum().sort_values("stage_order")
        figs["grants_pipeline"] = charts.funnel(stages, "grants", "stage", labels=L)
    raw = frames["grants_review"]
    f = localized_columns(raw, lang)
    if not f.empty:
        totals = f.groupby(["rule", "outcome"], as_index=False)["grants"].sum()
        figs["grants_review"] = charts.bar(totals, "rule", "grants", "outcome", labels=L,
                                           colors=_colors("outcome", raw["outcome"], f["outcome"]))
    f = localized_columns(frames["green_balance"], lang)
    if not f.empty:
        f = f.assign(sign=f["margin_ha"].map(lambda v: "+" if (v or 0) >= 0 else "−"))
        figs["green_balance"] = charts.bar(f, "zone_name", "margin_ha", "sign", labels={**L, "sign": ""},
                                           colors={k: color(f"sign.{k}") for k in "+−"}, hover=("outcome",))
        figs["green_balance"]["layout"]["showlegend"] = False
    f = localized_columns(frames["quota_use"], lang)
    if not f.empty:
        # every year, not only the latest: a district that escalates year after year shows as such
        f = f.assign(where=[f"{d} {t('dash.quota_years', lang, year=int(y))}" for d, y in zip(f["district"], f["year"])])
        names = {"quota": t("dash.series.quota", lang), "allocated": t("dash.series.allocated", lang),
                 "used": t("dash.series.used_quota", lang), "escalated": t("dash.series.escalated", lang)}
        long = f.melt(id_vars=["where", "resource"], value_vars=list(names), var_name="series", value_name="amount")
        long["series"] = long["series"].map(names)
        fig = charts.facet_bars(long, "where", "amount", "series", "resource", wrap=3, row_spacing=0.12,
                                labels={"where": "", "amount": "", "series": "", "resource": L["resource"]},
                                colors={names[k]: color(f"series.{'used_quota' if k == 'used' else k}")
                                        for k in names})
        for name, axis in fig["layout"].items():
            if name.startswith("yaxis"):  # each resource on its own scale, each with its ticks
                axis.pop("matches", None)
                axis["showticklabels"] = True
            elif name.startswith("xaxis"):
                axis["tickangle"] = -60
        fig["layout"]["height"] = 620
        figs["quota_use"] = fig
    raw = frames["zone_evaluation"]
    f = localized_columns(raw, lang)
    if not f.empty:
        figs["zone_evaluation"] = charts.bar(f, "zone_name", "score", "outcome", labels=L,
                                             hover=("rank_national", "rank_regional"),
                                             colors=_colors("outcome", raw["outcome"], f["outcome"]))
    return figs


@callback(Output("dash-content", "children"), Input("dash-zone", "value"), State("dash-lang", "data"))
def render(zone_value, lang):
    """Every section for the chosen zone (or all zones)."""
    zone = None if zone_value in (None, ALL) else zone_value
    engine = get_engine()
    data.check_zone(engine, zone)
    frames = data.datasets(engine, zone)
    figures = _figures(frames, lang)
    return [_kpis(frames, lang)] + [_section(name, figures.get(name), frame, zone, lang)
                                    for name, frame in frames.items()]
