-- Account administration (issue #18): adding accounts, disabling and enabling them, new passwords
-- and zone bindings, for bureau admins on the web page (/admin/users) and for the CLI (`gisapp
-- users`, as the owner) through the same four functions (gisapp/queries/users.py). Idempotent:
-- re-applied by every migrate, after 0300 made the roles and 0700 the sessions' grants.
--
-- The app's roles may not write auth.users, auth.user_zones or auth.sessions of other accounts
-- (0300, 0700): these functions are SECURITY DEFINER and check who calls them first. Inside the
-- app (a gisapp_app session) only a transaction whose verified request context is a
-- bureau_admin's gets through, whatever the path (the page, the JSON API, an injected statement);
-- a session of another login (the owner's CLI, psql) without a context is the administrator's own
-- statement, named by gisapp.user in the audit, as for every table. EXECUTE is the request
-- role's (and the owner's) alone.
--
-- Every change lands in audit.change_log by the tables' own triggers (0020: who from the verified
-- context or gisapp.user, the reason set here; never the password hash) and is announced to the
-- app processes (0600). Zone bindings have no audit trigger of their own: binding zones touches
-- the account row, so the change is recorded there with the zones in its reason, and the
-- account's version moves (sessions remember it: they end).
--
-- Errors: 42501 not a bureau admin's transaction; GA003 a bad value (DETAIL: json with the
-- field); GA404 no such account; 23505 the user name is taken.

CREATE OR REPLACE FUNCTION auth.require_account_admin() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF auth.app_role() IS NOT NULL THEN
        IF auth.app_role() <> 'bureau_admin' THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('only a bureau admin may change accounts (signed in as %s, %s)',
                                 auth.app_user(), auth.app_role());
        END IF;
    ELSIF auth.session_is_app() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'only a bureau admin may change accounts: this transaction has no signed-in user';
    END IF;
END
$$;

-- The account named p_username, locked for the change; GA404 when there is none.
CREATE OR REPLACE FUNCTION auth.account_for_change(p_username text) RETURNS auth.users
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    locked auth.users;
BEGIN
    SELECT * INTO locked FROM auth.users WHERE username = p_username FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no user named %L', p_username),
            DETAIL = json_build_object('field', 'username')::text;
    END IF;
    RETURN locked;
END
$$;

