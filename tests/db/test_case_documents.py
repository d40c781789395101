"""A case's documents in the database (issue #20): rendered as the signed-in user and kept with
the case, numbered when issued without a number, readable where the case is, never changed,
audited without their bytes."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from docx import Document

from gisapp.casework import queries as q
from gisapp.casework.documents import generate_documents, stored_file, text_of
from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError

pytestmark = pytest.mark.db

ADMIN = Actor("docs.admin", "bureau_admin", ())


@pytest.fixture(scope="module")
def idle_case(isolated_engine, demo_frames):
    """An idle-land case on a demo parcel whose idle period is long past, investigated up to the
    fee decision, and the zone editor of its zone."""
    ids = demo_frames["parcels"].query("scenario == 'unbuilt_idle'")["id"].tolist()
    with isolated_engine.connect() as conn:
        code, zone = conn.execute(sa.text(
            "SELECT p.code, p.zone_id FROM land.parcels p JOIN land.land_grants g ON g.parcel_id = p.id "
            "WHERE p.id = ANY (:ids) AND g.price_wan IS NOT NULL AND g.agreed_start_on < DATE '2024-06-01' "
            "AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id) ORDER BY p.id LIMIT 1"),
            {"ids": ids}).one()
    editor = Actor(f"docs.ed{zone}", "zone_editor", (zone,))
    case = q.open_case(isolated_engine, ADMIN, {"kind": "idle_land_disposal", "parcel": code,
                                                "opened_on": "2026-01-05"}).case_code
    q.record_step(isolated_engine, editor, case, {"step": "investigation_notice", "done_on": "2026-01-09"})
    q.record_step(isolated_engine, editor, case, {"step": "user_reply", "done_on": "2026-02-06", "result": "none"})
    q.record_step(isolated_engine, ADMIN, case, {"step": "determination", "done_on": "2026-02-20",
                                                 "doc_no": "浦规资认〔2026〕88号"})
    q.record_step(isolated_engine, editor, case, {"step": "publication", "done_on": "2026-02-25"})
    q.record_step(isolated_engine, editor, case, {"step": "hearing_notice", "done_on": "2026-03-02"})
    q.record_step(isolated_engine, editor, case, {"step": "hearing", "done_on": "2026-03-04", "result": "waived"})
    q.record_step(isolated_engine, ADMIN, case, {"step": "fee_decision", "done_on": "2026-03-20"})
    return case, code, zone, editor


def _documents(eng, case: str) -> dict[str, int]:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text("SELECT d.kind, d.id FROM land.case_documents d JOIN land.cases c "
                                         "ON c.id = d.case_id WHERE c.code = :c"), {"c": case}).all())


def test_the_zone_office_renders_its_cases_documents_numbered_and_kept(isolated_engine, idle_case):
    case, parcel, zone, editor = idle_case
    made = generate_documents(isolated_engine, editor, case)
    docs = _documents(isolated_engine, case)
    assert set(docs) == {"investigation_notice", "idle_determination", "hearing_notice", "fee_decision"}
    assert len(made) == 4
    assert generate_documents(isolated_engine, editor, case) == []   # each document once
    notice = stored_file(isolated_engine, editor, case, docs["investigation_notice"])
    text = text_of(notice.content)
    assert parcel in text and "闲置土地调查通知书" in text
    assert "（至2026年2月9日）" in text             # served 9 Jan + 30 days = 8 Feb, a Sunday: Monday 9 Feb
    assert "合成演示数据" in text                     # the demo data says so
    number = text.split("\n")[2]
    assert number.startswith("沪规资闲调〔2026〕") and number.endswith("号")
    decision = text_of(stored_file(isolated_engine, ADMIN, case, docs["idle_determination"]).content)
    assert "浦规资认〔2026〕88号" in decision          # a number given by hand is kept
    assert "你单位在规定期限内未提交说明材料" in decision
    fee = text_of(stored_file(isolated_engine, ADMIN, case, docs["fee_decision"]).content)
    with isolated_engine.connect() as conn:
        amount, due = conn.execute(sa.text("SELECT amount_wan, due_on FROM land.case_money m JOIN land.cases c "
                                           "ON c.id = m.case_id WHERE c.code = :c"), {"c": case}).one()
    assert f"征缴土地闲置费{amount:,.2f}万元" in fee
    assert f"（至{due.year}年{due.month}月{due.day}日）" in fee
    assert notice.filename == f"{case}_闲置土地调查通知书_{docs['investigation_notice']}.docx"
    assert Document(io.BytesIO(notice.content)).paragraphs


def test_numbers_count_per_prefix_and_year_across_zones(isolated_engine, idle_case):
    case, *_ = idle_case
    with isolated_engine.begin() as conn:
        counter = conn.execute(sa.text("SELECT last_no FROM land.case_document_numbers "
                                       "WHERE prefix = '沪规资闲调' AND year = 2026")).scalar()
        doc_no = conn.execute(sa.text("SELECT doc_no FROM land.case_documents d JOIN land.cases c ON c.id = d.case_id "
                                      "WHERE c.code = :c AND d.kind = 'investigation_notice'"), {"c": case}).scalar()
    assert doc_no == f"沪规资闲调〔2026〕{counter}号"


def test_another_zones_editor_neither_reads_nor_renders_the_documents(isolated_engine, idle_case):
    case, _parcel, zone, _editor = idle_case
    docs = _documents(isolated_engine, case)
    with isolated_engine.connect() as conn:
        other = conn.execute(sa.text("SELECT id FROM land.zones WHERE id <> :z ORDER BY id LIMIT 1"), {"z": zone}).scalar()
    outsider = Actor("docs.outsider", "zone_editor", (other,))
    with pytest.raises(NotFoundError):
        stored_file(isolated_engine, outsider, case, docs["fee_decision"])
    with pytest.raises(NotFoundError):
        generate_documents(isolated_engine, outsider, case, docs["fee_decision"], again=True)
    with acting_as(isolated_engine, outsider) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.case_document_files f JOIN land.cases c "
                                    "ON c.id = f.case_id WHERE c.code = :c"), {"c": case}).scalar() == 0
    viewer = Actor("docs.viewer", "bureau_viewer", ())
    assert stored_file(isolated_engine, viewer, case, docs["fee_decision"]).content[:2] == b"PK"
    with pytest.raises(sa.exc.DBAPIError, match="may not number|permission denied|policy"):
        with acting_as(isolated_engine, viewer) as conn:
            conn.execute(sa.text("INSERT INTO land.case_document_files (document_id, case_id, filename, content, "
                                 "sha256, template, template_sha256, synthetic) SELECT :d, 0, 'x.docx', "
                                 "'\\x504b'::bytea, '', 'x.docx', repeat('0', 64), true"),
                         {"d": docs["fee_decision"]})


def test_a_file_is_never_changed_a_new_rendering_is_a_new_file_and_the_audit_keeps_no_bytes(
        isolated_engine, idle_case):
    case, _parcel, _zone, editor = idle_case
    doc = _documents(isolated_engine, case)["hearing_notice"]
    first = stored_file(isolated_engine, editor, case, doc)
    [again] = generate_documents(isolated_engine, ADMIN, case, doc, again=True)
    newest = stored_file(isolated_engine, editor, case, doc)
    assert newest.file_id == again != first.file_id
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        with acting_as(isolated_engine, ADMIN) as conn:
            conn.execute(sa.text("UPDATE land.case_document_files SET filename = 'x.docx' WHERE id = :i"),
                         {"i": first.file_id})
    with acting_as(isolated_engine, editor) as conn:   # removing a file is the bureau's
        assert conn.execute(sa.text("DELETE FROM land.case_document_files WHERE id = :i"),
                            {"i": first.file_id}).rowcount == 0
    assert stored_file(isolated_engine, ADMIN, case, doc).file_id == again
    with isolated_engine.connect() as conn:
        row = conn.execute(sa.text("SELECT app_user, new_row, reason FROM audit.change_log "
                                   "WHERE table_name = 'case_document_files' AND row_id = :i"), {"i": str(again)}).one()
    assert row.app_user == ADMIN.username and "rendered" in row.reason
    assert "content" not in row.new_row and row.new_row["content_bytes"] == len(newest.content)
    assert row.new_row["sha256"] == newest.sha256 and row.new_row["rendered_by"] == ADMIN.username
