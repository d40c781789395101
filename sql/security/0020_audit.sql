-- Audit history: who, when, old and new values and the reason of every change to an
-- editable table, by trigger, including changes made directly in SQL.
-- Who: gisapp_meta.app_actor() (the verified request context); why: gisapp.reason.

CREATE OR REPLACE FUNCTION audit.record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    old_json jsonb;
    new_json jsonb;
    row_key  text;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_json := to_jsonb(OLD) - 'geom'; END IF;
    IF TG_OP <> 'DELETE' THEN new_json := to_jsonb(NEW) - 'geom'; END IF;
    -- Geometry is kept as WKT (EWKT with SRID) so that a parcel can be shown as it was.
    IF TG_OP <> 'INSERT' AND old_json IS NOT NULL AND to_jsonb(OLD) ? 'geom' THEN
        old_json := old_json || jsonb_build_object('geom', ST_AsEWKT((to_jsonb(OLD) ->> 'geom')::geometry));
    END IF;
    IF TG_OP <> 'DELETE' AND to_jsonb(NEW) ? 'geom' THEN
        new_json := new_json || jsonb_build_object('geom', ST_AsEWKT((to_jsonb(NEW) ->> 'geom')::geometry));
    END IF;
    -- Never copy password hashes into the history; record only that one changed.
    IF TG_TABLE_SCHEMA = 'auth' AND TG_TABLE_NAME = 'users' THEN
        IF old_json IS NOT NULL AND new_json IS NOT NULL
           AND old_json ->> 'password_hash' IS DISTINCT FROM new_json ->> 'password_hash' THEN
            new_json := new_json || jsonb_build_object('password_changed', true);
        END IF;
        old_json := old_json - 'password_hash';
        new_json := new_json - 'password_hash';
    END IF;
    -- nor the hash of an API token (auth.api_tokens): the history names the token by its label
    IF TG_TABLE_SCHEMA = 'auth' THEN
        old_json := old_json - 'token_hash';
        new_json := new_json - 'token_hash';
    END IF;
    row_key := coalesce(new_json ->> 'id', old_json ->> 'id');
    INSERT INTO audit.change_log (table_schema, table_name, row_id, action, old_row, new_row, app_user, reason)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, row_key, TG_OP, old_json, new_json,
            gisapp_meta.app_actor(),
            nullif(current_setting('gisapp.reason', true), ''));
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row trigger: it is recorded as one statement (the app's roles may not
-- truncate at all; this records the owner's and administrators').
CREATE OR REPLACE FUNCTION audit.record_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO audit.change_log (table_schema, table_name, row_id, action, old_row, new_row, app_user, reason)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, '*', 'TRUNCATE', NULL, NULL, gisapp_meta.app_actor(),
            nullif(current_setting('gisapp.reason', true), ''));
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.table_schema, c.table_name
        FROM information_schema.columns c
        JOIN information_schema.tables tb USING (table_schema, table_name)
        WHERE c.column_name = 'version' AND tb.table_type = 'BASE TABLE'
          AND c.table_schema IN ('land', 'rules', 'auth')
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS audit_change ON %I.%I', t.table_schema, t.table_name);
        -- Findings are written in bulk by `gisapp assess` (each run is itself recorded in
        -- rules.assessment_runs); what people do to them (review) is audited.
        EXECUTE format('CREATE TRIGGER audit_change AFTER %s ON %I.%I '
                       'FOR EACH ROW EXECUTE FUNCTION audit.record_change()',
                       CASE WHEN t.table_name = 'findings' THEN 'UPDATE OR DELETE'
                            ELSE 'INSERT OR UPDATE OR DELETE' END,
                       t.table_schema, t.table_name);
        -- a TRUNCATE as one statement (audit.record_truncate above); ENABLE ALWAYS: recorded even
        -- when a session switches row triggers off for a bulk load
        EXECUTE format('DROP TRIGGER IF EXISTS audit_truncate ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('CREATE TRIGGER audit_truncate AFTER TRUNCATE ON %I.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit.record_truncate()', t.table_schema, t.table_name);
        EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER audit_truncate', t.table_schema, t.table_name);
    END LOOP;
END
$$;
