"""What a finding's review did to its parcel's status, as the database recorded it
(``rules.review_status_changes``, written by the trigger of
sql/security/0820_review_moves_status.sql): the notice said after a review is saved, and the
note of the status-history rows a review wrote.

The database decides and records; this module only reads it back as message keys of
gisapp.i18n with their values (a :class:`gisapp.errors.Term` for a status), so the web form and
the JSON API say the same thing in the reader's language.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gisapp.errors import Term
from gisapp.queries.edit_errors import FieldProblem

# The record the review just saved in this transaction made (a confirmation) or closed (a
# withdrawal): txid_current() is the transaction the trigger ran in.
_EFFECT = sa.text("""
    SELECT m.effect, m.from_status, m.to_status, m.restored, p.status, c.status AS means,
           m.confirmed_txid = txid_current() AS confirmed_now
    FROM rules.findings f
    JOIN rules.review_status_changes m
      ON m.parcel_id = f.parcel_id AND m.rule = f.rule AND m.subject_type = f.subject_type
     AND m.subject_id = f.subject_id AND m.outcome = f.outcome
    JOIN land.parcels p ON p.id = m.parcel_id
    JOIN rules.confirmed_outcome_statuses c ON c.rule = m.rule AND c.outcome = m.outcome
    WHERE f.id = :id AND (m.confirmed_txid = txid_current() OR m.withdrawn_txid = txid_current())
    ORDER BY m.id DESC LIMIT 1""")


def _status(code: str) -> Term:
    return Term(f"status.{code}")


def review_notice(conn: Connection, finding_id: int) -> FieldProblem | None:
    """What the review just saved in ``conn``'s transaction did to the parcel's status, or None
    when it did nothing to it (an outcome that means no status; a withdrawn confirmation that had
    changed no status)."""
    row = conn.execute(_EFFECT, {"id": finding_id}).mappings().first()
    if row is None:
        return None
    if row["confirmed_now"]:
        if row["effect"] == "moved":
            return FieldProblem("review.moved", {"from_label": _status(row["from_status"]),
                                                 "to_label": _status(row["to_status"])})
        if row["effect"] == "already":
            return FieldProblem("review.already", {"status": _status(row["status"])})
        return FieldProblem("review.settled", {"status": _status(row["status"]), "means": _status(row["means"])})
    if row["effect"] != "moved":
        return None
    if row["restored"]:
        return FieldProblem("review.restored", {"to_label": _status(row["from_status"])})
    return FieldProblem("review.kept", {"status": _status(row["status"])})


#: The review behind each status-history row of a parcel that a review wrote: confirmed (the
#: change a confirmation made) or withdrawn (the change taken back).
HISTORY_REVIEWS = """
    LEFT JOIN LATERAL (
        SELECT CASE WHEN m.history_id = h.id THEN 'confirmed' ELSE 'withdrawn' END AS review_effect,
               m.finding_id AS review_finding, m.outcome AS review_outcome
        FROM rules.review_status_changes m
        WHERE m.parcel_id = h.parcel_id AND (m.history_id = h.id OR m.restore_history_id = h.id)
        LIMIT 1
    ) rv ON true"""
