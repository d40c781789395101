-- version / updated_at / updated_by on every editable table (those with a version column).
-- Who made the change is gisapp_meta.current_actor() (the verified user of the request). Idempotent: re-applied by every `gisapp migrate`.

-- gisapp_meta.current_actor(): sql/security/0005_request_context.sql

CREATE OR REPLACE FUNCTION gisapp_meta.touch_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := coalesce(NEW.version, 1);
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := gisapp_meta.current_actor();
    RETURN NEW;
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
        EXECUTE format('DROP TRIGGER IF EXISTS touch_row ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('CREATE TRIGGER touch_row BEFORE INSERT OR UPDATE ON %I.%I '
                       'FOR EACH ROW EXECUTE FUNCTION gisapp_meta.touch_row()', t.table_schema, t.table_name);
    END LOOP;
END
$$;
