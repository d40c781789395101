"""The parcel detail panel of the map: attributes, current findings with their explanations,
grant with requirements and review result, status history; and the small zone panels.

Pure rendering of what ``gisapp.queries.parcel`` returns; labels from ``gisapp.i18n`` and the
layer declarations.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from dash import dcc, html

from gisapp.catalog.schema import Layer
from gisapp.i18n import TEXTS, label, t
from gisapp.queries.parcel import ParcelDetail
from gisapp.render.style import category_label
from gisapp.web.components import editor, page_url, when
from gisapp.web.pilot_badge import pilot_badge


def label_or_code(prefix: str, code: object, lang: str) -> str:
    """The translation of ``prefix.code`` when there is one, else the code itself."""
    key = f"{prefix}.{code}"
    return t(key, lang) if key in TEXTS else str(code)


def fmt(value: object, lang: str) -> str:
    if value is None or value == "":
        return t("common.none", lang)
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else str(value)
    return str(value)


def labelled(name: str, value: object, lang: str) -> str:
    """``name: value`` with the colon of the language (full-width in Chinese)."""
    return f"{name}：{value}" if lang == "zh" else f"{name}: {value}"


def _by_lang(row: dict, base: str, lang: str) -> object:
    return row.get(f"{base}_{lang}") or row.get(f"{base}_zh")


def _table(rows: list[tuple[str, object]], lang: str, table_id: str | None = None) -> html.Table:
    return html.Table([html.Tr([html.Th(label), html.Td(fmt(value, lang))]) for label, value in rows],
                      className="detail-table", **({"id": table_id} if table_id else {}))


def _grid(headers: list[str], rows: list[list[object]], lang: str, class_name: str = "detail-grid") -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                       html.Tbody([html.Tr([html.Td(fmt(v, lang)) for v in row]) for row in rows])],
                      className=class_name)


def parcel_panel(detail: ParcelDetail, lang: str, cases: list[dict] | None = None) -> list:
    """The panel's children for one parcel; ``cases``: its cases (gisapp.casework.page_data)."""
    a = detail.attributes
    plot = None
    if a.get("plot_ratio_min") is not None or a.get("plot_ratio_max") is not None:
        plot = f"{fmt(a.get('plot_ratio_min'), lang)} – {fmt(a.get('plot_ratio_max'), lang)}"
    area = t("detail.area", lang, m2=fmt(a["area_m2"], lang), ha=fmt(a["area_m2"] / 1e4, lang),
             mu=fmt(a["area_mu"], lang))
    attributes = [
        (t("attr.code", lang), a["code"]),
        (t("attr.zone", lang), _by_lang(a, "zone_name", lang)),
        (t("attr.land_use", lang), f"{a['land_use_code']} {_by_lang(a, 'land_use', lang)}"),
        (t("attr.legacy_land_use_code", lang), a.get("legacy_land_use_code")),
        (t("attr.status", lang), _by_lang(a, "status", lang)),
        (t("attr.status_since", lang), a.get("status_since")),
        (t("attr.area", lang), area),
        (t("attr.plot_ratio", lang), plot),
        (t("attr.floor_area_m2", lang), a.get("floor_area_m2")),
        (t("attr.enterprise", lang), _by_lang(a, "enterprise", lang)),
    ]
    # the record keeping, folded: the panel is read for what the parcel is and what is wrong
    bookkeeping = [
        (t("attr.credit_code", lang), a.get("credit_code")),
        (t("attr.source_crs", lang), a.get("source_crs")),
        (t("attr.is_synthetic", lang), a.get("is_synthetic")),
        (t("attr.version", lang), a.get("version")),
        (t("attr.updated", lang), f"{editor(a.get('updated_by'), lang)} · {when(a.get('updated_at'))}"),
    ]
    return [
        html.H3(f"{t('detail.title', lang)}：{a['code']}" if lang == "zh" else f"{t('detail.title', lang)}: {a['code']}",
                id="map-detail-title"),
        html.A(t("detail.open_page", lang), href=page_url(f"/parcel/{quote(a['code'])}", lang),
               id="map-detail-link", className="detail-link"),
        *_open_case(cases or [], lang),
        # a pilot says so first, as at the top of its page
        pilot_badge({"pilot": detail.pilot, "mixed_use": detail.mixed_use}, lang, "map-detail")
        if detail.pilot else None,
        html.H4(t("detail.attributes", lang)),
        _table(attributes, lang, "map-detail-table"),
        html.Details([html.Summary(t("detail.more_attributes", lang)), _table(bookkeeping, lang)],
                     id="map-detail-more"),
        html.H4(t("detail.findings", lang)),
        *_freshness(detail.findings_status, lang),
        # what the map's poll compares (gisapp.web.pages.map.follow_detail): redrawn when it changes
        dcc.Store(id="map-detail-freshness", data=freshness_stamp(a["code"], detail.findings_status)),
        _findings(detail.findings, lang),
        html.H4(t("detail.grants", lang)),
        *_grants(detail.grants, lang),
        html.H4(t("detail.history", lang)),
        _history(detail.history, lang),
    ]


