-- The web app keeps a signed-in account in memory for a few seconds instead of reading it on
-- every request (gisapp/web/account_cache.py). Any change to an account or its zones, by the app,
-- the CLI or psql, tells every app process at once through this notification, and they drop
-- what they hold. Idempotent: re-applied by every migrate.
CREATE OR REPLACE FUNCTION auth.notify_account_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- the transaction's id makes each change's notification unique: a process hears it on every
    -- connection that listens (the listener and the map's pool) and acts on it once
    PERFORM pg_notify('gisapp_account_changed', TG_TABLE_NAME || ' ' || txid_current());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS notify_account_change ON auth.users;
CREATE TRIGGER notify_account_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.users
    FOR EACH STATEMENT EXECUTE FUNCTION auth.notify_account_change();

DROP TRIGGER IF EXISTS notify_account_change ON auth.user_zones;
CREATE TRIGGER notify_account_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.user_zones
    FOR EACH STATEMENT EXECUTE FUNCTION auth.notify_account_change();
