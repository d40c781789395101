"""Test helper: write a finding that is current, as `gisapp assess` would leave it."""

from __future__ import annotations

import sqlalchemy as sa


def insert_current_finding(conn, *, rule: str, zone_id: int, parcel_id: int, outcome: str, is_positive: bool,
                           explanation_zh: str, explanation_en: str, as_of: str | None = None) -> int:
    """Add a finding to the current run of (rule, zone) (a new run made current when there is
    none) and return its id."""
    run_id = conn.execute(
        sa.text("SELECT run_id FROM rules.current_runs WHERE rule = :r AND zone_key = :z"), {"r": rule, "z": zone_id}
    ).scalar()
    if run_id is None:
        run_id = conn.execute(sa.text(
            "INSERT INTO rules.assessment_runs (as_of, started_by) VALUES (current_date, 'test') RETURNING id"
        )).scalar_one()
        conn.execute(sa.text("INSERT INTO rules.current_runs (rule, zone_key, run_id) VALUES (:r, :z, :run)"),
                     {"r": rule, "z": zone_id, "run": run_id})
    conn.execute(sa.text("UPDATE rules.current_runs SET findings = findings + 1 WHERE rule = :r AND zone_key = :z"),
                 {"r": rule, "z": zone_id})
    return conn.execute(
        sa.text("""
        INSERT INTO rules.findings (run_id, rule, rule_version, as_of, zone_id, zone_key, parcel_id, subject_type,
                                    subject_id, outcome, is_positive, explanation_zh, explanation_en)
        VALUES (:run, :r, 'test', coalesce(CAST(:as_of AS date), current_date), :z, coalesce(CAST(:z AS integer), 0),
                :p, 'parcel', CAST(:p AS text),
                :o, :pos, :zh, :en) RETURNING id"""),
        {"run": run_id, "r": rule, "as_of": as_of, "z": zone_id, "p": parcel_id, "o": outcome, "pos": is_positive,
         "zh": explanation_zh, "en": explanation_en},
    ).scalar_one()
