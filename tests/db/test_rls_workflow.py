"""The status workflow, optimistic locking, geometry checks, finding reviews and the audit trail,
in the database (so psql users obey them too) and through gisapp.queries.edits."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import pytest
import sqlalchemy as sa

from gisapp.i18n import problem_texts
from gisapp.queries import edits
from gisapp.queries.edits import Actor, acting_as
from gisapp.web.errors import conflict_message
from tests.findings_util import insert_current_finding

pytestmark = pytest.mark.db

WGQ, WGP = 1, 2
EDITOR = Actor("ed.workflow", "zone_editor", (WGQ,))
TODAY = dt.date.today().isoformat()


def _parcel(eng, status: str, zone_id: int = WGQ, offset: int = 0) -> dict:
    with eng.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT id, code, status, version, status_since, zone_id FROM land.parcels "
                    "WHERE zone_id = :z AND status = :s ORDER BY id OFFSET :o LIMIT 1"
                ),
                {"z": zone_id, "s": status, "o": offset},
            )
            .mappings()
            .one()
        )


def _one(eng, sql: str, **params):
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().first()


def _count(eng, sql: str, **params) -> int:
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _psql(sql: str) -> subprocess.CompletedProcess:
    """Run SQL as a person would in psql (the cluster's superuser, no app context)."""
    from gisapp.settings import get_settings

    s = get_settings()
    return subprocess.run(
        [
            "/usr/bin/psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(s.db_port),
            "-U",
            s.db_superuser,
            "-d",
            s.db_name,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-c",
            sql,
        ],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )


# -- the lifecycle graph ---------------------------------------------------------------------


def test_a_transition_outside_the_graph_is_refused_with_its_reason(isolated_engine):
    p = _parcel(isolated_engine, "in_production")
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.change_status(
            isolated_engine,
            EDITOR,
            p["code"],
            {
                "to_status": "approved_unsupplied",
                "changed_on": TODAY,
                "reason": "try",
                "version": p["version"],
            },
        )
    zh, en = problem_texts(refused.value.problems, "zh")["to_status"], problem_texts(refused.value.problems, "en")["to_status"]
    assert "已投产" in zh and "批而未供" in zh and "低效（已认定）" in zh  # from, to, and what is allowed
    assert "In production" in en and "Approved, not supplied" in en and "Low-efficiency" in en
    assert _one(isolated_engine, "SELECT status, version FROM land.parcels WHERE id = :i", i=p["id"]) == {
        "status": "in_production",
        "version": p["version"],
    }


def test_psql_users_obey_the_graph_too(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=1)
    out = _psql(
        f"BEGIN; SET LOCAL gisapp.reason = 'psql try'; "
        f"UPDATE land.parcels SET status = 'approved_unsupplied' WHERE code = '{p['code']}'; COMMIT;"
    )
    assert out.returncode != 0
    assert "cannot change from in_production to approved_unsupplied" in out.stderr
    assert "allowed from in_production: idle, low_efficiency, in_disposal, transferred, exited" in out.stderr
    assert (
        _one(isolated_engine, "SELECT status FROM land.parcels WHERE id = :i", i=p["id"])["status"]
        == "in_production"
    )


def test_a_status_change_needs_a_reason_even_in_psql(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=2)
    out = _psql(f"UPDATE land.parcels SET status = 'low_efficiency' WHERE code = '{p['code']}'")
    assert out.returncode != 0 and "needs a reason" in out.stderr and "gisapp.reason" in out.stderr


def test_a_change_made_in_psql_is_audited_with_its_history(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=3)
    out = _psql(
        f"BEGIN; SET LOCAL gisapp.reason = '现场核查：停产 (psql)'; "
        f"UPDATE land.parcels SET status = 'low_efficiency' WHERE code = '{p['code']}'; COMMIT;"
    )
    assert out.returncode == 0, out.stderr
    audit = _one(
        isolated_engine,
        "SELECT * FROM audit.change_log WHERE table_name = 'parcels' AND row_id = :r "
        "ORDER BY id DESC LIMIT 1",
        r=str(p["id"]),
    )
    assert audit["action"] == "UPDATE" and audit["db_user"] == "gis" and audit["app_user"] is None
    assert audit["reason"] == "现场核查：停产 (psql)"
    assert audit["old_row"]["status"] == "in_production" and audit["new_row"]["status"] == "low_efficiency"
    assert audit["old_row"]["version"] + 1 == audit["new_row"]["version"]
    history = _one(
        isolated_engine,
        "SELECT * FROM land.parcel_status_history WHERE parcel_id = :p ORDER BY id DESC LIMIT 1",
        p=p["id"],
    )
    assert (history["from_status"], history["to_status"], history["changed_on"], history["changed_by"]) == (
        "in_production",
        "low_efficiency",
        dt.date.today(),
        "gis",
    )


def test_a_psql_change_of_any_column_is_audited(isolated_engine):
    p = _parcel(isolated_engine, "completed")
    out = _psql(f"UPDATE land.parcels SET floor_area_m2 = 12345.5 WHERE code = '{p['code']}'")
    assert out.returncode == 0, out.stderr
    audit = _one(
        isolated_engine,
        "SELECT * FROM audit.change_log WHERE table_name = 'parcels' AND row_id = :r "
        "ORDER BY id DESC LIMIT 1",
        r=str(p["id"]),
    )
    assert audit["new_row"]["floor_area_m2"] == 12345.5 and audit["db_user"] == "gis"
    assert (
        _one(isolated_engine, "SELECT updated_by FROM land.parcels WHERE id = :i", i=p["id"])["updated_by"]
        == "gis"
    )


@pytest.mark.parametrize(
    "day, problem",
    [
        ("2999-01-01", "edit.err.future"),
        ("2000-01-01", "edit.err.before_current"),
    ],
)
def test_status_dates_in_the_wrong_order_are_refused_at_the_field(isolated_engine, day, problem):
    p = _parcel(isolated_engine, "in_production", offset=4)
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.change_status(
            isolated_engine,
            EDITOR,
            p["code"],
            {"to_status": "low_efficiency", "changed_on": day, "reason": "r", "version": p["version"]},
        )
    assert refused.value.problems["changed_on"].key == problem
    assert (
        _one(isolated_engine, "SELECT version FROM land.parcels WHERE id = :i", i=p["id"])["version"]
        == p["version"]
    )


def test_a_stale_version_is_refused_with_the_current_values(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=5)
    first = edits.change_status(
        isolated_engine,
        EDITOR,
        p["code"],
        {"to_status": "low_efficiency", "changed_on": TODAY, "reason": "first", "version": p["version"]},
    )
    assert first.version == p["version"] + 1
    with pytest.raises(edits.EditConflict) as stale:
        edits.change_status(
            isolated_engine,
            Actor("ed.other", "zone_editor", (WGQ,)),
            p["code"],
            {"to_status": "idle", "changed_on": TODAY, "reason": "second", "version": p["version"]},
        )
    assert (
        stale.value.current["status"] == "low_efficiency"
        and stale.value.current["updated_by"] == EDITOR.username
    )
    assert stale.value.current["version"] == first.version
    assert "ed.workflow" in conflict_message(stale.value.current, "en")
    assert (
        _count(
            isolated_engine,
            "SELECT count(*) FROM land.parcel_status_history WHERE parcel_id = :p AND reason = 'second'",
            p=p["id"],
        )
        == 0
    )


def test_a_stale_version_is_refused_in_sql(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=6)
    with (
        pytest.raises(sa.exc.DatabaseError, match="was changed by .* the edit started from version 0"),
        acting_as(isolated_engine, EDITOR) as conn,
    ):
        conn.execute(
            sa.text("SELECT land.change_parcel_status(:c, 'low_efficiency', current_date, 'x', NULL, 0)"),
            {"c": p["code"]},
        )


# -- every change leaves its audit row ---------------------------------------------------------


def test_every_edit_has_its_audit_row(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=7)
    year = _count(
        isolated_engine,
        "SELECT coalesce(min(year), 2025) - 1 FROM land.enterprise_metrics WHERE parcel_id = :p",
        p=p["id"],
    )
    before = _count(isolated_engine, "SELECT max(id) FROM audit.change_log")
    results = [
        edits.change_status(
            isolated_engine,
            EDITOR,
            p["code"],
            {
                "to_status": "low_efficiency",
                "changed_on": TODAY,
                "reason": "per-mu review",
                "version": p["version"],
            },
        ),
        edits.record_green_area(
            isolated_engine,
            EDITOR,
            p["code"],
            {"measured_on": TODAY, "green_area_m2": "120.5", "reason": "survey"},
        ),
        edits.record_progress(
            isolated_engine,
            EDITOR,
            p["code"],
            {
                "reported_on": TODAY,
                "started_on": "2025-01-01",
                "developed_area_m2": "100",
                "should_develop_area_m2": "200",
            },
        ),
        edits.record_metrics(
            isolated_engine,
            EDITOR,
            p["code"],
            {
                "year": str(year),
                "revenue_wan": "1000",
                "tax_wan": "50",
                "value_added_wan": "-3",
                "employees": "12",
            },
        ),
        edits.set_mixed_use(
            isolated_engine, EDITOR, p["code"], {"components": "100101 70\n0802 30", "expected": []}
        ),
    ]
    rows = {(r["table_name"], r["row_id"]): r for r in _rows_after(isolated_engine, before)}
    for result in results:
        entry = rows.get((result.table, str(result.row_id)))
        assert entry is not None, f"no audit row for {result}"
        assert entry["app_user"] == EDITOR.username and entry["reason"]
    assert rows[("parcels", str(p["id"]))]["reason"] == "per-mu review"
    assert rows[("green_areas", str(results[1].row_id))]["reason"] == "survey"


def _rows_after(eng, last_id: int) -> list[dict]:
    with eng.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("SELECT * FROM audit.change_log WHERE id > :i ORDER BY id"), {"i": last_id}
            ).mappings()
        ]


