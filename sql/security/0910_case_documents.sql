-- The files of a case's documents and their numbers (issue #20; tables:
-- sql/migrations/1840_create_case_document_files.sql). Idempotent: re-applied by every
-- `gisapp migrate`, after 0900_casework.sql (whose helpers it uses).

-- 1. Who may read, add and remove files ------------------------------------------------------------

-- As the case's documents: read where the case is readable (a zone editor: its zones' cases),
-- added by whoever may write the case's zone (the zone office renders the notices it serves, the
-- bureau its decisions), removed by a bureau admin only, never changed (a new rendering is a new
-- file).
ALTER TABLE land.case_document_files ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS gisapp_read ON land.case_document_files;
DROP POLICY IF EXISTS gisapp_insert ON land.case_document_files;
DROP POLICY IF EXISTS gisapp_delete ON land.case_document_files;
CREATE POLICY gisapp_read ON land.case_document_files FOR SELECT TO PUBLIC
    USING (auth.may_read_zone(auth.case_zone(case_id)));
CREATE POLICY gisapp_insert ON land.case_document_files FOR INSERT TO gisapp_web
    WITH CHECK (auth.may_write_zone(auth.case_zone(case_id)));
CREATE POLICY gisapp_delete ON land.case_document_files FOR DELETE TO gisapp_web
    USING (auth.may_write_all());
GRANT INSERT, DELETE ON land.case_document_files TO gisapp_web;
REVOKE UPDATE, TRUNCATE ON land.case_document_files FROM gisapp_web, gisapp_app, gisapp_assessor;
-- the numbers: read by all, written by land.give_case_document_number only
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON land.case_document_numbers FROM gisapp_web, gisapp_app, gisapp_assessor;

-- 2. A file belongs to its document's case, with its digest and who rendered it --------------------

CREATE OR REPLACE FUNCTION land.check_case_document_file() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    doc_case bigint;
BEGIN
    SELECT case_id INTO doc_case FROM land.case_documents WHERE id = NEW.document_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no document %s', NEW.document_id),
            DETAIL = json_build_object('field', 'document', 'problem', 'unknown')::text;
    END IF;
    -- the case is the document's, whatever the writer said (the policy then checks that case)
    NEW.case_id := doc_case;
    PERFORM land.case_for_child(doc_case);  -- unknown to a zone editor outside its zones
    NEW.sha256 := encode(sha256(NEW.content), 'hex');
    NEW.rendered_at := now();
    NEW.rendered_by := gisapp_meta.current_actor();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_document_file_check ON land.case_document_files;
CREATE TRIGGER case_document_file_check BEFORE INSERT ON land.case_document_files
    FOR EACH ROW EXECUTE FUNCTION land.check_case_document_file();

-- The audit history records every file added or removed, with its digest and size instead of its
-- bytes (audit.record_change would copy the whole document into the history).
CREATE OR REPLACE FUNCTION audit.record_document_file() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r land.case_document_files := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    j jsonb;
BEGIN
    j := (to_jsonb(r) - 'content') || jsonb_build_object('content_bytes', octet_length(r.content));
    INSERT INTO audit.change_log (table_schema, table_name, row_id, action, old_row, new_row, app_user, reason)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, r.id::text, TG_OP,
            CASE WHEN TG_OP = 'DELETE' THEN j END, CASE WHEN TG_OP = 'INSERT' THEN j END,
            gisapp_meta.app_actor(), nullif(current_setting('gisapp.reason', true), ''));
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS audit_change ON land.case_document_files;
CREATE TRIGGER audit_change AFTER INSERT OR DELETE ON land.case_document_files
    FOR EACH ROW EXECUTE FUNCTION audit.record_document_file();
DROP TRIGGER IF EXISTS audit_truncate ON land.case_document_files;
CREATE TRIGGER audit_truncate AFTER TRUNCATE ON land.case_document_files
    FOR EACH STATEMENT EXECUTE FUNCTION audit.record_truncate();
ALTER TABLE land.case_document_files ENABLE ALWAYS TRIGGER audit_truncate;

-- 3. A document issued without a number gets the next of its prefix and year -----------------------

-- 文号 ``<prefix>〔<year>〕<n>号``, n counting per prefix and year of issue across every zone (a
-- zone editor cannot see the other zones' documents, so the count is kept here, not counted).
-- A document that has a number keeps it. SECURITY DEFINER: the counter is nobody's to write;
-- the caller must be allowed to write the document's case.
CREATE OR REPLACE FUNCTION land.give_case_document_number(p_document_id bigint, p_prefix text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    d   land.case_documents;
    yr  smallint;
    n   integer;
    txt text;
BEGIN
    SELECT * INTO d FROM land.case_documents WHERE id = p_document_id FOR UPDATE;
    IF NOT FOUND OR NOT auth.may_read_zone(auth.case_zone(d.case_id)) THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no document %s', p_document_id),
            DETAIL = json_build_object('field', 'document', 'problem', 'unknown')::text;
    END IF;
    IF d.doc_no IS NOT NULL THEN
        RETURN d.doc_no;
    END IF;
    IF (auth.session_is_app() OR auth.signed_in()) AND NOT auth.may_write_zone(auth.case_zone(d.case_id)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s (%s) may not number the documents of case %s', coalesce(auth.app_user(), session_user::text),
                             coalesce(auth.app_role(), 'no role'), d.case_id);
    END IF;
    IF p_prefix IS NULL OR length(btrim(p_prefix)) NOT BETWEEN 1 AND 40 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = 'a document number needs a prefix of 1 to 40 characters',
            DETAIL = json_build_object('field', 'prefix', 'problem', 'required')::text;
    END IF;
    yr := extract(year FROM d.issued_on);
    INSERT INTO land.case_document_numbers AS k (prefix, year, last_no) VALUES (btrim(p_prefix), yr, 1)
    ON CONFLICT (prefix, year) DO UPDATE SET last_no = k.last_no + 1
    RETURNING last_no INTO n;
    txt := format('%s〔%s〕%s号', btrim(p_prefix), yr, n);
    UPDATE land.case_documents SET doc_no = txt WHERE id = d.id;
    RETURN txt;
END
$$;
REVOKE ALL ON FUNCTION land.give_case_document_number(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION land.give_case_document_number(bigint, text) TO gisapp_web, gisapp_app;
