"""The revitalization page (issue #20, domain §7 "Progress"): per zone or for all zones, the stock
of idle, low-efficiency, approved-unsupplied and supplied-unbuilt land by quarter against the
yearly target, the open cases by stage, the overdue steps, the money not paid in full, and the
zones' published national results with the rectification flags they raise.

Cases, steps and money are read as the signed-in user (a zone editor sees its zones' cases);
snapshots, targets and national results are read by everyone signed in. Every code is shown as its
label of gisapp.i18n.

URL: ``/revitalization?zone=jiading&lang=en`` (both optional).
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from gisapp.catalog.registry import get_layer
from gisapp.db.engine import get_engine
from gisapp.i18n import label, t
from gisapp.queries import dashboard as dash_data
from gisapp.revitalization import progress
from gisapp.revitalization.params import STOCK_KINDS
from gisapp.revitalization.quarters import quarter_name
from gisapp.revitalization.rectification import flags as rectification_flags
from gisapp.revitalization.snapshots import snapshots
from gisapp.web.components import header, page_lang, page_url
from gisapp.web.tables import header as column_header

dash.register_page(__name__, path="/revitalization", name="revitalization")

ALL = "__all__"
FLAGS = ("rectification", "interview", "exit_due")
_STAGE_COLORS = {"opened": "#bdbdbd", "investigation": "#6baed6", "decision": "#fd8d3c", "execution": "#e6550d",
                 "review": "#756bb1"}


def kind_colors() -> dict[str, str]:
    """Each kind of stock in the map's colour for it (layers/*.yml)."""
    def declared(layer: str, value: str) -> str:
        return next(c.color for c in get_layer(layer).style.categories if str(c.value) == value)

    return {"idle": declared("idle_land", "confirmed"), "low_efficiency": declared("per_mu", "class_d"),
            "approved_unsupplied": declared("parcels", "approved_unsupplied"),
            "supplied_unbuilt": declared("parcels", "granted_unbuilt")}


def layout(lang: str | None = None, zone: str | None = None, **query) -> html.Div:
    lang = page_lang({"lang": lang})
    zones = dash_data.zones(get_engine())
    options = [{"label": t("dash.all_zones", lang), "value": ALL}] + [
        {"label": row[f"name_{lang}"], "value": row["code"]} for _, row in zones.iterrows()]
    value = zone if zone in {o["value"] for o in options} else ALL
    return html.Div([
        dcc.Store(id="rev-lang", data=lang),
        html.Div(header(lang, "/revitalization", {"zone": None if value == ALL else value}), id="rev-header"),
        html.Div([
            html.H2(t("rev.title", lang)),
            html.P(t("rev.as_of", lang, day=progress.as_of(get_engine()).isoformat()), className="muted",
                   id="rev-as-of"),
            html.Div([html.Label(t("dash.zone", lang), htmlFor="rev-zone"),
                      dcc.Dropdown(id="rev-zone", options=options, value=value, clearable=False,
                                   className="zone-picker")], className="dash-controls"),
            dcc.Loading(html.Div(id="rev-content")),
        ], className="dash-page"),
    ], className="page")


def _table(frame: pd.DataFrame, lang: str, table_id: str) -> html.Table:
    """A plain table: headers from gisapp.i18n (``col.<name>``), values as they are (labels already)."""
    head = html.Thead(html.Tr([html.Th(column_header(c, lang)) for c in frame.columns]))
    body = html.Tbody([html.Tr([html.Td("" if v is None or (isinstance(v, float) and v != v) else str(v))
                                for v in row]) for row in frame.itertuples(index=False)])
    return html.Table([head, body], className="detail-grid", id=table_id)


def _section(name: str, title: str, body: list) -> html.Div:
    return html.Div([html.H3(title), *body], className="dash-section", id=f"rev-section-{name}")


def _empty(text: str, name: str) -> html.P:
    return html.P(text, className="muted", id=f"rev-empty-{name}")


