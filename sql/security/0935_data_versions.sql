-- The data version of the vector tiles' ETags (migration 1861; gisapp/queries/data_version.py).
-- Idempotent: re-applied by every migrate, so a table added by a later migration is covered too.
--
-- Every write statement on a table of land, rules or layers (and gisapp_meta's own data) that
-- inserts, changes or deletes a row (an INSERT or TRUNCATE always counts) bumps
-- a stripe of gisapp_meta.data_versions in the writer's transaction: the sum the app reads moves
-- with the commit, in the same snapshot as the data, so a tile computed from the old data never
-- gets the new version's ETag. ENABLE ALWAYS: bulk loads that switch row triggers off
-- (session_replication_role = replica) still count; a load that disables every trigger of a table
-- (ALTER TABLE ... DISABLE TRIGGER USER) must write something else that counts: the demo load
-- writes gisapp_meta.dataset in the same transaction.
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

-- UPDATE and DELETE bump only when the statement changed a row (its transition table has one):
-- pollers run such statements every few seconds with nothing to do (the live-findings worker's
-- daily pass), and each would otherwise move every tile's ETag.
CREATE OR REPLACE FUNCTION gisapp_meta.data_version_rows_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_rows) THEN
        PERFORM gisapp_meta.bump_data_version(TG_RELID);
    END IF;
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
REVOKE ALL ON FUNCTION gisapp_meta.data_version_rows_changed() FROM PUBLIC;
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
          -- bookkeeping no layer reads (the version itself, the migrations, the live-findings queue),
          -- and the parcels' counts per zone, which change only with land.parcels (its statement
          -- triggers insert into it from their transition tables even when no parcel changed)
          AND (n.nspname, c.relname) NOT IN (('gisapp_meta', 'data_versions'), ('gisapp_meta', 'migrations'),
                                             ('rules', 'reassess_queue'), ('layers', 'parcel_zone_counts'))
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_changed ON %I.%I', t.nspname, t.relname);
        EXECUTE format('CREATE TRIGGER data_version_changed AFTER INSERT OR TRUNCATE '
                       'ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION gisapp_meta.data_version_changed()',
                       t.nspname, t.relname);
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_updated ON %I.%I', t.nspname, t.relname);
        EXECUTE format('CREATE TRIGGER data_version_updated AFTER UPDATE ON %I.%I '
                       'REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION gisapp_meta.data_version_rows_changed()', t.nspname, t.relname);
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_deleted ON %I.%I', t.nspname, t.relname);
        EXECUTE format('CREATE TRIGGER data_version_deleted AFTER DELETE ON %I.%I '
                       'REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION gisapp_meta.data_version_rows_changed()', t.nspname, t.relname);
        EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER data_version_changed', t.nspname, t.relname);
        EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER data_version_updated', t.nspname, t.relname);
        EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER data_version_deleted', t.nspname, t.relname);
    END LOOP;
    -- a table leaving the list above keeps no trigger of an earlier migrate
    FOR t IN
        SELECT n.nspname, c.relname
        FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE g.tgname = 'data_version_changed' AND (n.nspname, c.relname) IN (('layers', 'parcel_zone_counts'))
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_changed ON %I.%I', t.nspname, t.relname);
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_updated ON %I.%I', t.nspname, t.relname);
        EXECUTE format('DROP TRIGGER IF EXISTS data_version_deleted ON %I.%I', t.nspname, t.relname);
    END LOOP;
END
$$;
