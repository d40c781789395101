"""Who may do what in a case, enforced by PostgreSQL (sql/security/0900_casework.sql): a zone
editor reads and works its zones' cases, a bureau admin opens, decides and closes; everything is
audited with who and why."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.queries.edit_errors import EditRefused

pytestmark = pytest.mark.db

ADMIN = Actor("rls.admin", "bureau_admin", ())
VIEWER = Actor("rls.viewer", "bureau_viewer", ())


@pytest.fixture(scope="module")
def case(isolated_engine, demo_frames):
    """A case on an idle parcel, opened by the admin, its investigation notice served."""
    ids = demo_frames["parcels"].query("scenario == 'unbuilt_idle'")["id"].tolist()
    with isolated_engine.connect() as conn:
        pid, code, zone = conn.execute(sa.text(
            "SELECT p.id, p.code, p.zone_id FROM land.parcels p WHERE p.id = ANY (:ids) "
            "AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id) ORDER BY p.id LIMIT 1"),
            {"ids": ids}).one()
        other_zone = conn.execute(sa.text("SELECT min(id) FROM land.zones WHERE id <> :z"), {"z": zone}).scalar()
    opened = q.open_case(isolated_engine, ADMIN, {"kind": "idle_land_disposal", "parcel": code,
                                                  "opened_on": "2026-01-05", "idle_clock_from": "2024-06-01"})
    own = Actor("rls.own", "zone_editor", (zone,))
    q.record_step(isolated_engine, own, opened.case_code, {"step": "investigation_notice", "done_on": "2026-01-09"})
    return {"code": opened.case_code, "id": opened.row_id, "zone": zone, "own": own,
            "other": Actor("rls.other", "zone_editor", (other_zone,))}


def _count(eng, actor, sql: str, **params) -> int:
    with acting_as(eng, actor) as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_a_zone_editor_reads_and_works_the_cases_of_its_zone(isolated_engine, case):
    own = case["own"]
    assert [c.code for c in q.list_cases(isolated_engine, own, state="all")].count(case["code"]) == 1
    got = q.record_step(isolated_engine, own, case["code"], {"step": "user_reply", "done_on": "2026-02-05",
                                                             "result": "received"})
    assert got.table == "case_steps"
    assert _count(isolated_engine, own, "SELECT count(*) FROM land.case_steps WHERE case_id = :c", c=case["id"]) == 2


def test_a_zone_editor_may_not_decide(isolated_engine, case):
    own = case["own"]
    with pytest.raises(EditRefused):
        q.record_step(isolated_engine, own, case["code"], {"step": "determination", "done_on": "2026-02-20"})
    with pytest.raises(EditRefused):
        q.close_case(isolated_engine, own, case["code"], {"outcome": "not_idle"})
    with pytest.raises(EditRefused):
        q.open_case(isolated_engine, own, {"kind": "zone_rectification", "zone": "waigaoqiao_ftz"})
    with pytest.raises(EditRefused):
        q.set_pathway(isolated_engine, own, case["code"], {"pathway": "idle_recovery", "reason": "想改"})
    # in SQL as well: the policies leave the case row alone
    with acting_as(isolated_engine, own, "try") as conn:
        assert conn.execute(sa.text("UPDATE land.cases SET pathway = 'idle_recovery' WHERE id = :i"),
                            {"i": case["id"]}).rowcount == 0


def test_a_zone_editor_neither_sees_nor_writes_another_zones_case(isolated_engine, case):
    other = case["other"]
    assert case["code"] not in [c.code for c in q.list_cases(isolated_engine, other, state="all")]
    with pytest.raises(NotFoundError):
        q.case_timeline(isolated_engine, other, case["code"])
    with pytest.raises(NotFoundError):
        q.record_step(isolated_engine, other, case["code"], {"step": "publication", "done_on": "2026-02-25"})
    assert _count(isolated_engine, other, "SELECT count(*) FROM land.case_steps WHERE case_id = :c", c=case["id"]) == 0
    # in SQL: the case is not said to exist
    with pytest.raises(sa.exc.DatabaseError, match="there is no case"), acting_as(isolated_engine, other) as conn:
        conn.execute(sa.text("INSERT INTO land.case_steps (case_id, pathway, step, done_on, done_by, article) "
                             "VALUES (:c, 'idle_fee', 'user_reply', DATE '2026-02-05', '', '')"), {"c": case["id"]})


def test_the_bureau_reads_every_case_and_the_viewer_writes_nothing(isolated_engine, case):
    assert case["code"] in [c.code for c in q.list_cases(isolated_engine, VIEWER, state="all")]
    with pytest.raises(EditRefused):
        q.record_step(isolated_engine, VIEWER, case["code"], {"step": "publication", "done_on": "2026-02-25"})


def test_the_admin_decides_and_the_zone_office_records_payment_but_not_the_amount(isolated_engine, case):
    own, code = case["own"], case["code"]
    q.record_step(isolated_engine, ADMIN, code, {"step": "determination", "done_on": "2026-02-20"})
    q.record_step(isolated_engine, own, code, {"step": "publication", "done_on": "2026-02-25"})
    q.record_step(isolated_engine, own, code, {"step": "hearing_notice", "done_on": "2026-03-02"})
    q.record_step(isolated_engine, own, code, {"step": "hearing", "done_on": "2026-03-05", "result": "waived"})
    q.decide_fee(isolated_engine, ADMIN, code, {"decided_on": "2026-03-10", "served_on": "2026-03-11"})
    with pytest.raises(sa.exc.ProgrammingError, match="not change the decision"), acting_as(isolated_engine, own) as conn:
        conn.execute(sa.text("UPDATE land.case_money SET amount_wan = 1 WHERE case_id = :c"), {"c": case["id"]})
    q.record_payment(isolated_engine, own, code, {"paid_wan": "1", "paid_on": "2026-03-20"})
    with pytest.raises(EditRefused):
        q.decide_money(isolated_engine, own, code, {"purpose": "compensation", "payer": "government",
                                                    "amount_wan": "5", "basis": "x", "decided_on": "2026-03-20"})


def test_every_change_of_a_case_is_audited_with_who_and_why(isolated_engine, case):
    with isolated_engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT table_name, action, app_user, reason FROM audit.change_log "
            "WHERE table_name IN ('cases', 'case_steps', 'case_money', 'case_documents') "
            "AND CASE WHEN table_name = 'cases' THEN row_id = :case "
            "ELSE coalesce(new_row, old_row) ->> 'case_id' = :case END ORDER BY id"),
            {"case": str(case["id"])}).all()
    by_table = {(r.table_name, r.action) for r in rows}
    assert {("cases", "INSERT"), ("case_steps", "INSERT"), ("case_money", "INSERT"), ("case_money", "UPDATE"),
            ("case_documents", "INSERT")} <= by_table
    steps = [r for r in rows if r.table_name == "case_steps"]
    assert {r.app_user for r in steps} >= {"rls.own", "rls.admin"}
    assert all(r.reason and case["code"] in r.reason for r in steps)
    opened = next(r for r in rows if r.table_name == "cases")
    assert opened.app_user == "rls.admin" and "opened by hand" in opened.reason
    # versions move with every change
    with isolated_engine.connect() as conn:
        version, by = conn.execute(sa.text("SELECT version, updated_by FROM land.case_money WHERE case_id = :c"),
                                   {"c": case["id"]}).one()
    assert version == 2 and by == "rls.own"


def test_the_casework_tables_are_under_row_level_security_with_their_own_policies(isolated_engine):
    with isolated_engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT c.relname, c.relrowsecurity, "
            "(SELECT qual FROM pg_policies p WHERE p.schemaname = 'land' AND p.tablename = c.relname "
            " AND p.policyname = 'gisapp_read') AS reader "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'land' AND c.relname IN ('cases', 'case_steps', 'case_money', 'case_documents', "
            "'case_extensions')")).all()
    assert len(rows) == 5 and all(r.relrowsecurity for r in rows)
    assert all("may_read_zone" in r.reader for r in rows)
