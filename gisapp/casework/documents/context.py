"""The facts a document of a case is written from: one dictionary of the case, its parcel,
grant, land user, finding, steps, money and the periods in force, every value already written
as the document writes it (gisapp.casework.documents.formats). Read on the caller's
connection, so row-level security applies as to everything else the user reads.

docs/case_documents.md lists the keys the templates may use.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gisapp.casework.documents.formats import area, cn_date, percent, share, wan, wan_to_yuan, yuan_upper
from gisapp.casework.periods import full_years_passed
from gisapp.casework.queries.common import Periods
from gisapp.casework.queries.money import fee_amount
from gisapp.i18n import label

#: the periods a document counts from the day it was served, and the key each has in ``due``
DUE_PERIODS = {"reply": "reply_days", "hearing_request": "hearing_request_working_days",
               "fee_payment": "fee_payment_days", "cancellation": "cancellation_days",
               "reconsideration": "reconsideration_days", "lawsuit": "lawsuit_months",
               "le_plan": "le_plan_days", "le_handover": "le_handover_days"}
#: the pathways of Order No. 53 art. 14 (the land user's cause); the others are art. 8's
USER_CAUSED = {"idle_fee", "idle_recovery"}
SYNTHETIC_NOTE = "合成演示数据：本文书由虚构的演示数据生成，其中的土地、企业、金额和日期均非真实，不具有法律效力"
NO_NUMBER = "无文号"
#: how the steps' articles name their texts, and how a document that names the text itself
#: cites the article ("根据该办法第五条" of "国土资源部令第53号第五条"; item 1.4 of the opinions)
ORDER_53 = "国土资源部令第53号"
OPINIONS = re.compile(r"实施意见（2021）\s*([0-9.]+)")


class _Steps(dict):
    """The case's steps by code; a step not (yet) done reads as a dash, not as an error."""

    def __missing__(self, key: str) -> dict[str, str]:
        return {"done_on": "—", "doc_no": NO_NUMBER, "result": "", "label": label("case_step", key, "zh")}


def _one(conn: Connection, sql: str, **values) -> dict[str, Any]:
    row = conn.execute(sa.text(sql), values).mappings().first()
    return dict(row) if row else {}


def _case(conn: Connection, document_id: int) -> tuple[dict, dict]:
    doc = _one(conn, "SELECT d.*, s.step, s.done_on, s.article, s.result FROM land.case_documents d "
                     "LEFT JOIN land.case_steps s ON s.id = d.step_id WHERE d.id = :d", d=document_id)
    if not doc:
        from gisapp.errors import NotFoundError

        raise NotFoundError(f"there is no document {document_id}")
    case = _one(conn, """
        SELECT c.*, k.default_body, z.code AS zone_code, z.name_zh AS zone_name, di.name_zh AS district_name,
               p.code AS parcel_code, p.area_m2, p.enterprise_id AS parcel_enterprise_id,
               lu.name_zh AS land_use_name, p.land_use_code
        FROM land.cases c JOIN land.case_kinds k ON k.code = c.kind JOIN land.zones z ON z.id = c.zone_id
        JOIN land.districts di ON di.id = z.district_id
        LEFT JOIN land.parcels p ON p.id = c.parcel_id LEFT JOIN land.land_use_codes lu ON lu.code = p.land_use_code
        WHERE c.id = :c""", c=doc["case_id"])
    return doc, case


def _grant(conn: Connection, case: dict) -> dict[str, Any]:
    if case.get("grant_id"):
        return _one(conn, "SELECT * FROM land.land_grants WHERE id = :g", g=case["grant_id"])
    if case.get("parcel_id"):
        return _one(conn, "SELECT * FROM land.land_grants WHERE parcel_id = :p ORDER BY granted_on DESC, id DESC "
                          "LIMIT 1", p=case["parcel_id"])
    return {}


def _finding(conn: Connection, case: dict) -> dict[str, Any]:
    """The finding that opened the case, if the assessment still keeps it (findings of old runs
    are pruned; the case keeps what it said)."""
    if not case.get("finding_id"):
        return {}
    return _one(conn, "SELECT id, rule, outcome, as_of, explanation_zh, evidence FROM rules.findings WHERE id = :f",
                f=case["finding_id"])


def authority(case: dict, authorities: dict[str, str]) -> str:
    """Who issues the case's documents: the body the case names, or for the kind's default body
    the concrete one of the source's ``authorities`` (the district's bureau, the zone's office)."""
    body = case["responsible_body"]
    if body != case["default_body"] or case["kind"] not in authorities:
        return body
    return authorities[case["kind"]].format(district=case["district_name"], zone=case["zone_name"])


