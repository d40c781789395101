-- Parcel status workflow and geometry edits, enforced in the database so that psql users obey
-- the same rules as the web app (idempotent; re-applied by every migrate).
--
-- Errors raised here carry SQLSTATEs the app maps to messages:
--   GA002  status change outside the lifecycle graph (DETAIL: json with from, to, allowed)
--   GA003  bad value (DETAIL: json with the field, and for geometry the list of problems)
--   GA404  unknown parcel code
--   GA409  stale edit: the row changed since the editor read it (DETAIL: json of current values)
--   42501  not allowed (insufficient_privilege): the parcel is outside the user's zones

-- 1. Status changes: only along land.parcel_status_transitions, with a reason and a date that
--    is not before the current status began (nor in the future: a CHECK); each one is written to
--    land.parcel_status_history (by trigger, so a plain UPDATE in psql is recorded too).

CREATE OR REPLACE FUNCTION land.check_parcel_status_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed text[];
    why     text := nullif(btrim(current_setting('gisapp.reason', true)), '');
    dated   boolean := coalesce(current_setting('gisapp.status_dated', true), '') = 'true';
    -- a withdrawn confirmation taking its own change back, to the status and date before it:
    -- a correction, not a step of the lifecycle (sql/security/0820_review_moves_status.sql)
    taking_back boolean := land.takes_back_confirmation(OLD.id, OLD.status, NEW.status);
BEGIN
    IF NOT taking_back AND NOT EXISTS (SELECT 1 FROM land.parcel_status_transitions
                                       WHERE from_status = OLD.status AND to_status = NEW.status) THEN
        SELECT array_agg(t.to_status ORDER BY s.sort) INTO allowed
        FROM land.parcel_status_transitions t JOIN land.parcel_statuses s ON s.code = t.to_status
        WHERE t.from_status = OLD.status;
        RAISE EXCEPTION USING
            ERRCODE = 'GA002',
            MESSAGE = format('parcel %s: the status cannot change from %s to %s; that step is not in the '
                             'parcel lifecycle (allowed from %s: %s)', OLD.code, OLD.status, NEW.status,
                             OLD.status, coalesce(array_to_string(allowed, ', '), 'none')),
            DETAIL = json_build_object('parcel', OLD.code, 'from', OLD.status, 'to', NEW.status,
                                       'allowed', coalesce(allowed, '{}'::text[]))::text;
    END IF;
    IF why IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GA003',
            MESSAGE = format('parcel %s: a status change needs a reason', OLD.code),
            DETAIL = json_build_object('field', 'reason', 'problem', 'required')::text,
            HINT = 'call land.change_parcel_status(code, to_status, changed_on, reason, note, version), '
                   'or run SET LOCAL gisapp.reason = ''...'' before the UPDATE';
    END IF;
    -- A plain UPDATE that does not date the change is dated today.
    IF NOT dated AND NEW.status_since IS NOT DISTINCT FROM OLD.status_since THEN
        NEW.status_since := current_date;
    END IF;
    NEW.status_since := coalesce(NEW.status_since, current_date);
    -- a date in the future is refused by the CHECK parcels_status_since_not_future (migration
    -- 1300), the one definition of "today" (Shanghai's) for every dated record
    IF NOT taking_back AND OLD.status_since IS NOT NULL AND NEW.status_since < OLD.status_since THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GA003',
            MESSAGE = format('parcel %s: the status change date %s is before the current status began (%s)',
                             OLD.code, NEW.status_since, OLD.status_since),
            DETAIL = json_build_object('field', 'changed_on', 'problem', 'before_current',
                                       'value', NEW.status_since, 'since', OLD.status_since)::text;
    END IF;
    RETURN NEW;
END
$$;

-- SECURITY DEFINER: the history is append-only and written here alone (the web role has no
-- privilege on it); the parcel update itself already passed the row-level security check.
CREATE OR REPLACE FUNCTION land.record_parcel_status_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO land.parcel_status_history (parcel_id, from_status, to_status, changed_on, reason, note, changed_by)
    VALUES (NEW.id, OLD.status, NEW.status,
            -- a confirmation taken back restores the date its status began; the change is today's
            CASE WHEN land.takes_back_confirmation(NEW.id, OLD.status, NEW.status)
                 THEN CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date) ELSE NEW.status_since END,
            btrim(current_setting('gisapp.reason', true)),
            nullif(btrim(current_setting('gisapp.status_note', true)), ''),
            gisapp_meta.current_actor());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS parcel_status_check ON land.parcels;