def _open_case(cases: list[dict], lang: str) -> list:
    """The parcel's open case with a link to it, right under the link to the parcel's page."""
    open_cases = [c for c in cases if c["closed_on"] is None]
    if not open_cases:
        return [html.P(t("detail.no_open_case", lang), id="map-detail-case", className="muted")] if cases else []
    return [html.P([html.A(t("detail.case_open", lang, code=c["code"], kind=label("case_kind", c["kind"], lang),
                             next=label("case_step", c["next_step"], lang) if c["next_step"]
                             else t("detail.case_nothing_next", lang)),
                           href=page_url(f"/cases/{quote(c['code'])}", lang), className="detail-link")
                    for c in open_cases], id="map-detail-case")]


def _findings(findings: list[dict], lang: str) -> html.Component:
    """The findings by rule, those that need action first and in full; those that passed folded
    into one "n passed" line (a parcel with a grant has a dozen quota accounts within quota, which
    pushed its problems and the rest of the panel thousands of pixels down)."""
    if not findings:
        return html.P(t("detail.no_findings", lang), className="muted")
    problems = _by_rule([f for f in findings if f["is_positive"]])
    passed = _by_rule([f for f in findings if not f["is_positive"]])
    items = [_rule_item(rule, group, lang) for rule, group in problems]
    if passed:
        count = sum(len(group) for _, group in passed)
        items.append(html.Li(html.Details([
            html.Summary(t("detail.findings_passed", lang, count=count)),
            html.Ul([_rule_item(rule, group, lang) for rule, group in passed], className="findings"),
        ], id="map-detail-findings-passed"), className="finding"))
    return html.Ul(items, id="map-detail-findings", className="findings")


def _freshness(status: dict | None, lang: str) -> list:
    """As of when the findings were made current, or that a re-assessment is pending (the map's
    panel is drawn when a parcel is clicked; the parcel page follows the worker by itself)."""
    if not status:
        return []
    text, pending = freshness_text(status, lang)
    return [html.P(text, id="map-detail-findings-status", className="findings-status pending" if pending
                   else "findings-status")]


def freshness_stamp(code: str, status: dict | None) -> dict:
    """The parcel shown and how fresh its findings are: the map polls while some are pending and
    redraws the panel when the stamp changes (as the parcel page does)."""
    status = status or {}
    return {"code": code, "pending": bool(status.get("pending")),
            "stamp": f"{status.get('made_current_at')}|{status.get('pending')}|{status.get('own_pending')}"}


