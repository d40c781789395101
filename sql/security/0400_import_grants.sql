-- The import log (audit.imports) is written through these two functions only: the web import
-- runs as gisapp_web with the signed-in admin's verified context, and the app's roles have no
-- privilege on the audit tables. Idempotent: re-applied by every migrate (after 0300).
REVOKE INSERT, UPDATE, DELETE ON audit.imports FROM gisapp_web, gisapp_app;
REVOKE USAGE ON SEQUENCE audit.imports_id_seq FROM gisapp_web, gisapp_app;

-- Opens the log entry of an import; who imported is the verified user when there is one.
CREATE OR REPLACE FUNCTION audit.begin_import(p_kind text, p_file text, p_sha256 text, p_crs text, p_rows integer,
                                              p_warnings integer, p_options jsonb, p_imported_by text)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO audit.imports (kind, file_name, file_sha256, source_crs, rows_in_file, warnings, options, imported_by)
    VALUES (p_kind, p_file, p_sha256, p_crs, p_rows, p_warnings, p_options,
            coalesce('web:' || auth.app_user(),
                     CASE WHEN NOT auth.session_is_app() THEN nullif(p_imported_by, '') END,
                     gisapp_meta.current_actor()))
    RETURNING id
$$;

-- Closes an entry opened by this same transaction (started_at is the transaction's start).
CREATE OR REPLACE FUNCTION audit.finish_import(p_id bigint, p_inserted integer, p_updated integer, p_bulk boolean)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE audit.imports SET inserted = p_inserted, updated = p_updated, bulk = p_bulk,
                             finished_at = clock_timestamp()
    WHERE id = p_id AND finished_at IS NULL AND started_at = now()
$$;
