-- The data version of the vector tiles' ETags (migration 1861; gisapp/queries/data_version.py).
-- Idempotent: re-applied by every migrate, so a table added by a later migration is covered too.
--
-- Every write statement on a table of land, rules or layers (and gisapp_meta's own data) bumps
-- a stripe of gisapp_meta.data_versions in the writer's transaction: the sum the app reads moves
-- with the commit, in the same snapshot as the data, so a tile computed from the old data never
-- gets the new version's ETag. ENABLE ALWAYS: bulk loads that switch row triggers off
-- (session_replication_role = replica) still count; loads that disable every trigger of a table
-- (ALTER TABLE ... DISABLE TRIGGER USER) bump it themselves (gisapp_meta.bump_data_version).
CREATE OR REPLACE FUNCTION gisapp_meta.bump_data_version(p_relid oid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    -- a stripe no other open transaction holds: writers never wait for each other here
    UPDATE gisapp_meta.data_versions SET n = n + 1
    WHERE ctid = (SELECT ctid FROM gisapp_meta.data_versions WHERE relid = p_relid
                  LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
        INSERT INTO gisapp_meta.data_versions (relid, n) VALUES (p_relid, 1);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION gisapp_meta.data_version_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    PERFORM gisapp_meta.bump_data_version(TG_RELID);
    RETURN NULL;
END
$$;

-- The version the app reads: the sum over every table (any edit invalidates every tile: the
-- layers' views read through functions whose tables pg_depend does not record).
CREATE OR REPLACE FUNCTION gisapp_meta.data_version() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT coalesce(sum(n), 0)::bigint FROM gisapp_meta.data_versions
$$;

REVOKE ALL ON FUNCTION gisapp_meta.bump_data_version(oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION gisapp_meta.data_version_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION gisapp_meta.data_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gisapp_meta.data_version() TO gisapp_app, gisapp_web, gisapp_assessor;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname IN ('land', 'rules', 'layers', 'gisapp_meta')
          -- bookkeeping no layer reads: the version itself, the migrations, the live-findings queue
          AND (n.nspname, c.relname) NOT IN (('gisapp_meta', 'data_versions'), ('gisapp_meta', 'migrations'),
                                             ('rules', 'reassess_queue'))
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_changed ON %I.%I', t.nspname, t.relname);
        EXECUTE format('CREATE TRIGGER data_version_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION gisapp_meta.data_version_changed()',
                       t.nspname, t.relname);
        EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER data_version_changed', t.nspname, t.relname);
    END LOOP;
END
$$;
