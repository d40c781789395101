-- Personal read-only API tokens (migration 1860; gisapp/queries/tokens.py). Idempotent:
-- re-applied by every migrate, after 0300 revoked everything in auth and 0710 defined the
-- account functions.
--
-- The app's login role reads the tokens (to check one presented by a client, by its hash, and
-- to list a user's own) and writes none: a token is created and revoked only through the two
-- SECURITY DEFINER functions below. Inside the app (a gisapp_app session) they let through only
-- a transaction whose verified request context is the token's own user: a person makes and
-- revokes their own tokens, nobody else's, whatever the path. A session of another login (the
-- owner's CLI, psql) without a context is the administrator's own statement, named by gisapp.user
-- in the audit. Every change lands in audit.change_log by the table's own trigger (0020, without
-- the hash) and is announced to the app processes (0600), which forget the tokens they hold.
--
-- Errors: 42501 not the token's own user; GA003 a bad value (DETAIL: json with the field);
-- GA404 no such account or token.
REVOKE ALL ON auth.api_tokens FROM PUBLIC, gisapp_web, gisapp_app;
GRANT SELECT ON auth.api_tokens TO gisapp_app;

CREATE OR REPLACE FUNCTION auth.require_token_owner(p_username text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF auth.app_user() IS NOT NULL THEN
        IF auth.app_user() <> p_username THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('only %s may change the API tokens of %s (signed in as %s)',
                                 p_username, p_username, auth.app_user());
        END IF;
    ELSIF auth.session_is_app() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'API tokens are changed by their own user: this transaction has no signed-in user';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION auth.create_api_token(p_username text, p_token_hash bytea, p_label text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    account auth.users;
    new_id  integer;
BEGIN
    PERFORM auth.require_token_owner(p_username);
    SELECT * INTO account FROM auth.users WHERE username = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no user named %L', p_username),
            DETAIL = json_build_object('field', 'username')::text;
    END IF;
    IF account.disabled THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = format('the account %L is disabled', p_username),
            DETAIL = json_build_object('field', 'username')::text;
    END IF;
    IF p_label IS NULL OR length(btrim(p_label)) NOT BETWEEN 1 AND 80 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = 'a token needs a name of 1 to 80 characters',
            DETAIL = json_build_object('field', 'label')::text;
    END IF;
    PERFORM set_config('gisapp.reason', format('API token %s created', btrim(p_label)), true);
    INSERT INTO auth.api_tokens (user_id, token_hash, label)
    VALUES (account.id, p_token_hash, btrim(p_label))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION auth.revoke_api_token(p_username text, p_token_id integer) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    token auth.api_tokens;
BEGIN
    PERFORM auth.require_token_owner(p_username);
    SELECT t.* INTO token FROM auth.api_tokens t JOIN auth.users u ON u.id = t.user_id
    WHERE t.id = p_token_id AND u.username = p_username FOR UPDATE OF t;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404',
            MESSAGE = format('%s has no API token number %s', p_username, p_token_id),
            DETAIL = json_build_object('field', 'token')::text;
    END IF;
    IF token.revoked_at IS NULL THEN
        PERFORM set_config('gisapp.reason', format('API token %s revoked', token.label), true);
        UPDATE auth.api_tokens SET revoked_at = now() WHERE id = p_token_id;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION auth.require_token_owner(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.create_api_token(text, bytea, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.revoke_api_token(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.create_api_token(text, bytea, text) TO gisapp_web;
GRANT EXECUTE ON FUNCTION auth.revoke_api_token(text, integer) TO gisapp_web;

-- a revoked token is refused at once by every app process (gisapp/web/account_cache.py)
DROP TRIGGER IF EXISTS notify_account_change ON auth.api_tokens;
CREATE TRIGGER notify_account_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth.notify_account_change();
