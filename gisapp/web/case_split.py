"""The parcel split on a surplus land transfer case's page (issue #20): the form (the cut as
GeoJSON text or an uploaded GeoJSON file, the new parcel's code, the reason, the day) and, once
the split is made, what it made on a small map: an inline SVG of the parcel before the split,
the retained part and the new parcel (no tiles, no script: it draws offline and under the
pages' content security policy). The split itself is gisapp.casework.queries.split's; every
word from gisapp.i18n."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import render_template_string, request
from markupsafe import Markup

from gisapp.casework.queries.reading import reading
from gisapp.casework.queries.split import case_split, split_parcel
from gisapp.db.context import Actor
from gisapp.i18n import label, t
from gisapp.queries.edit_form import today

PATHWAY = "le_surplus_land_transfer"
#: the SVG map's size in pixels
WIDTH, HEIGHT, PAD = 360, 260, 12

FORM = """\
<form id="case-form-split" class="edit-form case-form" method="post" action="{{ action }}" enctype="multipart/form-data">
<h4>{{ title }}</h4><input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="split">
<p class="hint">{{ hint }}</p>
<div class="form-row"><label for="case-split-cut">{{ f.cut }}</label>
<textarea id="case-split-cut" name="cut" rows="5" cols="34" placeholder='{"type": "LineString", "coordinates": [[121.6, 31.3], [121.61, 31.31]]}'>{{ v.cut }}</textarea></div>
<div class="form-row"><label for="case-split-cut_file">{{ f.cut_file }}</label>
<input id="case-split-cut_file" name="cut_file" type="file" accept=".geojson,.json,application/geo+json,application/json"></div>
<div class="form-row"><label for="case-split-new_code">{{ f.new_code }}</label>
<input id="case-split-new_code" name="new_code" value="{{ v.new_code }}"></div>
<div class="form-row"><label for="case-split-reason">{{ f.reason }}</label>
<input id="case-split-reason" name="reason" value="{{ v.reason or default_reason }}"></div>
<div class="form-row"><label for="case-split-split_on">{{ f.split_on }}</label>
<input id="case-split-split_on" name="split_on" value="{{ v.split_on or today }}" placeholder="YYYY-MM-DD"></div>
<button id="case-split-submit" type="submit">{{ save }}</button></form>
"""

SECTION = """\
<section id="case-split" class="case-section"><h3>{{ title }}</h3>
<p id="case-split-summary">{{ summary }}</p>
<figure class="case-split-map"><svg id="case-split-map" xmlns="http://www.w3.org/2000/svg" width="{{ w }}" height="{{ h }}"
 viewBox="0 0 {{ w }} {{ h }}" role="img" aria-label="{{ map_title }}"><title>{{ map_title }}</title>
<rect width="{{ w }}" height="{{ h }}" fill="#f7f7f2"/>
<path id="case-split-retained" d="{{ retained }}" fill="#8fbf8f" fill-opacity="0.8" stroke="#2f6f2f" stroke-width="1.5" fill-rule="evenodd"/>
<path id="case-split-surplus" d="{{ surplus }}" fill="#f2b35e" fill-opacity="0.85" stroke="#a05a00" stroke-width="1.5" fill-rule="evenodd"/>
<path id="case-split-original" d="{{ original }}" fill="none" stroke="#333" stroke-width="1" stroke-dasharray="4 3"/>
</svg><figcaption><ul class="case-split-legend">
<li><span class="swatch" style="background:#8fbf8f"></span>{{ retained_label }}</li>
<li><span class="swatch" style="background:#f2b35e"></span>{{ surplus_label }}</li>
<li><span class="swatch dashed"></span>{{ original_label }}</li></ul></figcaption></figure>
</section>
"""


def may_split(data: dict) -> bool:
    """Whether the page offers the split: an open surplus land transfer case whose split is still
    to make, to a user who records the zone's steps (the database decides all the same)."""
    c = data["case"]
    if c["pathway"] != PATHWAY or c["closed_on"] is not None or not data["may_write"]:
        return False
    return any(s["step"] == "parcel_split" and s["state"] == "next" for s in data["steps"])


