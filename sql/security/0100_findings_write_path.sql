-- The write path of `gisapp assess` (rules part 1). An assessment supersedes the previous findings
-- of its rules and zones in bulk (is_current -> false: about a million rows per rule at city scale)
-- and copies the new ones in. Per-row triggers on that path would cost more than the rules:
--   * touch_row: the run sets version / updated_at / updated_by itself when it supersedes a row
--     (and COPY supplies them for new rows), so the trigger fires only for other updates, which
--     keep their optimistic-locking version bump (a review of a superseded finding then fails
--     with a version conflict instead of landing on a row nobody sees);
--   * audit: what people do to findings (their review) is audited, and deletions; the runs
--     themselves are recorded in rules.assessment_runs (sql/security/0020_audit.sql audited every
--     update of a finding, including the supersession of each one).
-- Applied after 0010/0020 (which create the generic triggers on every table); idempotent.

DROP TRIGGER IF EXISTS touch_row ON rules.findings;
CREATE TRIGGER touch_row BEFORE UPDATE ON rules.findings
    FOR EACH ROW WHEN (OLD.is_current IS NOT DISTINCT FROM NEW.is_current)
    EXECUTE FUNCTION gisapp_meta.touch_row();

DROP TRIGGER IF EXISTS audit_change ON rules.findings;
CREATE TRIGGER audit_change AFTER DELETE ON rules.findings
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();

DROP TRIGGER IF EXISTS audit_review ON rules.findings;
CREATE TRIGGER audit_review AFTER UPDATE ON rules.findings
    FOR EACH ROW WHEN (OLD.review_status IS DISTINCT FROM NEW.review_status
                       OR OLD.review_reason IS DISTINCT FROM NEW.review_reason
                       OR OLD.reviewed_by IS DISTINCT FROM NEW.reviewed_by
                       OR OLD.reviewed_at IS DISTINCT FROM NEW.reviewed_at)
    EXECUTE FUNCTION audit.record_change();
