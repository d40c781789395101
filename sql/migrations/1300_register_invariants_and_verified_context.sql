-- The register's invariants that every write path meets (issue "system of record"), and the
-- storage of the verified request context that row-level security trusts (docs/security.md).

-- HMAC for the signed request context (sql/security/0300_roles_and_rls.sql).
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- A rule added to a table that already holds rows breaking it is enforced for every new or
-- changed row at once (NOT VALID), and validated over the old rows when they all comply. When
-- some do not (an Infinity stored before this rule, a status dated 9999-12-31), the migration
-- does not fail: it warns, and `gisapp db check` lists the rule until the rows are corrected.
CREATE OR REPLACE FUNCTION gisapp_meta.validate_or_warn(p_schema text, p_table text, p_constraint text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I', p_schema, p_table, p_constraint);
    RETURN true;
EXCEPTION WHEN check_violation THEN
    RAISE WARNING '%.%: some stored rows break the new rule %; it holds for every change from now on, '
                  'and `gisapp db check` lists it until those rows are corrected', p_schema, p_table, p_constraint;
    RETURN false;
END
$$;

-- 1. Numbers are finite wherever a number is stored. NaN sorts above +Infinity in PostgreSQL, so
--    "> -Infinity AND < Infinity" refuses all three non-finite values; NULL passes (no value).
--    CHECK constraints hold for COPY and bulk loads too, which triggers would not.
DO $$
DECLARE
    c record;
    name text;
BEGIN
    FOR c IN
        SELECT col.table_schema, col.table_name, col.column_name
        FROM information_schema.columns col
        JOIN information_schema.tables tb USING (table_schema, table_name)
        WHERE tb.table_type = 'BASE TABLE'
          AND col.table_schema IN ('land', 'rules')
          AND col.data_type IN ('double precision', 'real', 'numeric')
          AND NOT (col.table_schema = 'rules' AND col.table_name = 'findings')
        ORDER BY 1, 2, 3
    LOOP
        name := left(c.table_name || '_' || c.column_name, 56) || '_finite';
        EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (%I > ''-Infinity'' AND %I < ''Infinity'') NOT VALID',
                       c.table_schema, c.table_name, name, c.column_name, c.column_name);
        PERFORM gisapp_meta.validate_or_warn(c.table_schema, c.table_name, name);
    END LOOP;
END
$$;

-- 2. Dates of what has happened (a status, construction progress, a measurement, a request) are
--    not in the future. "Today" is Shanghai's, the latest calendar day in use anywhere the app
--    runs, so a server on UTC never refuses a date that is already today in Shanghai.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            ('parcels', 'status_since'), ('parcel_status_history', 'changed_on'),
            ('construction_progress', 'reported_on'), ('construction_progress', 'started_on'),
            ('construction_progress', 'completed_on'), ('construction_progress', 'accepted_on'),
            ('construction_suspensions', 'suspended_from'), ('construction_suspensions', 'resumed_on'),
            ('green_areas', 'measured_on'), ('quota_requests', 'requested_on'),
            ('quota_requests', 'decided_on')) AS v(table_name, column_name)
    LOOP
        EXECUTE format('ALTER TABLE land.%I ADD CONSTRAINT %I CHECK (%I <= (now() AT TIME ZONE ''Asia/Shanghai'')::date) NOT VALID',
                       c.table_name, c.table_name || '_' || c.column_name || '_not_future', c.column_name);
        PERFORM gisapp_meta.validate_or_warn('land', c.table_name, c.table_name || '_' || c.column_name || '_not_future');
    END LOOP;
END
$$;

-- 3. The verified context of the request in progress: one row per database session, valid only
--    for the transaction that wrote it (xid). Written only by auth.begin_request (SECURITY
--    DEFINER, after checking the app's signature); the app's roles may not write it. UNLOGGED:
--    it means nothing after a crash.
CREATE UNLOGGED TABLE auth.request_context (
    pid         integer PRIMARY KEY,
    xid         xid8 NOT NULL,
    username    text NOT NULL CHECK (username <> ''),
    role        text NOT NULL CHECK (role IN ('bureau_admin', 'bureau_viewer', 'zone_editor', 'analyst')),
    zone_ids    integer[] NOT NULL DEFAULT '{}',
    began_at    timestamptz NOT NULL DEFAULT now()
);

-- The key the app signs contexts with (derived from its secret; written by `gisapp migrate`).
-- Only the owner reads it: no grant to any app role.
CREATE TABLE auth.context_key (
    only_one    boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    key         bytea NOT NULL CHECK (octet_length(key) >= 32),
    set_at      timestamptz NOT NULL DEFAULT now()
);

-- 4. A TRUNCATE is audited as one statement (sql/security/0020_audit.sql).
ALTER TABLE audit.change_log DROP CONSTRAINT change_log_action_check;
ALTER TABLE audit.change_log ADD CONSTRAINT change_log_action_check
    CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'BULK_LOAD', 'TRUNCATE'));
