"""The case pages (issue #20): ``/cases`` (the cases the user may read, filtered, counted, each
linked to its page and its parcel), ``/cases/<code>`` (a case's facts, its steps as a timeline
with due dates and overdue flags, money, documents, audit trail, and the forms of what the
signed-in user may do), ``/cases/<code>/documents/<id>.docx`` (a document's stored file) and
``/cases/new`` (a bureau admin opens a case by hand). Flask pages in the app's frame, like the
other admin pages; the forms post back to the page (gisapp.web.case_forms).

Adapters only: the lists and records come from gisapp.casework (queries, page_data,
documents), as the signed-in user (row-level security: a zone editor sees its zones' cases; a
case outside them is not found). Every word from gisapp.i18n.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from flask import Blueprint, Response, render_template_string, request

from gisapp.casework.documents.store import stored_file
from gisapp.casework.page_data import case_page, choices, stages
from gisapp.casework.queries import list_cases
from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import label, t
from gisapp.queries.inventory import visible_zones
from gisapp.queries.meta import is_synthetic
from gisapp.web.auth import csrf_token, current_actor, request_lang
from gisapp.web.case_split import section_html
from gisapp.web.case_trail import trail_rows
from gisapp.web.components import editor, page_html, page_url, when
from gisapp.web.errors import error_page

case_pages = Blueprint("case_pages", __name__)

#: rows the list draws at most
MAX_ROWS = 1000
STATES = ("open", "closed", "all")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def words(lang: str) -> dict[str, str]:
    """The pages' words (``case.page.<name>`` of gisapp.i18n)."""
    from gisapp.i18n import TEXTS

    prefix = "case.page."
    return {k[len(prefix):]: t(k, lang) for k in TEXTS if k.startswith(prefix) and "{" not in TEXTS[k]["en"]}