# -- malformed values: a message at the field, nothing written ----------------------------------


@pytest.mark.parametrize(
    "edit, data, field_name, key",
    [
        (
            edits.record_green_area,
            {"measured_on": TODAY, "green_area_m2": "-5"},
            "green_area_m2",
            "edit.err.negative",
        ),
        (
            edits.record_green_area,
            {"measured_on": "2026-02-30", "green_area_m2": "5"},
            "measured_on",
            "edit.err.not_date",
        ),
        (
            edits.record_green_area,
            {"measured_on": TODAY, "green_area_m2": "1e12"},
            "green_area_m2",
            "edit.err.green_exceeds",
        ),
        (
            edits.record_progress,
            {"reported_on": TODAY, "started_on": "2025-05-01", "completed_on": "2025-04-01"},
            "completed_on",
            "edit.err.date_order",
        ),
        (
            edits.record_progress,
            {"reported_on": TODAY, "should_develop_area_m2": "-1"},
            "should_develop_area_m2",
            "edit.err.min_exclusive",
        ),
        (
            edits.record_progress,
            {"reported_on": TODAY, "should_develop_area_m2": "10", "developed_area_m2": "11"},
            "developed_area_m2",
            "edit.err.developed_exceeds",
        ),
        (edits.record_metrics, {"year": "2025", "employees": "-3"}, "employees", "edit.err.negative"),
        (
            edits.record_metrics,
            {"year": "2025", "grading_category": "vip"},
            "grading_category",
            "edit.err.unknown_code",
        ),
        (edits.record_metrics, {"year": "twenty"}, "year", "edit.err.not_integer"),
        (edits.set_mixed_use, {"components": "100101 60\n0802 30"}, "components", "edit.err.shares_sum"),
        (edits.set_mixed_use, {"components": "100101 60\n9999 40"}, "components", "edit.err.unknown_code"),
        (edits.set_mixed_use, {"components": "100101 -60\n0802 160"}, "components", "edit.err.min_exclusive"),
        (
            edits.change_status,
            {"to_status": "nonsense", "changed_on": TODAY, "reason": "r", "version": 1},
            "to_status",
            "edit.err.unknown_code",
        ),
        (
            edits.change_status,
            {"to_status": "idle", "changed_on": TODAY, "reason": "  ", "version": 1},
            "reason",
            "edit.err.required",
        ),
        (
            edits.update_geometry,
            {"geom": "{not json", "reason": "r", "version": 1},
            "geom",
            "edit.err.geom_parse",
        ),
    ],
)
def test_malformed_values_get_a_message_at_the_field_and_nothing_is_written(
    isolated_engine, edit, data, field_name, key
):
    p = _parcel(isolated_engine, "in_production", offset=8)
    before = _count(isolated_engine, "SELECT max(id) FROM audit.change_log")
    with pytest.raises(edits.ValidationFailed) as refused:
        edit(isolated_engine, EDITOR, p["code"], data)
    assert refused.value.problems[field_name].key == key
    assert problem_texts(refused.value.problems, "zh")[field_name] and problem_texts(refused.value.problems, "en")[field_name]
    assert _count(isolated_engine, "SELECT max(id) FROM audit.change_log") == before


