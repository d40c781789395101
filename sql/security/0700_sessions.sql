-- Server-side sessions (migration 1400): what the web's login role needs and nothing more.
-- Idempotent: re-applied by every migrate, after 0300 revoked everything in auth.
--   SELECT  check a presented session id (by its hash) on each request that is not in memory
--   INSERT  open a session at sign-in
--   DELETE  end one at logout, or when its cookie comes from another client, or expired ones
-- No UPDATE: a session is never extended or moved to another account.
REVOKE ALL ON auth.sessions FROM PUBLIC, gisapp_web, gisapp_app;
GRANT SELECT, INSERT, DELETE ON auth.sessions TO gisapp_app;
GRANT SELECT, INSERT, DELETE ON auth.login_attempts TO gisapp_app;

-- Every app process keeps checked sessions in memory (gisapp/web/account_cache.py) and drops
-- them when the database announces a change: a session ended by another process, the CLI or
-- psql must be refused at once everywhere. Per row: deleting no row (the expired ones, usually
-- none) announces nothing; several rows in one transaction share one payload, sent once.
DROP TRIGGER IF EXISTS notify_session_end ON auth.sessions;
CREATE TRIGGER notify_session_end
    AFTER UPDATE OR DELETE ON auth.sessions
    FOR EACH ROW EXECUTE FUNCTION auth.notify_account_change();
DROP TRIGGER IF EXISTS notify_session_truncate ON auth.sessions;
CREATE TRIGGER notify_session_truncate
    AFTER TRUNCATE ON auth.sessions
    FOR EACH STATEMENT EXECUTE FUNCTION auth.notify_account_change();