def _evidence(case: dict, finding: dict, steps: list[dict], doc: dict, grant: dict) -> list[str]:
    """The facts the document rests on: what the finding found (its sentence and measures), when
    the idle period runs from, and the procedure so far (each step served, with its number)."""
    items: list[str] = []
    if finding:
        items.append(f"经{cn_date(finding['as_of'])}核查：{finding['explanation_zh']}。".replace("。。", "。"))
        ev = finding.get("evidence") or {}
        if isinstance(ev, str):
            ev = json.loads(ev)
        if ev.get("started_on"):
            items.append(f"该宗土地于{cn_date(dt.date.fromisoformat(ev['started_on']))}动工，已开发面积占应动工开发"
                         f"建设总面积的{share(ev.get('developed_share'))}，已投资额占总投资额的"
                         f"{share(ev.get('invested_share'))}。")
    elif case.get("finding_outcome"):
        items.append(f"核查结论：{label('outcome', case['finding_outcome'], 'zh')}。")
    if case.get("idle_clock_from"):
        items.append(f"闲置期限自{cn_date(case['idle_clock_from'])}起计算（出让合同约定动工日期"
                     f"{cn_date(grant.get('agreed_start_on'))}）。")
    for s in steps:
        if s["id"] == doc.get("step_id"):
            break
        number = f"（{s['doc_no']}）" if s.get("doc_no") else ""
        result = f"（{label('case_result', s['result'], 'zh')}）" if s.get("result") else ""
        items.append(f"{cn_date(s['done_on'])}，{label('case_step', s['step'], 'zh')}{result}{number}。")
    if not items:
        items.append(f"案件{case['code']}于{cn_date(case['opened_on'])}立案。")
    return items


def cited(article: str | None) -> str:
    """A step's article as a document that names its text cites it: ``第五条、第六条`` for
    ``国土资源部令第53号第五条、第六条``, ``第1.4项`` for ``实施意见（2021）1.4``."""
    if not article:
        return "—"
    return OPINIONS.sub(lambda m: f"第{m.group(1)}项", article.replace(ORDER_53, "")).strip()


def _money(rows: list[dict]) -> list[dict[str, str]]:
    return [{"purpose": label("case_money", m["purpose"], "zh"), "payer": label("case_payer", m["payer"], "zh"),
             "amount": wan(m["amount_wan"]), "amount_upper": yuan_upper(wan_to_yuan(m["amount_wan"])),
             "basis": m["basis"], "due_on": cn_date(m["due_on"], "按约定")} for m in rows]