def test_unknown_parcel_code_is_not_found(isolated_engine):
    with pytest.raises(edits.NotFoundError, match="NOPE-1"):
        edits.record_green_area(
            isolated_engine, EDITOR, "NOPE-1", {"measured_on": TODAY, "green_area_m2": "1"}
        )


# -- geometry ------------------------------------------------------------------------------------


def _geometry(eng, code: str) -> dict:
    return json.loads(
        _one(eng, "SELECT ST_AsGeoJSON(geom) AS g FROM land.parcels WHERE code = :c", c=code)["g"]
    )


def _shift(geometry: dict, dx: float, dy: float = 0.0) -> dict:
    return {
        "type": geometry["type"],
        "coordinates": [
            [[[x + dx, y + dy] for x, y in ring] for ring in poly] for poly in geometry["coordinates"]
        ],
    }


def test_geometry_that_overlaps_a_neighbour_is_refused_with_the_neighbour_named(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=9)
    shape = _geometry(isolated_engine, p["code"])
    xs = [x for ring in shape["coordinates"][0] for x, _y in ring]
    moved = _shift(shape, (max(xs) - min(xs)) * 0.9)  # onto the neighbour to the east (20 m roads)
    with pytest.raises(edits.ValidationFailed) as refused:
        edits.update_geometry(
            isolated_engine,
            EDITOR,
            p["code"],
            {"geom": json.dumps(moved), "reason": "redraw", "version": p["version"]},
        )
    problems = {v.key for v in refused.value.problems.values()}
    assert "edit.err.geom_overlap" in problems
    assert (
        "-"
        in problem_texts(refused.value.problems, "en")[
            next(k for k, v in refused.value.problems.items() if v.key == "edit.err.geom_overlap")
        ]
    )


