"""The parcel page, /parcel/<code>: detail, status history, recorded changes, the parcel as it
was on a chosen date, the rules' findings, and the edit forms, shown only where the database
would let the signed-in user write (the forms' saves are refused by PostgreSQL otherwise).

Adapters only: the callbacks read the form, call ``gisapp.queries.edits`` as the signed-in user,
and show the answer (saved / field messages / conflict with the current values).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from gisapp.casework.page_data import case_of_finding, parcel_cases
from gisapp.catalog.registry import get_layer
from gisapp.db.engine import get_engine
from gisapp.errors import NotFoundError
from gisapp.i18n import label, problem_texts, t
from gisapp.queries import edits
from gisapp.queries.live import Freshness, parcel_freshness
from gisapp.queries.parcel_record import change_text, parcel_as_of, parcel_record
from gisapp.render.style import hideout
from gisapp.web.auth import current_actor
from gisapp.web.components import editor, header, page_lang, page_url, when
from gisapp.web.errors import EDIT_ERRORS, conflict_changes, edit_failure, saved_message
from gisapp.web.forms import FORMS, field_id, render_form
from gisapp.web.parcel_panel import freshness_text
from gisapp.web.pilot_badge import pilot_badge

dash.register_page(__name__, path_template="/parcel/<code>", name="parcel", title="地块 · Parcel")


#: the columns of the construction progress table, in order
PROGRESS_COLUMNS = ("reported_on", "started_on", "should_develop_area_m2", "developed_area_m2", "invested_wan",
                    "total_investment_wan", "completed_on", "accepted_on")
#: how often an open parcel page asks whether its findings changed (a light query)
LIVE_POLL_MS = 2000


def layout(code: str | None = None, lang: str | None = None, **_query) -> html.Div:
    # the language travels in the URL (?lang=en), as on every page (gisapp.web.components)
    lang = page_lang({"lang": lang})
    return html.Div(
        [
            header(lang, f"/parcel/{quote(code or '')}"),
            dcc.Store(id="parcel-code", data=code),
            dcc.Store(id="parcel-lang", data=lang),
            dcc.Store(id="parcel-refresh", data=0),
            dcc.Store(id="parcel-flash", data=None),
            # findings follow the worker without a reload (gisapp.rules.worker)
            dcc.Interval(id="parcel-live-poll", interval=LIVE_POLL_MS),
            dcc.Store(id="parcel-findings-stamp", data=None),
            html.Div(id="parcel-body", className="parcel-body"),
        ],
        className="page parcel-page",
    )


# -- read-only parts -------------------------------------------------------------------------


def _name(row: dict, base: str, lang: str) -> str:
    return str(row.get(f"{base}_{lang}") or row.get(f"{base}_zh") or "")


def _table(table_id: str, headers: list[str], rows: list[list], lang: str) -> html.Div | html.Table:
    if not rows:
        return html.P(t("parcel.none", lang), id=table_id, className="empty")
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            # a cell is text, or a component (a link to a finding's case)
            html.Tbody([html.Tr([html.Td("" if v is None else v if isinstance(v, html.A) else str(v)) for v in r])
                        for r in rows]),
        ],
        id=table_id,
        className="record-table",
    )


def _attributes(p: dict, lang: str) -> html.Table:
    updated = f"{editor(p.get('updated_by'), lang)} · {when(p.get('updated_at'))}"
    rows = [
        ("field.code", p["code"], "parcel-code-value"),
        ("field.zone", _name(p, "zone_name", lang), None),
        ("field.status", _name(p, "status", lang), "parcel-status-value"),
        ("field.status_since", p.get("status_since"), None),
        ("field.land_use", f"{p['land_use_code']} {_name(p, 'land_use', lang)}", None),
        ("field.area_m2", p.get("area_m2"), None),
        ("field.enterprise", _name(p, "enterprise", lang) or "—", None),
        ("field.version", p.get("version"), "parcel-version-value"),
        ("field.updated", updated, None),
    ]
    return html.Table(
        [
            html.Tr(
                [
                    html.Th(t(key, lang)),
                    html.Td("" if v is None else str(v), id=i) if i else html.Td("" if v is None else str(v)),
                ]
            )
            for key, v, i in rows
        ],
        id="parcel-attributes",
        className="detail-table",
    )


def _mini_map(p: dict) -> html.Div:
    """The parcel drawn with the parcels layer's own style, so its status colour is the map's."""
    import dash_leaflet as dl

    geometry = p["geometry"]
    ring = geometry["coordinates"][0][0] if geometry["type"] == "MultiPolygon" else geometry["coordinates"][0]
    lons, lats = [c[0] for c in ring], [c[1] for c in ring]
    feature = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": p["id"],
                "geometry": geometry,
                "properties": {"code": p["code"], "status": p["status"]},
            }
        ],
    }
    bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    return html.Div(
        dl.Map(
            [
                dl.GeoJSON(
                    id="parcel-map-feature",
                    data=feature,
                    hideout=hideout(get_layer("parcels")),
                    style={"variable": "gisapp.style"},
                )
            ],
            id="parcel-map",
            bounds=bounds,
            # dash-leaflet 1.1.3 reports the viewport by comparing it with the ``center`` prop,
            # which a map framed by ``bounds`` has not ("reading 'equals'" of undefined on
            # every load); this map reports nothing, so it does not track its viewport
            trackViewport=False,
            style={"height": "220px", "width": "100%"},
        ),
        className="parcel-map",
        **{"data-status": p["status"]},
    )


def _history_note(h: dict, lang: str) -> str | None:
    """The note of a status change; one a finding's review made says which finding."""
    if h.get("note") or not h.get("review_effect"):
        return h.get("note")
    return t(f"parcel.history_review_{h['review_effect']}", lang, finding=h["review_finding"],
             outcome=label("outcome", h["review_outcome"], lang))


