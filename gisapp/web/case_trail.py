"""A case's audit trail in words: each change the database recorded (audit.change_log rows of
the case and its steps, money, documents, extensions and files) as what a person did, with the
labels of gisapp.i18n, never a table name or a code."""

from __future__ import annotations

from typing import Any

from gisapp.i18n import label, t
from gisapp.web.components import editor, when


def _changed(old: dict, new: dict, *names: str) -> bool:
    return any(old.get(n) != new.get(n) for n in names)


def describe(row: dict[str, Any], lang: str) -> str:
    """One change of a case's record, as a sentence of ``lang``."""
    table, action = row["table_name"], row["action"]
    old, new = row.get("old_row") or {}, row.get("new_row") or {}
    cur = new or old
    if table == "cases":
        if action == "INSERT":
            return t("case.trail.opened", lang, via=label("case_via", cur.get("opened_via"), lang),
                     pathway=label("case_pathway", cur.get("pathway"), lang))
        if action == "UPDATE" and _changed(old, new, "outcome") and new.get("outcome"):
            return t("case.trail.closed", lang, outcome=label("case_outcome", new["outcome"], lang))
        if action == "UPDATE" and _changed(old, new, "outcome"):
            return t("case.trail.reopened", lang)
        if action == "UPDATE" and _changed(old, new, "pathway"):
            return t("case.trail.pathway", lang, old=label("case_pathway", old.get("pathway"), lang),
                     new=label("case_pathway", new.get("pathway"), lang))
        return t("case.trail.changed", lang)
    if table == "case_steps":
        key = {"INSERT": "case.trail.step", "DELETE": "case.trail.step_undone"}.get(action, "case.trail.step_changed")
        return t(key, lang, step=label("case_step", cur.get("step"), lang), on=cur.get("done_on") or "—")
    if table == "case_money":
        purpose = label("case_money", cur.get("purpose"), lang)
        if action == "UPDATE" and _changed(old, new, "paid_wan", "paid_on"):
            return t("case.trail.paid", lang, purpose=purpose, paid=new.get("paid_wan"), on=new.get("paid_on") or "—")
        if action == "INSERT":
            return t("case.trail.money", lang, purpose=purpose, amount=cur.get("amount_wan"))
        return t("case.trail.money_changed", lang, purpose=purpose)
    if table == "case_documents":
        kind = label("case_document", cur.get("kind"), lang)
        if action == "UPDATE" and _changed(old, new, "doc_no"):
            return t("case.trail.numbered", lang, kind=kind, number=new.get("doc_no") or "—")
        return t("case.trail.document" if action == "INSERT" else "case.trail.document_changed", lang, kind=kind)
    if table == "case_extensions":
        return t("case.trail.extension", lang, old=cur.get("previous_start_on"), new=cur.get("new_start_on"))
    if table == "case_document_files":
        key = "case.trail.file" if action == "INSERT" else "case.trail.file_removed"
        return t(key, lang, name=cur.get("filename"))
    return label("audit.action", action, lang)


def trail_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    """The audit rows as the page's table shows them: when, who, what."""
    return [{"at": when(r["changed_at"]), "who": editor(r["who"], lang), "what": describe(r, lang)} for r in rows]
