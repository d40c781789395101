"""The forms of a case's page and what a submitted form does: record a step done, decide the
idle-land fee or another sum, record a payment, agree an extension (the new agreed start
date), close with an outcome, change the pathway, render the documents; and open a case by hand
(``/cases/new``). Each form is shown only to whom the database would let do it; the database
decides in every case, and its refusals come back through the project's error path
(gisapp.web.errors.edit_failure) as messages in the user's language.

Recording a step that issues a document renders the document at once (gisapp.casework.documents),
so the notice can be downloaded from the page right after."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template_string, request
from markupsafe import Markup

from gisapp.casework import queries as q
from gisapp.casework.documents import TemplateError, generate_documents
from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import TEXTS, label, t
from gisapp.queries import edits
from gisapp.queries.edit_form import today
from gisapp.web import case_split
from gisapp.web.auth import csrf_ok, csrf_token, current_actor, request_lang
from gisapp.web.components import page_url
from gisapp.web.errors import EDIT_ERRORS, edit_failure, error_page

case_forms = Blueprint("case_forms", __name__)

#: what each form posts to (gisapp.casework.queries), and whether it issues documents
ACTIONS = ("step", "fee", "money", "payment", "extension", "close", "pathway", "documents", "split")
ISSUES_DOCUMENTS = {"step", "fee", "extension"}
#: steps with a form of their own (the fee decision's amount, the extension's new dates, the split)
OWN_FORM = {"fee_decision": "fee", "supplementary_agreement": "extension", "parcel_split": "split"}
OTHER_MONEY = ("compensation", "repurchase_price", "price_adjustment")
PAYERS = ("land_user", "government")

FORMS = """\
{% macro text(form, name, value='', hint='') -%}
<div class="form-row"><label for="case-{{ form }}-{{ name }}">{{ f[name] }}</label>
<input id="case-{{ form }}-{{ name }}" name="{{ name }}" value="{{ value }}" {% if hint %}placeholder="{{ hint }}"{% endif %}></div>
{%- endmacro %}
{% macro select(form, name, options, chosen=None, blank=False) -%}
<div class="form-row"><label for="case-{{ form }}-{{ name }}">{{ f[name] }}</label>
<select id="case-{{ form }}-{{ name }}" name="{{ name }}">{% if blank %}<option value="">—</option>{% endif %}
{% for code, text in options %}<option value="{{ code }}" {{ 'selected' if code == chosen }}>{{ text }}</option>{% endfor %}</select></div>
{%- endmacro %}
{% macro head(form, title) -%}
<form id="case-form-{{ form }}" class="edit-form case-form" method="post" action="{{ action }}">
<h4>{{ title }}</h4><input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="action" value="{{ form }}">
{%- endmacro %}
{% macro submit(form) -%}<button id="case-{{ form }}-submit" type="submit">{{ x.save }}</button></form>{%- endmacro %}
{% if step_options %}{{ head('step', x.form_step) }}
{{ select('step', 'step', step_options, v.step) }}
{{ text('step', 'done_on', v.done_on or today, 'YYYY-MM-DD') }}
{{ select('step', 'result', result_options, v.result, blank=True) }}
{{ text('step', 'doc_no', v.doc_no) }}{{ text('step', 'note', v.note) }}
<p class="hint">{{ x.step_hint }}</p>{{ submit('step') }}{% endif %}
{% if fee %}{{ head('fee', x.form_fee) }}
<p class="hint">{{ fee_hint }}</p>
{{ text('fee', 'decided_on', v.decided_on or today, 'YYYY-MM-DD') }}{{ text('fee', 'served_on', v.served_on or today, 'YYYY-MM-DD') }}
{{ text('fee', 'doc_no', v.doc_no) }}{{ text('fee', 'note', v.note) }}{{ submit('fee') }}{% endif %}
{% if extension %}{{ head('extension', x.form_extension) }}
{{ text('extension', 'done_on', v.done_on or today, 'YYYY-MM-DD') }}{{ text('extension', 'new_start_on', v.new_start_on, 'YYYY-MM-DD') }}
{{ text('extension', 'new_completion_on', v.new_completion_on, 'YYYY-MM-DD') }}{{ text('extension', 'latest_start_on', v.latest_start_on, 'YYYY-MM-DD') }}
{{ text('extension', 'doc_no', v.doc_no) }}{{ text('extension', 'note', v.note) }}
<p class="hint">{{ x.extension_hint }}</p>{{ submit('extension') }}{% endif %}
{% if payment_options %}{{ head('payment', x.form_payment) }}
{{ select('payment', 'money_id', payment_options, v.money_id) }}
{{ text('payment', 'paid_wan', v.paid_wan) }}{{ text('payment', 'paid_on', v.paid_on or today, 'YYYY-MM-DD') }}
<div class="form-row"><label><input type="checkbox" id="case-payment-settle" name="settle" value="1" checked> {{ x.settle }}</label></div>
{{ submit('payment') }}{% endif %}
{% if money %}{{ head('money', x.form_money) }}
{{ select('money', 'purpose', purposes, v.purpose) }}{{ select('money', 'payer', payers, v.payer) }}
{{ text('money', 'amount_wan', v.amount_wan) }}{{ text('money', 'basis', v.basis) }}
{{ text('money', 'decided_on', v.decided_on or today, 'YYYY-MM-DD') }}{{ text('money', 'due_on', v.due_on, 'YYYY-MM-DD') }}
{{ text('money', 'note', v.note) }}{{ submit('money') }}{% endif %}
{% if outcome_options %}{{ head('close', x.form_close) }}
{{ select('close', 'outcome', outcome_options, v.outcome) }}{{ text('close', 'closed_on', v.closed_on or today, 'YYYY-MM-DD') }}
{{ text('close', 'freed_area_m2', v.freed_area_m2) }}{{ text('close', 'note', v.note) }}{{ submit('close') }}{% endif %}
{% if pathway_options %}{{ head('pathway', x.form_pathway) }}
{{ select('pathway', 'pathway', pathway_options, v.pathway) }}{{ text('pathway', 'reason', v.reason) }}{{ submit('pathway') }}{% endif %}
"""


def field_words(lang: str) -> dict[str, str]:
    """The forms' field names (``case.field.<name>``)."""
    prefix = "case.field."
    return {k[len(prefix):]: t(k, lang) for k in TEXTS if k.startswith(prefix)}


