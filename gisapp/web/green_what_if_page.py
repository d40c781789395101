"""The green-balance what-if (issue #18) at ``/green-what-if``: pick a zone, a parcel of it (or
none, for new land), an area and a green ratio, and see the zone's target, its green ratio and
margin now and after the project, whether it still balances, and the rule's own sentence.

An adapter: the inputs come from :mod:`gisapp.queries.green_what_if` (the frames the rule reads,
as the signed-in user), the answer from :func:`gisapp.rules.green_balance.what_if_in_zone`; bad
values are refused field by field with the edit forms' messages (gisapp.queries.edit_form).
The form is a GET: asking changes nothing, and a result can be linked.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template_string, request

from gisapp.db.engine import get_engine
from gisapp.errors import InputError
from gisapp.i18n import problem_texts, t
from gisapp.queries.edit_errors import FieldProblem
from gisapp.queries.edit_form import Form
from gisapp.queries.green_what_if import zone_inputs
from gisapp.queries.inventory import visible_zones
from gisapp.rules.green_balance import what_if_in_zone
from gisapp.web.auth import current_actor, request_lang
from gisapp.web.components import header_html, page_html, user_bar_html

green_what_if_page = Blueprint("green_what_if_page", __name__)

PATH = "/green-what-if"
#: parcel codes the form offers for the chosen zone at most (any code of the zone may be typed)
MAX_CHOICES = 3000
#: the page's words, keys of gisapp.i18n (``gwi.<name>``)
WORDS = ("title", "note", "zone", "parcel", "parcel_hint", "area", "area_hint", "ratio", "ratio_hint", "industrial",
         "submit", "result", "target", "ratio_before", "ratio_after", "margin_before", "margin_after", "verdict",
         "fits", "short", "min_ratio", "none_balances", "new_land", "on_parcel", "explanation", "nothing_assessed")
FIELDS = ("zone", "parcel", "area", "ratio")

# Jinja autoescapes every value.
BODY = """\
<h2>{{ x.title }}</h2>
<p class="gwi-note">{{ x.note }}</p>
{% if error %}<p id="gwi-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
<form id="gwi-form" class="edit-form" method="get" action="{{ path }}">
  <input type="hidden" name="lang" value="{{ lang }}">
  <div class="form-row"><label for="gwi-zone">{{ x.zone }}</label>
  <select id="gwi-zone" name="zone">
    {% for code, name in zones %}<option value="{{ code }}" {{ 'selected' if code == form.zone }}>{{ name }}</option>{% endfor %}
  </select>
  <div id="gwi-zone-error" class="field-error" role="alert">{{ errors.zone }}</div></div>
  <div class="form-row"><label for="gwi-parcel">{{ x.parcel }}</label>
  <input id="gwi-parcel" name="parcel" value="{{ form.parcel }}" list="gwi-parcel-codes" autocomplete="off"
    placeholder="{{ x.parcel_hint }}">
  <datalist id="gwi-parcel-codes">{% for c in codes %}<option value="{{ c }}">{% endfor %}</datalist>
  <div id="gwi-parcel-error" class="field-error" role="alert">{{ errors.parcel }}</div></div>
  <div class="form-row"><label for="gwi-area">{{ x.area }}</label>
  <input id="gwi-area" name="area" value="{{ form.area }}" inputmode="decimal" placeholder="{{ x.area_hint }}">
  <div id="gwi-area-error" class="field-error" role="alert">{{ errors.area }}</div></div>
  <div class="form-row"><label for="gwi-ratio">{{ x.ratio }}</label>
  <input id="gwi-ratio" name="ratio" value="{{ form.ratio }}" inputmode="decimal" placeholder="{{ x.ratio_hint }}">
  <div id="gwi-ratio-error" class="field-error" role="alert">{{ errors.ratio }}</div></div>
  <div class="form-row"><label for="gwi-industrial">
  <input id="gwi-industrial" name="industrial" type="checkbox" value="1" {{ 'checked' if form.industrial }}>
  {{ x.industrial }}</label></div>
  <button id="gwi-submit" type="submit" name="run" value="1">{{ x.submit }}</button>
</form>
{% if r %}<section id="gwi-result" class="gwi-result {{ 'fits' if r.fits else 'short' }}"
  data-fits="{{ 'true' if r.fits else 'false' }}">
