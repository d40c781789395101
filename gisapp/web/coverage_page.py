"""The regional assessments running out within a number of days (issue #18): ``/coverage?days=90``
(the number in the URL, 90 by default), soonest first, with the zone, the kind and the last day of
validity. An adapter over :mod:`gisapp.queries.coverage`; the map shows today's coverage per zone
(layer ``assessment_coverage``)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string, request

from gisapp.errors import InputError
from gisapp.i18n import t
from gisapp.queries.coverage import expiring_assessments, parse_days
from gisapp.queries.meta import is_synthetic
from gisapp.web.auth import request_lang
from gisapp.web.components import header_html, page_html
from gisapp.web.engine import web_engine

coverage_page = Blueprint("coverage_page", __name__)

WORDS = ("title", "days", "show", "zone", "kind", "valid_to", "days_left", "document", "empty", "map_note")

BODY = """\
<h2 id="coverage-title">{{ x.title }}</h2>
{% if error %}<p id="coverage-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
<form id="coverage-filter" method="get" action="/coverage">
  <input type="hidden" name="lang" value="{{ lang }}">
  <label for="coverage-days">{{ x.days }}</label>
  <input id="coverage-days" name="days" type="number" min="0" max="3650" value="{{ days }}">
  <button id="coverage-show" type="submit">{{ x.show }}</button>
</form>
<p id="coverage-summary">{{ summary }}</p>
{% if rows %}<table id="coverage-table" class="record-table"><thead><tr><th>{{ x.zone }}</th><th>{{ x.kind }}</th>
<th>{{ x.valid_to }}</th><th>{{ x.days_left }}</th><th>{{ x.document }}</th></tr></thead><tbody>
{% for r in rows %}<tr class="coverage-row" data-zone="{{ r.zone_code }}" data-kind="{{ r.kind }}"><td>{{ r.zone }}</td>
<td>{{ r.kind_name }}</td><td>{{ r.valid_to }}</td><td class="num">{{ r.days_left }}</td><td>{{ r.document_ref }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p id="coverage-empty">{{ x.empty }}</p>{% endif %}
<p class="inventory-note">{{ x.map_note }}{% if synthetic %} <span id="coverage-synthetic">{{ synthetic }}</span>{% endif %}</p>
"""


@coverage_page.get("/coverage")
def show():
    lang = request_lang()
    error, status = None, 200
    try:
        days = parse_days(request.args.get("days"))
    except InputError:
        error, status, days = t("coverage.page.bad_days", lang, days=(request.args.get("days") or "")[:10]), 400, 90
    engine = web_engine()
    frame = expiring_assessments(engine, days)
    rows = [{"zone_code": r.zone_code, "zone": r.zone_name_zh if lang == "zh" else r.zone_name_en, "kind": r.kind,
             "kind_name": r.kind_zh if lang == "zh" else r.kind_en, "valid_to": r.valid_to.isoformat(),
             "days_left": r.days_left, "document_ref": r.document_ref or ""} for r in frame.itertuples()]
    body = render_template_string(
        BODY, lang=lang, x={w: t(f"coverage.page.{w}", lang) for w in WORDS}, app_title=t("app.title", lang),
        header=header_html(lang, "/coverage", {"days": str(days)}), days=days, error=error, rows=rows,
        summary=t("coverage.page.summary", lang, n=len(rows), days=days),
        synthetic=t("app.synthetic", lang) if is_synthetic(engine) else "")
    body = page_html(lang, "/coverage", {"days": str(days)}, t("coverage.page.title", lang), body, "inventory")
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})
