"""The dashboard's Plotly figures as plain dicts, laid out as plotly express lays them out.

Plotly express builds and validates a ``go.Figure`` property by property: for the ten charts of
the all-zones dashboard that took 0.3-0.5 s, most of the server's answer (the queries take about
0.07 s). The figures here are the same traces and layout (one trace per colour, in the order the
values first appear; plotly express's colours, hover text, bar modes and facet grid; its default
template), written as the dicts that ``dcc.Graph`` sends to plotly.js anyway, in a few ms.
tests/unit/test_dashboard_charts.py holds them to what plotly express builds from the same frame.

Example:
    >>> import pandas as pd
    >>> fig = bar(pd.DataFrame({"zone": ["a", "b"], "ha": [1.0, 2.0]}), "zone", "ha")
    >>> fig["data"][0]["type"], list(fig["data"][0]["x"])
    ('bar', ['a', 'b'])
"""

from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1)
def template() -> dict:
    """The default Plotly template as plotly express sets it on every figure (built once)."""
    import plotly.io as pio

    return pio.templates[pio.templates.default].to_plotly_json()


def sequence() -> list[str]:
    """The colours plotly express gives values without one of their own: the template's colorway."""
    return template()["layout"]["colorway"]


def _values(column: pd.Series) -> list:
    return column.tolist()


def _color_map(values: list, colors: dict | None) -> dict:
    """Each value's colour: the given one, else the next of the sequence (counted as plotly
    express counts, over the given map and the values coloured so far)."""
    mapping = dict(colors or {})
    for value in values:
        if value not in mapping:
            mapping[value] = sequence()[len(mapping) % len(sequence())]
    return mapping


def _part(label: str, value: str) -> str:
    """One line of the hover text: ``label=value``, or the value alone where the label is empty
    (plotly express writes ``=value``)."""
    return f"{label}={value}" if label else value


def _hover(parts: list[tuple[str, str]], hover: tuple[str, ...], labels: dict) -> str:
    parts = parts + [(labels.get(h, h), f"%{{customdata[{i}]}}") for i, h in enumerate(hover)]
    return "<br>".join(_part(label, value) for label, value in parts) + "<extra></extra>"


def _layout(xlabel: str, ylabel: str, legend_title: str | None, barmode: str | None) -> dict:
    layout: dict = {"template": template(),
                    "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "title": {"text": xlabel}},
                    "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "title": {"text": ylabel}},
                    "legend": {"tracegroupgap": 0}, "margin": {"t": 60}}
    if legend_title is not None:
        layout["legend"]["title"] = {"text": legend_title}
    if barmode is not None:
        layout["barmode"] = barmode
    return layout


def _bar_trace(group: pd.DataFrame, x: str, y: str, name: str, color: str, hovertemplate: str,
               hover: tuple[str, ...], barmode: str, showlegend: bool = True) -> dict:
    trace = {"type": "bar", "name": name, "legendgroup": name, "showlegend": showlegend, "orientation": "v",
             "marker": {"color": color, "pattern": {"shape": ""}}, "textposition": "auto",
             "x": _values(group[x]), "y": _values(group[y]), "xaxis": "x", "yaxis": "y",
             "hovertemplate": hovertemplate}
    if barmode == "group":
        trace.update(alignmentgroup="True", offsetgroup=name)
    if hover:
        trace["customdata"] = group[list(hover)].to_numpy().tolist()
    return trace


def bar(frame: pd.DataFrame, x: str, y: str, color: str | None = None, *, labels: dict | None = None,
        colors: dict | None = None, hover: tuple[str, ...] = (), barmode: str = "relative") -> dict:
    """Vertical bars of ``y`` by ``x``, one trace per value of ``color`` (``px.bar``)."""
    labels = labels or {}
    xl, yl = labels.get(x, x), labels.get(y, y)
    if color is None:
        hovertemplate = _hover([(xl, "%{x}"), (yl, "%{y}")], hover, labels)
        traces = [_bar_trace(frame, x, y, "", sequence()[0], hovertemplate, hover, barmode, showlegend=False)]
        return {"data": traces, "layout": _layout(xl, yl, None, barmode)}
    cl = labels.get(color, color)
    values = list(dict.fromkeys(frame[color].tolist()))
    mapping = _color_map(values, colors)
    traces = []
    for value in values:
        group = frame[frame[color] == value]
        template_ = _hover([(cl, str(value)), (xl, "%{x}"), (yl, "%{y}")], hover, labels)
        traces.append(_bar_trace(group, x, y, str(value), mapping[value], template_, hover, barmode))
    return {"data": traces, "layout": _layout(xl, yl, cl, barmode)}


