-- The parcel split of a surplus land transfer (节余土地转让, 2021 opinions 1.4; issue #20): the
-- original parcel keeps the retained part, a new parcel is created for the surplus. Table:
-- sql/migrations/1880_create_parcel_splits.sql; docs/casework.md ("The parcel split").
-- Idempotent: re-applied by every `gisapp migrate`, after 0300 (whose default policies for land
-- tables this file replaces for land.parcel_splits), 0310 (the parcel's geometry and status
-- rules, which the split goes through, not around) and 0900 (casework).
--
-- Errors carry the SQLSTATEs of sql/security/0310_parcel_workflow.sql:
--   GA003  the split is refused (DETAIL: json with field and problem: which part, and why)
--   GA404  unknown parcel or case
--   GA409  the parcel changed since the editor read it
--   42501  not allowed (outside the user's zones, or a role that edits nothing)

-- 1. Who may write split records: whoever may edit the zone's parcels; nobody changes or removes
--    one afterwards (the history of a parcel is not rewritten).
DROP POLICY IF EXISTS gisapp_insert ON land.parcel_splits;
DROP POLICY IF EXISTS gisapp_update ON land.parcel_splits;
DROP POLICY IF EXISTS gisapp_delete ON land.parcel_splits;
CREATE POLICY gisapp_insert ON land.parcel_splits FOR INSERT TO gisapp_web WITH CHECK (auth.may_write_zone(zone_id));
REVOKE UPDATE, DELETE ON land.parcel_splits FROM gisapp_web;

-- The limits of a split, in one place (the function below and the app's messages read them):
-- every polygon of either part at least min_part_m2 (smaller pieces are slivers of a cut drawn a
-- little off the parcel's edge), and the two parts together the original within union_tol_m2
-- (the floating-point noise of cutting in degrees is far below it).
CREATE OR REPLACE FUNCTION land.parcel_split_limits(OUT min_part_m2 double precision, OUT union_tol_m2 double precision)
LANGUAGE sql IMMUTABLE AS $$ SELECT 100.0::double precision, 0.5::double precision $$;

CREATE OR REPLACE FUNCTION land.refuse_split(p_message text, p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = p_message, DETAIL = p_detail::text;
END
$$;

-- The two parts of a parcel a cut makes: a polygon cut takes what of the parcel lies inside it
-- as the surplus; a line divides the parcel in two, and the smaller part is the surplus (to take
-- the larger, give it as a polygon). Refuses (GA003, field cut) a cut that is not a line or a
-- polygon, an invalid polygon, a cut that does not divide the parcel, a line that makes more than
-- two parts, slivers, invalid parts and parts whose union is not the original.
CREATE OR REPLACE FUNCTION land.parcel_split_parts(p_code text, p_geom geometry, p_cut geometry,
                                                   OUT retained geometry, OUT surplus geometry, OUT cut_kind text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim record := land.parcel_split_limits();
    pieces geometry[];
    tiny record;
    gap double precision;
BEGIN
    IF p_cut IS NULL OR ST_IsEmpty(p_cut) THEN
        PERFORM land.refuse_split(format('parcel %s: the cut is empty', p_code),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_empty'));
    END IF;
    IF ST_SRID(p_cut) <> 4490 THEN
        PERFORM land.refuse_split(format('parcel %s: the cut must be in EPSG:4490 (got %s)', p_code, ST_SRID(p_cut)),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_srid', 'srid', ST_SRID(p_cut)));
    END IF;
    cut_kind := CASE WHEN GeometryType(p_cut) IN ('POLYGON', 'MULTIPOLYGON') THEN 'polygon'
                     WHEN GeometryType(p_cut) IN ('LINESTRING', 'MULTILINESTRING') THEN 'line' END;
    IF cut_kind IS NULL THEN
        PERFORM land.refuse_split(format('parcel %s: the cut must be a polygon or a line, not %s', p_code,
                                         GeometryType(p_cut)),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_type', 'type', GeometryType(p_cut)));
    END IF;
    IF NOT ST_IsValid(p_cut) THEN
        PERFORM land.refuse_split(format('parcel %s: the cut is not a valid geometry: %s', p_code, ST_IsValidReason(p_cut)),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_invalid',
                                                     'reason', ST_IsValidReason(p_cut)));
    END IF;
    IF cut_kind = 'polygon' THEN
        surplus := ST_CollectionExtract(ST_Intersection(p_geom, p_cut), 3);
        retained := ST_CollectionExtract(ST_Difference(p_geom, p_cut), 3);
    ELSE
        SELECT array_agg(d.geom ORDER BY ST_Area(d.geom::geography) DESC)
        INTO pieces
        FROM ST_Dump(ST_CollectionExtract(ST_Split(p_geom, p_cut), 3)) d;
        IF coalesce(cardinality(pieces), 0) > 2 THEN
            PERFORM land.refuse_split(
                format('parcel %s: the line divides it into %s parts, not two; give the surplus as a polygon', p_code,
                       cardinality(pieces)),
                jsonb_build_object('field', 'cut', 'problem', 'cut_parts', 'parts', cardinality(pieces)));
        END IF;
        IF coalesce(cardinality(pieces), 0) = 2 THEN
            retained := pieces[1];
            surplus := pieces[2];
        END IF;
    END IF;
    IF surplus IS NULL OR ST_IsEmpty(surplus) OR ST_Area(surplus::geography) = 0 THEN
        PERFORM land.refuse_split(format('parcel %s: the cut does not cross the parcel', p_code),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_not_crossing'));
    END IF;
    IF retained IS NULL OR ST_IsEmpty(retained) OR ST_Area(retained::geography) = 0 THEN
        PERFORM land.refuse_split(format('parcel %s: the cut takes the whole parcel; nothing would be retained', p_code),
                                  jsonb_build_object('field', 'cut', 'problem', 'cut_whole_parcel'));
    END IF;
    SELECT x.part, x.area INTO tiny
    FROM (SELECT 'retained' AS part, ST_Area(d.geom::geography) AS area FROM ST_Dump(retained) d
          UNION ALL
          SELECT 'surplus', ST_Area(d.geom::geography) FROM ST_Dump(surplus) d) x
    WHERE x.area < lim.min_part_m2
    ORDER BY x.area LIMIT 1;
    IF FOUND THEN
        PERFORM land.refuse_split(
            format('parcel %s: the %s part has a sliver of %s m² (each piece must be at least %s m²)', p_code, tiny.part,
                   round(tiny.area::numeric, 1), lim.min_part_m2),
            jsonb_build_object('field', 'cut', 'problem', 'sliver', 'part', tiny.part,
                               'area_m2', round(tiny.area::numeric, 1), 'min_m2', lim.min_part_m2));
    END IF;
    IF NOT ST_IsValid(retained) OR NOT ST_IsValid(surplus) THEN
        PERFORM land.refuse_split(
            format('parcel %s: the cut leaves an invalid part: %s', p_code,
                   CASE WHEN ST_IsValid(retained) THEN ST_IsValidReason(surplus) ELSE ST_IsValidReason(retained) END),
            jsonb_build_object('field', 'cut', 'problem', 'part_invalid',
                               'part', CASE WHEN ST_IsValid(retained) THEN 'surplus' ELSE 'retained' END,
                               'reason', CASE WHEN ST_IsValid(retained) THEN ST_IsValidReason(surplus)
                                              ELSE ST_IsValidReason(retained) END));
    END IF;
    gap := ST_Area(ST_SymDifference(ST_Union(retained, surplus), p_geom)::geography);
    IF gap > lim.union_tol_m2 THEN
        PERFORM land.refuse_split(
            format('parcel %s: the two parts differ from the parcel by %s m² (tolerance %s m²)', p_code,
                   round(gap::numeric, 2), lim.union_tol_m2),
            jsonb_build_object('field', 'cut', 'problem', 'union_differs', 'diff_m2', round(gap::numeric, 2),
                               'tolerance_m2', lim.union_tol_m2));
    END IF;
    retained := ST_Multi(retained);
    surplus := ST_Multi(surplus);
END
$$;

-- A part's geometry checked as a parcel's (land.parcel_geometry_problems: valid, inside the
-- zone's boundary in force, no overlap with another parcel), refused naming the part; the
-- parcels' own triggers check the same again when the parts are written.
CREATE OR REPLACE FUNCTION land.check_split_part(p_code text, p_parcel_id bigint, p_zone_id integer, p_part text,
                                                 p_geom geometry) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    problems jsonb := land.parcel_geometry_problems(p_parcel_id, p_zone_id, p_geom);
    first jsonb;
BEGIN
    IF problems = '[]'::jsonb THEN
        RETURN;
    END IF;
    first := problems -> 0;
    PERFORM land.refuse_split(
        format('parcel %s: the %s part is refused: %s', p_code, p_part,
               (SELECT string_agg(x ->> 'problem', ', ') FROM jsonb_array_elements(problems) x)),
        jsonb_build_object('field', 'cut', 'problem', 'part_' || (first ->> 'problem'), 'part', p_part,
                           'problems', problems) || (first - 'problem'));
END
$$;

-- Split parcel p_code by p_cut (EPSG:4490; a polygon: the surplus; a line: the division, the
-- smaller part the surplus). The original keeps the retained part; a new parcel p_new_code gets
-- the surplus with the original's zone, land use, enterprise and planning controls, no built
-- state, and the status transferred (已转让/转租) from p_split_on: the part a surplus land transfer
-- gives to another user, a step the lifecycle allows from the original's status (refused where
-- it does not). With p_case_id (an open le_surplus_land_transfer case about the parcel), the
-- case's parcel_split step is recorded done on p_split_on (its order in the case is checked as
-- for any step). One transaction: every write goes through the parcels' own triggers (geometry,
-- overlap, zone lock, row versions, audit with the reason, re-assessment queue) and the
-- row-level security of the user; any refusal leaves nothing written. Returns the split's id.
CREATE OR REPLACE FUNCTION land.split_parcel(
    p_code text, p_cut geometry, p_new_code text, p_reason text, p_case_id bigint DEFAULT NULL,
    p_split_on date DEFAULT NULL, p_expected_version integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p land.parcels;
    c land.cases;
    parts record;
    why text := nullif(btrim(p_reason), '');
    new_code text := nullif(btrim(p_new_code), '');
    day date := coalesce(p_split_on, CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date));
    new_id bigint;
    split_id bigint;
    allowed text[];
BEGIN
    p := land.parcel_for_edit(p_code);   -- exists, the user's zone, locked
    IF p_expected_version IS NOT NULL AND p_expected_version <> p.version THEN
        PERFORM land.refuse_stale_parcel(p, p_expected_version);
    END IF;
    IF why IS NULL THEN
        PERFORM land.refuse_split(format('parcel %s: a split needs a reason', p_code),
                                  jsonb_build_object('field', 'reason', 'problem', 'required'));
    END IF;
    IF new_code IS NULL THEN
        PERFORM land.refuse_split(format('parcel %s: the new parcel needs a code', p_code),
                                  jsonb_build_object('field', 'new_code', 'problem', 'required'));
    END IF;
    -- parcels are readable by every signed-in user: a taken code is found wherever it lies
    IF EXISTS (SELECT 1 FROM land.parcels WHERE code = new_code) THEN
        PERFORM land.refuse_split(format('the parcel code %s is taken', new_code),
                                  jsonb_build_object('field', 'new_code', 'problem', 'code_taken', 'code', new_code));
    END IF;
    IF p_case_id IS NOT NULL THEN
        c := land.case_for_child(p_case_id);  -- exists for this user, locked
        IF c.parcel_id IS DISTINCT FROM p.id THEN
            PERFORM land.refuse_split(format('case %s is not about parcel %s', c.code, p.code),
                                      jsonb_build_object('field', 'case', 'problem', 'split_case_parcel',
                                                         'case', c.code, 'parcel', p.code));
        END IF;
        IF c.pathway <> 'le_surplus_land_transfer' THEN
            PERFORM land.refuse_split(format('case %s follows the %s pathway; a parcel is split in a surplus land '
                                             'transfer', c.code, c.pathway),
                                      jsonb_build_object('field', 'case', 'problem', 'split_case_pathway',
                                                         'case', c.code, 'pathway', c.pathway));
        END IF;
        IF c.closed_on IS NOT NULL THEN
            PERFORM land.refuse_split(format('case %s was closed on %s', c.code, c.closed_on),
                                      jsonb_build_object('field', 'case', 'problem', 'closed', 'closed_on', c.closed_on));
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM land.parcel_status_transitions WHERE from_status = p.status AND to_status = 'transferred') THEN
        SELECT array_agg(from_status ORDER BY from_status) INTO allowed
        FROM land.parcel_status_transitions WHERE to_status = 'transferred';
        PERFORM land.refuse_split(
            format('parcel %s is %s: land of that status cannot be transferred (from: %s)', p.code, p.status,
                   array_to_string(allowed, ', ')),
            jsonb_build_object('field', 'status', 'problem', 'split_status', 'status', p.status, 'allowed', allowed));
    END IF;
    SELECT * INTO parts FROM land.parcel_split_parts(p.code, p.geom, p_cut);
    -- after the zone's geometry lock, so the overlap checks see what the previous writer committed
    PERFORM land.lock_zone_geometry(p.zone_id);
    PERFORM land.check_split_part(p.code, p.id, p.zone_id, 'retained', parts.retained);
    PERFORM land.check_split_part(p.code, p.id, p.zone_id, 'surplus', parts.surplus);

    PERFORM set_config('gisapp.reason',
                       left(format('split of %s into %s%s: %s', p.code, new_code,
                                   CASE WHEN c.id IS NOT NULL THEN format(' (case %s)', c.code) ELSE '' END, why), 1000),
                       true);
    UPDATE land.parcels SET geom = parts.retained WHERE id = p.id AND version = p.version;
    IF NOT FOUND THEN
        p := land.parcel_for_edit(p_code);
        PERFORM land.refuse_stale_parcel(p, coalesce(p_expected_version, p.version - 1));
    END IF;
    INSERT INTO land.parcels (code, zone_id, geom, area_m2, land_use_code, legacy_land_use_code, status, status_since,
                              enterprise_id, plot_ratio_min, plot_ratio_max, source_crs, is_synthetic)
    VALUES (new_code, p.zone_id, parts.surplus, 0, p.land_use_code, p.legacy_land_use_code, 'transferred', day,
            p.enterprise_id, p.plot_ratio_min, p.plot_ratio_max, p.source_crs, p.is_synthetic)
    RETURNING id INTO new_id;
    INSERT INTO land.parcel_splits (parcel_id, new_parcel_id, zone_id, case_id, cut_ewkt, cut_kind, original_geom,
                                    original_area_m2, retained_area_m2, surplus_area_m2, split_on, reason, done_by)
    VALUES (p.id, new_id, p.zone_id, c.id, ST_AsEWKT(p_cut), parts.cut_kind, p.geom, p.area_m2,
            ST_Area(parts.retained::geography), ST_Area(parts.surplus::geography), day, why,
            gisapp_meta.current_actor())
    RETURNING id INTO split_id;
    IF c.id IS NOT NULL THEN
        -- pathway, article and recorder are the step trigger's to set
        INSERT INTO land.case_steps (case_id, pathway, step, done_on, done_by, note, article)
        VALUES (c.id, c.pathway, 'parcel_split', day, '', left(format('%s → %s, %s', p.code, new_code, why), 2000), '');
    END IF;
    RETURN split_id;
END
$$;

-- A split record names a new parcel of the same transaction and zone, and writes that parcel's
-- first status to its history (where a status change would: the reason names the original).
-- SECURITY DEFINER: the history is written by the database alone (0300, 0310).
CREATE OR REPLACE FUNCTION land.record_split_parcel() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n land.parcels;
    o land.parcels;
BEGIN
    SELECT * INTO n FROM land.parcels WHERE id = NEW.new_parcel_id;
    SELECT * INTO o FROM land.parcels WHERE id = NEW.parcel_id;
    -- written in this transaction (touch_row stamps now(), the transaction's time) and not since
    IF n.id IS NULL OR n.updated_at <> now() OR n.version <> 1 OR n.zone_id <> NEW.zone_id OR o.zone_id <> NEW.zone_id
       OR EXISTS (SELECT 1 FROM land.parcel_status_history h WHERE h.parcel_id = n.id) THEN
        PERFORM land.refuse_split(format('a split record names parcel %s, which this split did not create', n.code),
                                  jsonb_build_object('field', 'new_code', 'problem', 'split_record'));
    END IF;
    INSERT INTO land.parcel_status_history (parcel_id, from_status, to_status, changed_on, reason, note, changed_by)
    VALUES (n.id, NULL, n.status, n.status_since, btrim(current_setting('gisapp.reason', true)),
            format('split from %s', o.code), gisapp_meta.current_actor());
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS parcel_split_history ON land.parcel_splits;
CREATE TRIGGER parcel_split_history AFTER INSERT ON land.parcel_splits
    FOR EACH ROW EXECUTE FUNCTION land.record_split_parcel();

-- The parcel_split step of a case is the split itself: recorded by land.split_parcel, never
-- without a split record of the case (on every path, psql included).
CREATE OR REPLACE FUNCTION land.check_parcel_split_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM land.parcel_splits s WHERE s.case_id = NEW.case_id) THEN
        PERFORM land.refuse_split(
            format('case %s: the parcel split is recorded by splitting the parcel (land.split_parcel)',
                   (SELECT code FROM land.cases WHERE id = NEW.case_id)),
            jsonb_build_object('field', 'step', 'problem', 'split_needed'));
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS parcel_split_step_check ON land.case_steps;
CREATE TRIGGER parcel_split_step_check BEFORE INSERT ON land.case_steps
    FOR EACH ROW WHEN (NEW.step = 'parcel_split') EXECUTE FUNCTION land.check_parcel_split_step();