def freshness_text(status: dict, lang: str) -> tuple[str, bool]:
    """(the sentence saying how fresh a parcel's findings are, whether some are pending), from
    :meth:`gisapp.queries.live.Freshness.to_dict`: all current; the parcel's own current and the
    zone-wide ones pending; or all pending."""
    at, day = when(status["made_current_at"]), status["as_of"] or "—"
    if status.get("own_pending") or (status["pending"] and not status.get("pending_since")):
        since = status.get("own_pending_since") or status.get("pending_since")
        return t("parcel.findings_pending", lang, since=when(since)), True
    if status["pending"]:
        return t("parcel.findings_zone_pending", lang, at=at, day=day, since=when(status["pending_since"])), True
    return t("parcel.findings_as_of", lang, at=at, day=day), False


def _by_rule(findings: list[dict]) -> list[tuple[str, list[dict]]]:
    """Findings grouped by rule, the rules in the order they first come (the query's order)."""
    groups: dict[str, list[dict]] = {}
    for f in findings:
        groups.setdefault(f["rule"], []).append(f)
    return list(groups.items())


def _rule_item(rule: str, group: list[dict], lang: str) -> html.Li:
    """One rule's label, then each of its findings: outcome, review status, explanation."""
    children: list = [html.Span(label_or_code("rule", rule, lang), className="finding-rule")]
    for f in group:
        explanation = f.get(f"explanation_{lang}") or f.get("explanation_zh")
        review = label_or_code("finding", f.get("review_status"), lang)
        children += [
            html.Span(label_or_code("outcome", f["outcome"], lang),
                      className="finding-outcome positive" if f["is_positive"] else "finding-outcome"),
            *([html.Span(t("parcel.finding_pending", lang), className="finding-pending")] if f.get("pending") else []),
            html.Span(labelled(t("detail.review_status", lang), review, lang), className="finding-review"),
            html.Div(explanation, className="finding-explanation"),
        ]
    return html.Li(children, className="finding", **{"data-rule": rule})


def _grants(grants: list[dict], lang: str) -> list:
    if not grants:
        return [html.P(t("detail.no_grants", lang), className="muted")]
    out: list = []
    for g in grants:
        rows = [(t(f"grant.{k}", lang), g.get(k)) for k in
                ("contract_no", "granted_on", "term_years", "agreed_start_on")]
        rows.insert(1, (t("grant.supply_method", lang), label_or_code("supply", g.get("supply_method"), lang)))
        out.append(_table(rows, lang))
        # the other terms and the requirements folded, open when a requirement is not met: the
        # review result below says the rest
        terms = [(t(f"grant.{k}", lang), g.get(k)) for k in
                 ("announced_on", "agreed_completion_on", "price_wan", "total_investment_wan", "is_standardized",
                  "is_major_project")]
        more: list = [html.Summary(t("detail.grant_more", lang)), _table(terms, lang)]
        if g["requirements"]:
            headers = [t(f"col.{c}", lang) for c in ("indicator", "stage", "min_value", "max_value", "actual_value",
                                                      "passed")]
            more += [html.H5(t("detail.requirements", lang)), _grid(headers, [[
                f"{_by_lang(r, 'name', lang)}{' (' + label('unit', r['unit'], lang) + ')' if r.get('unit') else ''}",
                label_or_code("stage", r["review_stage"], lang), r.get("min_value"), r.get("max_value"),
                r.get("actual_value"), r.get("passed")] for r in g["requirements"]], lang)]
        out.append(html.Details(more, open=any(r.get("passed") is False for r in g["requirements"]),
                                className="grant-more"))
        review = g.get("review")
        out.append(html.H5(t("detail.review", lang)))
        if review:
            # the explanation is the grant_review finding's, shown in full above when it needs action
            out.append(html.Details([
                html.Summary(html.Span(label_or_code("outcome", review["outcome"], lang),
                                       className="finding-outcome positive" if review["is_positive"]
                                       else "finding-outcome")),
                review.get(f"explanation_{lang}") or review.get("explanation_zh")],
                className="grant-review"))
        else:
            out.append(html.P(t("detail.not_reviewed", lang), className="muted"))
    return out