CREATE TRIGGER parcel_status_check BEFORE UPDATE OF status ON land.parcels
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION land.check_parcel_status_change();

DROP TRIGGER IF EXISTS parcel_status_history ON land.parcels;
CREATE TRIGGER parcel_status_history AFTER UPDATE OF status ON land.parcels
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION land.record_parcel_status_change();

-- status_since is the date of the last transition: it moves with a status change only, so the
-- idle-land clock cannot be restarted (or backdated) by rewriting it.
CREATE OR REPLACE FUNCTION land.refuse_status_since_without_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'GA003',
        MESSAGE = format('parcel %s: the date its status %s began (%s) changes only with a status change',
                         OLD.code, OLD.status, OLD.status_since),
        DETAIL = json_build_object('field', 'changed_on', 'problem', 'same_status', 'status', OLD.status,
                                   'since', OLD.status_since)::text;
END
$$;

DROP TRIGGER IF EXISTS parcel_status_since_check ON land.parcels;
CREATE TRIGGER parcel_status_since_check BEFORE UPDATE OF status_since ON land.parcels
    FOR EACH ROW WHEN (OLD.status IS NOT DISTINCT FROM NEW.status
                       AND OLD.status_since IS DISTINCT FROM NEW.status_since)
    EXECUTE FUNCTION land.refuse_status_since_without_transition();

-- The parcel an editor is about to change, checked for existence and permission, then locked
-- (FOR NO KEY UPDATE) until the edit's transaction ends: every edit of a parcel or of one of its
-- child records (mixed use, progress, metrics, green, grants, quota requests) takes this lock
-- first, so two editors of the same parcel are served one after the other and the second reads
-- what the first wrote (its version check then refuses a stale edit). Locking the parent is
-- what serializes edits of a child set that is still empty (FOR UPDATE on no rows locks nothing).
CREATE OR REPLACE FUNCTION land.parcel_for_edit(p_code text) RETURNS land.parcels
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p land.parcels;
BEGIN
    SELECT * INTO p FROM land.parcels WHERE code = p_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no parcel with the code %L', p_code),
            DETAIL = json_build_object('field', 'code', 'problem', 'unknown')::text;
    END IF;
    IF NOT (auth.is_privileged() OR auth.may_write_zone(p.zone_id)) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s (%s) may not edit parcel %s: it lies in zone %s, outside the zones this user edits',
                             coalesce(auth.app_user(), current_user::text), coalesce(auth.app_role(), 'no role'),
                             p.code, (SELECT code FROM land.zones WHERE id = p.zone_id));
    END IF;
    -- read again under the lock: the row as the previous editor left it
    SELECT * INTO p FROM land.parcels WHERE id = p.id FOR NO KEY UPDATE;
    RETURN p;
END
$$;

