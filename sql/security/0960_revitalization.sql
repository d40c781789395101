-- The revitalization record and zone rectification (issue #20; tables: sql/migrations/1870-1872).
-- Idempotent: re-applied by every `gisapp migrate`, after 0020 (audit) and 0300 (roles, the
-- default policies of land tables: land.zone_national_results is read by everyone signed in and
-- written by a bureau admin, versioned and audited like every editable land table).

-- 1. Quarterly stock snapshots: a record of a past quarter ------------------------------------------

-- Nobody but the tables' owner changes or deletes a snapshot (a correction is an administrator's
-- act in psql, and audited as every change is). Not SECURITY DEFINER: current_user is the writer.
CREATE OR REPLACE FUNCTION rules.keep_stock_snapshots() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('the stock snapshot of %s (zone %s, %s) is the record of a past quarter: %s may not %s it',
                             OLD.quarter_end, OLD.zone_id, OLD.kind, current_user, lower(TG_OP)),
            HINT = 'a wrong snapshot is corrected by the database''s owner, with gisapp.reason set';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

DROP TRIGGER IF EXISTS stock_snapshots_kept ON rules.stock_snapshots;
CREATE TRIGGER stock_snapshots_kept BEFORE UPDATE OR DELETE ON rules.stock_snapshots
    FOR EACH ROW EXECUTE FUNCTION rules.keep_stock_snapshots();

-- every row taken (and any owner's correction) lands in the audit history
DROP TRIGGER IF EXISTS audit_change ON rules.stock_snapshots;
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON rules.stock_snapshots
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
DROP TRIGGER IF EXISTS audit_truncate ON rules.stock_snapshots;
CREATE TRIGGER audit_truncate AFTER TRUNCATE ON rules.stock_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION audit.record_truncate();
ALTER TABLE rules.stock_snapshots ENABLE ALWAYS TRIGGER audit_truncate;

-- read by everyone signed in; inserted by the live worker's daily pass (the assessor) and the
-- owner's `gisapp snapshot take`; the request roles write nothing here
ALTER TABLE rules.stock_snapshots ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS gisapp_read ON rules.stock_snapshots;
CREATE POLICY gisapp_read ON rules.stock_snapshots FOR SELECT TO PUBLIC USING (auth.may_read());
DROP POLICY IF EXISTS assessor_insert ON rules.stock_snapshots;
CREATE POLICY assessor_insert ON rules.stock_snapshots FOR INSERT TO gisapp_assessor WITH CHECK (true);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON rules.stock_snapshots FROM gisapp_web, gisapp_app, gisapp_assessor;
GRANT INSERT ON rules.stock_snapshots TO gisapp_assessor;
GRANT USAGE ON SEQUENCE rules.stock_snapshots_id_seq TO gisapp_assessor;

-- 2. Reference data ----------------------------------------------------------------------------------

REVOKE INSERT, UPDATE, DELETE ON land.case_stages, land.case_step_stages FROM gisapp_web, gisapp_app, gisapp_assessor;