def _history(history: list[dict], lang: str) -> html.Component:
    """The latest status change in a line, every change folded under it (the parcel page shows
    them all: a parcel's panel stays about a screen tall in either language)."""
    if not history:
        return html.P(t("detail.no_history", lang), className="muted")
    headers = [t(f"col.{c}", lang) for c in ("changed_on", "from_status", "to_status", "reason", "changed_by")]
    latest = history[-1]
    summary = t("detail.history_latest", lang, day=latest["changed_on"], to=_by_lang(latest, "to", lang),
                count=len(history))
    return html.Details([html.Summary(summary),
                         _grid(headers, [[h["changed_on"], _by_lang(h, "from", lang), _by_lang(h, "to", lang),
                                          h["reason"], editor(h["changed_by"], lang)] for h in history], lang)],
                        id="map-detail-history")


def not_found_panel(code: str, lang: str) -> list:
    return [html.H3(t("detail.title", lang)), html.P(t("detail.not_found", lang, code=code), className="muted")]


def zone_panel(layer: Layer, props: dict, lang: str, boundaries: list[dict] | None = None) -> list:
    """A zone clicked on the map: its declared popup fields, its approved boundaries as records
    (``gisapp.queries.boundaries``) and a link to its dashboard."""
    name = props.get(f"name_{lang}") or props.get("name_zh") or props.get("code")
    rows = [(layer.label(f.name, lang) + (f" ({f.unit})" if f.unit else ""), props.get(f.name))
            for f in layer.popup_fields(lang)]
    return [html.H3(t("detail.zone_title", lang, name=name), id="map-detail-title"),
            _table(rows, lang, "map-detail-table"),
            *_boundaries(boundaries or [], lang),
            dcc.Link(t("detail.zone_dashboard", lang), href=page_url("/dashboard", lang, zone=props.get("code")),
                     id="map-detail-dashboard-link", className="detail-link")]


def _boundaries(boundaries: list[dict], lang: str) -> list:
    """Each approved boundary version: approval reference, validity (from, up to), area; the one in
    force on the map's date marked."""
    if not boundaries:
        return []
    headers = [t(f"col.{c}", lang) for c in ("approval_ref", "valid_period", "boundary_area_ha")]
    rows = [html.Tr([html.Td([b.get("approval_ref") or t("common.none", lang),
                              html.Span(f" ({t('detail.boundary_in_force', lang)})", className="muted")
                              if b.get("in_force") else None]),
                     html.Td(f"{b['valid_from']} – {b.get('valid_to') or t('detail.boundary_open', lang)}"),
                     html.Td(fmt(round((b.get("area_m2") or 0) / 1e4, 2), lang))],
                    className="boundary-in-force" if b.get("in_force") else None)
            for b in boundaries]
    return [html.H4(t("detail.boundaries", lang)),
            html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(rows)],
                       className="detail-grid", id="map-detail-boundaries")]


def aggregate_panel(layer: Layer, props: dict, zone_name: str, lang: str) -> list:
    """A zone-level summary clicked at low zoom: counts per style value, labelled from the legend."""
    breakdown = props.get("breakdown") or {}
    if isinstance(breakdown, str):  # geobuf carries it as JSON text
        breakdown = json.loads(breakdown)
    rows = [(category_label(layer, value, lang) or value or t("common.none", lang), count)
            for value, count in sorted(breakdown.items(), key=lambda kv: -kv[1])]
    return [html.H3(t("detail.aggregate_title", lang, layer=layer.title.get(lang), zone=zone_name),
                    id="map-detail-title"),
            html.P(t("map.aggregate.count", lang, count=props.get("count", 0)), id="map-detail-count"),
            html.P(t("detail.aggregate_total", lang, total=props["total"]), id="map-detail-total")
            if props.get("total") is not None else None,
            _table(rows, lang, "map-detail-table"),
            html.P(t("map.aggregate.hint", lang, zoom=layer.detail_min_zoom), className="muted")]
