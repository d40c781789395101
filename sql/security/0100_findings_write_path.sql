-- The write path of `gisapp assess` (docs/findings.md). A run copies its findings in (COPY, no
-- per-row triggers fire for INSERT on this table) and makes them current by pointing
-- rules.current_runs at itself; nothing of the previous run is rewritten. So:
--   * touch_row bumps version / updated_at / updated_by on every UPDATE: the only updates of a
--     finding are reviews (by people, or carried over by the next run);
--   * audit: reviews and deletions of reviewed findings are audited; the runs themselves are
--     recorded in rules.assessment_runs (one row per run, not four million);
--   * a review of a finding that is no longer current is refused: nobody would see it.
-- Applied after 0010/0020 (which create the generic triggers on every table); idempotent.

DROP TRIGGER IF EXISTS touch_row ON rules.findings;
CREATE TRIGGER touch_row BEFORE UPDATE ON rules.findings
    FOR EACH ROW EXECUTE FUNCTION gisapp_meta.touch_row();

-- deleting a reviewed finding is audited; the rows of a failed or pruned run that nobody
-- reviewed are machine output recorded by their run (auditing them would copy millions of rows)
DROP TRIGGER IF EXISTS audit_change ON rules.findings;
CREATE TRIGGER audit_change AFTER DELETE ON rules.findings
    FOR EACH ROW WHEN (OLD.review_status <> 'open') EXECUTE FUNCTION audit.record_change();

DROP TRIGGER IF EXISTS audit_review ON rules.findings;
CREATE TRIGGER audit_review AFTER UPDATE ON rules.findings
    FOR EACH ROW WHEN (OLD.review_status IS DISTINCT FROM NEW.review_status
                       OR OLD.review_reason IS DISTINCT FROM NEW.review_reason
                       OR OLD.reviewed_by IS DISTINCT FROM NEW.reviewed_by
                       OR OLD.reviewed_at IS DISTINCT FROM NEW.reviewed_at)
    EXECUTE FUNCTION audit.record_change();

-- SECURITY DEFINER: zone offices review through row-level security; the check must see
-- rules.current_runs whatever their grants. (zone_key is a generated column, which a BEFORE
-- trigger cannot read: hence coalesce.)
CREATE OR REPLACE FUNCTION rules.refuse_review_of_superseded() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, rules AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM rules.current_runs c
                   WHERE c.rule = NEW.rule AND c.zone_key = coalesce(NEW.zone_id, 0)
                     AND c.run_id = NEW.run_id) THEN
        RAISE EXCEPTION 'finding % (%) is not current: a later assessment replaced it', NEW.id, NEW.rule
            USING ERRCODE = 'check_violation', HINT = 'reload the parcel and review its current finding';
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS review_current_only ON rules.findings;
CREATE TRIGGER review_current_only BEFORE UPDATE OF review_status, review_reason, reviewed_by, reviewed_at
    ON rules.findings FOR EACH ROW EXECUTE FUNCTION rules.refuse_review_of_superseded();