def forms_html(data: dict, lang: str, values: dict) -> Markup:
    """The forms the signed-in user may use on this case (none on a closed case but payments)."""
    from gisapp.web.case_pages import words

    case, timeline = data["case"], data["timeline"]
    is_open = case["closed_on"] is None
    write, decide = data["may_write"], data["may_decide"]
    upcoming = {s.step: s for s in timeline.next_steps}
    step_options, results = [], {}
    if write and is_open:
        for s in data["steps"]:
            if s["state"] != "next" or s["step"] in OWN_FORM or (s["who"] == "bureau" and not decide):
                continue
            step_options.append((s["step"], label("case_step", s["step"], lang)))
            for r in s.get("results") or ():
                results[r] = label("case_result", r, lang)
    outstanding = [m for m in timeline.money if m["outstanding_wan"] > 0]
    fee_hint = ""
    if decide and is_open and "fee_decision" in upcoming and data["grant"] and data["grant"]["price_wan"] is not None:
        fee_hint = t("case.page.fee_hint", lang, price=f"{data['grant']['price_wan']:,.2f}")
    html = render_template_string(
        FORMS, x=words(lang), f=field_words(lang), v=values, today=today().isoformat(), csrf=csrf_token(),
        action=page_url(f"/cases/{quote(case['code'])}", lang),
        step_options=step_options, result_options=sorted(results.items(), key=lambda kv: kv[0]),
        fee=decide and is_open and "fee_decision" in upcoming, fee_hint=fee_hint,
        extension=decide and is_open and "supplementary_agreement" in upcoming,
        payment_options=[(str(m["id"]), f"{label('case_money', m['purpose'], lang)} · {m['amount_wan']:,.2f}")
                         for m in outstanding] if write else [],
        money=decide and is_open, purposes=[(p, label("case_money", p, lang)) for p in OTHER_MONEY],
        payers=[(p, label("case_payer", p, lang)) for p in PAYERS],
        outcome_options=[(o, label("case_outcome", o, lang)) for o in data["outcomes"]] if decide and is_open else [],
        pathway_options=[(p, label("case_pathway", p, lang)) for p in data["pathways"] if p != case["pathway"]]
        if decide and is_open else [])
    # the parcel split of a surplus land transfer (gisapp.web.case_split)
    return Markup(html.strip()) + case_split.form_html(data, lang, values, csrf_token(),
                                                       page_url(f"/cases/{quote(case['code'])}", lang))