def document_context(conn: Connection, document_id: int, *, synthetic: bool, authorities: dict[str, str]
                     ) -> dict[str, Any]:
    """Everything the templates may use for document ``document_id``."""
    doc, case = _case(conn, document_id)
    grant = _grant(conn, case)
    finding = _finding(conn, case)
    enterprise_id = grant.get("enterprise_id") or case.get("parcel_enterprise_id")
    enterprise = _one(conn, "SELECT name_zh, credit_code FROM land.enterprises WHERE id = :e",
                      e=enterprise_id) if enterprise_id else {}
    steps = [dict(r) for r in conn.execute(sa.text(
        "SELECT s.id, s.step, s.done_on, s.result, d.doc_no FROM land.case_steps s "
        "LEFT JOIN land.case_documents d ON d.step_id = s.id "
        "JOIN land.case_pathway_steps p ON p.pathway = s.pathway AND p.step = s.step "
        "WHERE s.case_id = :c ORDER BY s.done_on, p.sort, s.id"), {"c": case["id"]}).mappings()]
    by_step = _Steps({s["step"]: {"done_on": cn_date(s["done_on"]), "doc_no": s["doc_no"] or NO_NUMBER,
                                  "result": s["result"] or "", "label": label("case_step", s["step"], "zh")}
                      for s in steps})
    served = doc.get("done_on") or doc["issued_on"]
    periods = Periods(conn)
    values, _prov = periods.on(served, case["zone_id"])
    due = {}
    for key, param in DUE_PERIODS.items():
        deadline = periods.due(served, param, case["zone_id"])
        due[key] = cn_date(deadline.due_on if deadline else None)
    money_rows = [dict(r) for r in conn.execute(sa.text(
        "SELECT * FROM land.case_money WHERE case_id = :c ORDER BY id"), {"c": case["id"]}).mappings()]
    fee_row = next((m for m in money_rows if m["purpose"] == "idle_fee" and m["step_id"] == doc.get("step_id")), None) \
        or next((m for m in money_rows if m["purpose"] == "idle_fee"), None)
    extension = _one(conn, "SELECT * FROM land.case_extensions WHERE case_id = :c ORDER BY agreed_on DESC, id DESC "
                           "LIMIT 1", c=case["id"])
    rate = values["fee_rate"]
    clock = case.get("idle_clock_from")
    user_caused = case["pathway"] in USER_CAUSED
    reply = next((s for s in steps if s["step"] == "user_reply"), None)
    hearing = next((s for s in steps if s["step"] == "hearing"), None)
    district_gov = f"上海市{case['district_name']}人民政府"
    years_full = int(values["idle_years"])
    conclusion = (
        f"该宗土地自{cn_date(clock)}起{'已' if clock and full_years_passed(clock, years_full, served) else '将'}"
        f"满{years_full}年未动工开发，闲置系国有建设用地使用权人的原因造成，依据《闲置土地处置办法》第十四条处置。"
        if user_caused else
        "闲置系政府或者政府有关部门的行为（或者不可抗力）造成，依据《闲置土地处置办法》第八条、第十二条、第十三条协商处置。")
    price = grant.get("price_wan")
    intended = (f"作出征缴土地闲置费的决定（按出让价款的{percent(rate)}征缴，计{wan(fee_amount(price, rate))}）"
                if case["pathway"] == "idle_fee" and price is not None else
                "作出无偿收回国有建设用地使用权的决定" if case["pathway"] == "idle_recovery" else "作出处置决定")
    kind_title = label("case_document", doc["kind"], "zh")
    return {
        "synthetic": synthetic,
        "synthetic_note": SYNTHETIC_NOTE,
        "doc": {"title": kind_title, "no": doc.get("doc_no") or NO_NUMBER, "issued_on": cn_date(doc["issued_on"]),
                "kind": kind_title},
        "authority": authority(case, authorities),
        "land_user": {"name": enterprise.get("name_zh") or "国有建设用地使用权人",
                      "credit_code": enterprise.get("credit_code") or "—"},
        "zone": {"name": case["zone_name"], "body": f"{case['zone_name']}管理机构"},
        "parcel": {"code": case.get("parcel_code") or "—", "area": area(case.get("area_m2")),
                   "land_use": f"{case.get('land_use_name') or '—'}（{case.get('land_use_code') or '—'}）",
                   "location": f"上海市{case['district_name']}{case['zone_name']}", "zone": case["zone_name"],
                   "district": case["district_name"]},
        "grant": {"contract_no": grant.get("contract_no") or "—", "granted_on": cn_date(grant.get("granted_on")),
                  "price": wan(price), "price_upper": yuan_upper(wan_to_yuan(price)) if price is not None else "—",
                  "delivery_due_on": cn_date(grant.get("delivery_due_on")),
                  "delivered_on": cn_date(grant.get("delivered_on")),
                  "agreed_start_on": cn_date(grant.get("agreed_start_on")),
                  "agreed_completion_on": cn_date(grant.get("agreed_completion_on")),
                  "supply": label("supply", grant["supply_method"], "zh") if grant.get("supply_method") else "—"},
        "case": {"code": case["code"], "kind": label("case_kind", case["kind"], "zh"),
                 "pathway": label("case_pathway", case["pathway"], "zh"), "opened_on": cn_date(case["opened_on"]),
                 "responsible_body": case["responsible_body"]},
        "idle": {"clock_from": cn_date(clock), "conclusion": conclusion,
                 "cause": "国有建设用地使用权人的原因" if user_caused else "政府或者政府有关部门的行为"},
        "finding": {"as_of": cn_date(finding.get("as_of")), "text": finding.get("explanation_zh") or "—"},
        "evidence": _evidence(case, finding, steps, doc, grant),
        "basis": cited(doc.get("article")),
        "basis_full": doc.get("article") or "—",
        "step": {"label": label("case_step", doc["step"], "zh") if doc.get("step") else kind_title,
                 "done_on": cn_date(served)},
        "steps": by_step,
        "reply_text": ("" if reply is None else
                       f"你单位于{cn_date(reply['done_on'])}提交了说明材料。" if reply["result"] == "received" else
                       "你单位在规定期限内未提交说明材料。"),
        "hearing": {"intended": intended,
                    "text": ("你单位在规定期限内未申请听证。" if hearing is None else
                             f"你单位申请听证，我局已于{cn_date(hearing['done_on'])}依法组织听证。"
                             if hearing["result"] == "held" else
                             f"你单位于{cn_date(hearing['done_on'])}放弃听证。")},
        "periods": {k: v for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)},
        "due": due,
        "fee": None if fee_row is None else {
            "amount": wan(fee_row["amount_wan"]), "amount_upper": yuan_upper(wan_to_yuan(fee_row["amount_wan"])),
            "base": wan(fee_row["base_wan"]), "rate": percent(fee_row["rate"]) if fee_row["rate"] is not None else "—",
            "basis": fee_row["basis"], "due_on": cn_date(fee_row["due_on"]), "approved_by": district_gov},
        "money": _money([m for m in money_rows if m["purpose"] != "idle_fee"]),
        "extension": None if not extension else {
            "previous_start_on": cn_date(extension["previous_start_on"]),
            "new_start_on": cn_date(extension["new_start_on"]),
            "new_completion_on": cn_date(extension["new_completion_on"], "按原合同约定"),
            "latest_start_on": cn_date(extension["latest_start_on"]), "cap_years": extension["cap_years"]},
    }