def funnel(frame: pd.DataFrame, x: str, y: str, *, labels: dict | None = None) -> dict:
    """One funnel of ``x`` by stage ``y`` (``px.funnel``)."""
    labels = labels or {}
    xl, yl = labels.get(x, x), labels.get(y, y)
    trace = {"type": "funnel", "name": "", "legendgroup": "", "showlegend": False, "orientation": "h",
             "marker": {"color": sequence()[0]}, "x": _values(frame[x]), "y": _values(frame[y]),
             "xaxis": "x", "yaxis": "y", "hovertemplate": _hover([(xl, "%{x}"), (yl, "%{y}")], (), labels)}
    return {"data": [trace], "layout": _layout(xl, yl, None, None)}


def facet_bars(frame: pd.DataFrame, x: str, y: str, color: str, facet: str, *, wrap: int,
               labels: dict | None = None, colors: dict | None = None, barmode: str = "group",
               row_spacing: float = 0.03, col_spacing: float = 0.02) -> dict:
    """Bars as ``bar`` in a grid of small charts, one per value of ``facet``, ``wrap`` to a row,
    filled from the top left (``px.bar(facet_col=, facet_col_wrap=)``: x axes shared, tick
    labels on the bottom row only, each chart titled with its facet value)."""
    labels = labels or {}
    xl, yl, cl, fl = (labels.get(c, c) for c in (x, y, color, facet))
    facets = list(dict.fromkeys(frame[facet].tolist()))
    ncols = min(wrap, len(facets)) or 1
    nrows = max(1, math.ceil(len(facets) / ncols))
    width = (1 - (ncols - 1) * col_spacing) / ncols
    height = (1 - (nrows - 1) * row_spacing) / nrows

    def number(i: int) -> int:  # axes are numbered from the bottom left, as make_subplots does
        return (nrows - 1 - i // ncols) * ncols + i % ncols + 1

    layout = _layout(xl, yl, cl, barmode)
    layout.update(xaxis={}, yaxis={})
    for row in range(nrows):  # from the bottom
        for col in range(ncols):
            n = row * ncols + col + 1
            suffix = "" if n == 1 else str(n)
            xaxis: dict = {"anchor": f"y{suffix}", "domain": [col * (width + col_spacing),
                                                             col * (width + col_spacing) + width]}
            if n > 1:
                xaxis["matches"] = "x"
            if row == 0:
                xaxis["title"] = {"text": xl}
            else:
                xaxis["showticklabels"] = False
            yaxis: dict = {"anchor": f"x{suffix}", "domain": [row * (height + row_spacing),
                                                             row * (height + row_spacing) + height]}
            if n > 1:
                yaxis["matches"] = "y"
            if col == 0:
                yaxis["title"] = {"text": yl}
            else:
                yaxis["showticklabels"] = False
            layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = xaxis, yaxis
    layout["annotations"] = []
    for i, value in sorted(enumerate(facets), key=lambda item: number(item[0])):
        suffix = "" if number(i) == 1 else str(number(i))
        xd, yd = layout[f"xaxis{suffix}"]["domain"], layout[f"yaxis{suffix}"]["domain"]
        layout["annotations"].append({"text": str(value), "x": (xd[0] + xd[1]) / 2, "y": yd[1], "xref": "paper",
                                      "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                      "showarrow": False})
    mapping = _color_map(list(dict.fromkeys(frame[color].tolist())), colors)
    traces, shown = [], set()
    for (value, where), group in frame.groupby([color, facet], sort=False):
        suffix = "" if number(facets.index(where)) == 1 else str(number(facets.index(where)))
        hovertemplate = _hover([(cl, str(value)), (fl, str(where)), (xl, "%{x}"), (yl, "%{y}")], (), labels)
        trace = _bar_trace(group, x, y, str(value), mapping[value], hovertemplate, (), barmode,
                           showlegend=value not in shown)
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        shown.add(value)
        traces.append(trace)
    return {"data": traces, "layout": layout}
