-- The verified request context that row-level security, the audit and the row versions trust
-- (idempotent; re-applied by every migrate, before the files that use it). The roles and the
-- policies are in 0300_roles_and_rls.sql; docs/security.md describes the trust boundary.

-- The verified context: readable for the own session only (other sessions' users are not the
-- app's business), writable by nobody but auth.begin_request.
ALTER TABLE auth.request_context ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_session ON auth.request_context;
CREATE POLICY own_session ON auth.request_context FOR SELECT USING (pid = pg_backend_pid());
REVOKE ALL ON auth.request_context, auth.context_key FROM PUBLIC;
GRANT SELECT ON auth.request_context TO PUBLIC;

-- The context of the current transaction, if one was established. Written as "SELECT (subquery)"
-- so that PostgreSQL inlines these functions: in a policy the subquery then runs once per
-- statement (an InitPlan), not once per row.
CREATE OR REPLACE FUNCTION auth.app_user() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (SELECT c.username FROM auth.request_context c
            WHERE c.pid = pg_backend_pid() AND c.xid = pg_current_xact_id_if_assigned())
$$;

CREATE OR REPLACE FUNCTION auth.app_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (SELECT c.role FROM auth.request_context c
            WHERE c.pid = pg_backend_pid() AND c.xid = pg_current_xact_id_if_assigned())
$$;

CREATE OR REPLACE FUNCTION auth.app_zone_ids() RETURNS integer[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.zone_ids FROM auth.request_context c
                     WHERE c.pid = pg_backend_pid() AND c.xid = pg_current_xact_id_if_assigned()),
                    '{}'::integer[])
$$;

-- The signed text of a context: user, role, zones, database session, expiry (seconds since 1970).
CREATE OR REPLACE FUNCTION auth.context_text(p_user text, p_role text, p_zones integer[], p_pid integer,
                                             p_expires bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(chr(31), p_user, p_role, array_to_string(p_zones, ','), p_pid::text, p_expires::text)
$$;

-- Establish the signed-in user of this transaction. SECURITY DEFINER: it alone reads the key and
-- writes auth.request_context. Refuses (42501) a signature that is not the app's, made for
-- another database session, expired, or a second context in the same transaction.
CREATE OR REPLACE FUNCTION auth.begin_request(p_user text, p_role text, p_zones integer[], p_expires bigint,
                                              p_signature text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    k bytea := (SELECT key FROM auth.context_key);
    expected text;
BEGIN
    IF k IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'this database has no request-context key: run `gisapp migrate` with the app''s settings';
    END IF;
    expected := encode(hmac(convert_to(auth.context_text(p_user, p_role, p_zones, pg_backend_pid(), p_expires),
                                       'UTF8'), k, 'sha256'), 'hex');
    IF p_signature IS NULL OR p_signature <> expected THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'the request context is not signed by this app for this database session '
                      '(a different GISAPP_SECRET_KEY than at `gisapp migrate`? `gisapp db check` tells)';
    END IF;
    IF p_expires < extract(epoch FROM clock_timestamp()) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = 'the request context has expired';
    END IF;
    IF EXISTS (SELECT 1 FROM auth.request_context
               WHERE pid = pg_backend_pid() AND xid = pg_current_xact_id()) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'this transaction already has a signed-in user; a context is established once';
    END IF;
    INSERT INTO auth.request_context (pid, xid, username, role, zone_ids)
    VALUES (pg_backend_pid(), pg_current_xact_id(), p_user, p_role, coalesce(p_zones, '{}'))
    ON CONFLICT (pid) DO UPDATE SET xid = EXCLUDED.xid, username = EXCLUDED.username, role = EXCLUDED.role,
                                    zone_ids = EXCLUDED.zone_ids, began_at = now();
END
$$;

-- Whether a signature made with the app's key matches this database's key (`gisapp db check`).
CREATE OR REPLACE FUNCTION auth.context_key_matches(p_probe text, p_signature text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(encode(hmac(convert_to(p_probe, 'UTF8'), (SELECT key FROM auth.context_key), 'sha256'), 'hex')
                    = p_signature, false)
$$;

CREATE OR REPLACE FUNCTION auth.signed_in() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT auth.app_user() IS NOT NULL $$;

-- The app's own login roles (direct members of gisapp_web that can log in): for them a
-- gisapp.user setting names nobody; only the verified context does.
CREATE OR REPLACE FUNCTION auth.session_is_app() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT session_user::text IN ('gisapp_app', 'gisapp_web')
$$;


-- Who made a change, as the app knows people: the verified user; for other sessions (psql, the
-- CLI as the owner) the gisapp.user they set. NULL when nobody is named. The app's own login
-- cannot name anybody with a setting.
CREATE OR REPLACE FUNCTION gisapp_meta.app_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(auth.app_user(),
                    CASE WHEN NOT auth.session_is_app() THEN nullif(current_setting('gisapp.user', true), '') END)
$$;

-- The same, falling back to the database user (row versions' updated_by, status history).
CREATE OR REPLACE FUNCTION gisapp_meta.current_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(gisapp_meta.app_actor(), session_user::text)
$$;