def test_geometry_outside_the_approved_boundary_or_invalid_is_refused(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=10)
    far = _shift(_geometry(isolated_engine, p["code"]), 0.5)
    with pytest.raises(edits.ValidationFailed) as outside:
        edits.update_geometry(
            isolated_engine,
            EDITOR,
            p["code"],
            {"geom": json.dumps(far), "reason": "redraw", "version": p["version"]},
        )
    assert outside.value.problems["geom"].key == "edit.err.geom_outside"
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[121.6, 31.32], [121.601, 31.321], [121.601, 31.32], [121.6, 31.321], [121.6, 31.32]]
        ],
    }
    with pytest.raises(edits.ValidationFailed) as invalid:
        edits.update_geometry(
            isolated_engine,
            EDITOR,
            p["code"],
            {"geom": json.dumps(bowtie), "reason": "redraw", "version": p["version"]},
        )
    assert invalid.value.problems["geom"].key == "edit.err.geom_invalid"


def test_a_valid_reshape_inside_the_boundary_is_saved_and_audited(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=11)
    shape = _geometry(isolated_engine, p["code"])
    ring = shape["coordinates"][0][0]
    cx = sum(x for x, _ in ring[:-1]) / (len(ring) - 1)
    cy = sum(y for _, y in ring[:-1]) / (len(ring) - 1)
    smaller = {
        "type": "MultiPolygon",
        "coordinates": [[[[cx + (x - cx) * 0.8, cy + (y - cy) * 0.8] for x, y in ring]]],
    }
    result = edits.update_geometry(
        isolated_engine,
        EDITOR,
        p["code"],
        {"geom": json.dumps(smaller), "reason": "survey correction", "version": p["version"]},
    )
    assert result.version == p["version"] + 1
    audit = _one(
        isolated_engine,
        "SELECT * FROM audit.change_log WHERE table_name = 'parcels' AND row_id = :r "
        "ORDER BY id DESC LIMIT 1",
        r=str(p["id"]),
    )
    assert audit["reason"] == "survey correction" and audit["old_row"]["geom"] != audit["new_row"]["geom"]


def test_a_plain_sql_update_under_the_app_role_cannot_bypass_the_geometry_check(isolated_engine):
    p = _parcel(isolated_engine, "in_production", offset=12)
    with (
        pytest.raises(sa.exc.DatabaseError, match="outside_boundary"),
        acting_as(isolated_engine, EDITOR, "sneak") as conn,
    ):
        conn.execute(
            sa.text("UPDATE land.parcels SET geom = ST_Translate(geom, 0.5, 0) WHERE id = :i"), {"i": p["id"]}
        )