-- The ids of these zone codes, checked against the role: a zone_editor needs at least one zone,
-- the other roles none (they see and edit per their role).
CREATE OR REPLACE FUNCTION auth.account_zone_ids(p_role text, p_zone_codes text[]) RETURNS integer[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    codes   text[] := coalesce(p_zone_codes, '{}');
    ids     integer[];
    unknown text[];
BEGIN
    IF p_role = 'zone_editor' AND cardinality(codes) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = 'a zone_editor must be bound to at least one zone',
            DETAIL = json_build_object('field', 'zones', 'problem', 'required')::text;
    END IF;
    IF p_role <> 'zone_editor' AND cardinality(codes) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003',
            MESSAGE = format('only a zone_editor is bound to zones; a %s sees and edits per its role', p_role),
            DETAIL = json_build_object('field', 'zones', 'problem', 'not_for_role')::text;
    END IF;
    SELECT array_agg(c) INTO unknown FROM unnest(codes) c WHERE NOT EXISTS (SELECT 1 FROM land.zones z WHERE z.code = c);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003',
            MESSAGE = format('unknown zone code(s): %s', array_to_string(unknown, ', ')),
            DETAIL = json_build_object('field', 'zones', 'problem', 'unknown', 'value', unknown)::text;
    END IF;
    SELECT coalesce(array_agg(DISTINCT z.id), '{}') INTO ids FROM land.zones z WHERE z.code = ANY (codes);
    RETURN ids;
END
$$;

-- An argon2id hash made by the app (gisapp.queries.users.hash_password: the password policy is
-- checked there, before hashing); anything else (a plain password, an empty string) is refused.
CREATE OR REPLACE FUNCTION auth.check_password_hash(p_hash text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_hash IS NULL OR p_hash !~ '^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = 'a password is stored only as an argon2id hash',
            DETAIL = json_build_object('field', 'password', 'problem', 'not_a_hash')::text;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION auth.add_account(p_username text, p_display_name text, p_password_hash text,
                                            p_role text, p_zone_codes text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    zone_ids integer[];
    new_id   integer;
BEGIN
    PERFORM auth.require_account_admin();
    IF p_role IS NULL OR p_role NOT IN ('bureau_admin', 'bureau_viewer', 'zone_editor', 'analyst') THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = format('unknown role %L', p_role),
            DETAIL = json_build_object('field', 'role', 'problem', 'unknown')::text;
    END IF;
    PERFORM auth.check_password_hash(p_password_hash);
    zone_ids := auth.account_zone_ids(p_role, p_zone_codes);
    PERFORM set_config('gisapp.reason', format('add user %s', p_username), true);
    INSERT INTO auth.users (username, display_name, password_hash, role)
    VALUES (p_username, coalesce(nullif(btrim(p_display_name), ''), p_username), p_password_hash, p_role)
    RETURNING id INTO new_id;
    INSERT INTO auth.user_zones (user_id, zone_id) SELECT new_id, z FROM unnest(zone_ids) z;
    RETURN new_id;
END
$$;

-- Disable (or enable) an account; disabling ends its open sessions on the server. A bureau admin
-- cannot disable the account it is signed in with (nobody would be left to enable it again).
CREATE OR REPLACE FUNCTION auth.set_account_disabled(p_username text, p_disabled boolean) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    account auth.users;
BEGIN
    PERFORM auth.require_account_admin();
    account := auth.account_for_change(p_username);
    IF p_disabled AND p_username = auth.app_user() THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = 'you cannot disable the account you are signed in with',
            DETAIL = json_build_object('field', 'username', 'problem', 'self')::text;
    END IF;
    PERFORM set_config('gisapp.reason',
                       format('%s user %s', CASE WHEN p_disabled THEN 'disable' ELSE 'enable' END, p_username), true);
    UPDATE auth.users SET disabled = p_disabled WHERE id = account.id;
    IF p_disabled THEN
        DELETE FROM auth.sessions WHERE user_id = account.id;
    END IF;
END
$$;

-- A new password (its hash); the account's open sessions end.
CREATE OR REPLACE FUNCTION auth.set_account_password(p_username text, p_password_hash text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    account auth.users;
BEGIN
    PERFORM auth.require_account_admin();
    PERFORM auth.check_password_hash(p_password_hash);
    account := auth.account_for_change(p_username);
    PERFORM set_config('gisapp.reason', format('new password for %s', p_username), true);
    UPDATE auth.users SET password_hash = p_password_hash WHERE id = account.id;
    DELETE FROM auth.sessions WHERE user_id = account.id;
END
$$;

-- Bind a zone editor to exactly these zones; its open sessions end (the account's version moves).
CREATE OR REPLACE FUNCTION auth.set_account_zones(p_username text, p_zone_codes text[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    account  auth.users;
    zone_ids integer[];
BEGIN
    PERFORM auth.require_account_admin();
    account := auth.account_for_change(p_username);
    zone_ids := auth.account_zone_ids(account.role, p_zone_codes);
    PERFORM set_config('gisapp.reason',
                       format('zones of %s: %s', p_username, array_to_string(p_zone_codes, ', ')), true);
    DELETE FROM auth.user_zones WHERE user_id = account.id;
    INSERT INTO auth.user_zones (user_id, zone_id) SELECT account.id, z FROM unnest(zone_ids) z;
    UPDATE auth.users SET display_name = display_name WHERE id = account.id;
    DELETE FROM auth.sessions WHERE user_id = account.id;
END
$$;

-- The request role calls them (inside a transaction with a verified context); nobody else but
-- the owner. The helpers are for these functions only.
REVOKE ALL ON FUNCTION auth.require_account_admin(), auth.account_for_change(text),
    auth.account_zone_ids(text, text[]), auth.check_password_hash(text),
    auth.add_account(text, text, text, text, text[]), auth.set_account_disabled(text, boolean),
    auth.set_account_password(text, text), auth.set_account_zones(text, text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.add_account(text, text, text, text, text[]), auth.set_account_disabled(text, boolean),
    auth.set_account_password(text, text), auth.set_account_zones(text, text[])
    TO gisapp_web;