def _trend_figure(trend: pd.DataFrame, targets: pd.DataFrame, zone: str | None, n_zones: int, lang: str
                  ) -> tuple[dict, str | None]:
    """The stacked bars of the stock per quarter by kind and the yearly target as a dashed line
    over the year's quarters; for all zones, the line only when every zone has a target that year
    (else a note, returned second)."""
    quarters = list(dict.fromkeys(trend["quarter"]))
    colors = kind_colors()
    data = []
    for kind in STOCK_KINDS:
        mine = trend[trend["kind"] == kind].set_index("quarter")
        data.append({"type": "bar", "name": label("stock_kind", kind, lang), "x": quarters,
                     "y": [float(mine.at[q, "area_ha"]) if q in mine.index else 0.0 for q in quarters],
                     "marker": {"color": colors[kind]},
                     "hovertemplate": "%{x}: %{y:.2f} ha<extra>%{fullData.name}</extra>"})
    note = None
    line: dict[str, float] = {}
    if not targets.empty:
        per_year = targets.groupby("year").agg(target_ha=("target_ha", "sum"), zones=("zone_code", "nunique"))
        for year, row in per_year.iterrows():
            if zone is None and row["zones"] < n_zones:
                note = t("rev.target_partial", lang, n=int(row["zones"]), total=n_zones)
                continue
            for q in quarters:
                if q.startswith(str(year)):
                    line[q] = float(row["target_ha"])
    if line:
        data.append({"type": "scatter", "mode": "lines+markers", "name": t("rev.target_line", lang),
                     "x": quarters, "y": [line.get(q) for q in quarters], "connectgaps": False,
                     "line": {"color": "#000000", "dash": "dash", "width": 2, "shape": "hv"},
                     "marker": {"size": 5}})
    figure = {"data": data, "layout": {
        "barmode": "stack", "height": 380, "margin": {"l": 50, "r": 10, "t": 20, "b": 40},
        "xaxis": {"title": {"text": t("col.quarter", lang)}, "type": "category"},
        "yaxis": {"title": {"text": t("rev.unit.ha", lang)}}, "legend": {"orientation": "h", "y": -0.2}}}
    return figure, note


def _trend_section(zone: str | None, lang: str) -> html.Div:
    engine = get_engine()
    trend = progress.trend(engine, zone)
    if trend.empty:
        return _section("trend", t("rev.trend", lang), [_empty(t("rev.no_snapshots", lang), "trend")])
    targets = progress.targets(engine, zone)
    shots = snapshots(engine, zone)
    n_zones = shots["zone_id"].nunique()
    figure, note = _trend_figure(trend, targets, zone, n_zones, lang)
    synthetic = sorted({quarter_name(q) for q in shots.loc[shots["findings_as_of"].isna(), "quarter_end"]})
    body: list = [html.P(t("rev.trend_note", lang), className="muted")]
    if synthetic:
        body.append(html.P(t("rev.synthetic", lang, quarters=", ".join(synthetic)), className="muted",
                           id="rev-synthetic"))
    if note:
        body.append(html.P(note, className="muted", id="rev-target-note"))
    body.append(dcc.Graph(id="rev-graph-trend", figure=figure, config={"displaylogo": False}))
    shown = trend.assign(stock_kind=trend["kind"].map(lambda k: label("stock_kind", k, lang)))[
        ["quarter", "stock_kind", "area_ha", "parcels"]]
    body.append(_table(shown, lang, "rev-table-trend"))
    return _section("trend", t("rev.trend", lang), body)


def _targets_section(zone: str | None, lang: str) -> html.Div:
    frame = progress.targets(get_engine(), zone)
    if frame.empty:
        return _section("targets", t("rev.targets", lang), [_empty(t("rev.no_targets", lang), "targets")])
    sep = "、" if lang == "zh" else ", "
    shown = pd.DataFrame({
        "zone_name": frame[f"zone_name_{lang}"], "year": frame["year"], "target_ha": frame["target_ha"],
        "target_kinds": [sep.join(label("stock_kind", k, lang) for k in kinds) for kinds in frame["kinds"]],
        "stock_quarter": frame["stock_quarter"], "stock_ha": frame["stock_ha"], "gap_ha": frame["gap_ha"],
        "source": frame["source"], "effective_from": frame["effective_from"]})
    return _section("targets", t("rev.targets", lang), [_table(shown, lang, "rev-table-targets")])