def _history(record: dict, lang: str):
    rows = [
        [
            h["changed_on"],
            _name(h, "from", lang) or "—",
            _name(h, "to", lang),
            h["reason"],
            _history_note(h, lang),
            editor(h["changed_by"], lang),
        ]
        for h in record["history"]
    ]
    return _table(
        "parcel-history",
        [
            t(k, lang)
            for k in (
                "field.changed_on",
                "field.from_status",
                "field.to_status",
                "field.reason",
                "field.note",
                "field.changed_by",
            )
        ],
        rows,
        lang,
    )


def _changes(record: dict, lang: str):
    rows = []
    for c in record["changes"]:
        action, what = change_text(c, lang)
        rows.append(
            [
                when(c["changed_at"]),
                action,
                what,
                editor(c["who"], lang),
                c.get("reason"),
            ]
        )
    return _table(
        "parcel-changes",
        [
            t(k, lang)
            for k in ("field.changed_at", "field.action", "field.what", "field.changed_by", "field.reason")
        ],
        rows,
        lang,
    )


def _finding_case(record: dict, f: dict, lang: str) -> html.A | str:
    """The review of a finding, with a link to the case its confirmation opened."""
    decision = t(f"finding.{f['review_status']}", lang)
    code = case_of_finding(record.get("cases", []), f)
    if code is None:
        return decision
    return html.A(f"{decision} · {t('parcel.finding_case', lang, code=code)}",
                  href=page_url(f"/cases/{quote(code)}", lang), className="parcel-finding-case")


def _cases(record: dict, lang: str) -> html.Div:
    """The parcel's cases (open first) with links, and for a bureau admin the way to open one."""
    items = []
    for c in record.get("cases", []):
        if c["closed_on"] is None:
            nxt = label("case_step", c["next_step"], lang) if c["next_step"] else t("detail.case_nothing_next", lang)
            state = t("parcel.case_open_since", lang, on=c["opened_on"], next=nxt)
        else:
            state = t("parcel.case_closed", lang, on=c["closed_on"], outcome=label("case_outcome", c["outcome"], lang))
        line = [html.A(t("parcel.case_line", lang, code=c["code"], kind=label("case_kind", c["kind"], lang),
                         pathway=label("case_pathway", c["pathway"], lang), state=state),
                       href=page_url(f"/cases/{quote(c['code'])}", lang), className="parcel-case-link")]
        if c["finding_rule"]:
            line.append(html.Div(t("parcel.case_from_finding", lang, rule=label("rule", c["finding_rule"], lang),
                                   outcome=label("outcome", c["finding_outcome"], lang)), className="hint"))
        items.append(html.Li(line, className="parcel-case", **{"data-open": "1" if c["closed_on"] is None else "0"}))
    body = [html.Ul(items, id="parcel-cases") if items else html.P(t("parcel.no_cases", lang), id="parcel-cases",
                                                                  className="empty")]
    if record.get("may_open_case"):
        body.append(html.A(t("parcel.open_case", lang), id="parcel-open-case",
                           href=page_url("/cases/new", lang, parcel=record["parcel"]["code"])))
    return html.Div(body)