<h3>{{ x.result }}{{ '：' if lang == 'zh' else ': ' }}{{ r.subject }}</h3>
<table class="record-table"><tbody>
<tr><th>{{ x.target }}</th><td id="gwi-target" data-value="{{ r.target }}">{{ r.target_s }}</td></tr>
<tr><th>{{ x.ratio_before }}</th><td id="gwi-ratio-before" data-value="{{ r.ratio_before }}">{{ r.ratio_before_s }}</td></tr>
<tr><th>{{ x.ratio_after }}</th><td id="gwi-ratio-after" data-value="{{ r.ratio_after }}">{{ r.ratio_after_s }}</td></tr>
<tr><th>{{ x.margin_before }}</th><td id="gwi-margin-before" data-value="{{ r.margin_before }}">{{ r.margin_before_s }}</td></tr>
<tr><th>{{ x.margin_after }}</th><td id="gwi-margin-after" data-value="{{ r.margin_after }}">{{ r.margin_after_s }}</td></tr>
<tr><th>{{ x.min_ratio }}</th><td id="gwi-min-ratio" data-value="{{ r.min_ratio }}">{{ r.min_ratio_s }}</td></tr>
<tr><th>{{ x.verdict }}</th><td id="gwi-verdict" class="gwi-verdict">{{ x.fits if r.fits else x.short }}</td></tr>
</tbody></table>
<p id="gwi-explanation" class="gwi-explanation">{{ r.explanation }}</p>
</section>{% endif %}
"""


def _pct(value: float | None, lang: str) -> str:
    return t("gwi.nothing_assessed", lang) if value is None else f"{value * 100:.2f}%"


def _m2(value: float) -> str:
    return f"{value:,.1f} m²"


def _check(lang: str, zones: dict[str, str]):
    """The values asked for, read field by field: (values, problems, inputs, parcel_id)."""
    args = request.args
    form = Form({name: args.get(name) for name in FIELDS})
    zone = form.choice("zone", zones, required=True)
    code = form.text("parcel", max_len=60)
    area = form.number("area", minimum=0, exclusive=True)
    ratio = form.number("ratio", required=True, minimum=0, maximum=100)
    inputs, parcel_id = None, None
    if zone:
        inputs = zone_inputs(get_engine(), current_actor(), zone)
        if code and "parcel" not in form.problems:
            parcel_id = inputs.parcel_id(code)
            if parcel_id is None:
                form.problems["parcel"] = FieldProblem("gwi.err.no_parcel", {"code": code, "zone": zones[zone]})
    if area is None and not code and "area" not in form.problems:
        form.problems["area"] = FieldProblem("gwi.err.area_or_parcel", {})
    if area is None and parcel_id is not None:
        area = inputs.parcel_area(parcel_id)
    return (zone, code, area, ratio), form.problems, inputs, parcel_id


@green_what_if_page.get(PATH)
def show():
    lang = request_lang()
    engine, actor = get_engine(), current_actor()
    zones = {z.code: (z.name_zh if lang == "zh" else z.name_en) for z in visible_zones(engine, actor).itertuples()}
    args = request.args
    form = {"zone": (args.get("zone") or "").strip()[:60] or next(iter(zones), ""),
            "parcel": (args.get("parcel") or "")[:60], "area": (args.get("area") or "")[:40],
            "ratio": (args.get("ratio") or "")[:40], "industrial": args.get("industrial") == "1"}
    errors: dict[str, str] = {}
    error, result, status, codes = None, None, 200, []
    if args.get("run"):
        (zone, code, area, ratio), problems, inputs, parcel_id = _check(lang, zones)
        errors = problem_texts(problems, lang)
        if problems:
            status = 400
        else:
            try:
                w = what_if_in_zone(inputs.frames["parcels"], inputs.frames["green_areas"], inputs.zone_id,
                                    float(area), float(ratio) / 100, parcel_id=parcel_id, as_of=dt.date.today(),
                                    overrides=inputs.frames["parameter_overrides"], industrial=form["industrial"])
            except InputError:  # the zone has no land to balance against (the values were checked above)
                error, status = t("gwi.err.no_land", lang, zone=zones[zone]), 400
            else:
                min_ratio = w.what_if.min_green_ratio
                subject = (t("gwi.on_parcel", lang, code=code, zone=zones[zone], area=_m2(float(area))) if parcel_id
                           else t("gwi.new_land", lang, zone=zones[zone], area=_m2(float(area))))
                result = {
                    "fits": w.fits, "subject": subject,
                    "target": w.target, "target_s": _pct(w.target, lang),
                    "ratio_before": "" if w.ratio_before is None else w.ratio_before,
                    "ratio_before_s": _pct(w.ratio_before, lang),
                    "ratio_after": w.ratio_after, "ratio_after_s": _pct(w.ratio_after, lang),
                    "margin_before": w.margin_before_m2, "margin_before_s": _m2(w.margin_before_m2),
                    "margin_after": w.margin_after_m2, "margin_after_s": _m2(w.margin_after_m2),
                    "min_ratio": "" if min_ratio is None else min_ratio,
                    "min_ratio_s": t("gwi.none_balances", lang) if min_ratio is None else _pct(min_ratio, lang),
                    "explanation": w.explanation_zh if lang == "zh" else w.explanation_en}
        if inputs is not None:
            codes = _codes(inputs.frames["parcels"])
    if not codes and form["zone"] in zones:
        codes = _codes(zone_inputs(engine, actor, form["zone"]).frames["parcels"])
    body = render_template_string(
        BODY, lang=lang, x={w: t(f"gwi.{w}", lang) for w in WORDS}, app_title=t("app.title", lang), path=PATH,
        user_bar=user_bar_html(lang), header=header_html(lang, PATH, {k: v for k, v in args.items() if k != "lang"}),
        zones=list(zones.items()), codes=codes, form=form, errors=errors, error=error, r=result)
    body = page_html(lang, PATH, {k: v for k, v in args.items() if k != "lang"}, t("gwi.title", lang), body, "gwi",
                     styles=("green_and_mixed.css",))
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _codes(parcels) -> list[str]:
    codes = parcels["code"].dropna().astype(str)
    return sorted(codes)[:MAX_CHOICES]
