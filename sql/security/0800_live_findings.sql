-- Change capture for live findings (#19; the queue: sql/migrations/1600_live_findings_queue.sql
-- and 1650_live_findings_parcel_jobs.sql). One statement trigger per table and operation that
-- feeds a rule (the frames of gisapp/queries/rule_inputs.py) records the zones the statement
-- touched, once per statement: an import of 10,000 parcels is one row per zone, not 10,000. A
-- statement that touched at most 50 parcels of a table the parcel-local rules read also queues
-- one row per parcel, so that `gisapp worker --kind parcels` makes the parcels' own findings
-- current within moments, before the zone's full run (the zone row is then "covered": only the
-- zone-wide findings wait for it). ENABLE ALWAYS: bulk loads run with session_replication_role =
-- replica and must be followed all the same. SECURITY DEFINER: the app's roles have no privilege
-- on the queue; nobody can change a rule's input without it. Idempotent: re-applied by every
-- `gisapp migrate`.
CREATE OR REPLACE FUNCTION rules.queue_reassessment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    how text := TG_ARGV[0];       -- how a row names its zone: zone, parcel, grant, case, enterprise, zone_or_every, every, none
    key text := TG_ARGV[1];       -- the column that names it
    city boolean := TG_ARGV[2] = 'city';  -- the change also feeds the whole-city rules
    -- how the change reaches the parcel-local rules: 'parcel' (through the parcels it touched:
    -- parcel jobs), 'zone' (through data of the whole zone) or 'none' (they do not read it)
    local text := TG_ARGV[3];
    -- the column naming the one rule a row parameterizes (rules.parameter_overrides.rule): only
    -- that rule's findings follow the change (NULL: every rule the data feeds)
    rule_key text := nullif(TG_ARGV[4], '');
    rule_names text[];
    changed text;
    zones text;
    parcels text;
    touched boolean;
    covered boolean := local = 'none';
    parcel_jobs integer;
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
        -- a row of a case (its steps, its money): the zone of the case's parcel (no rule reads a
        -- zone's cases; a deleted case queued its parcel itself)
        WHEN 'case' THEN format('SELECT DISTINCT x.zone_id FROM (%s) c JOIN land.cases x ON x.id = c.k '
                                'WHERE x.parcel_id IS NOT NULL', changed)
        WHEN 'enterprise' THEN format('SELECT DISTINCT p.zone_id FROM (%s) c JOIN land.parcels p '
                                      'ON p.enterprise_id = c.k', changed)
        WHEN 'zone_or_every' THEN format('SELECT z.id FROM land.zones z WHERE z.id IN (SELECT k FROM (%1$s) c) '
                                         'OR EXISTS (SELECT 1 FROM (%1$s) c WHERE k IS NULL)', changed)
        WHEN 'every' THEN 'SELECT id FROM land.zones'
        ELSE NULL END;
    IF rule_key IS NOT NULL AND TG_OP <> 'TRUNCATE' THEN
        EXECUTE format(CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT array_agg(DISTINCT %1$I ORDER BY %1$I) FROM new_rows'
            WHEN 'DELETE' THEN 'SELECT array_agg(DISTINCT %1$I ORDER BY %1$I) FROM old_rows'
            ELSE 'SELECT array_agg(DISTINCT r ORDER BY r) FROM (SELECT %1$I AS r FROM old_rows '
                 'UNION SELECT %1$I FROM new_rows) x' END, rule_key) INTO rule_names;
    END IF;
    IF local = 'parcel' AND TG_OP <> 'TRUNCATE' THEN
        -- (zone, parcel) of every parcel the statement touched, in its zone before and after
        parcels := CASE
            WHEN TG_TABLE_NAME = 'parcels' THEN CASE TG_OP
                WHEN 'INSERT' THEN 'SELECT zone_id AS z, id AS p FROM new_rows'
                WHEN 'DELETE' THEN 'SELECT zone_id AS z, id AS p FROM old_rows'
                ELSE 'SELECT zone_id AS z, id AS p FROM old_rows UNION SELECT zone_id, id FROM new_rows' END
            WHEN how = 'parcel' THEN format('SELECT DISTINCT p.zone_id AS z, p.id AS p FROM (%s) c '
                                            'JOIN land.parcels p ON p.id = c.k', changed)
            WHEN how = 'grant' THEN format('SELECT DISTINCT p.zone_id AS z, p.id AS p FROM (%s) c '
                                           'JOIN land.land_grants g ON g.id = c.k JOIN land.parcels p ON p.id = g.parcel_id',
                                           changed)
            WHEN how = 'case' THEN format('SELECT DISTINCT x.zone_id AS z, x.parcel_id AS p FROM (%s) c '
                                          'JOIN land.cases x ON x.id = c.k WHERE x.parcel_id IS NOT NULL', changed)
            END;
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM (%s) x LIMIT 51) y', parcels) INTO parcel_jobs;
        IF parcel_jobs <= 50 THEN
            EXECUTE format('INSERT INTO rules.reassess_queue (zone_id, parcel_id, source) '
                           'SELECT DISTINCT z, p, %L FROM (%s) q WHERE z IS NOT NULL', TG_TABLE_NAME, parcels);
            covered := true;
            PERFORM pg_notify('gisapp_reassess', 'parcels');
        END IF;
    END IF;
    -- the payload says which worker's work this is (gisapp.rules.worker.WAKES): 'zones' wakes the
    -- zones worker at once; 'zones settling' (covered) and 'city' only tell it when to look
    IF zones IS NOT NULL THEN
        EXECUTE format('INSERT INTO rules.reassess_queue (zone_id, source, covered, rules) '
                       'SELECT z, %L, %L, %L FROM (%s) q(z)', TG_TABLE_NAME, covered, rule_names, zones);
        PERFORM pg_notify('gisapp_reassess', CASE WHEN covered THEN 'zones settling' ELSE 'zones' END);
    END IF;
    IF city THEN
        INSERT INTO rules.reassess_queue (zone_id, source, rules) VALUES (NULL, TG_TABLE_NAME, rule_names);
        PERFORM pg_notify('gisapp_reassess', 'city');
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    -- table, how its rows name their zone, the column, whether the whole-city rules read it, how
    -- it reaches the parcel-local rules (gisapp.rules.registry.PARCEL_LOCAL_RULES; derived from
    -- the frames they read and checked by tests/db/test_live_parcel_jobs.py), the column naming
    -- the one rule a row parameterizes ('': the row feeds every rule that reads the table)
    source record;
    op text;
    name text;