def _findings(record: dict, lang: str):
    rows = [
        [
            f["id"],
            label("rule", f["rule"], lang),
            label("outcome", f["outcome"], lang) + (f" · {t('parcel.finding_pending', lang)}" if f.get("pending") else ""),
            f[f"explanation_{lang}"] if f"explanation_{lang}" in f else f["explanation_zh"],
            _finding_case(record, f, lang),
            f.get("review_reason"),
            editor(f.get("reviewed_by"), lang),
        ]
        for f in record["findings"]
    ]
    if not rows:
        return html.P(t("parcel.no_findings", lang), id="parcel-findings", className="empty")
    return _table(
        "parcel-findings",
        [
            "#",
            t("field.rule", lang),
            t("field.outcome", lang),
            t("parcel.findings", lang),
            t("field.decision", lang),
            t("field.reason", lang),
            t("field.changed_by", lang),
        ],
        rows,
        lang,
    )


def _records(record: dict, lang: str) -> dict[str, html.Div | html.Table]:
    req = [
        [
            r["grant_id"],
            _name(r, "indicator", lang),
            t(f"stage.{r['review_stage']}", lang),
            r.get("min_value"),
            r.get("max_value"),
            label("unit", r["unit"], lang) if r.get("unit") else "",
        ]
        for r in record["requirements"]
    ]
    grants = [
        [
            g["contract_no"],
            g["granted_on"],
            g.get("term_years"),
            g.get("price_wan"),
            "✓" if g["is_standardized"] else "",
        ]
        for g in record["grants"]
    ]
    return {
        "grant-requirements": html.Div(
            [
                _table(
                    "parcel-grants",
                    [
                        t(f"field.{k}", lang)
                        for k in ("contract_no", "granted_on", "term_years", "price_wan", "is_standardized")
                    ],
                    grants,
                    lang,
                ),
                _table(
                    "parcel-requirements",
                    [
                        t("field.grant", lang),
                        t("field.indicator", lang),
                        t("field.review_stage", lang),
                        t("field.min_value", lang),
                        t("field.max_value", lang),
                        "",
                    ],
                    req,
                    lang,
                ),
            ]
        ),
        "progress": _table(
            "parcel-progress",
            [t(f"field.{k}", lang) for k in PROGRESS_COLUMNS],
            [[r[k] for k in PROGRESS_COLUMNS] for r in record["progress"]],
            lang,
        ),
        "metrics": _table(
            "parcel-metrics",
            [
                t(f"field.{k}", lang)
                for k in ("year", "revenue_wan", "tax_wan", "value_added_wan", "energy_tce", "employees")
            ],
            [
                [
                    r[k]
                    for k in ("year", "revenue_wan", "tax_wan", "value_added_wan", "energy_tce", "employees")
                ]
                for r in record["metrics"]
            ],
            lang,
        ),
        "mixed-use": _table(
            "parcel-mixed",
            [t("field.land_use", lang), "%", "m²"],
            [
                [
                    f"{r['land_use_code']} {_name(r, 'name', lang)}",
                    r["floor_share_pct"],
                    r.get("floor_area_m2"),
                ]
                for r in record["mixed_use"]
            ],
            lang,
        ),
        "green-areas": _table(
            "parcel-green",
            [t("field.measured_on", lang), t("field.green_area_m2", lang)],
            [[r["measured_on"], r["green_area_m2"]] for r in record["green"]],
            lang,
        ),
        "quota-requests": _table(
            "parcel-quota",
            [t(f"field.{k}", lang) for k in ("requested_on", "resource", "amount", "request_status")],
            [[r["requested_on"], label("resource", r["resource"], lang), r["amount"],
              label("quota_request", r["status"], lang)] for r in record["quota_requests"]],
            lang,
        ),
        "geometry": html.Div(),
    }


# -- the edit forms: options, defaults and what each save needs besides the fields -----------


