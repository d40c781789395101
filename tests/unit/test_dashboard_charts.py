"""The dashboard's figures (gisapp.web.charts) are the figures plotly express builds from the same
frame: same traces, colours, hover text, axes, facet grid and template; only built faster."""

from __future__ import annotations

import base64
import math

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pytest

from gisapp.web import charts


def _plain(value):
    """A figure's JSON with plotly's typed arrays ({dtype, bdata}) as lists, NaN as None, floats
    to 12 places (the grid's fractions are summed in another order) and no empty objects."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return _plain(array.tolist())
        return {k: _plain(v) for k, v in value.items() if not (isinstance(v, dict) and not v)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 12)
    return value


def _json(figure) -> dict:
    return _plain((figure if isinstance(figure, go.Figure) else go.Figure(figure)).to_plotly_json())


def _same(ours: dict, theirs) -> None:
    a, b = _json(ours), _json(theirs)
    assert a["layout"] == b["layout"]
    assert len(a["data"]) == len(b["data"])
    for mine, px_trace in zip(a["data"], b["data"]):
        assert mine == px_trace


ZONES = ["外高桥", "洋山", "嘉定", "外高桥", "洋山", "嘉定", "外高桥"]
FRAME = pd.DataFrame({
    "zone_name": ZONES,
    "outcome": ["甲", "甲", "乙", "乙", "丙", "丁", "戊"],
    "area_ha": [1.5, 2.25, 0.0, 4.0, 5.5, 6.0, 7.125],
    "parcels": [1, 2, 3, 4, 5, 6, 7],
    "fee_wan": [0.5, np.nan, 1.0, 2.0, 3.0, 4.0, 5.0],
})
LABELS = {"zone_name": "园区", "outcome": "结论", "area_ha": "面积（公顷）", "parcels": "地块", "fee_wan": "闲置费"}


@pytest.mark.parametrize("colors", [None, {"甲": "#1a9850", "乙": "#b30000"},
                                    {"甲": "#1a9850", "乙": "#b30000", "丙": "#000000", "丁": "#111111",
                                     "戊": "#222222", "己": "#333333"}])
def test_bars_by_colour_are_plotly_express_bars(colors):
    ours = charts.bar(FRAME, "zone_name", "area_ha", "outcome", labels=LABELS, colors=colors,
                      hover=("fee_wan", "parcels"))
    theirs = px.bar(FRAME, x="zone_name", y="area_ha", color="outcome", labels=LABELS,
                    color_discrete_map=colors or {}, hover_data=["fee_wan", "parcels"])
    _same(ours, theirs)


def test_grouped_bars_and_bars_without_colour_are_plotly_express_bars():
    _same(charts.bar(FRAME, "zone_name", "parcels", "outcome", labels=LABELS, barmode="group"),
          px.bar(FRAME, x="zone_name", y="parcels", color="outcome", labels=LABELS, barmode="group"))
    _same(charts.bar(FRAME, "zone_name", "parcels", labels=LABELS),
          px.bar(FRAME, x="zone_name", y="parcels", labels=LABELS))


def test_funnel_is_the_plotly_express_funnel():
    stages = pd.DataFrame({"stage": ["公告", "出让", "开工"], "grants": [9, 7, 3]})
    _same(charts.funnel(stages, "grants", "stage", labels={"grants": "宗数", "stage": "阶段"}),
          px.funnel(stages, x="grants", y="stage", labels={"grants": "宗数", "stage": "阶段"}))


@pytest.mark.parametrize("facets", [1, 2, 3, 5, 7])
def test_facet_grid_is_the_plotly_express_grid(facets):
    rows = [{"where": f"区{d} {y}", "resource": f"资源{r}", "series": s, "amount": float(r * 10 + d + y % 7)}
            for s in ("配额", "已分配", "已用") for r in range(facets) for d in range(3) for y in (2025, 2026)]
    frame = pd.DataFrame(rows)
    labels = {"where": "区和年份", "amount": "数量", "series": "系列", "resource": "资源"}
    colors = {"配额": "#d9d9d9", "已分配": "#6baed6", "已用": "#3182bd"}
    ours = charts.facet_bars(frame, "where", "amount", "series", "resource", wrap=3, labels=labels,
                             colors=colors, row_spacing=0.12)
    theirs = px.bar(frame, x="where", y="amount", color="series", barmode="group", facet_col="resource",
                    facet_col_wrap=3, labels=labels, facet_row_spacing=0.12, color_discrete_map=colors)
    theirs.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    _same(ours, theirs)


def test_the_template_is_plotly_express_default():
    assert _json(charts.bar(FRAME, "zone_name", "parcels"))["layout"]["template"] == \
        _json(px.bar(FRAME, x="zone_name", y="parcels"))["layout"]["template"]
