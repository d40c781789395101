"""Margins for the dashboard's Plotly figures wide enough for their tick labels and axis titles,
so that plotly.js's automargin has nothing to grow and draws each chart once.

Why: with the template's ``automargin``, plotly.js draws a chart, measures its axis labels and,
where they overflow the margins, draws the whole chart again with wider ones. On the all-zones
dashboard (long zone names below the bars, slanted) that second drawing was more than half of the
charts' time in the browser. Margins that already fit are kept and the chart is drawn once.

Text widths are estimated at the wide end of plotly's font stack ("Open Sans", verdana, arial,
sans-serif: Verdana and DejaVu Sans are the widest), so the margins fit on any of them: a little
wider than plotly would make them, never narrower. automargin stays on: if an estimate falls
short, plotly.js still grows the margin (one more drawing, as before), so labels are never cut.
tests/browser/test_dashboard_loading.py checks, for every chart in both languages, that plotly.js
keeps these margins and that they are at most a few pixels wider than it would have made them.

Example:
    >>> fig = {"data": [{"type": "bar", "x": ["外高桥保税区"], "y": [1200.0], "xaxis": "x", "yaxis": "y"}],
    ...        "layout": {"xaxis": {"domain": [0, 1], "title": {"text": "园区"}},
    ...                   "yaxis": {"domain": [0, 1], "title": {"text": "公顷"}}}}
    >>> fit(fig, {"l": 40, "r": 10, "t": 30, "b": 40})
    {'l': 69, 'r': 10, 't': 30, 'b': 55}
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict

#: plotly.js's default font size (the template sets the family, not the size)
FONT = 12
#: the depth of a line of tick labels; what plotly.js adds to the labels of a left and of a bottom
#: axis (tick, padding, rounding) and for an axis title (its depth and standoff; an empty title
#: counts too), measured in Chromium against its automargin
LINE = 1.2 * FONT
TICK_PAD = {"y": 10, "x": 12}
TITLE_DEPTH = 28
#: slant given to category labels too many to stand side by side: plotly.js's first choice
#: (autotickangles [0, 30, 90]); fixed, since it would depend on the browser's width
SLANT = 30
#: category labels whose widths add up to more than this (px) are slanted (a plot narrower than
#: this rarely holds them side by side)
SIDE_BY_SIDE = 600
#: the plot's width (px) assumed for where the first and last category ticks are: the dashboard's
#: charts are about 1,200 px wide on a desktop, less their margins and legend. A narrower plot
#: puts them nearer the edges, and plotly.js may then grow the margin as before.
NOMINAL_PLOT = 900


def text_width(text: str, size: float = FONT) -> float:
    """Width in px of ``text`` at ``size``, at the wide end of the font stack."""
    em = 0.0
    for ch in str(text):
        if unicodedata.east_asian_width(ch) in "WF":
            em += 1.0
        elif ch.isupper():
            em += 0.74
        elif ch.isdigit():
            em += 0.64
        elif ch.isalpha():
            em += 0.62
        elif ch == " ":
            em += 0.35
        elif ch in "−—":
            em += 0.84
        else:
            em += 0.45
    return em * size


def _number_chars(lo: float, hi: float) -> float:
    """Width in digits of the longest tick label of a linear axis from ``lo`` to ``hi``, in
    plotly.js's default format (up to 4 digits, then k, M, G)."""
    def chars(span: float) -> float:
        span *= 1.1  # autorange pads bars by 5 %, and the last tick may be a rounder number
        if span >= 1e4:
            return len(str(int(span / 10 ** (3 * (int(math.log10(span)) // 3))))) + 1.5  # "150k", "2.5M"
        if span >= 10:
            return len(str(int(span)))
        if span >= 1:
            return 3  # "2.5"
        return 4 if span > 0 else 1  # "0.25"; "0"

    widest = chars(hi)
    if lo < 0 and -lo >= (hi - lo) / 8:  # a tick below zero, with its minus sign
        widest = max(widest, chars(-lo) + 1.3)
    return widest


def _numbers(axis_values: list, stacked: bool) -> tuple[float, float]:
    """The range bars of these values span (stacked: the sums per category, + and − apart)."""
    if not stacked:
        values = [v for _, v in axis_values if isinstance(v, (int, float)) and not math.isnan(v)]
        return min(values + [0.0]), max(values + [0.0])
    plus: dict = defaultdict(float)
    minus: dict = defaultdict(float)
    for category, v in axis_values:
        if isinstance(v, (int, float)) and not math.isnan(v):
            (plus if v >= 0 else minus)[category] += v
    return min(list(minus.values()) + [0.0]), max(list(plus.values()) + [0.0])


def _title(axis: dict) -> bool:
    """Whether plotly.js makes room for a title: any text set, even an empty one."""
    return isinstance((axis.get("title") or {}).get("text"), str)


def _left(axis: dict, pairs: list, stacked: bool) -> float:
    """The left margin a y axis on the figure's left edge needs."""
    if any(isinstance(v, str) for _, v in pairs):
        ticks = max(text_width(v) for _, v in pairs)
    else:
        ticks = _number_chars(*_numbers(pairs, stacked)) * 0.64 * FONT
    return ticks + TICK_PAD["y"] + (TITLE_DEPTH if _title(axis) else 0)


def _bottom(axis: dict, pairs: list, plot_width: float) -> dict:
    """The margins an x axis on the figure's bottom edge needs: below for its labels and title;
    left or right where slanted labels reach past the plot (the first leans left of its tick at a
    negative slant, the last right at a positive one)."""
    title = TITLE_DEPTH if _title(axis) else 0
    if not any(isinstance(v, str) for _, v in pairs):
        return {"b": LINE + TICK_PAD["x"] + title}
    labels = list(dict.fromkeys(str(v) for _, v in pairs))
    angle = axis.get("tickangle")
    if angle is None and sum(text_width(v) + FONT for v in labels) > SIDE_BY_SIDE:
        angle = axis["tickangle"] = SLANT
    a = math.radians(angle or 0)
    depth = max(text_width(v) for v in labels) * abs(math.sin(a)) + LINE * abs(math.cos(a))
    half = plot_width / len(labels) / 2  # from the plot's edge to the first (last) tick
    side = "r" if (angle or 0) > 0 else "l"
    end = text_width(labels[-1] if side == "r" else labels[0])
    reach = (end * abs(math.cos(a)) if angle else end / 2) - half + TICK_PAD["x"] + 4
    return {"b": depth + TICK_PAD["x"] + title, side: reach}


def fit(figure: dict, margin: dict) -> dict:
    """``margin`` widened where the figure's axes need more: the left axes (tick labels, title),
    the bottom axes (labels, title, and slanted labels reaching past the plot's sides); category
    axes whose labels would not stand side by side get a fixed slant (set on the figure). The
    legend is left to plotly.js (it makes room for it before drawing). Returns the margin."""
    layout, data = figure["layout"], figure["data"]
    stacked = layout.get("barmode", "relative") == "relative" and not any(t.get("type") == "funnel" for t in data)
    values: dict = defaultdict(list)  # axis name -> [(category, value)]
    for trace in data:
        xs, ys = list(trace.get("x") or []), list(trace.get("y") or [])
        xa, ya = "xaxis" + trace.get("xaxis", "x")[1:], "yaxis" + trace.get("yaxis", "y")[1:]
        horizontal = trace.get("orientation") == "h"
        for x, y in zip(xs, ys):
            values[xa].append((y, x) if horizontal else (None, x))
            values[ya].append((None, y) if horizontal else (x, y))
    need = {side: float(margin.get(side, 0)) for side in "lrb"}
    for name, axis in layout.items():
        if not name.startswith(("xaxis", "yaxis")) or name not in values:
            continue
        other = layout.get(("yaxis" if name[0] == "x" else "xaxis") + name[5:], {})
        if (other.get("domain") or [0])[0] > 0 or axis.get("showticklabels") is False:
            continue  # not on the figure's left or bottom edge, or no labels: pushes no margin
        if name[0] == "y":
            need["l"] = max(need["l"], _left(axis, values[name], stacked))
        else:
            domain = axis.get("domain") or [0, 1]
            for side, px in _bottom(axis, values[name], NOMINAL_PLOT * (domain[1] - domain[0])).items():
                need[side] = max(need[side], px)
    return {**margin, **{side: math.ceil(px) for side, px in need.items()}}
