"""The land inventories as parcel lists (issue #18): 批而未供 (approved, not supplied) and 供而未用
(supplied, not built), each at ``/inventory/<kind>`` for the zones the signed-in user may see,
one zone by ``?zone=CODE``, and each downloadable as Excel (``.xlsx``) and GeoPackage (``.gpkg``)
with the same rows. An adapter over :mod:`gisapp.queries.inventory` and :mod:`gisapp.io.writers`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import pandas as pd
from flask import Blueprint, Response, redirect, render_template_string, request

from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import t
from gisapp.io.writers import write_frame
from gisapp.queries.dashboard import check_zone
from gisapp.queries.inventory import COLUMNS, KINDS, check_kind, inventory, visible_zones
from gisapp.queries.meta import is_synthetic
from gisapp.web.auth import current_actor, request_lang
from gisapp.web.components import header_html, page_html

inventory_page = Blueprint("inventory_page", __name__)

#: rows the page draws at most (the downloads hold every row)
MAX_ROWS = 2000
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "gpkg": "application/geopackage+sqlite3"}
#: the page's words, keys of gisapp.i18n (``inventory.page.<name>``)
WORDS = ("title", "note", "zone", "all_zones", "show", "download", "xlsx", "gpkg", "empty")

# Jinja autoescapes every value.
BODY = """\
<h2>{{ x.title }}</h2>
<nav id="inventory-kinds" class="inventory-kinds">{% for k, label, href in kinds %}
<a id="inventory-kind-{{ k }}" href="{{ href }}" class="{{ 'current' if k == kind }}"
  {% if k == kind %}aria-current="page"{% endif %}>{{ label }}</a>{% endfor %}</nav>
{% if error %}<p id="inventory-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
<form id="inventory-filter" method="get" action="/inventory/{{ kind }}">
  <input type="hidden" name="lang" value="{{ lang }}">
  <label for="inventory-zone">{{ x.zone }}</label>
  <select id="inventory-zone" name="zone">
    <option value="">{{ x.all_zones }}</option>
    {% for code, name in zones %}<option value="{{ code }}" {{ 'selected' if code == zone }}>{{ name }}</option>{% endfor %}
  </select>
  <button id="inventory-show" type="submit">{{ x.show }}</button>
</form>
<h3 id="inventory-heading">{{ heading }}</h3>
<p id="inventory-summary">{{ summary }}</p>
<p class="inventory-downloads">{{ x.download }}
  <a id="inventory-download-xlsx" href="{{ downloads.xlsx }}">{{ x.xlsx }}</a>
  <a id="inventory-download-gpkg" href="{{ downloads.gpkg }}">{{ x.gpkg }}</a></p>