def _form_setup(record: dict, lang: str) -> tuple[dict, dict, dict]:
    """(options per form and field, default values per form, context per form)."""
    p, ref = record["parcel"], record["reference"]

    def named(rows, key="code", base="name"):
        return [{"label": f"{_name(r, base, lang)}", "value": r[key]} for r in rows]

    options = {
        "status": {"to_status": named(record["next_statuses"])},
        "review": {
            "finding_id": [
                {"label": f"#{f['id']} {label('rule', f['rule'], lang)} · {label('outcome', f['outcome'], lang)}",
                 "value": f["id"]}
                for f in record["findings"]
            ],
            "decision": [
                {"label": t("edit.confirm", lang), "value": "confirmed"},
                {"label": t("edit.dismiss", lang), "value": "dismissed"},
            ],
        },
        "grant-requirements": {
            "grant_id": [{"label": g["contract_no"], "value": g["id"]} for g in record["grants"]],
            "indicator": [
                {
                    "label": f"{_name(r, 'name', lang)} ({label('unit', r['unit'], lang)})"
                    if r["unit"]
                    else _name(r, "name", lang),
                    "value": r["code"],
                }
                for r in ref["indicators"]
            ],
            "review_stage": [
                {"label": t(f"stage.{s}", lang), "value": s} for s in ("acceptance", "production", "periodic")
            ],
        },
        "metrics": {
            "grading_category": [
                {"label": t(f"grading.{g}", lang), "value": g}
                for g in ("regular", "small", "startup", "under_construction")
            ]
        },
        "quota-requests": {
            "account_id": [
                {
                    "label": f"{a['year']} {_name(a, 'resource', lang)} ({label('unit', a['unit'], lang)}) · {a['name']}",
                    "value": a["id"],
                }
                for a in record["quota_accounts"]
            ]
        },
    }
    values = {
        "metrics": {"grading_category": "regular"},
        "mixed-use": {
            "components": "\n".join(
                f"{r['land_use_code']} {r['floor_share_pct']:g}" for r in record["mixed_use"]
            )
        },
        "geometry": {"geom": json.dumps(p["geometry"])},
        "grant-requirements": {
            "review_stage": "acceptance",
            "grant_id": record["grants"][-1]["id"] if record["grants"] else None,
        },
    }
    context = {
        "status": {"version": p["version"]},
        "geometry": {"version": p["version"]},
        "mixed-use": {"expected": [[r["id"], r["version"]] for r in record["mixed_use"]]},
        "review": {"versions": {str(f["id"]): f["version"] for f in record["findings"]}},
    }
    return options, values, context


def _section(title: str, body, form=None, form_id: str | None = None) -> html.Section:
    children = [html.H3(title), body]
    if form is not None:
        children.append(form)
    extra = {"id": f"parcel-section-{form_id}"} if form_id else {}
    return html.Section(children, className="parcel-section", **extra)


