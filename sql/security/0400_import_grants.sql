-- The web import (gisapp/web/import_page.py) writes as gisapp_web with the signed-in admin's
-- context: row-level security decides the land tables; the import log needs its own grants.
-- Idempotent: re-applied by every migrate (after 0300, which creates the role).
GRANT SELECT, INSERT, UPDATE ON audit.imports TO gisapp_web;
GRANT USAGE ON SEQUENCE audit.imports_id_seq TO gisapp_web;