BEGIN
    FOR source IN
        SELECT * FROM (VALUES
            ('land', 'parcels', 'zone', 'zone_id', 'city', 'parcel', ''),
            ('land', 'land_grants', 'parcel', 'parcel_id', 'city', 'parcel', ''),
            ('land', 'grant_requirements', 'grant', 'grant_id', 'zones', 'parcel', ''),
            ('land', 'grant_reviews', 'grant', 'grant_id', 'zones', 'parcel', ''),
            ('land', 'construction_progress', 'parcel', 'parcel_id', 'city', 'parcel', ''),
            ('land', 'construction_suspensions', 'parcel', 'parcel_id', 'zones', 'parcel', ''),
            ('land', 'idle_exemptions', 'parcel', 'parcel_id', 'zones', 'parcel', ''),
            -- casework the idle rule reads (frames case_extensions, idle_fee_decisions): a case is
            -- about one parcel; its steps and money name the case
            ('land', 'cases', 'parcel', 'parcel_id', 'zones', 'parcel', ''),
            ('land', 'case_steps', 'case', 'case_id', 'zones', 'parcel', ''),
            ('land', 'case_money', 'case', 'case_id', 'zones', 'parcel', ''),
            ('land', 'case_extensions', 'grant', 'grant_id', 'zones', 'parcel', ''),
            ('land', 'enterprises', 'enterprise', 'id', 'zones', 'none', ''),
            ('land', 'enterprise_metrics', 'parcel', 'parcel_id', 'zones', 'none', ''),
            ('land', 'mixed_use_pilots', 'parcel', 'parcel_id', 'zones', 'parcel', ''),
            ('land', 'mixed_use_components', 'parcel', 'parcel_id', 'zones', 'parcel', ''),
            ('land', 'green_areas', 'parcel', 'parcel_id', 'zones', 'none', ''),
            ('land', 'quota_accounts', 'none', 'id', 'city', 'none', ''),
            ('land', 'quota_ledger', 'none', 'id', 'city', 'none', ''),
            ('land', 'quota_requests', 'none', 'id', 'city', 'none', ''),
            ('land', 'zone_assessments', 'zone', 'zone_id', 'zones', 'none', ''),
            ('land', 'zone_indicator_values', 'zone', 'zone_id', 'city', 'none', ''),
            ('land', 'zone_boundaries', 'zone', 'zone_id', 'city', 'none', ''),
            ('land', 'zones', 'zone', 'id', 'city', 'none', ''),
            ('land', 'districts', 'every', 'id', 'city', 'none', ''),
            ('land', 'land_use_codes', 'every', 'code', 'city', 'zone', ''),
            ('land', 'performance_indicators', 'every', 'code', 'city', 'zone', ''),
            ('land', 'performance_methods', 'every', 'code', 'city', 'none', ''),
            ('land', 'idle_exemption_reasons', 'every', 'code', 'city', 'zone', ''),
            ('rules', 'parameter_overrides', 'zone_or_every', 'zone_id', 'city', 'zone', 'rule')
        ) AS s(schema_name, table_name, how, key, city, local, rule_key)
    LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            name := 'reassess_on_' || op;
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', name, source.schema_name, source.table_name);
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION rules.queue_reassessment(%L, %L, %L, %L, %L)',
                           name, upper(op), source.schema_name, source.table_name,
                           CASE op WHEN 'insert' THEN 'REFERENCING NEW TABLE AS new_rows'
                                   WHEN 'update' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                   WHEN 'delete' THEN 'REFERENCING OLD TABLE AS old_rows'
                                   ELSE '' END,
                           source.how, source.key, source.city, source.local, source.rule_key);
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
-- the parcels worker records its patches; everyone may see when a parcel's findings were patched
GRANT SELECT, INSERT, UPDATE, DELETE ON rules.parcel_patches TO gisapp_assessor;
GRANT SELECT ON rules.parcel_patches TO gisapp_web, gisapp_app;
