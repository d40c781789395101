-- Who may write what, enforced by PostgreSQL (idempotent; re-applied by every migrate).
-- docs/security.md describes the roles and the trust boundary.
--
-- Roles (cluster-wide):
--   owner        the role that runs `gisapp migrate` (the local cluster's superuser `gis`, or the
--                operator's owner role): owns every table; migrations, demo and bulk loads, accounts.
--   gisapp_app   LOGIN, NOINHERIT, neither superuser nor owner: the web server and notebooks log in
--                as it. It reads the map's tables, signs users in, and holds no write privilege of
--                its own: every write is made after SET LOCAL ROLE gisapp_web.
--   gisapp_web   NOLOGIN: the request role. Writes the land tables where the row-level security
--                policies below allow it, for the user of the verified request context.
--
-- The request context (who is signed in, their role and zones) is not a setting any SQL can
-- change: the app signs it (HMAC with a key derived from its secret; auth.context_key holds the
-- same key, readable by the owner only) and auth.begin_request checks the signature, the
-- database session it was made for and its expiry, then records it in auth.request_context for
-- the current transaction only. The policies read that record, nothing else.

-- The roles: created once per cluster (roles are cluster-wide; several databases share them).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gisapp_web') THEN
        BEGIN
            CREATE ROLE gisapp_web NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database's migrate created it at the same moment
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gisapp_app') THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                CREATE ROLE gisapp_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        ELSE
            RAISE EXCEPTION 'the login role gisapp_app does not exist and % may not create roles', current_user
                USING HINT = 'create it as an administrator: CREATE ROLE gisapp_app LOGIN NOINHERIT PASSWORD ''...''; '
                             'then run gisapp migrate again (docs/security.md)';
        END IF;
    END IF;
    -- the app's login must stay unprivileged, whoever created it
    IF (SELECT rolsuper OR rolbypassrls OR rolinherit FROM pg_roles WHERE rolname = 'gisapp_app') THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            ALTER ROLE gisapp_app NOSUPERUSER NOBYPASSRLS NOINHERIT;
        ELSE
            RAISE EXCEPTION 'the login role gisapp_app must be NOSUPERUSER NOBYPASSRLS NOINHERIT';
        END IF;
    END IF;
    -- `gisapp assess` and `gisapp prune-findings`: read everything, write the findings only.
    -- BYPASSRLS because a run COPYs its findings, and COPY FROM refuses tables under row-level
    -- security for roles the policies apply to; its privileges stay those granted below.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gisapp_assessor') THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                CREATE ROLE gisapp_assessor LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        ELSE
            RAISE EXCEPTION 'the login role gisapp_assessor does not exist and % may not create it', current_user
                USING HINT = 'create it as a superuser: CREATE ROLE gisapp_assessor LOGIN NOINHERIT BYPASSRLS '
                             'PASSWORD ''...''; then run gisapp migrate again (docs/security.md)';
        END IF;
    END IF;
    IF (SELECT rolsuper OR rolinherit OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'gisapp_assessor') THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            ALTER ROLE gisapp_assessor NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB;
        ELSE
            RAISE EXCEPTION 'the login role gisapp_assessor must be NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB';
        END IF;
    END IF;
    GRANT gisapp_web TO gisapp_app;
    -- A non-superuser owner (external database) must be a member to SET ROLE gisapp_web.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        EXECUTE format('GRANT gisapp_web TO %I', session_user);
    END IF;
END
$$;

-- Reads: every signed-in user of the app; other database roles are not restricted here.
CREATE OR REPLACE FUNCTION auth.may_read() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT current_user::text <> 'gisapp_web' OR auth.signed_in() $$;

CREATE OR REPLACE FUNCTION auth.may_write_all() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT auth.signed_in() AND auth.app_role() = 'bureau_admin' $$;

CREATE OR REPLACE FUNCTION auth.may_write_zone(p_zone_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT auth.signed_in() AND p_zone_id IS NOT NULL
       AND (auth.app_role() = 'bureau_admin'
            OR (auth.app_role() = 'zone_editor' AND p_zone_id = ANY (auth.app_zone_ids())))
$$;

-- SECURITY DEFINER: look the zone up without re-entering the policies of the looked-up table.
CREATE OR REPLACE FUNCTION auth.parcel_zone(p_parcel_id bigint) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT zone_id FROM land.parcels WHERE id = p_parcel_id
$$;

CREATE OR REPLACE FUNCTION auth.grant_zone(p_grant_id integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT p.zone_id FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id WHERE g.id = p_grant_id
$$;

-- A quota account belongs to a zone directly (level zone) or through its project's grant.
CREATE OR REPLACE FUNCTION auth.quota_account_zone(p_account_id integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT coalesce(a.zone_id, p.zone_id)
    FROM land.quota_accounts a
    LEFT JOIN land.land_grants g ON g.id = a.grant_id
    LEFT JOIN land.parcels p ON p.id = g.parcel_id
    WHERE a.id = p_account_id
$$;

CREATE OR REPLACE FUNCTION auth.may_write_parcel(p_parcel_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT auth.may_write_zone(auth.parcel_zone(p_parcel_id)) $$;

-- A finding is about a parcel, a zone, or something wider (district, city: the bureau's).
CREATE OR REPLACE FUNCTION auth.may_write_finding(p_zone_id integer, p_parcel_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_parcel_id IS NOT NULL THEN auth.may_write_parcel(p_parcel_id)
                WHEN p_zone_id IS NOT NULL THEN auth.may_write_zone(p_zone_id)
                ELSE auth.may_write_all() END
$$;

-- Superusers and BYPASSRLS roles (psql administration) are not bound by the app's context.
CREATE OR REPLACE FUNCTION auth.is_privileged() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user), false)
$$;

-- Privileges: read everything the map shows, write the land tables (the policies narrow it).
GRANT USAGE ON SCHEMA land, layers, rules, audit, auth, gisapp_meta TO gisapp_web, gisapp_app;
GRANT SELECT ON ALL TABLES IN SCHEMA land, layers, rules TO gisapp_web, gisapp_app;
GRANT SELECT ON audit.change_log, audit.imports, gisapp_meta.dataset TO gisapp_web, gisapp_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA land TO gisapp_web;
-- land.parcel_status_history is written only by the status trigger (0310), never directly.
-- Findings are written by `gisapp assess`; people only review them.
GRANT UPDATE (review_status, review_reason, reviewed_by, reviewed_at) ON rules.findings TO gisapp_web;
-- auth.* holds password hashes: no table privileges at all for the request role. The login role
-- signs people in: it reads accounts and records attempts, and changes nothing else there.
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM gisapp_web, gisapp_app;
GRANT SELECT ON auth.users, auth.user_zones TO gisapp_app;
GRANT SELECT, INSERT, DELETE ON auth.login_attempts TO gisapp_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA auth TO gisapp_app;
-- Neither app role may empty a table, write the audit, or change the schema.
REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA land, rules, audit, auth, gisapp_meta
    FROM gisapp_web, gisapp_app;
REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA audit, gisapp_meta FROM gisapp_web, gisapp_app;
REVOKE CREATE ON SCHEMA land, layers, rules, audit, auth, gisapp_meta, public FROM gisapp_web, gisapp_app;

-- The assessor reads what the rules read and writes the findings, their runs and parameter sets.
-- auth: the row-version and audit triggers ask auth.app_user() who is acting (nobody, here)
GRANT USAGE ON SCHEMA land, layers, rules, gisapp_meta, auth TO gisapp_assessor;
GRANT SELECT ON ALL TABLES IN SCHEMA land, layers, rules TO gisapp_assessor;
GRANT SELECT ON gisapp_meta.dataset TO gisapp_assessor;
GRANT INSERT, UPDATE, DELETE ON rules.findings, rules.assessment_runs, rules.current_runs, rules.parameter_sets
    TO gisapp_assessor;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA rules TO gisapp_assessor;
REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA land, rules, audit, auth, gisapp_meta
    FROM gisapp_assessor;
REVOKE CREATE ON SCHEMA land, layers, rules, audit, auth, gisapp_meta, public FROM gisapp_assessor;

-- The audit log is readable, except the history of the accounts table (it holds hashes).
ALTER TABLE audit.change_log ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_changes ON audit.change_log;
CREATE POLICY read_changes ON audit.change_log FOR SELECT
    USING (auth.may_read() AND (current_user::text NOT IN ('gisapp_web', 'gisapp_app') OR table_schema <> 'auth'));
-- Rows are written by the SECURITY DEFINER audit trigger (owner); the app's roles have no
-- INSERT privilege, and this policy refuses them even if one were granted by mistake.
DROP POLICY IF EXISTS write_changes ON audit.change_log;
CREATE POLICY write_changes ON audit.change_log FOR INSERT TO PUBLIC
    WITH CHECK (current_user::text NOT IN ('gisapp_web', 'gisapp_app'));

-- Row-level security on every editable table of land (those with a version column), on the
-- status history and on the findings. Who may write a row of each table:
DO $$
DECLARE
    t record;
    writer text;
    writers constant jsonb := jsonb_build_object(
        'parcels',                  'auth.may_write_zone(zone_id)',
        'land_grants',              'auth.may_write_parcel(parcel_id)',
        'construction_progress',    'auth.may_write_parcel(parcel_id)',
        'construction_suspensions', 'auth.may_write_parcel(parcel_id)',
        'idle_exemptions',          'auth.may_write_parcel(parcel_id)',
        'enterprise_metrics',       'auth.may_write_parcel(parcel_id)',
        'mixed_use_pilots',         'auth.may_write_parcel(parcel_id)',
        'mixed_use_components',     'auth.may_write_parcel(parcel_id)',
        'green_areas',              'auth.may_write_parcel(parcel_id)',
        'parcel_status_history',    'auth.may_write_parcel(parcel_id)',
        'grant_requirements',       'auth.may_write_zone(auth.grant_zone(grant_id))',
        'grant_reviews',            'auth.may_write_zone(auth.grant_zone(grant_id))',
        -- a zone office asks for quota; deciding (granted / escalated / refused) is the bureau's
        'quota_requests',           '(auth.may_write_all() OR (auth.may_write_zone(auth.quota_account_zone(account_id))'
                                    ' AND status = ''pending'' AND decided_on IS NULL))'
    );
BEGIN
    FOR t IN
        SELECT DISTINCT c.table_schema, c.table_name
        FROM information_schema.columns c
        JOIN information_schema.tables tb USING (table_schema, table_name)
        WHERE tb.table_type = 'BASE TABLE'
          AND ((c.table_schema = 'land' AND c.column_name = 'version')
               OR (c.table_schema = 'land' AND c.table_name = 'parcel_status_history')
               OR (c.table_schema = 'rules' AND c.table_name IN ('findings', 'parameter_overrides')))
    LOOP
        writer := coalesce(writers ->> t.table_name, 'auth.may_write_all()');
        IF t.table_schema = 'rules' AND t.table_name = 'findings' THEN
            writer := 'auth.may_write_finding(zone_id, parcel_id)';
        END IF;
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_read ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_insert ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_update ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_delete ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('CREATE POLICY gisapp_read ON %I.%I FOR SELECT TO PUBLIC USING (auth.may_read())',
                       t.table_schema, t.table_name);
        EXECUTE format('CREATE POLICY gisapp_insert ON %I.%I FOR INSERT TO gisapp_web WITH CHECK (%s)',
                       t.table_schema, t.table_name, writer);
        EXECUTE format('CREATE POLICY gisapp_update ON %I.%I FOR UPDATE TO gisapp_web USING (%s) WITH CHECK (%s)',
                       t.table_schema, t.table_name, writer, writer);
        -- removing a parcel is the bureau's decision, not a zone office's
        EXECUTE format('CREATE POLICY gisapp_delete ON %I.%I FOR DELETE TO gisapp_web USING (%s)',
                       t.table_schema, t.table_name,
                       CASE WHEN t.table_name = 'parcels' THEN 'auth.may_write_all()' ELSE writer END);
        IF t.table_schema = 'land' AND t.table_name <> 'parcel_status_history' THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I.%I TO gisapp_web', t.table_schema, t.table_name);
        END IF;
    END LOOP;
END
$$;