def _values() -> dict[str, str]:
    return {k: v.strip()[:500] for k, v in request.form.items() if k not in ("csrf", "action")}


def _apply(action: str, code: str, values: dict) -> None:
    engine, actor = get_engine(), current_actor()
    if action == "step":
        if values.get("step") in OWN_FORM:
            raise edits.ValidationFailed({"step": edits.FieldProblem("case.err.own_form", {})})
        q.record_step(engine, actor, code, values)
    elif action == "fee":
        q.decide_fee(engine, actor, code, values)
    elif action == "extension":
        q.record_extension(engine, actor, code, {**values, "agreed_on": values.get("done_on")})
    elif action == "money":
        q.decide_money(engine, actor, code, values)
    elif action == "payment":
        q.record_payment(engine, actor, code, {**values, "settle": bool(values.get("settle"))})
    elif action == "close":
        q.close_case(engine, actor, code, values)
    elif action == "pathway":
        q.set_pathway(engine, actor, code, values)
    elif action == "documents":
        generate_documents(engine, actor, code)
    elif action == "split":
        case_split.apply_split(engine, actor, code, case_split.split_values())


def _failure(exc: Exception, lang: str, action: str) -> tuple[int, str, list[tuple[str, str]]]:
    """(status, message, per-field messages) of a refusal, in ``lang``."""
    if isinstance(exc, edits.EditRefused):
        role = current_actor().role if current_actor() else ""
        return 403, t("case.page.refused", lang, action=t(f"case.page.form_{action}", lang),
                      role=label("role", role, lang)), []
    failure = edit_failure(exc, lang)
    names = field_words(lang)
    fields = [(names.get(name, names["_form"]), msg) for name, msg in failure.fields.items()]
    message = failure.message
    if isinstance(exc, NotFoundError):
        message = t("case.page.not_found", lang)
    return failure.status, message, fields


@case_forms.post("/cases/<code>")
def submit(code: str):
    from gisapp.web.case_pages import render_case

    lang, code = request_lang(), code[:60]
    action = request.form.get("action", "")
    if not csrf_ok():
        return render_case(code, lang, 400, error=t("case.page.bad_token", lang))
    if action not in ACTIONS:
        return render_case(code, lang, 400, error=t("case.page.bad_action", lang))
    values = _values()
    try:
        _apply(action, code, values)
    except EDIT_ERRORS as exc:
        status, message, fields = _failure(exc, lang, action)
        if status == 404:
            return error_page(404, t("case.err.unknown_case", lang, code=code), lang)
        return render_case(code, lang, status, error=message, field_errors=fields, form_values=values)
    except TemplateError:
        return render_case(code, lang, 422, error=t("case.page.render_failed", lang))
    extra = {}
    if action in ISSUES_DOCUMENTS:
        try:
            generate_documents(get_engine(), current_actor(), code)
        except (TemplateError, *EDIT_ERRORS):
            extra["unrendered"] = "1"   # the step stands; the page says the document is still to render
    return redirect(page_url(f"/cases/{quote(code)}", lang, done=action, **extra), 303)


# -- opening a case by hand ---------------------------------------------------------------------------

