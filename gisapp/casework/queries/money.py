"""Money decided in a case: the idle-land fee (Order No. 53 art. 14 (1): 20% of the grant
price, the idle rule's ``fee_rate``; paid within 30 days of service, art. 17), other sums agreed
(compensation, a repurchase price), and payments."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.queries.common import Periods, StepResult, case_row, fail, insert_step, reason, working
from gisapp.casework.queries.steps import check_decision_timing
from gisapp.db.context import Actor
from gisapp.queries.edit_errors import EditRefused
from gisapp.queries.edit_form import MAX_NOTE, Form

CENT = Decimal("0.01")


def fee_amount(price_wan: Decimal, rate: float) -> Decimal:
    """The fee: the grant (or allocation) price times the rate, to the cent of 万元."""
    return (Decimal(price_wan) * Decimal(str(rate))).quantize(CENT, rounding=ROUND_HALF_UP)


def decide_fee(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """The idle-land fee decision of case ``code`` (a bureau admin's): ``decided_on``,
    ``served_on`` (the step's date; the 30 days to pay run from the day after), ``doc_no``,
    ``note``. The amount is the grant price times the fee rate in force on the decision's day;
    the decision needs the full year of idleness and the hearing request period behind it."""
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        decided_on = form.date("decided_on", required=True)
        served_on = form.date("served_on", required=True)
        doc_no = form.text("doc_no", max_len=200)
        note = form.text("note", max_len=MAX_NOTE)
        form.check()
        if served_on < decided_on:
            fail("served_on", "edit.err.date_order", other={"zh": "决定日期", "en": "the decision's date"},
                 other_value=decided_on.isoformat())
        periods = Periods(conn)
        check_decision_timing(conn, case, "fee_decision", decided_on, periods)
        price = conn.execute(sa.text("SELECT price_wan FROM land.land_grants WHERE id = :g"),
                             {"g": case.grant_id}).scalar() if case.grant_id else None
        if case.grant_id is None:
            fail("grant", "case.err.no_grant")
        if price is None:
            fail("grant", "case.err.no_price")
        values, prov = periods.on(decided_on, case.zone_id)
        rate = float(values["fee_rate"])
        amount = fee_amount(price, rate)
        reason(conn, f"case {code}: idle-land fee of {amount} 万元 decided on {decided_on}")
        step = insert_step(conn, case, "fee_decision", served_on, note=note, doc_no=doc_no, issued_on=decided_on,
                           periods=periods)
        deadline = periods.due(served_on, "fee_payment_days", case.zone_id)
        basis = f"出让价款 {Decimal(price):.2f} 万元 × {rate * 100:g}%（{prov['fee_rate']['source']}）"
        conn.execute(sa.text(
            "INSERT INTO land.case_money (case_id, step_id, purpose, payer, amount_wan, basis, base_wan, rate, "
            "decided_on, served_on, due_on, period) VALUES (:c, :s, 'idle_fee', 'land_user', :a, :b, :base, :r, "
            ":d, :sv, :due, CAST(:period AS jsonb))"),
            {"c": case.id, "s": step.row_id, "a": amount, "b": basis, "base": price, "r": Decimal(str(rate)),
             "d": decided_on, "sv": served_on, "due": deadline.due_on,
             "period": json.dumps(deadline.period, ensure_ascii=False)})
    return StepResult(code, "case_steps", step.row_id, deadline.due_on)


def decide_money(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """Another sum decided or agreed in case ``code`` (a bureau admin's): ``purpose``
    (compensation, repurchase_price, price_adjustment), ``payer`` (land_user, government),
    ``amount_wan``, ``basis`` (what it rests on), ``decided_on``, ``due_on`` (as agreed), ``note``."""
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        purpose = form.choice("purpose", ("compensation", "repurchase_price", "price_adjustment"), required=True)
        payer = form.choice("payer", ("land_user", "government"), required=True)
        amount = form.number("amount_wan", required=True)
        basis = form.text("basis", required=True, max_len=500)
        decided_on = form.date("decided_on", required=True)
        due_on = form.date("due_on", not_future=False)
        note = form.text("note", max_len=MAX_NOTE)
        form.check()
        reason(conn, f"case {code}: {purpose} of {amount} 万元 decided on {decided_on}")
        row_id = conn.execute(sa.text(
            "INSERT INTO land.case_money (case_id, purpose, payer, amount_wan, basis, decided_on, due_on, period, note) "
            "VALUES (:c, :p, :payer, :a, :b, :d, :due, CAST(:period AS jsonb), :n) RETURNING id"),
            {"c": case.id, "p": purpose, "payer": payer, "a": amount, "b": basis, "d": decided_on, "due": due_on,
             "period": json.dumps({"agreed": True, "source": basis}, ensure_ascii=False) if due_on else None,
             "n": note}).scalar_one()
    return StepResult(code, "case_money", row_id, due_on)


def record_payment(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> StepResult:
    """A payment of money decided in case ``code`` (the zone office may record it): ``money_id``
    (needed when the case holds several sums), ``paid_wan`` (the total paid so far), ``paid_on``
    (the day that total was reached), and ``settle`` (when paid in full, also record the step that
    the payment completes, e.g. fee_paid, dated ``paid_on``). A payment may come after the case
    closed: the money stays due."""
    form = Form(data)
    with working(engine, actor) as conn:
        case = case_row(conn, code)
        money_id = form.integer("money_id", minimum=1)
        paid = form.number("paid_wan", required=True)
        paid_on = form.date("paid_on", required=True)
        settle = form.flag("settle")
        form.check()
        rows = conn.execute(sa.text("SELECT id, purpose, amount_wan FROM land.case_money WHERE case_id = :c "
                                    "AND (CAST(:m AS bigint) IS NULL OR id = :m) ORDER BY id"),
                            {"c": case.id, "m": money_id}).all()
        if len(rows) != 1:
            fail("money_id", "edit.err.required" if rows else "edit.err.unknown_code", value=str(money_id or ""))
        money = rows[0]
        reason(conn, f"case {code}: {paid} 万元 of {money.purpose} paid by {paid_on}")
        changed = conn.execute(sa.text("UPDATE land.case_money SET paid_wan = :p, paid_on = :d WHERE id = :id"),
                               {"p": paid, "d": paid_on if paid > 0 else None, "id": money.id}).rowcount
        if not changed:
            raise EditRefused(f"{actor.username} ({actor.role}) may not record payments of case {code}")
        result = StepResult(code, "case_money", money.id)
        if settle and paid >= money.amount_wan:
            step = conn.execute(sa.text("SELECT step FROM land.case_pathway_steps WHERE pathway = :p AND settles = :s"),
                                {"p": case.pathway, "s": money.purpose}).scalar()
            if step is not None:
                result = insert_step(conn, case, step, paid_on)
    return result
