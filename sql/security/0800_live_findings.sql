-- Change capture for live findings (#19; the queue: sql/migrations/1600_live_findings_queue.sql).
-- One statement trigger per table and operation that feeds a rule (the frames of
-- gisapp/queries/rule_inputs.py) records the zones the statement touched, once per statement: an
-- import of 10,000 parcels is one row per zone, not 10,000. ENABLE ALWAYS: bulk loads run with
-- session_replication_role = replica and must be followed all the same. SECURITY DEFINER: the
-- app's roles have no privilege on the queue; nobody can change a rule's input without it.
-- Idempotent: re-applied by every `gisapp migrate`.
CREATE OR REPLACE FUNCTION rules.queue_reassessment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    how text := TG_ARGV[0];       -- how a row names its zone: zone, parcel, grant, enterprise, zone_or_every, every, none
    key text := TG_ARGV[1];       -- the column that names it
    city boolean := TG_ARGV[2] = 'city';  -- the change also feeds the whole-city rules
    changed text;
    zones text;
    touched boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        how := CASE WHEN how = 'none' THEN 'none' ELSE 'every' END;
    ELSE
        changed := CASE TG_OP
            WHEN 'INSERT' THEN format('SELECT %I AS k FROM new_rows', key)
            WHEN 'DELETE' THEN format('SELECT %I AS k FROM old_rows', key)
            ELSE format('SELECT %1$I AS k FROM old_rows UNION SELECT %1$I FROM new_rows', key) END;
        EXECUTE format('SELECT EXISTS (%s)', changed) INTO touched;
        IF NOT touched THEN  -- a statement that changed no row changes no finding
            RETURN NULL;
        END IF;
    END IF;
    zones := CASE how
        WHEN 'zone' THEN format('SELECT DISTINCT k FROM (%s) c WHERE k IS NOT NULL', changed)
        WHEN 'parcel' THEN format('SELECT DISTINCT p.zone_id FROM (%s) c JOIN land.parcels p ON p.id = c.k', changed)
        WHEN 'grant' THEN format('SELECT DISTINCT p.zone_id FROM (%s) c JOIN land.land_grants g ON g.id = c.k '
                                 'JOIN land.parcels p ON p.id = g.parcel_id', changed)
        WHEN 'enterprise' THEN format('SELECT DISTINCT p.zone_id FROM (%s) c JOIN land.parcels p '
                                      'ON p.enterprise_id = c.k', changed)
        WHEN 'zone_or_every' THEN format('SELECT z.id FROM land.zones z WHERE z.id IN (SELECT k FROM (%1$s) c) '
                                         'OR EXISTS (SELECT 1 FROM (%1$s) c WHERE k IS NULL)', changed)
        WHEN 'every' THEN 'SELECT id FROM land.zones'
        ELSE NULL END;
    IF zones IS NOT NULL THEN
        EXECUTE format('INSERT INTO rules.reassess_queue (zone_id, source) SELECT z, %L FROM (%s) q(z)',
                       TG_TABLE_NAME, zones);
    END IF;
    IF city THEN
        INSERT INTO rules.reassess_queue (zone_id, source) VALUES (NULL, TG_TABLE_NAME);
    END IF;
    PERFORM pg_notify('gisapp_reassess', '');
    RETURN NULL;
END
$$;

DO $$
DECLARE
    -- table, how its rows name their zone, the column, whether the whole-city rules read it
    source record;
    op text;
    name text;
BEGIN
    FOR source IN
        SELECT * FROM (VALUES
            ('land', 'parcels', 'zone', 'zone_id', 'city'),
            ('land', 'land_grants', 'parcel', 'parcel_id', 'city'),
            ('land', 'grant_requirements', 'grant', 'grant_id', 'zones'),
            ('land', 'grant_reviews', 'grant', 'grant_id', 'zones'),
            ('land', 'construction_progress', 'parcel', 'parcel_id', 'city'),
            ('land', 'construction_suspensions', 'parcel', 'parcel_id', 'zones'),
            ('land', 'idle_exemptions', 'parcel', 'parcel_id', 'zones'),
            ('land', 'enterprises', 'enterprise', 'id', 'zones'),
            ('land', 'enterprise_metrics', 'parcel', 'parcel_id', 'zones'),
            ('land', 'mixed_use_pilots', 'parcel', 'parcel_id', 'zones'),
            ('land', 'mixed_use_components', 'parcel', 'parcel_id', 'zones'),
            ('land', 'green_areas', 'parcel', 'parcel_id', 'zones'),
            ('land', 'quota_accounts', 'none', 'id', 'city'),
            ('land', 'quota_ledger', 'none', 'id', 'city'),
            ('land', 'quota_requests', 'none', 'id', 'city'),
            ('land', 'zone_assessments', 'zone', 'zone_id', 'zones'),
            ('land', 'zone_indicator_values', 'zone', 'zone_id', 'city'),
            ('land', 'zone_boundaries', 'zone', 'zone_id', 'city'),
            ('land', 'zones', 'zone', 'id', 'city'),
            ('land', 'districts', 'every', 'id', 'city'),
            ('land', 'land_use_codes', 'every', 'code', 'city'),
            ('land', 'performance_indicators', 'every', 'code', 'city'),
            ('land', 'performance_methods', 'every', 'code', 'city'),
            ('land', 'idle_exemption_reasons', 'every', 'code', 'city'),
            ('rules', 'parameter_overrides', 'zone_or_every', 'zone_id', 'city')
        ) AS s(schema_name, table_name, how, key, city)
    LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            name := 'reassess_on_' || op;
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', name, source.schema_name, source.table_name);
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION rules.queue_reassessment(%L, %L, %L)',
                           name, upper(op), source.schema_name, source.table_name,
                           CASE op WHEN 'insert' THEN 'REFERENCING NEW TABLE AS new_rows'
                                   WHEN 'update' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                   WHEN 'delete' THEN 'REFERENCING OLD TABLE AS old_rows'
                                   ELSE '' END,
                           source.how, source.key, source.city);
            EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', source.schema_name, source.table_name, name);
        END LOOP;
    END LOOP;
END
$$;

-- ALTER TABLE ... ENABLE TRIGGER USER (after a load that switched the user triggers off) makes
-- them fire in origin mode only: a loader calls this afterwards to put change capture back.
CREATE OR REPLACE FUNCTION rules.enable_change_capture() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger WHERE tgname LIKE 'reassess\_on\_%' LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.rel, t.tgname);
    END LOOP;
END
$$;

-- The worker (as gisapp_assessor) takes and deletes what it has done and keeps the clock's
-- daily pass; everyone may see what is pending (a finding is shown as pending, never as current).
-- (FOR UPDATE SKIP LOCKED needs UPDATE)
GRANT SELECT, UPDATE, DELETE ON rules.reassess_queue TO gisapp_assessor;
GRANT INSERT ON rules.reassess_queue TO gisapp_assessor;
GRANT UPDATE (daily_pass_on) ON rules.assessment_clock TO gisapp_assessor;
GRANT SELECT ON rules.reassess_queue, rules.assessment_clock TO gisapp_web, gisapp_app;