def render_body(record: dict, lang: str, flash: dict | None, freshness: Freshness | None = None) -> list:
    p = record["parcel"]
    may_edit = record["may_edit"]
    options, values, context = _form_setup(record, lang) if may_edit else ({}, {}, {})

    def form(form_id: str):
        if not may_edit:
            return None
        if form_id == "review" and not record["findings"]:
            return None
        if form_id == "grant-requirements" and not record["grants"]:
            return None
        if form_id == "quota-requests" and not record["quota_accounts"]:
            return None
        body = [
            dcc.Store(id=f"parcel-{form_id}-context", data=context.get(form_id, {})),
            render_form(FORMS[form_id], lang, options.get(form_id), values.get(form_id)),
        ]
        if form_id == "status":  # the everyday edit stays open; the others open on demand
            return html.Div(body)
        return html.Details(
            [html.Summary(t("edit.open_form", lang), id=f"parcel-{form_id}-open"), *body],
            id=f"parcel-{form_id}-details",
            className="edit-details",
        )

    records = _records(record, lang)
    head = [
        html.A(t("parcel.back_to_map", lang), href=page_url("/", lang, parcel=p["code"]), id="parcel-back"),
        html.H2(t("parcel.title", lang, code=p["code"]), id="parcel-title"),
    ]
    if record.get("pilot"):
        head.append(pilot_badge(record, lang))
    if flash:
        head.append(
            html.Div(
                flash.get("text"),
                id="parcel-flash-msg",
                className=f"flash {flash.get('kind', 'ok')}",
                role="status",
            )
        )
    if not may_edit:
        head.append(html.P(t("parcel.read_only", lang), id="parcel-read-only", className="read-only"))
    return [
        # the record as this page shows it: a stale edit's message shows what changed since
        dcc.Store(id="parcel-seen", data={k: v for k, v in p.items()
                                          if k not in ("geometry", "updated_at", "updated_by")}),
        html.Div(head, className="parcel-head"),
        html.Div(
            [
                html.Div(
                    [
                        _section(
                            t("parcel.attributes", lang),
                            html.Div([_attributes(p, lang), _mini_map(p)]),
                            form("status"),
                            "status",
                        ),
                        _section(t("parcel.history", lang), _history(record, lang)),
                        _section(
                            t("parcel.as_of", lang),
                            html.Div(
                                [
                                    dcc.Input(
                                        id="parcel-asof-date",
                                        type="text",
                                        placeholder="YYYY-MM-DD",
                                        className="field-input",
                                    ),
                                    html.Button(
                                        t("parcel.as_of_show", lang), id="parcel-asof-show", n_clicks=0
                                    ),
                                    html.Div(id="parcel-asof-result"),
                                ]
                            ),
                        ),
                        _section(
                            t("parcel.findings", lang),
                            html.Div(_live_findings(record, freshness, lang), id="parcel-findings-live"),
                            form("review"),
                            "review",
                        ),
                        _section(t("parcel.cases", lang), _cases(record, lang)),
                    ],
                    className="parcel-col",
                ),
                html.Div(
                    [
                        _section(t(FORMS[f].title, lang), records[f], form(f), f)
                        for f in ("grant-requirements", "progress", "metrics", "mixed-use", "green-areas",
                                  "quota-requests", "geometry")
                        if f != "geometry" or may_edit  # nothing to show but the form
                    ]
                    + [_section(t("parcel.changes", lang), _changes(record, lang))],
                    className="parcel-col",
                ),
            ],
            className="parcel-cols",
        ),
    ]


@callback(
    Output("parcel-body", "children"),
    Output("parcel-findings-stamp", "data"),
    Input("parcel-code", "data"),
    Input("parcel-refresh", "data"),
    State("parcel-lang", "data"),
    State("parcel-flash", "data"),
)
def show_parcel(code, _refresh, lang, flash):
    """The whole page for the signed-in user (re-drawn after each save)."""
    lang = lang or "zh"
    try:
        record = parcel_record(get_engine(), current_actor(), code or "")
    except NotFoundError:
        return html.P(
            t("parcel.not_found", lang, code=code or ""), id="parcel-not-found", className="form-error"
        ), None
    freshness = parcel_freshness(get_engine(), current_actor(), code or "")
    _with_cases(record, code or "")
    return render_body(record, lang, flash, freshness), freshness.stamp()


def _with_cases(record: dict, code: str) -> dict:
    """The parcel's cases (gisapp.casework.page_data), and whether the user may open one."""
    actor = current_actor()
    record["cases"] = parcel_cases(get_engine(), actor, code)
    record["may_open_case"] = actor is not None and actor.role == "bureau_admin"
    return record


@callback(
    Output("parcel-findings-live", "children"),
    Output("parcel-findings-stamp", "data", allow_duplicate=True),
    Input("parcel-live-poll", "n_intervals"),
    State("parcel-findings-stamp", "data"),
    State("parcel-code", "data"),
    State("parcel-lang", "data"),
    prevent_initial_call=True,
)
def follow_findings(_n, seen, code, lang):
    """The findings again when the worker made new ones current or a change became pending."""
    actor = current_actor()
    try:
        freshness = parcel_freshness(get_engine(), actor, code or "")
    except NotFoundError:
        return no_update, no_update
    if freshness.stamp() == seen:
        return no_update, no_update
    record = _with_cases(parcel_record(get_engine(), actor, code or ""), code or "")
    return _live_findings(record, freshness, lang or "zh"), freshness.stamp()


def _live_findings(record: dict, freshness: Freshness | None, lang: str) -> list:
    """The findings with how fresh they are: as of when, or pending while a change waits."""
    status = []
    if freshness is not None:
        text, pending = freshness_text(freshness.to_dict(), lang)
        status = [html.P(text, id="parcel-findings-status",
                         className="findings-status pending" if pending else "findings-status")]
    return status + [_findings(record, lang)]