def _cases_sections(zone: str | None, lang: str, actor) -> list[html.Div]:
    engine = get_engine()
    stages = progress.cases_by_stage(engine, actor, zone)
    if stages.empty:
        by_stage = [_empty(t("rev.no_cases", lang), "cases")]
    else:
        order = list(dict.fromkeys(stages["stage"]))
        data = [{"type": "bar", "name": label("case_kind", kind, lang),
                 "x": [label("case_stage", s, lang) for s in order],
                 "y": [int(stages[(stages["kind"] == kind) & (stages["stage"] == s)]["cases"].sum()) for s in order]}
                for kind in dict.fromkeys(stages["kind"])]
        figure = {"data": data, "layout": {"barmode": "stack", "height": 320,
                                           "margin": {"l": 40, "r": 10, "t": 20, "b": 40},
                                           "yaxis": {"title": {"text": t("col.cases", lang)}},
                                           "legend": {"orientation": "h", "y": -0.25}}}
        shown = pd.DataFrame({"case_stage": [label("case_stage", s, lang) for s in stages["stage"]],
                              "case_kind": [label("case_kind", k, lang) for k in stages["kind"]],
                              "cases": stages["cases"]})
        by_stage = [dcc.Graph(id="rev-graph-stages", figure=figure, config={"displaylogo": False}),
                    _table(shown, lang, "rev-table-stages")]
    overdue = progress.overdue_steps(engine, actor, zone)
    if overdue.empty:
        late = [_empty(t("rev.no_overdue", lang), "overdue")]
    else:
        late = [_table(pd.DataFrame({
            "case_code": overdue["case_code"], "case_kind": [label("case_kind", k, lang) for k in overdue["kind"]],
            "zone_code": overdue["zone_code"], "case_step": [label("case_step", s, lang) for s in overdue["step"]],
            "due_on": overdue["due_on"], "days_overdue": overdue["days_overdue"]}), lang, "rev-table-overdue")]
    money = progress.unpaid(engine, actor, zone)
    if money.empty:
        owed = [_empty(t("rev.no_unpaid", lang), "unpaid")]
    else:
        owed = [_table(pd.DataFrame({
            "case_code": money["case_code"], "parcel_code": money["parcel_code"],
            "money_purpose": [label("case_money", p, lang) for p in money["purpose"]],
            "amount_wan": money["amount_wan"], "paid_wan": money["paid_wan"],
            "outstanding_wan": money["outstanding_wan"], "due_on": money["due_on"],
            "overdue": [t("common.yes" if o else "common.no", lang) for o in money["overdue"]]}),
            lang, "rev-table-unpaid")]
    return [_section("cases", t("rev.cases_by_stage", lang), by_stage),
            _section("overdue", t("rev.overdue", lang), late),
            _section("unpaid", t("rev.unpaid", lang), owed)]


def _rectification_section(zone: str | None, lang: str) -> html.Div:
    frame = rectification_flags(get_engine())
    if zone is not None:
        frame = frame[frame["zone_code"] == zone]
    body: list = [html.P(t("rev.rectification_note", lang), className="muted"),
                  html.A(t("dash.zone_evaluation", lang), href=page_url("/dashboard", lang, zone=zone),
                         id="rev-estimate-link", className="dash-link")]
    if frame.empty:
        body.append(_empty(t("rev.no_results", lang), "rectification"))
    else:
        sep = "；" if lang == "zh" else "; "
        body.append(_table(pd.DataFrame({
            "zone_name": frame[f"zone_name_{lang}"], "year": frame["year"],
            "national_class": frame["national_class"], "regional_class": frame["regional_class"],
            "national_place": [f"{int(r)}/{int(n)}" if pd.notna(r) else "" for r, n in
                               zip(frame["national_rank"], frame["national_count"])],
            "below_region_average": [t("common.yes" if b else "common.no", lang) for b in frame["below_region_average"]],
            "set_up_on": frame["set_up_on"],
            "flags": [sep.join(label("rect_flag", f, lang) for f in FLAGS if row[f]) or label("rect_flag", "none", lang)
                      for _, row in frame.iterrows()],
            "source": frame["source"]}), lang, "rev-table-rectification"))
    return _section("rectification", t("rev.rectification", lang), body)


@callback(Output("rev-content", "children"), Input("rev-zone", "value"), State("rev-lang", "data"))
def render(zone_value, lang):
    """Every section for the chosen zone (or all zones)."""
    from gisapp.web.auth import current_actor

    zone = None if zone_value in (None, ALL) else zone_value
    dash_data.check_zone(get_engine(), zone)
    actor = current_actor()
    return [_trend_section(zone, lang), _targets_section(zone, lang), *_cases_sections(zone, lang, actor),
            _rectification_section(zone, lang)]