def form_html(data: dict, lang: str, values: dict, csrf: str, action: str) -> Markup:
    """The split form, where the user may split (empty otherwise)."""
    from gisapp.web.case_forms import field_words

    if not may_split(data):
        return Markup("")
    return Markup(render_template_string(
        FORM, title=t("case.page.form_split", lang), hint=t("case.page.split_hint", lang), f=field_words(lang),
        v=values, csrf=csrf, action=action, today=today().isoformat(), save=t("case.page.save", lang),
        default_reason=label("case_pathway", PATHWAY, lang)))


def split_values() -> dict[str, Any]:
    """The posted split: an uploaded file wins over the text box."""
    values = {k: request.form.get(k, "").strip() for k in ("new_code", "reason", "split_on")}
    upload = request.files.get("cut_file")
    content = upload.read() if upload is not None else b""
    values["cut"] = content if content.strip() else request.form.get("cut", "")
    return values


def apply_split(engine, actor: Actor, code: str, values: dict) -> None:
    split_parcel(engine, actor, code, values)


def section_html(engine, actor: Actor | None, data: dict, lang: str) -> Markup:
    """The split made in the case, with its map (empty when there is none)."""
    with reading(engine, actor) as conn:
        split = case_split(conn, data["case"]["id"])
    if split is None:
        return Markup("")
    shapes = {k: json.loads(split[k]) for k in ("original", "retained", "surplus")}
    paths = svg_paths(shapes, WIDTH, HEIGHT, PAD)
    from gisapp.web.components import editor

    summary = t("case.page.split_summary", lang, on=split["split_on"].isoformat(), parcel=split["parcel_code"],
                retained=f"{split['retained_area_m2']:,.1f}", surplus=f"{split['surplus_area_m2']:,.1f}",
                new=split["new_parcel_code"], kind=label("split.cut_kind", split["cut_kind"], lang),
                by=editor(split["done_by"], lang))
    return Markup(render_template_string(
        SECTION, title=t("case.page.split_title", lang), summary=summary, map_title=t("case.page.split_map", lang),
        w=WIDTH, h=HEIGHT, retained=paths["retained"], surplus=paths["surplus"], original=paths["original"],
        retained_label=f"{split['parcel_code']} · {label('split.part', 'retained', lang)}",
        surplus_label=f"{split['new_parcel_code']} · {label('split.part', 'surplus', lang)}",
        original_label=t("case.page.split_original", lang)))


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def svg_paths(shapes: dict[str, dict], width: int, height: int, pad: int) -> dict[str, str]:
    """SVG path data of GeoJSON polygons (lon/lat) on one frame that fits them all: longitudes
    shortened by cos(latitude), as a local map draws them, and north up.

    Example:
        >>> svg_paths({"a": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}, 12, 12, 1)["a"]
        'M1.0 11.0L11.0 11.0L11.0 1.0L1.0 11.0Z'
    """
    points = [p for g in shapes.values() for ring in _rings(g) for p in ring]
    if not points:
        return {k: "" for k in shapes}
    lat0 = sum(p[1] for p in points) / len(points)
    k = math.cos(math.radians(lat0))
    xs, ys = [p[0] * k for p in points], [p[1] for p in points]
    x0, y1 = min(xs), max(ys)
    span = max(max(xs) - x0, y1 - min(ys)) or 1.0
    scale = min(width, height) - 2 * pad
    dx = (width - scale * (max(xs) - x0) / span) / 2
    dy = (height - scale * (y1 - min(ys)) / span) / 2

    def at(p) -> str:
        return f"{dx + (p[0] * k - x0) / span * scale:.1f} {dy + (y1 - p[1]) / span * scale:.1f}"

    return {name: "".join("M" + "L".join(at(p) for p in ring) + "Z" for ring in _rings(g))
            for name, g in shapes.items()}
