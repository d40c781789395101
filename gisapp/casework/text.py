"""Cases as plain text in Chinese or English, with the vocabulary's labels (`gisapp cases`, and
notebooks): one line per case, a case's record with its next steps and money."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gisapp.casework.queries import CaseSummary, CaseTimeline
from gisapp.i18n import label, problem_texts


def _l(prefix: str, code: str | None, lang: str) -> str:
    return "—" if code is None else label(prefix, code, lang)


def problems(found: Mapping[str, Any], lang: str = "en") -> str:
    """A ValidationFailed's problems as one sentence (field: message; ...)."""
    return "; ".join(f"{field}: {text}" for field, text in problem_texts(found, lang).items())


def summary_lines(cases: Iterable[CaseSummary], lang: str = "en") -> list[str]:
    lines = []
    for c in cases:
        state = (f"{_l('case_outcome', c.outcome, lang)} {c.closed_on}" if c.closed_on
                 else ", ".join(_l("case_step", s, lang) for s in c.next_steps[:2]) or "—")
        late = f"  OVERDUE: {', '.join(_l('case_step', s, lang) for s in c.overdue_steps)}" if c.overdue_steps else ""
        money = f"  due {c.money_due_wan} wan" if c.money_due_wan else ""
        money += f" (overdue {c.money_overdue_wan})" if c.money_overdue_wan else ""
        lines.append(f"{c.code}  {_l('case_kind', c.kind, lang)} / {_l('case_pathway', c.pathway, lang)}  "
                     f"{c.parcel_code or c.zone_code}  opened {c.opened_on}  {state}{late}{money}")
    return lines


def timeline_lines(t: CaseTimeline, lang: str = "en") -> list[str]:
    c = t.case
    lines = [f"{c['code']}  {_l('case_kind', c['kind'], lang)} / {_l('case_pathway', c['pathway'], lang)}",
             f"  subject: {c['parcel_code'] or c['zone_code']} ({c['zone_code']}); body: {c['responsible_body']}",
             f"  opened {c['opened_on']} by {c['opened_by']} ({_l('case_via', c['opened_via'], lang)})"
             + (f", finding {c['finding_id']}" if c["finding_id"] else ""),
             "  record:"]
    for e in t.events:
        if e["event"] == "step":
            due = f" (due {e['due_on']}{', late ' + str(e['late_days']) + ' d' if e['late_days'] else ''})" \
                if e["due_on"] else ""
            result = f" — {_l('case_result', e['result'], lang)}" if e["result"] else ""
            lines.append(f"    {e['on']}  {_l('case_step', e['step'], lang)}{result}{due}  [{e['article']}] {e['by']}")
        elif e["event"] == "money_decided":
            lines.append(f"    {e['on']}  {_l('case_money', e['purpose'], lang)} {e['amount_wan']} wan decided"
                         + (f", due {e['due_on']}" if e["due_on"] else ""))
        elif e["event"] == "money_paid":
            lines.append(f"    {e['on']}  {_l('case_money', e['purpose'], lang)}: {e['paid_wan']} wan paid so far")
        elif e["event"] == "closed":
            lines.append(f"    {e['on']}  closed: {_l('case_outcome', e['outcome'], lang)} ({e['by']})")
    if t.next_steps:
        lines.append(f"  next (as of {t.as_of}):")
        for s in t.next_steps:
            flag = f"  OVERDUE {s.days_overdue} d" if s.overdue else ""
            optional = " (optional)" if s.optional else ""
            lines.append(f"    {_l('case_step', s.step, lang)}{optional} — {_l('case_who', s.who, lang)}"
                         + (f", due {s.due_on}" if s.due_on else "") + f"{flag}  [{s.article}]")
    for m in t.money:
        lines.append(f"  money: {_l('case_money', m['purpose'], lang)} {m['amount_wan']} wan ({m['basis']}), "
                     f"paid {m['paid_wan']}, outstanding {m['outstanding_wan']}"
                     + (f", due {m['due_on']}" if m["due_on"] else "") + ("  OVERDUE" if m["overdue"] else ""))
    for x in t.extensions:
        lines.append(f"  extension: agreed start {x['previous_start_on']} -> {x['new_start_on']}, "
                     f"start by {x['latest_start_on']} at the latest ({x['cap_source']})")
    return lines