def _html(lang: str, path: str, query: dict, title: str, body: str, status: int = 200) -> Response:
    page = page_html(lang, path, query, title, body, "cases", styles=("cases.css",))
    return Response(page, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _wan(value) -> str:
    return f"{Decimal(value):,.2f}" if value is not None else "—"


# -- the list ----------------------------------------------------------------------------------------

LIST_BODY = """\
<h2 id="cases-title">{{ x.list_title }}</h2>
{% if error %}<p id="cases-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
<form id="cases-filter" class="cases-filter" method="get" action="/cases">
  <input type="hidden" name="lang" value="{{ lang }}">
  <label>{{ x.zone }} <select id="cases-zone" name="zone"><option value="">{{ x.all }}</option>
    {% for code, name in zones %}<option value="{{ code }}" {{ 'selected' if code == f.zone }}>{{ name }}</option>{% endfor %}
  </select></label>
  <label>{{ x.kind }} <select id="cases-kind" name="kind"><option value="">{{ x.all }}</option>
    {% for code, name in kinds %}<option value="{{ code }}" {{ 'selected' if code == f.kind }}>{{ name }}</option>{% endfor %}
  </select></label>
  <label>{{ x.pathway }} <select id="cases-pathway" name="pathway"><option value="">{{ x.all }}</option>
    {% for code, name in pathways %}<option value="{{ code }}" {{ 'selected' if code == f.pathway }}>{{ name }}</option>{% endfor %}
  </select></label>
  <label>{{ x.stage }} <select id="cases-stage" name="stage"><option value="">{{ x.all }}</option>
    {% for code, name in stage_choices %}<option value="{{ code }}" {{ 'selected' if code == f.stage }}>{{ name }}</option>{% endfor %}
  </select></label>
  <label>{{ x.state }} <select id="cases-state" name="state">
    {% for code, name in states %}<option value="{{ code }}" {{ 'selected' if code == f.state }}>{{ name }}</option>{% endfor %}
  </select></label>
  <label><input type="checkbox" id="cases-overdue" name="overdue" value="1" {{ 'checked' if f.overdue }}> {{ x.overdue_only }}</label>
  <label><input type="checkbox" id="cases-unpaid" name="unpaid" value="1" {{ 'checked' if f.unpaid }}> {{ x.unpaid_only }}</label>
  <button id="cases-show" type="submit">{{ x.show }}</button>
</form>
<p id="cases-summary">{{ summary }}</p>
{% if by_kind %}<ul id="cases-counts" class="cases-counts">{% for name, n in by_kind %}<li>{{ name }}：{{ n }}</li>{% endfor %}</ul>{% endif %}
{% if rows %}<table id="cases-table" class="record-table"><thead><tr>
<th>{{ x.code }}</th><th>{{ x.kind }}</th><th>{{ x.pathway }}</th><th>{{ x.zone }}</th><th>{{ x.parcel }}</th>
<th>{{ x.opened_on }}</th><th>{{ x.stage }}</th><th>{{ x.next_step }}</th><th>{{ x.next_due }}</th>
<th>{{ x.money_due }}</th><th>{{ x.outcome }}</th></tr></thead><tbody>
{% for r in rows %}<tr class="cases-row{{ ' overdue' if r.overdue }}" data-code="{{ r.code }}">
<td><a class="cases-link" href="{{ r.href }}">{{ r.code }}</a></td><td>{{ r.kind }}</td><td>{{ r.pathway }}</td>
<td>{{ r.zone }}</td><td>{% if r.parcel %}<a href="{{ r.parcel_href }}">{{ r.parcel }}</a>{% else %}—{% endif %}</td>
<td>{{ r.opened_on }}</td><td>{{ r.stage }}</td><td>{{ r.next_step }}</td>
<td>{{ r.next_due }}{% if r.overdue %} <span class="overdue-flag">{{ x.overdue }}</span>{% endif %}</td>
<td class="num">{{ r.money_due }}</td><td>{{ r.outcome }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="cases-empty">{{ x.empty }}</p>{% endif %}
{% if more %}<p id="cases-more">{{ more }}</p>{% endif %}
{% if synthetic %}<p class="cases-note">{{ synthetic }}</p>{% endif %}
"""


def _filters() -> dict:
    def arg(name: str) -> str | None:
        return (request.args.get(name) or "").strip()[:60] or None

    state = arg("state") or "open"
    return {"zone": arg("zone"), "kind": arg("kind"), "pathway": arg("pathway"), "stage": arg("stage"),
            "state": state if state in STATES else "open", "overdue": bool(arg("overdue")),
            "unpaid": bool(arg("unpaid"))}


@case_pages.get("/cases")
def case_list():
    lang = request_lang()
    engine, actor = get_engine(), current_actor()
    f = _filters()
    x = words(lang)
    known = choices(engine)
    zones = [(z.code, z.name_zh if lang == "zh" else z.name_en) for z in visible_zones(engine, actor).itertuples()]
    zone_names = dict(zones)
    error, status = None, 200
    for name, allowed in (("kind", known.kinds), ("pathway", [p for p, _k in known.pathways]),
                          ("stage", known.stages)):
        if f[name] and f[name] not in allowed:
            error, status, f[name] = t("case.page.unknown_filter", lang, value=f[name]), 400, None
    if f["zone"] and f["zone"] not in zone_names:
        # another zone's cases do not exist for a zone editor (and an unknown zone for nobody)
        error, status, f["zone"] = t("case.page.not_your_zone", lang, zone=f["zone"]), 403, None
    summaries = list_cases(engine, actor, zone=f["zone"], kind=f["kind"], pathway=f["pathway"], state=f["state"],
                           overdue_only=f["overdue"])
    stage_of = stages(engine, actor)
    if f["stage"]:
        summaries = [s for s in summaries if stage_of.get(s.code) == f["stage"]]
    if f["unpaid"]:
        summaries = [s for s in summaries if s.money_due_wan > 0]
    rows = []
    for s in summaries[:MAX_ROWS]:
        overdue = bool(s.overdue_steps) or s.money_overdue_wan > 0
        rows.append({
            "code": s.code, "href": page_url(f"/cases/{quote(s.code)}", lang), "kind": label("case_kind", s.kind, lang),
            "pathway": label("case_pathway", s.pathway, lang), "zone": zone_names.get(s.zone_code, s.zone_code),
            "parcel": s.parcel_code, "parcel_href": page_url(f"/parcel/{quote(s.parcel_code or '')}", lang),
            "opened_on": s.opened_on.isoformat(), "stage": label("case_stage", stage_of.get(s.code), lang),
            "next_step": "、".join(label("case_step", n, lang) for n in s.next_steps) if lang == "zh"
            else ", ".join(label("case_step", n, lang) for n in s.next_steps),
            "next_due": s.next_due_on.isoformat() if s.next_due_on else "—", "overdue": overdue,
            "money_due": _wan(s.money_due_wan) if s.money_due_wan else "—",
            "outcome": label("case_outcome", s.outcome, lang) if s.outcome else "—"})
    by_kind: dict[str, int] = {}
    for s in summaries:
        by_kind[label("case_kind", s.kind, lang)] = by_kind.get(label("case_kind", s.kind, lang), 0) + 1
    summary = t("case.page.summary", lang, n=len(summaries),
                overdue=sum(1 for s in summaries if s.overdue_steps or s.money_overdue_wan > 0),
                unpaid=_wan(sum((s.money_due_wan for s in summaries), Decimal(0))))
    query = {k: ("1" if v is True else v) for k, v in f.items() if v and not (k == "state" and v == "open")}
    body = render_template_string(
        LIST_BODY, lang=lang, x=x, f=f, zones=zones, rows=rows, summary=summary, error=error,
        by_kind=sorted(by_kind.items()), kinds=[(k, label("case_kind", k, lang)) for k in known.kinds],
        pathways=[(p, label("case_pathway", p, lang)) for p, _k in known.pathways],
        stage_choices=[(s, label("case_stage", s, lang)) for s in known.stages],
        states=[(s, t(f"case.page.state_{s}", lang)) for s in STATES],
        more=t("case.page.more", lang, n=len(summaries) - MAX_ROWS) if len(summaries) > MAX_ROWS else "",
        synthetic=t("app.synthetic", lang) if is_synthetic(engine) else "")
    return _html(lang, "/cases", query, x["list_title"], body, status)


# -- one case ----------------------------------------------------------------------------------------

CASE_BODY = """\
<p><a id="case-back" href="{{ back }}">{{ x.back_to_list }}</a></p>
<h2 id="case-title">{{ title }}</h2>
{% if error %}<div id="case-error" class="form-error" role="alert"><p>{{ error }}</p>
{% if field_errors %}<ul id="case-error-fields">{% for name, msg in field_errors %}<li>{{ name }}：{{ msg }}</li>{% endfor %}</ul>{% endif %}</div>{% endif %}
{% if done %}<p id="case-done" class="form-ok" role="status">{{ done }}</p>{% endif %}
{% if warning %}<p id="case-warning" class="form-error" role="status">{{ warning }}</p>{% endif %}
<section class="case-section"><h3>{{ x.facts }}</h3>
<table id="case-facts" class="detail-table">{% for name, value, href, id in facts %}<tr><th>{{ name }}</th>
<td{% if id %} id="{{ id }}"{% endif %}>{% if href %}<a href="{{ href }}">{{ value }}</a>{% else %}{{ value }}{% endif %}</td></tr>{% endfor %}</table>
</section>
<section class="case-section"><h3>{{ x.steps }}</h3>
<p class="hint">{{ as_of_note }}</p>
<table id="case-steps" class="record-table timeline"><thead><tr><th>{{ x.step }}</th><th>{{ x.who }}</th>
<th>{{ x.article }}</th><th>{{ x.state }}</th><th>{{ x.due_on }}</th><th>{{ x.done_on }}</th><th>{{ x.result }}</th>
<th>{{ x.recorded_by }}</th></tr></thead><tbody>
{% for s in steps %}<tr class="case-step {{ s.css }}" data-step="{{ s.code }}"><td>{{ s.label }}{% if s.optional %} <span class="muted">{{ x.optional }}</span>{% endif %}</td>
<td>{{ s.who }}</td><td>{{ s.article }}</td><td class="case-step-state">{{ s.state }}{% if s.flag %} <span class="overdue-flag">{{ s.flag }}</span>{% endif %}</td>
<td>{{ s.due_on }}</td><td>{{ s.done_on }}</td><td>{{ s.result }}</td><td>{{ s.by }}</td></tr>{% endfor %}
</tbody></table></section>
<section class="case-section"><h3>{{ x.money }}</h3>
{% if money %}<table id="case-money" class="record-table"><thead><tr><th>{{ x.purpose }}</th><th>{{ x.payer }}</th>
<th>{{ x.amount }}</th><th>{{ x.basis }}</th><th>{{ x.decided_on }}</th><th>{{ x.due_on }}</th><th>{{ x.paid }}</th>
<th>{{ x.paid_on }}</th><th>{{ x.outstanding }}</th></tr></thead><tbody>
{% for m in money %}<tr class="case-money-row{{ ' overdue' if m.overdue }}" data-purpose="{{ m.purpose_code }}"><td>{{ m.purpose }}</td><td>{{ m.payer }}</td>
<td class="num">{{ m.amount }}</td><td>{{ m.basis }}</td><td>{{ m.decided_on }}</td><td>{{ m.due_on }}</td>
<td class="num case-money-paid">{{ m.paid }}</td><td>{{ m.paid_on }}</td><td class="num">{{ m.outstanding }}{% if m.overdue %} <span class="overdue-flag">{{ x.overdue }}</span>{% endif %}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="case-money" class="empty">{{ x.no_money }}</p>{% endif %}
</section>
<section class="case-section"><h3>{{ x.documents }}</h3>
{% if documents %}<table id="case-documents" class="record-table"><thead><tr><th>{{ x.document }}</th><th>{{ x.doc_no }}</th>
<th>{{ x.issued_on }}</th><th>{{ x.file }}</th><th>{{ x.rendered }}</th></tr></thead><tbody>
{% for d in documents %}<tr class="case-document" data-kind="{{ d.kind_code }}"><td>{{ d.kind }}</td><td>{{ d.doc_no }}</td><td>{{ d.issued_on }}</td>
<td>{% if d.href %}<a class="case-document-link" href="{{ d.href }}">{{ x.download }}</a>{% else %}{{ x.no_file }}{% endif %}</td>
<td>{{ d.rendered }}</td></tr>{% endfor %}</tbody></table>
{% if may_write %}<form id="case-form-documents" method="post" action="{{ action }}"><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="action" value="documents"><button id="case-documents-render" type="submit">{{ x.render_missing }}</button></form>{% endif %}
{% else %}<p id="case-documents" class="empty">{{ x.no_documents }}</p>{% endif %}
</section>
{{ split }}
{% if forms %}<section class="case-section case-forms"><h3>{{ x.actions }}</h3>{{ forms }}</section>{% endif %}
<section class="case-section"><h3>{{ x.audit }}</h3>
{% if audit %}<table id="case-audit" class="record-table"><thead><tr><th>{{ x.changed_at }}</th><th>{{ x.changed_by }}</th>
<th>{{ x.change }}</th></tr></thead><tbody>{% for a in audit %}<tr><td>{{ a.at }}</td><td>{{ a.who }}</td><td>{{ a.what }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p id="case-audit" class="empty">{{ x.no_audit }}</p>{% endif %}
</section>
{% if synthetic %}<p class="cases-note">{{ synthetic }}</p>{% endif %}
"""


def _facts(data: dict, lang: str) -> list[tuple]:
    c, finding, grant = data["case"], data["finding"], data["grant"]
    zone = c["zone_name_zh"] if lang == "zh" else c["zone_name_en"]
    rows = [
        (t("case.page.code", lang), c["code"], None, "case-code"),
        (t("case.page.kind", lang), label("case_kind", c["kind"], lang), None, None),
        (t("case.page.pathway", lang), label("case_pathway", c["pathway"], lang), None, "case-pathway"),
        (t("case.page.stage", lang), label("case_stage", data["stage"], lang) if c["closed_on"] is None
         else t("case.page.state_closed", lang), None, "case-stage"),
        (t("case.page.zone", lang), zone, None, None),
    ]
    if c.get("parcel_code"):
        rows.append((t("case.page.parcel", lang), c["parcel_code"], page_url(f"/parcel/{quote(c['parcel_code'])}", lang),
                     "case-parcel"))
    if c.get("finding_rule"):
        text = f"{label('rule', c['finding_rule'], lang)} · {label('outcome', c['finding_outcome'], lang)}"
        if finding:
            text += f" · #{finding['id']} · {finding['as_of']}"
        rows.append((t("case.page.finding", lang), text, None, "case-finding"))
        if finding:
            rows.append((t("case.page.finding_text", lang), finding[f"explanation_{lang}"] or finding["explanation_zh"],
                         None, None))
    if grant:
        rows.append((t("case.page.grant", lang), f"{grant['contract_no']} · {_wan(grant['price_wan'])} "
                     f"{t('case.page.wan', lang)}", None, None))
    rows += [
        (t("case.page.idle_clock_from", lang), c["idle_clock_from"] or "—", None, None),
        (t("case.page.body", lang), c["responsible_body"], None, "case-body"),
        (t("case.page.opened", lang), t("case.page.opened_value", lang, on=c["opened_on"],
                                         by=editor(c["opened_by"], lang), via=label("case_via", c["opened_via"], lang)),
         None, None),
        (t("case.page.outcome", lang), label("case_outcome", c["outcome"], lang) if c["outcome"] else
         t("case.page.state_open", lang), None, "case-outcome"),
    ]
    if c["closed_on"]:
        rows.append((t("case.page.closed", lang), f"{c['closed_on']} · {editor(c['closed_by'], lang)}", None,
                     "case-closed"))
    if c.get("freed_area_m2") is not None:
        rows.append((t("case.page.freed_area", lang), f"{c['freed_area_m2']:,.1f} m²", None, None))
    return rows


def _steps(data: dict, lang: str) -> list[dict]:
    out = []
    for s in data["steps"]:
        rec, nxt = s["record"], s["next"]
        flag, css = "", s["state"]
        if rec and rec.get("late_days"):
            flag = t("case.page.late", lang, days=rec["late_days"])
        if nxt is not None and nxt.overdue:
            flag, css = t("case.page.overdue_days", lang, days=nxt.days_overdue), "next overdue"
        due = (rec or {}).get("due_on") or (nxt.due_on if nxt else None)
        out.append({"code": s["step"], "label": label("case_step", s["step"], lang), "optional": s["optional"],
                    "who": label("case_who", s["who"], lang) if s.get("who") else "—", "article": s["article"],
                    "state": t(f"case.page.step_{s['state']}", lang), "css": css, "flag": flag,
                    "due_on": due.isoformat() if due else "—",
                    "done_on": rec["done_on"].isoformat() if rec else "—",
                    "result": label("case_result", rec["result"], lang) if rec and rec.get("result") else "",
                    "by": editor(rec["done_by"], lang) if rec else ""})
    return out


def _money(data: dict, lang: str) -> list[dict]:
    return [{"purpose_code": m["purpose"], "purpose": label("case_money", m["purpose"], lang),
             "payer": label("case_payer", m["payer"], lang), "amount": _wan(m["amount_wan"]), "basis": m["basis"],
             "decided_on": m["decided_on"].isoformat(), "due_on": m["due_on"].isoformat() if m["due_on"] else "—",
             "paid": _wan(m["paid_wan"]), "paid_on": m["paid_on"].isoformat() if m["paid_on"] else "—",
             "outstanding": _wan(m["outstanding_wan"]), "overdue": m["overdue"]}
            for m in data["timeline"].money]


def _documents(data: dict, lang: str) -> list[dict]:
    code = data["case"]["code"]
    out = []
    for d in data["timeline"].documents:
        f = data["files"].get(d["id"])
        out.append({"kind_code": d["kind"], "kind": label("case_document", d["kind"], lang),
                    "doc_no": d["doc_no"] or "—", "issued_on": d["issued_on"].isoformat(),
                    "href": page_url(f"/cases/{quote(code)}/documents/{d['id']}.docx", lang) if f else None,
                    "rendered": t("case.page.rendered_value", lang, at=when(f["rendered_at"]),
                                  by=editor(f["rendered_by"], lang), n=f["renderings"]) if f else "—"})
    return out


def render_case(code: str, lang: str, status: int = 200, error: str | None = None,
                field_errors: list[tuple[str, str]] | None = None, done: str | None = None,
                warning: str | None = None, form_values: dict | None = None) -> Response:
    """The page of case ``code`` (with a form's answer: ``error`` and its fields, or ``done``)."""
    from gisapp.web.case_forms import forms_html

    engine, actor = get_engine(), current_actor()
    data = case_page(engine, actor, code)
    x = words(lang)
    c = data["case"]
    path = f"/cases/{quote(code)}"
    body = render_template_string(
        CASE_BODY, lang=lang, x=x, title=t("case.page.title", lang, code=c["code"],
                                           kind=label("case_kind", c["kind"], lang)),
        back=page_url("/cases", lang), error=error, field_errors=field_errors or [], done=done, warning=warning,
        facts=_facts(data, lang), steps=_steps(data, lang), money=_money(data, lang),
        documents=_documents(data, lang), audit=trail_rows(data["audit"], lang),
        as_of_note=t("case.page.as_of", lang, day=data["timeline"].as_of.isoformat()),
        may_write=data["may_write"], action=page_url(path, lang), csrf=csrf_token(),
        forms=forms_html(data, lang, form_values or {}), split=section_html(engine, actor, data, lang),
        synthetic=t("app.synthetic", lang) if is_synthetic(engine) else "")
    return _html(lang, path, {}, t("case.page.title", lang, code=c["code"], kind=label("case_kind", c["kind"], lang)),
                 body, status)


@case_pages.get("/cases/<code>")
def case_detail(code: str):
    lang = request_lang()
    done = request.args.get("done")
    message = t(f"case.page.done.{done}", lang) if done in DONE_KEYS else None
    warning = t("case.page.render_failed", lang) if request.args.get("unrendered") else None
    try:
        return render_case(code[:60], lang, done=message, warning=warning)
    except NotFoundError:
        # a case outside a zone editor's zones is not said to exist, as an unknown one
        return error_page(404, t("case.err.unknown_case", lang, code=code[:60]), lang)


#: the forms' success messages (case.page.done.<action>)
DONE_KEYS = ("step", "fee", "money", "payment", "extension", "close", "pathway", "documents", "opened", "split")


@case_pages.get("/cases/<code>/documents/<int:document_id>.docx")
def case_document(code: str, document_id: int):
    lang = request_lang()
    try:
        found = stored_file(get_engine(), current_actor(), code[:60], document_id)
    except NotFoundError:
        return error_page(404, t("case.page.no_such_document", lang, code=code[:60]), lang)
    ascii_name = f"{code[:60]}-{document_id}.docx"
    headers = {"Cache-Control": "no-store",
               "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(found.filename)}"}
    return Response(found.content, mimetype=DOCX, headers=headers)