@callback(
    Output("parcel-asof-result", "children"),
    Input("parcel-asof-show", "n_clicks"),
    State("parcel-asof-date", "value"),
    State("parcel-code", "data"),
    State("parcel-lang", "data"),
    prevent_initial_call=True,
)
def show_as_of(_n, day, code, lang):
    lang = lang or "zh"
    form = edits.Form({"on": day})
    on = form.date("on", required=True, not_future=False)
    if form.problems:
        return html.Div(problem_texts(form.problems, lang)["on"], className="field-error")
    answer = parcel_as_of(get_engine(), current_actor(), code, on)
    if answer["source"] == "absent" or not answer["state"]:
        return html.P(t("parcel.as_of_absent", lang), id="parcel-asof-status")
    state = answer["state"]
    note = (
        t("parcel.as_of_before", lang, since=when(answer["recorded_since"]))
        if answer["source"] == "history"
        else t("parcel.as_of_recorded", lang, on=on.isoformat())
    )
    rows = [
        (t("field.status", lang), _name(state, "status", lang)),
        (t("field.status_since", lang), state.get("status_since")),
    ]
    for key in ("land_use_code", "version", "updated_by"):
        if key in state:
            value = editor(state[key], lang) if key == "updated_by" else state[key]
            rows.append((t("field.changed_by" if key == "updated_by" else f"field.{key}", lang), value))
    return html.Div(
        [
            html.P(note, className="hint"),
            html.Table(
                [html.Tr([html.Th(k), html.Td("" if v is None else str(v))]) for k, v in rows],
                id="parcel-asof-table",
                className="detail-table",
            ),
        ]
    )


def _make_save_callback(form_id: str) -> None:
    spec = FORMS[form_id]
    names = [f.name for f in spec.fields]

    @callback(
        Output("parcel-refresh", "data", allow_duplicate=True),
        Output("parcel-flash", "data", allow_duplicate=True),
        Output(f"parcel-{form_id}-msg", "children"),
        [Output(f"{field_id(form_id, n)}-error", "children") for n in names],
        Input(f"parcel-{form_id}-save", "n_clicks"),
        [State(field_id(form_id, n), "value") for n in names],
        State(f"parcel-{form_id}-context", "data"),
        State("parcel-code", "data"),
        State("parcel-refresh", "data"),
        State("parcel-lang", "data"),
        State("parcel-seen", "data"),
        prevent_initial_call=True,
    )
    def save(n_clicks, *args):
        *field_values, context, code, refresh, lang, seen = args
        lang = lang or "zh"
        if not n_clicks:
            return no_update, no_update, no_update, *[no_update] * len(names)
        data = dict(zip(names, field_values)) | {k: v for k, v in (context or {}).items() if k != "versions"}
        try:
            if spec.per_parcel:
                result = spec.save(get_engine(), current_actor(), code, data)
            else:
                finding = data.get("finding_id")
                data["version"] = (context or {}).get("versions", {}).get(str(finding))
                if finding is None:
                    raise edits.ValidationFailed({"finding_id": edits.FieldProblem("edit.err.required", {})})
                result = spec.save(get_engine(), current_actor(), int(finding), data)
        except EDIT_ERRORS as exc:
            failure = edit_failure(exc, lang)
            errors = [failure.fields.get(n, "") for n in names]
            extra = [html.Div(m) for k, m in failure.fields.items() if k not in names]
            if failure.current is not None:  # a stale edit: what the other person changed
                changes = conflict_changes(failure.current, lang, seen)
                if changes:
                    extra += [
                        html.P(t("edit.conflict.theirs", lang)),
                        html.Table(
                            [html.Tr([html.Th(k), html.Td(v)]) for k, v in changes],
                            id=f"parcel-{form_id}-conflict",
                            className="detail-table conflict-values",
                        ),
                    ]
                extra.append(
                    html.A(t("edit.conflict.reload", lang), href=page_url(f"/parcel/{quote(code or '')}", lang),
                           id=f"parcel-{form_id}-reload")
                )
            css = "form-error conflict" if failure.current is not None else "form-error"
            return no_update, no_update, html.Div([html.P(failure.message), *extra], className=css), *errors
        flash = {"kind": "ok", "form": form_id, "text": saved_message(result, lang)}
        return (refresh or 0) + 1, flash, no_update, *[no_update] * len(names)

    save.__name__ = f"save_{form_id}"


for _form_id in FORMS:
    _make_save_callback(_form_id)