NEW_BODY = """\
<h2 id="case-new-title">{{ x.new_title }}</h2>
{% if error %}<div id="case-error" class="form-error" role="alert"><p>{{ error }}</p>
{% if field_errors %}<ul id="case-error-fields">{% for name, msg in field_errors %}<li>{{ name }}：{{ msg }}</li>{% endfor %}</ul>{% endif %}</div>{% endif %}
{% if allowed %}<form id="case-form-new" class="edit-form case-form" method="post" action="{{ action }}">
<input type="hidden" name="csrf" value="{{ csrf }}">
<div class="form-row"><label for="case-new-kind">{{ f.kind }}</label><select id="case-new-kind" name="kind">
{% for code, text in kinds %}<option value="{{ code }}" {{ 'selected' if code == v.kind }}>{{ text }}</option>{% endfor %}</select></div>
<div class="form-row"><label for="case-new-pathway">{{ f.pathway }}</label><select id="case-new-pathway" name="pathway">
<option value="">—</option>{% for code, text in pathways %}<option value="{{ code }}" {{ 'selected' if code == v.pathway }}>{{ text }}</option>{% endfor %}</select></div>
<div class="form-row"><label for="case-new-parcel">{{ f.parcel }}</label><input id="case-new-parcel" name="parcel" value="{{ v.parcel }}"></div>
<div class="form-row"><label for="case-new-zone">{{ f.zone }}</label><select id="case-new-zone" name="zone"><option value="">—</option>
{% for code, text in zones %}<option value="{{ code }}" {{ 'selected' if code == v.zone }}>{{ text }}</option>{% endfor %}</select></div>
<div class="form-row"><label for="case-new-opened_on">{{ f.opened_on }}</label><input id="case-new-opened_on" name="opened_on" value="{{ v.opened_on or today }}"></div>
<div class="form-row"><label for="case-new-responsible_body">{{ f.responsible_body }}</label><input id="case-new-responsible_body" name="responsible_body" value="{{ v.responsible_body }}"></div>
<div class="form-row"><label for="case-new-idle_clock_from">{{ f.idle_clock_from }}</label><input id="case-new-idle_clock_from" name="idle_clock_from" value="{{ v.idle_clock_from }}" placeholder="YYYY-MM-DD"></div>
<div class="form-row"><label for="case-new-note">{{ f.note }}</label><input id="case-new-note" name="note" value="{{ v.note }}"></div>
<p class="hint">{{ x.new_hint }}</p>
<button id="case-new-submit" type="submit">{{ x.open_case }}</button></form>{% endif %}
"""


def _new_page(lang: str, values: dict, status: int = 200, error: str | None = None,
              field_errors: list | None = None) -> Response:
    from gisapp.casework.page_data import choices
    from gisapp.queries.dashboard import zones
    from gisapp.web.case_pages import _html, words

    actor = current_actor()
    allowed = actor is not None and actor.role == "bureau_admin"
    known = choices(get_engine())
    body = render_template_string(
        NEW_BODY, x=words(lang), f=field_words(lang), v=values, today=today().isoformat(), csrf=csrf_token(),
        action=page_url("/cases/new", lang), allowed=allowed, error=error if allowed else t("case.page.new_forbidden", lang),
        field_errors=field_errors or [], kinds=[(k, label("case_kind", k, lang)) for k in known.kinds],
        pathways=[(p, f"{label('case_kind', k, lang)} · {label('case_pathway', p, lang)}") for p, k in known.pathways],
        zones=[(z.code, z.name_zh if lang == "zh" else z.name_en) for z in zones(get_engine()).itertuples()])
    return _html(lang, "/cases/new", {k: v for k, v in values.items() if k == "parcel" and v}, words(lang)["new_title"],
                 body, status if allowed else 403)


@case_forms.get("/cases/new")
def new_case():
    lang = request_lang()
    return _new_page(lang, {"parcel": (request.args.get("parcel") or "")[:100],
                            "kind": (request.args.get("kind") or "idle_land_disposal")[:40]})


@case_forms.post("/cases/new")
def open_new_case():
    lang = request_lang()
    values = _values()
    if not csrf_ok():
        return _new_page(lang, values, 400, t("case.page.bad_token", lang))
    try:
        result = q.open_case(get_engine(), current_actor(), values)
    except EDIT_ERRORS as exc:
        status, message, fields = _failure(exc, lang, "new")
        return _new_page(lang, values, status, message, fields)
    return redirect(page_url(f"/cases/{quote(result.case_code)}", lang, done="opened"), 303)