# -- finding reviews -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finding_ids(isolated_engine):
    """One open finding on a parcel of each of the two Waigaoqiao zones (written as `assess` would)."""
    ids = {}
    with isolated_engine.begin() as conn:
        for zone in (WGQ, WGP):
            pid = conn.execute(
                sa.text("SELECT id FROM land.parcels WHERE zone_id = :z ORDER BY id DESC LIMIT 1"),
                {"z": zone},
            ).scalar()
            ids[zone] = insert_current_finding(
                conn, rule="idle_land", zone_id=zone, parcel_id=pid, outcome="suspected_idle", is_positive=True,
                explanation_zh="测试发现", explanation_en="test finding")
    return ids


def test_a_zone_editor_confirms_a_finding_of_own_zone_with_a_reason(isolated_engine, finding_ids):
    fid = finding_ids[WGQ]
    with pytest.raises(edits.ValidationFailed) as no_reason:
        edits.review_finding(isolated_engine, EDITOR, fid, {"decision": "confirmed", "version": 1})
    assert no_reason.value.problems["reason"].key == "edit.err.required"
    result = edits.review_finding(
        isolated_engine, EDITOR, fid, {"decision": "confirmed", "reason": "现场核实", "version": 1}
    )
    row = _one(
        isolated_engine,
        "SELECT review_status, review_reason, reviewed_by, version FROM rules.findings WHERE id = :i",
        i=fid,
    )
    assert dict(row) == {
        "review_status": "confirmed",
        "review_reason": "现场核实",
        "reviewed_by": EDITOR.username,
        "version": result.version,
    }
    audit = _one(
        isolated_engine,
        "SELECT reason, app_user FROM audit.change_log WHERE table_name = 'findings' "
        "AND row_id = :r ORDER BY id DESC LIMIT 1",
        r=str(fid),
    )
    assert dict(audit) == {"reason": "现场核实", "app_user": EDITOR.username}


def test_findings_of_another_zone_cannot_be_reviewed(isolated_engine, finding_ids):
    fid = finding_ids[WGP]
    with pytest.raises(edits.EditRefused):
        edits.review_finding(
            isolated_engine, EDITOR, fid, {"decision": "dismissed", "reason": "no", "version": 1}
        )
    with acting_as(isolated_engine, EDITOR, "sneak") as conn:
        assert (
            conn.execute(
                sa.text(
                    "UPDATE rules.findings SET review_status = 'dismissed', review_reason = 'x' WHERE id = :i"
                ),
                {"i": fid},
            ).rowcount
            == 0
        )
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        acting_as(isolated_engine, EDITOR, "sneak") as conn,
    ):
        conn.execute(
            sa.text("UPDATE rules.findings SET outcome = 'fine' WHERE id = :i"), {"i": finding_ids[WGQ]}
        )
    assert (
        _one(isolated_engine, "SELECT review_status FROM rules.findings WHERE id = :i", i=fid)[
            "review_status"
        ]
        == "open"
    )


def test_the_parcel_as_it_was_on_a_date_comes_from_the_audit_log(isolated_engine):
    from gisapp.queries.parcel_record import parcel_as_of

    p = _parcel(isolated_engine, "in_production", offset=13)
    edits.change_status(
        isolated_engine,
        EDITOR,
        p["code"],
        {"to_status": "low_efficiency", "changed_on": TODAY, "reason": "as-of test", "version": p["version"]},
    )
    # pretend the load happened ten days ago and the change three days ago
    with isolated_engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE audit.change_log SET changed_at = changed_at - interval '10 days' "
                "WHERE action = 'BULK_LOAD' AND table_name = 'parcels'"
            )
        )
        conn.execute(
            sa.text(
                "UPDATE audit.change_log SET changed_at = changed_at - interval '3 days' "
                "WHERE table_name = 'parcels' AND row_id = :r AND reason = 'as-of test'"
            ),
            {"r": str(p["id"])},
        )
    today = dt.date.today()
    five_days_ago = parcel_as_of(isolated_engine, EDITOR, p["code"], today - dt.timedelta(days=5))
    assert five_days_ago["source"] == "audit"
    assert five_days_ago["state"]["status"] == "in_production"
    assert five_days_ago["state"]["version"] == p["version"]
    two_days_ago = parcel_as_of(isolated_engine, EDITOR, p["code"], today - dt.timedelta(days=2))
    assert two_days_ago["source"] == "current" and two_days_ago["state"]["status"] == "low_efficiency"
    before_records = parcel_as_of(isolated_engine, EDITOR, p["code"], today - dt.timedelta(days=30))
    assert before_records["source"] == "history"