CREATE OR REPLACE FUNCTION land.refuse_stale_parcel(p land.parcels, p_expected_version integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'GA409',
        MESSAGE = format('parcel %s was changed by %s at %s (now version %s; the edit started from version %s)',
                         p.code, p.updated_by, p.updated_at, p.version, p_expected_version),
        DETAIL = (to_jsonb(p) - 'geom')::text;
END
$$;

-- The way to change a status, from the app or from psql. p_expected_version is the version
-- the editor started from (NULL: no check, for psql use).
CREATE OR REPLACE FUNCTION land.change_parcel_status(
    p_code text, p_to_status text, p_changed_on date, p_reason text,
    p_note text DEFAULT NULL, p_expected_version integer DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p land.parcels;
    new_version integer;
BEGIN
    p := land.parcel_for_edit(p_code);
    IF p_expected_version IS NOT NULL AND p_expected_version <> p.version THEN
        PERFORM land.refuse_stale_parcel(p, p_expected_version);
    END IF;
    IF p_to_status = p.status THEN
        -- not a change: it would only move status_since (e.g. restart the idle-land clock)
        RAISE EXCEPTION USING ERRCODE = 'GA003',
            MESSAGE = format('parcel %s already has the status %s (since %s): there is no change to record',
                             p.code, p.status, p.status_since),
            DETAIL = json_build_object('field', 'to_status', 'problem', 'same_status', 'status', p.status,
                                       'since', p.status_since)::text;
    END IF;
    PERFORM set_config('gisapp.reason', coalesce(p_reason, ''), true),
            set_config('gisapp.status_note', coalesce(p_note, ''), true),
            set_config('gisapp.status_dated', 'true', true);
    UPDATE land.parcels SET status = p_to_status, status_since = coalesce(p_changed_on, current_date)
    WHERE id = p.id AND version = p.version
    RETURNING version INTO new_version;
    PERFORM set_config('gisapp.status_dated', '', true), set_config('gisapp.status_note', '', true);
    IF new_version IS NULL THEN  -- changed by someone else between the read and the write
        p := land.parcel_for_edit(p_code);
        PERFORM land.refuse_stale_parcel(p, coalesce(p_expected_version, p.version - 1));
    END IF;
    RETURN new_version;
END
$$;

-- 2. Geometry: valid, inside the zone's approved boundary in force, no overlap with neighbours
--    beyond a tolerance. One definition, used by the function below, by the trigger and by the
--    app to explain a refusal. Areas on the ellipsoid (geography), never in degrees.

CREATE OR REPLACE FUNCTION land.parcel_geometry_problems(
    p_parcel_id bigint, p_zone_id integer, p_geom geometry,
    p_on date DEFAULT current_date, p_tolerance_m2 double precision DEFAULT 1.0) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    problems jsonb := '[]'::jsonb;
    boundary geometry;
    outside  double precision;
    crowding jsonb;
BEGIN
    IF p_geom IS NULL OR ST_IsEmpty(p_geom) THEN
        RETURN jsonb_build_array(jsonb_build_object('problem', 'empty'));
    END IF;
    IF ST_SRID(p_geom) <> 4490 THEN
        problems := problems || jsonb_build_object('problem', 'srid', 'srid', ST_SRID(p_geom));
    END IF;
    IF GeometryType(p_geom) NOT IN ('POLYGON', 'MULTIPOLYGON') THEN
        RETURN problems || jsonb_build_object('problem', 'type', 'type', GeometryType(p_geom));
    END IF;
    IF NOT ST_IsValid(p_geom) THEN
        RETURN problems || jsonb_build_object('problem', 'invalid', 'reason', ST_IsValidReason(p_geom));
    END IF;
    IF problems <> '[]'::jsonb THEN
        RETURN problems;
    END IF;
    SELECT b.geom INTO boundary FROM land.zone_boundaries b
    WHERE b.zone_id = p_zone_id AND b.valid_from <= p_on AND (b.valid_to IS NULL OR b.valid_to > p_on);
    IF boundary IS NULL THEN
        problems := problems || jsonb_build_object('problem', 'no_boundary', 'on', p_on);
    ELSE
        outside := ST_Area(ST_Difference(p_geom, boundary)::geography);
        IF outside > p_tolerance_m2 THEN
            problems := problems || jsonb_build_object('problem', 'outside_boundary',
                                                       'outside_m2', round(outside::numeric, 1),
                                                       'tolerance_m2', p_tolerance_m2);
        END IF;
    END IF;
    SELECT jsonb_agg(jsonb_build_object('code', o.code, 'overlap_m2', round(o.area::numeric, 1)) ORDER BY o.code)
    INTO crowding
    FROM (SELECT n.code, ST_Area(ST_Intersection(n.geom, p_geom)::geography) AS area
          FROM land.parcels n
          WHERE n.geom && p_geom AND n.id IS DISTINCT FROM p_parcel_id AND ST_Intersects(n.geom, p_geom)) o
    WHERE o.area > p_tolerance_m2;
    IF crowding IS NOT NULL THEN
        problems := problems || jsonb_build_object('problem', 'overlap', 'neighbours', crowding,
                                                   'tolerance_m2', p_tolerance_m2);
    END IF;
    RETURN problems;
END
$$;

CREATE OR REPLACE FUNCTION land.refuse_bad_geometry(p_code text, p_problems jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'GA003',
        MESSAGE = format('parcel %s: the new geometry is refused: %s', p_code,
                         (SELECT string_agg(x ->> 'problem', ', ') FROM jsonb_array_elements(p_problems) x)),
        DETAIL = json_build_object('field', 'geom', 'problems', p_problems)::text;
END
$$;

-- Writers of parcel geometry in a zone queue until the previous one commits (an advisory lock
-- per zone, gisapp.db.locks.ZONE_GEOMETRY), so the overlap check of the second sees what the first
-- wrote: two editors (or imports) drawing into the same gap at the same moment cannot both pass.
-- Parcels of different zones cannot overlap (each lies inside its own zone's boundary).
CREATE OR REPLACE FUNCTION land.lock_zone_geometry(p_zone_id integer) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_xact_lock(7350001, p_zone_id) $$;

-- Every role is held to the checks, the owner and superusers included: a repair that the checks
-- would refuse is made by disabling the trigger explicitly, which is itself visible.
CREATE OR REPLACE FUNCTION land.check_parcel_geometry_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    problems jsonb;
BEGIN
    PERFORM land.lock_zone_geometry(NEW.zone_id);
    -- a statement of its own after the lock: it reads what the previous writer committed
    problems := land.parcel_geometry_problems(NEW.id, NEW.zone_id, NEW.geom);
    IF problems <> '[]'::jsonb THEN
        PERFORM land.refuse_bad_geometry(NEW.code, problems);
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS parcel_geometry_check ON land.parcels;
CREATE TRIGGER parcel_geometry_check BEFORE UPDATE OF geom, zone_id ON land.parcels
    FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom OR OLD.zone_id IS DISTINCT FROM NEW.zone_id)
    EXECUTE FUNCTION land.check_parcel_geometry_change();

-- New parcels, checked as a batch (set-based, one pass per INSERT statement, however many rows):
-- inside their zone's boundary in force (when p_boundary), no overlap beyond the tolerance with
-- any other parcel, new or old. Each pair of new parcels is reported once. The same definition
-- as land.parcel_geometry_problems, for many rows at once; the bulk importer calls it after its
-- COPY (row and statement triggers are off there).
CREATE OR REPLACE FUNCTION land.new_parcel_problems(p_ids bigint[], p_boundary boolean DEFAULT true,
                                                   p_tolerance_m2 double precision DEFAULT 1.0)
RETURNS TABLE (code text, problem text, detail jsonb)
LANGUAGE sql STABLE AS $$
    WITH batch AS (SELECT p.* FROM land.parcels p WHERE p.id = ANY (p_ids))
    SELECT n.code, 'outside_boundary',
           jsonb_build_object('outside_m2', round(ST_Area(ST_Difference(n.geom, b.geom)::geography)::numeric, 1),
                              'tolerance_m2', p_tolerance_m2)
    FROM batch n
    JOIN land.zone_boundaries b ON b.zone_id = n.zone_id AND b.valid_from <= current_date
                               AND (b.valid_to IS NULL OR b.valid_to > current_date)
    WHERE p_boundary AND NOT ST_CoveredBy(n.geom, b.geom)
      AND ST_Area(ST_Difference(n.geom, b.geom)::geography) > p_tolerance_m2
    UNION ALL
    SELECT n.code, 'no_boundary', jsonb_build_object('on', current_date)
    FROM batch n
    WHERE p_boundary AND NOT EXISTS (SELECT 1 FROM land.zone_boundaries b
                                     WHERE b.zone_id = n.zone_id AND b.valid_from <= current_date
                                       AND (b.valid_to IS NULL OR b.valid_to > current_date))
    UNION ALL
    SELECT x.code, 'overlap', jsonb_build_object('neighbours', jsonb_build_array(
               jsonb_build_object('code', x.other, 'overlap_m2', round(x.area::numeric, 1))),
           'tolerance_m2', p_tolerance_m2)
    FROM (SELECT n.code, o.code AS other, ST_Area(ST_Intersection(n.geom, o.geom)::geography) AS area
          FROM batch n
          JOIN land.parcels o ON o.geom && n.geom AND o.id <> n.id
          WHERE NOT (o.id = ANY (p_ids) AND o.id < n.id)
            AND ST_Relate(n.geom, o.geom, '2********')) x
    WHERE x.area > p_tolerance_m2
$$;

-- For a bulk load (COPY with row and statement triggers off, as pg_restore does): the parcels
-- this transaction wrote that overlap a parcel that was there before, beyond the tolerance.
-- Each parcel of the smaller of the two sets probes the GiST index for the other set (a table
-- that starts empty costs one scan of the new rows' transaction ids, not a million probes). The
-- load checks its own rows against each other before the COPY ends (gisapp.io.validate), and the
-- zone boundary when it assigns zones.
CREATE OR REPLACE FUNCTION land.loaded_parcel_overlaps(p_tolerance_m2 double precision DEFAULT 1.0,
                                                       p_limit integer DEFAULT 20)
RETURNS TABLE (code text, other text, overlap_m2 double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    mine constant xid := pg_current_xact_id()::xid;
    n_new bigint;
    n_old bigint;
BEGIN
    SELECT count(*) FILTER (WHERE p.xmin = mine), count(*) FILTER (WHERE p.xmin <> mine)
    INTO n_new, n_old FROM land.parcels p;
    IF n_new = 0 OR n_old = 0 THEN
        RETURN;
    END IF;
    IF n_old <= n_new THEN
        RETURN QUERY
        SELECT x.code, o.code, x.area
        FROM land.parcels o
        CROSS JOIN LATERAL (SELECT n.code, ST_Area(ST_Intersection(n.geom, o.geom)::geography) AS area
                            FROM land.parcels n
                            WHERE n.geom && o.geom AND n.xmin = mine
                              AND ST_Relate(n.geom, o.geom, '2********')) x
        WHERE o.xmin <> mine AND x.area > p_tolerance_m2
        ORDER BY 1, 2 LIMIT p_limit;
    ELSE
        RETURN QUERY
        SELECT n.code, x.code, x.area
        FROM land.parcels n
        CROSS JOIN LATERAL (SELECT o.code, ST_Area(ST_Intersection(n.geom, o.geom)::geography) AS area
                            FROM land.parcels o
                            WHERE o.geom && n.geom AND o.xmin <> mine
                              AND ST_Relate(n.geom, o.geom, '2********')) x
        WHERE n.xmin = mine AND x.area > p_tolerance_m2
        ORDER BY 1, 2 LIMIT p_limit;
    END IF;
END
$$;

-- Refuses an INSERT whose new parcels break a rule of land.new_parcel_problems, naming up to ten
-- of them (GA003, DETAIL: json with the field geom and the problems).
CREATE OR REPLACE FUNCTION land.check_new_parcels() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    found jsonb;
    total integer;
BEGIN
    SELECT array_agg(id) INTO ids FROM added_parcels;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM land.lock_zone_geometry(z) FROM (SELECT DISTINCT zone_id AS z FROM added_parcels ORDER BY 1) zones;
    SELECT count(*), jsonb_agg(jsonb_build_object('problem', x.problem, 'parcel', x.code) || x.detail)
               FILTER (WHERE x.rn <= 10)
    INTO total, found
    FROM (SELECT p.*, row_number() OVER (ORDER BY p.code, p.problem) AS rn
          FROM land.new_parcel_problems(ids) p) x;
    IF total > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003',
            MESSAGE = format('%s new parcel(s) refused: %s%s', total,
                             (SELECT string_agg(format('%s %s%s', e ->> 'parcel', e ->> 'problem',
                                                       CASE WHEN e ->> 'problem' = 'overlap'
                                                            THEN format(' with %s (%s m²)',
                                                                        e -> 'neighbours' -> 0 ->> 'code',
                                                                        e -> 'neighbours' -> 0 ->> 'overlap_m2')
                                                            WHEN e ->> 'problem' = 'outside_boundary'
                                                            THEN format(' (%s m² outside)', e ->> 'outside_m2')
                                                            ELSE '' END), '; ')
                              FROM jsonb_array_elements(found) e),
                             CASE WHEN total > 10 THEN format('; and %s more', total - 10) ELSE '' END),
            DETAIL = json_build_object('field', 'geom', 'problems', found)::text;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS parcel_insert_geometry_check ON land.parcels;
CREATE TRIGGER parcel_insert_geometry_check AFTER INSERT ON land.parcels
    REFERENCING NEW TABLE AS added_parcels
    FOR EACH STATEMENT EXECUTE FUNCTION land.check_new_parcels();

CREATE OR REPLACE FUNCTION land.update_parcel_geometry(
    p_code text, p_geom geometry, p_reason text, p_expected_version integer DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p land.parcels;
    problems jsonb;
    new_version integer;
BEGIN
    p := land.parcel_for_edit(p_code);
    IF p_expected_version IS NOT NULL AND p_expected_version <> p.version THEN
        PERFORM land.refuse_stale_parcel(p, p_expected_version);
    END IF;
    IF nullif(btrim(p_reason), '') IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = format('parcel %s: a geometry change needs a reason', p_code),
            DETAIL = json_build_object('field', 'reason', 'problem', 'required')::text;
    END IF;
    PERFORM land.lock_zone_geometry(p.zone_id);
    problems := land.parcel_geometry_problems(p.id, p.zone_id, p_geom);
    IF problems <> '[]'::jsonb THEN
        PERFORM land.refuse_bad_geometry(p_code, problems);
    END IF;
    PERFORM set_config('gisapp.reason', p_reason, true);
    UPDATE land.parcels SET geom = ST_Multi(p_geom) WHERE id = p.id AND version = p.version
    RETURNING version INTO new_version;
    IF new_version IS NULL THEN
        p := land.parcel_for_edit(p_code);
        PERFORM land.refuse_stale_parcel(p, coalesce(p_expected_version, p.version - 1));
    END IF;
    RETURN new_version;
END
$$;

-- 3. Mixed-use shares: whoever writes a parcel's components (the form, the JSON API, psql) leaves
--    them summing to 100% (within the 0.01 points that two decimals allow), or leaves none.
--    Checked at commit (the edit replaces rows one by one), after locking the parcel, so that two
--    writers of the same parcel are checked one after the other and the second sees the first's
--    rows. Components loaded before this rule (the demo's data-quality cases) stay as they are
--    until someone edits them; the mixed_use rule reports them.
CREATE OR REPLACE FUNCTION land.check_mixed_use_shares() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    parcel bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.parcel_id ELSE NEW.parcel_id END;
    total numeric;
    n integer;
BEGIN
    PERFORM 1 FROM land.parcels WHERE id = parcel FOR NO KEY UPDATE;
    SELECT sum(floor_share_pct), count(*) INTO total, n FROM land.mixed_use_components WHERE parcel_id = parcel;
    IF n > 0 AND abs(total - 100) > 0.01 THEN
        RAISE EXCEPTION USING ERRCODE = 'GA003',
            MESSAGE = format('parcel %s: its mixed-use shares sum to %s%%, not 100%%',
                             (SELECT code FROM land.parcels WHERE id = parcel), total),
            DETAIL = json_build_object('field', 'components', 'problem', 'shares_sum', 'total', total)::text;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS mixed_use_shares_sum ON land.mixed_use_components;
CREATE CONSTRAINT TRIGGER mixed_use_shares_sum AFTER INSERT OR UPDATE OR DELETE ON land.mixed_use_components
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION land.check_mixed_use_shares();

-- 4. Every write of a parcel's child record (progress, suspensions, metrics, green area,
--    exemptions, grants and their requirements and reviews, mixed use, quota requests of its
--    projects) first locks the parcel, whoever writes it: concurrent edits of a parcel's records
--    then run one after the other on every path, as the app's edits do (land.parcel_for_edit).
--    SECURITY DEFINER: the lock needs no UPDATE right on the parcel; the write itself is still
--    decided by the child table's row-level security.
CREATE OR REPLACE FUNCTION land.lock_parcel_of_child() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r jsonb;
    parcel bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    parcel := CASE TG_ARGV[0]
        WHEN 'parcel' THEN (r ->> 'parcel_id')::bigint
        WHEN 'grant' THEN (SELECT g.parcel_id FROM land.land_grants g WHERE g.id = (r ->> 'grant_id')::integer)
        WHEN 'account' THEN (SELECT g.parcel_id FROM land.quota_accounts a JOIN land.land_grants g ON g.id = a.grant_id
                             WHERE a.id = (r ->> 'account_id')::integer)
    END;
    IF parcel IS NOT NULL THEN
        PERFORM 1 FROM land.parcels WHERE id = parcel FOR NO KEY UPDATE;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            ('construction_progress', 'parcel'), ('construction_suspensions', 'parcel'),
            ('enterprise_metrics', 'parcel'), ('green_areas', 'parcel'), ('idle_exemptions', 'parcel'),
            ('land_grants', 'parcel'), ('mixed_use_components', 'parcel'), ('mixed_use_pilots', 'parcel'),
            ('grant_requirements', 'grant'), ('grant_reviews', 'grant'),
            ('quota_requests', 'account')) AS v(table_name, via)
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS a_lock_parcel ON land.%I', t.table_name);
        -- "a_": before the table's other BEFORE triggers (they fire in name order)
        EXECUTE format('CREATE TRIGGER a_lock_parcel BEFORE INSERT OR UPDATE OR DELETE ON land.%I '
                       'FOR EACH ROW EXECUTE FUNCTION land.lock_parcel_of_child(%L)', t.table_name, t.via);
    END LOOP;
END
$$;
