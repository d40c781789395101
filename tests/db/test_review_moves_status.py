"""Confirming a finding moves its parcel's status (issue #18 item 5), in the database, for every
path: the edit the web form and the JSON API share, plain SQL under the web role, and the owner's
SQL (psql, a notebook). Withdrawing a confirmation takes the change back when nobody changed the
status since; a step the lifecycle lacks refuses the confirmation; a review carried over by the
next assessment (full run or live worker) is the same decision and changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from gisapp import api
from gisapp.db.engine import assessor_engine
from gisapp.demo import DEMO_AS_OF
from gisapp.i18n import message, problem_texts, t
from gisapp.queries import dashboard, edits
from gisapp.queries.edits import Actor, acting_as
from gisapp.queries.parcel_record import parcel_record
from gisapp.rules.assess import run_assessment
from gisapp.rules.worker import run_once
from tests.findings_util import insert_current_finding

pytestmark = pytest.mark.db

WGQ, WGP = 1, 2
EDITOR = Actor("ed.review", "zone_editor", (WGQ,))
PORT_EDITOR = Actor("ed.review.port", "zone_editor", (WGP,))
IDLE = ("idle_not_started", "idle_stalled")


@pytest.fixture(scope="module")
def assessed(isolated_engine):
    """The isolated demo database with its findings assessed (as the live worker does) and
    nothing queued."""
    run_assessment(assessor_engine())
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))
    return isolated_engine


def _open_finding(eng, rule: str, outcomes, status: str, zone_id: int = WGQ) -> dict:
    """An open current finding of ``rule`` with one of ``outcomes`` on a parcel of ``zone_id`` with
    ``status`` that no review has touched yet."""
    with eng.connect() as conn:
        row = conn.execute(sa.text("""
            SELECT f.id AS fid, f.version AS fversion, f.outcome, p.id, p.code, p.status, p.status_since,
                   p.version, p.zone_id
            FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
            WHERE f.rule = :rule AND f.outcome = ANY(:outcomes) AND f.review_status = 'open'
              AND p.zone_id = :z AND p.status = :s
              AND NOT EXISTS (SELECT 1 FROM rules.review_status_changes m WHERE m.parcel_id = p.id)
              AND NOT EXISTS (SELECT 1 FROM rules.current_findings o WHERE o.parcel_id = p.id
                              AND o.review_status <> 'open')
            ORDER BY p.id LIMIT 1"""), {"rule": rule, "outcomes": list(outcomes), "z": zone_id, "s": status}
        ).mappings().first()
    assert row is not None, f"the demo has an open {rule} finding on a {status} parcel of zone {zone_id}"
    return dict(row)


def _parcel(eng, parcel_id: int) -> dict:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT status, status_since, version, updated_by FROM land.parcels WHERE id = :i"),
            {"i": parcel_id}).mappings().one())


def _history(eng, parcel_id: int) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT id, from_status, to_status, changed_on, reason, changed_by FROM land.parcel_status_history "
            "WHERE parcel_id = :i ORDER BY id DESC"), {"i": parcel_id}).mappings()]


def _review(eng, actor: Actor, f: dict, decision: str, reason: str | None = "现场核实") -> edits.EditResult:
    with eng.connect() as conn:
        version = conn.execute(sa.text("SELECT version FROM rules.findings WHERE id = :i"), {"i": f["fid"]}).scalar()
    data = {"decision": decision, "version": version} | ({"reason": reason} if reason else {})
    return edits.review_finding(eng, actor, f["fid"], data)


def _today(eng):
    with eng.connect() as conn:
        return conn.execute(sa.text("SELECT CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date)")).scalar()


# -- a confirmation moves the status, as a normal status change -------------------------------------


def test_a_zone_editor_confirms_idle_land_and_the_parcel_becomes_idle(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    history_before = _history(assessed, f["id"])
    with assessed.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))
    result = _review(assessed, EDITOR, f, "confirmed", "现场核实：满一年未动工")

    after = _parcel(assessed, f["id"])
    assert (after["status"], after["version"], after["updated_by"]) == ("idle", f["version"] + 1, EDITOR.username)
    assert after["status_since"] == _today(assessed)
    newest = _history(assessed, f["id"])[0]
    assert len(_history(assessed, f["id"])) == len(history_before) + 1
    assert {k: newest[k] for k in ("from_status", "to_status", "reason", "changed_by")} == {
        "from_status": "granted_unbuilt", "to_status": "idle", "reason": "现场核实：满一年未动工",
        "changed_by": EDITOR.username}
    with assessed.connect() as conn:
        audit = conn.execute(sa.text(
            "SELECT app_user, reason, new_row ->> 'status' FROM audit.change_log WHERE table_name = 'parcels' "
            "AND row_id = :r ORDER BY id DESC LIMIT 1"), {"r": str(f["id"])}).one()
        queued = conn.execute(sa.text("SELECT zone_id, source FROM rules.reassess_queue")).all()
    assert tuple(audit) == (EDITOR.username, "现场核实：满一年未动工", "idle")
    assert (f["zone_id"], "parcels") in [tuple(q) for q in queued]  # the change is re-assessed
    # the edit says what the database did, in both languages
    assert result.notice.key == "review.moved"
    assert message(result.notice.key, result.notice.values, "zh") == "地块状态已由“供而未用”变更为“闲置（已认定）”。"
    assert "“Idle (confirmed)”" in message(result.notice.key, result.notice.values, "en")
    # the parcel page's history names the finding
    record = parcel_record(assessed, EDITOR, f["code"])
    assert record["parcel"]["status"] == "idle"
    assert (record["history"][0]["review_effect"], record["history"][0]["review_finding"]) == ("confirmed", f["fid"])


def test_confirming_class_d_marks_the_parcel_low_efficiency(assessed):
    f = _open_finding(assessed, "per_mu", ["class_d"], "in_production")
    result = _review(assessed, EDITOR, f, "confirmed", "亩均评价连续两年 D 类")
    assert _parcel(assessed, f["id"])["status"] == "low_efficiency"
    assert _history(assessed, f["id"])[0]["from_status"] == "in_production"
    assert result.notice.key == "review.moved"


def test_plain_sql_under_the_web_role_moves_the_status_too(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_stalled"], "under_construction")
    with acting_as(assessed, EDITOR, "plain SQL review") as conn:
        assert conn.execute(sa.text(
            "UPDATE rules.findings SET review_status = 'confirmed', review_reason = '中止满一年', "
            "reviewed_by = :u, reviewed_at = now() WHERE id = :i"), {"u": EDITOR.username, "i": f["fid"]}).rowcount == 1
    assert _parcel(assessed, f["id"])["status"] == "idle"
    assert _history(assessed, f["id"])[0]["changed_by"] == EDITOR.username


def test_the_owners_sql_moves_the_status_too(assessed):
    """psql or a notebook as the tables' owner, without the app's context."""
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    with assessed.begin() as conn:
        conn.execute(sa.text(
            "UPDATE rules.findings SET review_status = 'confirmed', review_reason = 'psql 复核' WHERE id = :i"),
            {"i": f["fid"]})
        who = conn.execute(sa.text("SELECT session_user")).scalar()
    assert _parcel(assessed, f["id"])["status"] == "idle"
    newest = _history(assessed, f["id"])[0]
    assert (newest["to_status"], newest["reason"], newest["changed_by"]) == ("idle", "psql 复核", who)


def test_another_zones_editor_cannot_confirm_and_nothing_moves(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    with pytest.raises(edits.EditRefused):
        _review(assessed, PORT_EDITOR, f, "confirmed")
    with acting_as(assessed, PORT_EDITOR, "sneak") as conn:
        assert conn.execute(sa.text(
            "UPDATE rules.findings SET review_status = 'confirmed', review_reason = 'x' WHERE id = :i"),
            {"i": f["fid"]}).rowcount == 0
    after = _parcel(assessed, f["id"])
    assert (after["status"], after["status_since"], after["version"]) == ("granted_unbuilt", f["status_since"],
                                                                          f["version"])


# -- what the lifecycle cannot follow -------------------------------------------------------------


def _transferred_with_idle_finding(eng) -> dict:
    with eng.begin() as conn:
        p = conn.execute(sa.text(
            "SELECT id, code, status, version FROM land.parcels WHERE zone_id = :z AND status = 'transferred' "
            "ORDER BY id LIMIT 1"), {"z": WGQ}).mappings().one()
        fid = insert_current_finding(conn, rule="idle_land", zone_id=WGQ, parcel_id=p["id"], outcome="idle_stalled",
                                     is_positive=True, explanation_zh="测试：中止满一年",
                                     explanation_en="test: suspended one year")
    return {"fid": fid, **p}


def test_a_confirmation_the_lifecycle_cannot_follow_is_refused_naming_parcel_and_status(assessed):
    f = _transferred_with_idle_finding(assessed)
    with pytest.raises(edits.ValidationFailed) as refused:
        _review(assessed, EDITOR, f, "confirmed")
    texts = {lang: problem_texts(refused.value.problems, lang)["decision"] for lang in ("zh", "en")}
    assert f["code"] in texts["zh"] and "“已转让/转租”" in texts["zh"] and "“闲置（已认定）”" in texts["zh"]
    assert f"#{f['fid']}" in texts["zh"] and "在建" in texts["zh"]  # what is allowed from there
    assert f["code"] in texts["en"] and "“Transferred / sublet”" in texts["en"] and "“Idle (confirmed)”" in texts["en"]
    # nothing half-done: the review rolled back with it
    with assessed.connect() as conn:
        assert conn.execute(sa.text("SELECT review_status FROM rules.findings WHERE id = :i"),
                            {"i": f["fid"]}).scalar() == "open"
        assert conn.execute(sa.text("SELECT count(*) FROM rules.review_status_changes WHERE parcel_id = :i"),
                            {"i": f["id"]}).scalar() == 0
    assert _parcel(assessed, f["id"])["status"] == "transferred"
    # and psql gets the same refusal, in words
    with pytest.raises(sa.exc.DBAPIError, match=f"parcel {f['code']} is transferred"), assessed.begin() as conn:
        conn.execute(sa.text("UPDATE rules.findings SET review_status = 'confirmed', review_reason = 'x' WHERE id = :i"),
                     {"i": f["fid"]})


def test_a_parcel_in_disposal_keeps_its_status_and_counts_as_confirmed(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_stalled"], "in_disposal")
    result = _review(assessed, EDITOR, f, "confirmed")
    assert _parcel(assessed, f["id"])["status"] == "in_disposal"
    assert result.notice.key == "review.settled"
    assert "处置中" in message(result.notice.key, result.notice.values, "zh")
    with assessed.connect() as conn:
        assert conn.execute(sa.text("SELECT idle_class FROM layers.idle_land WHERE id = :i"),
                            {"i": f["id"]}).scalar() == "confirmed"


def test_a_parcel_already_idle_is_left_as_it_is(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "idle")
    before = _history(assessed, f["id"])
    result = _review(assessed, EDITOR, f, "confirmed")
    assert _history(assessed, f["id"]) == before and _parcel(assessed, f["id"])["version"] == f["version"]
    assert result.notice.key == "review.already"


# -- withdrawing a confirmation ------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["dismissed", "open"])
def test_withdrawing_a_confirmation_puts_the_status_back(assessed, decision):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    _review(assessed, EDITOR, f, "confirmed")
    assert _parcel(assessed, f["id"])["status"] == "idle"
    result = _review(assessed, EDITOR, f, decision, "复核：已于上月动工" if decision == "dismissed" else None)
    after = _parcel(assessed, f["id"])
    # the status and the date it began, as before the confirmation
    assert (after["status"], after["status_since"]) == ("granted_unbuilt", f["status_since"])
    assert after["version"] == f["version"] + 2
    newest = _history(assessed, f["id"])[0]
    assert (newest["from_status"], newest["to_status"], newest["changed_on"]) == ("idle", "granted_unbuilt",
                                                                                  _today(assessed))
    assert newest["reason"] == ("复核：已于上月动工" if decision == "dismissed" else f"reopen finding {f['fid']}")
    assert result.notice.key == "review.restored"
    assert message(result.notice.key, result.notice.values, "zh") == "确认已撤回，地块状态恢复为“供而未用”。"
    record = parcel_record(assessed, EDITOR, f["code"])
    assert record["history"][0]["review_effect"] == "withdrawn"
    # confirmed again later: a new decision, moved again
    _review(assessed, EDITOR, f, "confirmed")
    assert _parcel(assessed, f["id"])["status"] == "idle"


def test_a_status_changed_since_the_confirmation_stays_when_it_is_withdrawn(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    _review(assessed, EDITOR, f, "confirmed")
    moved = _parcel(assessed, f["id"])
    edits.change_status(assessed, EDITOR, f["code"], {"to_status": "in_disposal", "changed_on": str(_today(assessed)),
                                                      "reason": "下达处置决定", "version": moved["version"]})
    result = _review(assessed, EDITOR, f, "dismissed", "撤回认定")
    assert _parcel(assessed, f["id"])["status"] == "in_disposal"
    assert _history(assessed, f["id"])[0]["to_status"] == "in_disposal"
    assert result.notice.key == "review.kept"
    assert "“In disposal”" in message(result.notice.key, result.notice.values, "en")
    with assessed.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT restored FROM rules.review_status_changes WHERE parcel_id = :i"), {"i": f["id"]}).scalar() is False


def test_a_plain_update_cannot_pass_a_step_off_the_graph_as_a_withdrawal(assessed):
    """Only the review trigger writes what a withdrawal may take back: a plain update of idle back
    to granted_unbuilt is refused by the graph."""
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    _review(assessed, EDITOR, f, "confirmed")
    with pytest.raises(sa.exc.DBAPIError, match="cannot change from idle to granted_unbuilt"), \
            acting_as(assessed, EDITOR, "sneak back") as conn:
        conn.execute(sa.text("UPDATE land.parcels SET status = 'granted_unbuilt' WHERE id = :i"), {"i": f["id"]})
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), acting_as(assessed, EDITOR) as conn:
        conn.execute(sa.text("UPDATE rules.review_status_changes SET withdrawn_txid = txid_current()"))
    assert _parcel(assessed, f["id"])["status"] == "idle"


# -- re-assessment carries the confirmation over and changes nothing -----------------------------------


def _drain() -> None:
    for _ in range(20):
        if run_once(assessor_engine()) is None:
            return
    raise AssertionError("the worker did not empty the queue")


def test_the_live_worker_keeps_the_confirmation_and_the_status(assessed):
    idle = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt")
    low = _open_finding(assessed, "per_mu", ["class_d"], "in_production")
    for f in (idle, low):
        _review(assessed, EDITOR, f, "confirmed", "确认")
    states = {f["id"]: (_parcel(assessed, f["id"]), _history(assessed, f["id"])) for f in (idle, low)}
    _drain()
    with assessed.connect() as conn:
        now = {r.parcel_id: r for r in conn.execute(sa.text(
            "SELECT parcel_id, id, outcome, review_status, review_reason FROM rules.current_findings "
            "WHERE (rule = 'idle_land' AND parcel_id = :a) OR (rule = 'per_mu' AND parcel_id = :b)"),
            {"a": idle["id"], "b": low["id"]})}
        records = conn.execute(sa.text(
            "SELECT count(*) FROM rules.review_status_changes WHERE parcel_id IN (:a, :b)"),
            {"a": idle["id"], "b": low["id"]}).scalar()
    for f in (idle, low):
        row = now[f["id"]]
        # the rule gives the same outcome with the status it moved to, so the review carried over
        assert (row.outcome, row.review_status, row.review_reason) == (f["outcome"], "confirmed", "确认")
        assert row.id != f["fid"], "the worker made a new finding current"
        assert (_parcel(assessed, f["id"]), _history(assessed, f["id"])) == states[f["id"]]
    assert records == 2


def test_a_full_run_carries_the_confirmation_over_without_undoing_a_later_status_change(assessed):
    """A carried-over confirmation is the decision already made: when the office has since moved
    the parcel on (low-efficiency back to production), the run does not move it back."""
    f = _open_finding(assessed, "per_mu", ["class_d"], "in_production")
    _review(assessed, EDITOR, f, "confirmed", "确认低效")
    moved = _parcel(assessed, f["id"])
    edits.change_status(assessed, EDITOR, f["code"], {"to_status": "in_production", "changed_on": str(_today(assessed)),
                                                      "reason": "整改完成", "version": moved["version"]})
    before = (_parcel(assessed, f["id"]), _history(assessed, f["id"]))
    summary = run_assessment(assessor_engine(), DEMO_AS_OF)
    assert summary.carried_reviews >= 1
    with assessed.connect() as conn:
        carried = conn.execute(sa.text(
            "SELECT outcome, review_status FROM rules.current_findings WHERE rule = 'per_mu' AND parcel_id = :p"),
            {"p": f["id"]}).one()
    assert tuple(carried) == ("class_d", "confirmed")
    assert (_parcel(assessed, f["id"]), _history(assessed, f["id"])) == before


def test_the_rules_give_the_same_outcomes_when_the_status_says_confirmed(assessed):
    """Idle land and per-mu classes read the parcel's status: a parcel moved to idle or low-efficiency
    by its confirmation must keep its outcome, or the next run would reopen the review."""
    frames = api.rule_inputs(["idle_land", "per_mu"], as_of=DEMO_AS_OF, engine=assessed)
    found = api.run_rule(["idle_land", "per_mu"], frames, as_of=DEMO_AS_OF)
    means = {("idle_land", o): "idle" for o in IDLE} | {("per_mu", "class_d"): "low_efficiency"}
    moved = found[[(r, o) in means for r, o in zip(found["rule"], found["outcome"])]]
    assert set(moved["rule"]) == {"idle_land", "per_mu"}
    parcels = frames["parcels"].copy()
    status = dict(zip(moved["parcel_id"].astype(int), [means[(r, o)] for r, o in zip(moved["rule"], moved["outcome"])]))
    parcels["status"] = [status.get(int(i), s) for i, s in zip(parcels["id"], parcels["status"])]
    again = api.run_rule(["idle_land", "per_mu"], {**frames, "parcels": parcels}, as_of=DEMO_AS_OF)
    key = ["rule", "subject_type", "subject_id"]
    both = moved[key + ["outcome"]].merge(again[key + ["outcome"]], on=key, how="left", suffixes=("", "_after"))
    changed = both[both["outcome"] != both["outcome_after"]]
    assert changed.empty, changed.head().to_string()
    assert not pd.isna(both["outcome_after"]).any()


# -- the counts agree ------------------------------------------------------------------------------------


def test_a_confirmed_parcel_counts_as_confirmed_on_the_page_dashboard_and_map(assessed):
    f = _open_finding(assessed, "idle_land", ["idle_not_started"], "granted_unbuilt", zone_id=WGP)
    zone = parcel_record(assessed, PORT_EDITOR, f["code"])["parcel"]["zone_code"]

    def counts() -> dict[str, int]:
        frame = dashboard.dataset(assessed, "idle_land", zone)
        return dict(zip(frame["outcome"], frame["parcels"].astype(int)))

    before = counts()
    with assessed.connect() as conn:
        layer_before = conn.execute(sa.text("SELECT idle_class FROM layers.idle_land WHERE id = :i"),
                                    {"i": f["id"]}).scalar()
    assert layer_before == "suspected_not_started"
    _review(assessed, PORT_EDITOR, f, "confirmed")
    after = counts()
    assert parcel_record(assessed, PORT_EDITOR, f["code"])["parcel"]["status_zh"] == t("status.idle", "zh")
    assert after.get("idle_confirmed", 0) == before.get("idle_confirmed", 0) + 1
    assert after.get("idle_not_started", 0) == before.get("idle_not_started", 0) - 1
    with assessed.connect() as conn:
        layer = dict(conn.execute(sa.text(
            "SELECT l.idle_class, count(*) FROM layers.idle_land l JOIN land.zones z ON z.code = l.zone_code "
            "WHERE z.code = :z GROUP BY 1"), {"z": zone}).all())
        mine = conn.execute(sa.text("SELECT idle_class FROM layers.idle_land WHERE id = :i"), {"i": f["id"]}).scalar()
    assert mine == "confirmed"
    assert layer.get("confirmed", 0) == after.get("idle_confirmed", 0)
    assert layer.get("suspected_not_started", 0) == after.get("idle_not_started", 0)