<p class="inventory-note">{{ x.note }}{% if synthetic %} {{ synthetic }}{% endif %}</p>
{% if rows %}<table id="inventory-table" class="record-table"><thead><tr>
{% for c in columns %}<th>{{ labels[c] }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}<tr class="inventory-row" data-code="{{ r.code }}">
<td><a href="/parcel/{{ r.code | urlencode }}?lang={{ lang }}">{{ r.code }}</a></td><td>{{ r.zone_name }}</td>
<td class="num">{{ r.area_ha }}</td><td class="num">{{ r.area_mu }}</td><td>{{ r.since }}</td>
<td class="num">{{ r.days }}</td><td>{{ r.land_use }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="inventory-empty">{{ x.empty }}</p>{% endif %}
{% if more %}<p id="inventory-more">{{ more }}</p>{% endif %}
"""

#: what the page's table shows (the downloads carry every column of COLUMNS)
SHOWN = ("code", "zone_name", "area_ha", "area_mu", "since", "days", "land_use")


def _url(path: str, lang: str, zone: str | None) -> str:
    return f"{path}?{urlencode({'lang': lang, **({'zone': zone} if zone else {})})}"


def _zone_arg() -> str | None:
    return (request.args.get("zone") or "").strip()[:60] or None


def _blank(value) -> str:
    return "" if pd.isna(value) else str(value)  # None, NaN, NaT and NA alike


@inventory_page.get("/inventory")
def first():
    return redirect(_url(f"/inventory/{KINDS[0]}", request_lang(), _zone_arg()))


@inventory_page.get("/inventory/<kind>")
def show(kind: str):
    lang = request_lang()
    check_kind(kind)
    zone = _zone_arg()
    engine, actor = get_engine(), current_actor()
    zones = [(z.code, z.name_zh if lang == "zh" else z.name_en) for z in visible_zones(engine, actor).itertuples()]
    error, status = None, 200
    try:
        check_zone(engine, zone)
    except NotFoundError:
        error, status, zone = t("inventory.page.unknown_zone", lang, zone=zone), 404, None
    if zone and zone not in dict(zones):
        # a zone editor asking for another zone: the database would list nothing; say why
        error, status = t("inventory.page.not_your_zone", lang, zone=zone), 403
    frame = inventory(engine, actor, kind, zone, lang)
    heading = t(f"outcome.{kind}", lang)
    zone_label = dict(zones).get(zone, zone) if zone else t("inventory.page.all_zones", lang)
    summary = t("inventory.page.summary", lang, n=len(frame), zone=zone_label,
                ha=f"{frame['area_ha'].sum():,.2f}", mu=f"{frame['area_mu'].sum():,.1f}")
    if len(frame):
        summary += t("inventory.page.as_of", lang, day=max(frame["as_of"]).isoformat())
    rows = [{c: _blank(v) for c, v in r.items()} for r in frame.head(MAX_ROWS)[list(SHOWN)].to_dict("records")]
    body = render_template_string(
        BODY, lang=lang, x={w: t(f"inventory.page.{w}", lang) for w in WORDS}, app_title=t("app.title", lang),
        header=header_html(lang, f"/inventory/{kind}", {"zone": zone} if zone else {}),
        kinds=[(k, t(f"outcome.{k}", lang), _url(f"/inventory/{k}", lang, zone)) for k in KINDS],
        kind=kind, zone=zone, zones=zones, heading=heading, summary=summary, error=error,
        downloads={ext: _url(f"/inventory/{kind}.{ext}", lang, zone) for ext in FORMATS},
        synthetic=t("app.synthetic", lang) if is_synthetic(engine) else "",
        columns=SHOWN, labels={c: COLUMNS[c][0 if lang == "zh" else 1] for c in COLUMNS}, rows=rows,
        more=t("inventory.page.more", lang, n=len(frame) - MAX_ROWS) if len(frame) > MAX_ROWS else "")
    body = page_html(lang, f"/inventory/{kind}", {"zone": zone} if zone else {}, heading, body, "inventory")
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


@inventory_page.get("/inventory/<kind>.<ext>")
def download(kind: str, ext: str):
    """The list as a file: every row the page lists, with geometry (EPSG:4490), labels in both
    languages on Excel's 说明 sheet."""
    lang = request_lang()
    check_kind(kind)
    if ext not in FORMATS:
        raise NotFoundError(f"unknown export format {ext[:10]!r}; known: {', '.join(FORMATS)}")
    zone = _zone_arg()
    engine = get_engine()
    check_zone(engine, zone)
    frame = inventory(engine, current_actor(), kind, zone, lang, geometry=True)
    gdf = gpd.GeoDataFrame(frame, geometry="geom", crs=4490)
    name = f"{kind}_{zone or 'all'}"
    with tempfile.TemporaryDirectory(prefix="gisapp-inventory-") as tmp:
        path = write_frame(gdf, Path(tmp) / f"{name}.{ext}", layer_name=kind, labels=COLUMNS,
                           note=t("app.synthetic", lang) if is_synthetic(engine) else None)
        data = path.read_bytes()
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}.{ext}"'}
    return Response(data, mimetype=FORMATS[ext], headers=headers)
