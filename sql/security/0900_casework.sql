-- Casework (issue #20; tables: sql/migrations/1800_create_casework.sql): who may do what, the
-- rules every path obeys (web, CLI, notebooks, psql), and the case a confirmed finding opens.
-- Idempotent: re-applied by every `gisapp migrate`, after 0010/0020 (row versions, audit) and 0300
-- (whose default policies for land tables this file replaces for the case tables).
--
-- Errors carry the SQLSTATEs of sql/security/0310_parcel_workflow.sql:
--   GA003  a value or a step the procedure refuses (DETAIL: json with field, problem and values)
--   GA404  unknown case
--   42501  not allowed

-- 1. Who may read and write ----------------------------------------------------------------------

-- A zone editor reads the cases of its own zones; the bureau's roles and analysts read all.
CREATE OR REPLACE FUNCTION auth.may_read_zone(p_zone_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT auth.may_read()
       AND (current_user::text <> 'gisapp_web' OR auth.app_role() IS DISTINCT FROM 'zone_editor'
            OR p_zone_id = ANY (auth.app_zone_ids()))
$$;

-- SECURITY DEFINER: look the case up without re-entering the policies of land.cases.
CREATE OR REPLACE FUNCTION auth.case_zone(p_case_id bigint) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT zone_id FROM land.cases WHERE id = p_case_id
$$;

-- A step of the case's pathway: the zone office records its work ('zone' steps) in its zones,
-- the bureau admin everything, decisions ('bureau' steps) included.
CREATE OR REPLACE FUNCTION auth.may_record_case_step(p_case_id bigint, p_step text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT coalesce((SELECT auth.may_write_zone(c.zone_id)
                            AND (auth.may_write_all()
                                 OR EXISTS (SELECT 1 FROM land.case_pathway_steps d
                                            WHERE d.pathway = c.pathway AND d.step = p_step AND d.who = 'zone'))
                     FROM land.cases c WHERE c.id = p_case_id), false)
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            -- table, who reads, who inserts, who updates, who deletes
            ('cases', 'auth.may_read_zone(zone_id)', 'auth.may_write_all()', 'auth.may_write_all()',
             'auth.may_write_all()'),
            ('case_steps', 'auth.may_read_zone(auth.case_zone(case_id))', 'auth.may_record_case_step(case_id, step)',
             'auth.may_record_case_step(case_id, step)', 'auth.may_write_all()'),
            -- deciding money is the bureau's; the zone office records service and payment (the
            -- columns it may change are checked by land.check_case_money)
            ('case_money', 'auth.may_read_zone(auth.case_zone(case_id))', 'auth.may_write_all()',
             'auth.may_write_zone(auth.case_zone(case_id))', 'auth.may_write_all()'),
            ('case_documents', 'auth.may_read_zone(auth.case_zone(case_id))',
             'auth.may_write_zone(auth.case_zone(case_id))', 'auth.may_write_zone(auth.case_zone(case_id))',
             'auth.may_write_all()'),
            ('case_extensions', 'auth.may_read_zone(auth.case_zone(case_id))', 'auth.may_write_all()', 'false',
             'false')
        ) AS v(table_name, reader, inserter, updater, deleter)
    LOOP
        EXECUTE format('ALTER TABLE land.%I ENABLE ROW LEVEL SECURITY', t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_read ON land.%I', t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_insert ON land.%I', t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_update ON land.%I', t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS gisapp_delete ON land.%I', t.table_name);
        EXECUTE format('CREATE POLICY gisapp_read ON land.%I FOR SELECT TO PUBLIC USING (%s)', t.table_name, t.reader);
        EXECUTE format('CREATE POLICY gisapp_insert ON land.%I FOR INSERT TO gisapp_web WITH CHECK (%s)',
                       t.table_name, t.inserter);
        EXECUTE format('CREATE POLICY gisapp_update ON land.%I FOR UPDATE TO gisapp_web USING (%s) WITH CHECK (%s)',
                       t.table_name, t.updater, t.updater);
        EXECUTE format('CREATE POLICY gisapp_delete ON land.%I FOR DELETE TO gisapp_web USING (%s)',
                       t.table_name, t.deleter);
    END LOOP;
END
$$;
-- the procedures are reference data: read by everyone, written by migrations only
REVOKE INSERT, UPDATE, DELETE ON land.case_kinds, land.case_pathways, land.case_pathway_steps,
    land.case_step_dependencies, land.case_outcomes, land.case_openers, land.case_document_kinds
    FROM gisapp_web, gisapp_app, gisapp_assessor;
REVOKE UPDATE, DELETE ON land.case_extensions FROM gisapp_web;
-- the idle rule reads what cases decided (gisapp/queries/rule_inputs.py: case_extensions,
-- idle_fee_decisions) as the assessor, which bypasses row-level security and writes none of it
GRANT SELECT ON land.cases, land.case_steps, land.case_money, land.case_extensions TO gisapp_assessor;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON land.cases, land.case_steps, land.case_money, land.case_extensions
    FROM gisapp_assessor;

-- 2. The rules of a case ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION land.refuse_case_value(p_message text, p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'GA003', MESSAGE = p_message, DETAIL = p_detail::text;
END
$$;

-- A case: its code, its zone (the parcel's), its subject (a parcel or a zone, as its kind says),
-- its grant (the parcel's); who opened and who closed it; a closing outcome of its pathway with
-- the steps that outcome requires done; nothing but the note and the freed area changes once it
-- is closed. SECURITY DEFINER: it reads parcels, grants and steps whatever the writer may read.
CREATE OR REPLACE FUNCTION land.check_case() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    k        land.case_kinds;
    o        land.case_outcomes;
    missing  text[];
    p_zone   integer;
BEGIN
    SELECT * INTO k FROM land.case_kinds WHERE code = NEW.kind;
    IF k.subject = 'parcel' AND NEW.parcel_id IS NULL THEN
        PERFORM land.refuse_case_value(format('a %s case is about a parcel: name it', NEW.kind),
                                       jsonb_build_object('field', 'parcel', 'problem', 'required'));
    ELSIF k.subject = 'zone' AND NEW.parcel_id IS NOT NULL THEN
        PERFORM land.refuse_case_value(format('a %s case is about a zone, not a parcel', NEW.kind),
                                       jsonb_build_object('field', 'parcel', 'problem', 'zone_case'));
    END IF;
    IF NEW.parcel_id IS NOT NULL THEN
        SELECT zone_id INTO p_zone FROM land.parcels WHERE id = NEW.parcel_id;
        NEW.zone_id := p_zone;  -- a parcel's case is its zone's
    END IF;
    IF NEW.grant_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM land.land_grants g WHERE g.id = NEW.grant_id AND g.parcel_id = NEW.parcel_id) THEN
        PERFORM land.refuse_case_value(format('grant %s is not a grant of the case''s parcel', NEW.grant_id),
                                       jsonb_build_object('field', 'grant', 'problem', 'other_parcel'));
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.code := format('%s-%s-%s', k.code_prefix, extract(year FROM NEW.opened_on),
                           lpad(NEW.id::text, 5, '0'));
        NEW.opened_by := coalesce(nullif(btrim(NEW.opened_by), ''), gisapp_meta.current_actor());
        NEW.responsible_body := coalesce(nullif(btrim(NEW.responsible_body), ''), k.default_body);
    ELSE
        IF NEW.code IS DISTINCT FROM OLD.code OR NEW.kind IS DISTINCT FROM OLD.kind
           OR NEW.parcel_id IS DISTINCT FROM OLD.parcel_id OR NEW.opened_on IS DISTINCT FROM OLD.opened_on
           OR NEW.opened_via IS DISTINCT FROM OLD.opened_via OR NEW.finding_id IS DISTINCT FROM OLD.finding_id THEN
            PERFORM land.refuse_case_value(format('case %s: its code, kind, subject and opening stay as recorded',
                                                  OLD.code), jsonb_build_object('field', 'case', 'problem', 'fixed'));
        END IF;
        IF OLD.closed_on IS NOT NULL AND (NEW.closed_on IS NOT NULL) AND (
               NEW.pathway IS DISTINCT FROM OLD.pathway OR NEW.outcome IS DISTINCT FROM OLD.outcome
               OR NEW.closed_on IS DISTINCT FROM OLD.closed_on OR NEW.responsible_body IS DISTINCT FROM OLD.responsible_body
               OR NEW.grant_id IS DISTINCT FROM OLD.grant_id OR NEW.idle_clock_from IS DISTINCT FROM OLD.idle_clock_from) THEN
            PERFORM land.refuse_case_value(format('case %s was closed on %s: reopen it to change it', OLD.code,
                                                  OLD.closed_on),
                                           jsonb_build_object('field', 'case', 'problem', 'closed', 'closed_on', OLD.closed_on));
        END IF;
    END IF;
    IF NEW.closed_on IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.closed_on IS NULL OR NEW.outcome IS DISTINCT FROM OLD.outcome) THEN
        SELECT * INTO o FROM land.case_outcomes WHERE kind = NEW.kind AND code = NEW.outcome;
        IF o.pathway IS NOT NULL AND o.pathway <> NEW.pathway THEN
            PERFORM land.refuse_case_value(
                format('case %s cannot close as %s: that outcome ends the %s pathway, the case follows %s',
                       NEW.code, NEW.outcome, o.pathway, NEW.pathway),
                jsonb_build_object('field', 'outcome', 'problem', 'outcome_pathway', 'pathway', o.pathway));
        END IF;
        SELECT array_agg(r ORDER BY r) INTO missing FROM unnest(o.requires) AS r
        WHERE NOT EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = NEW.id AND s.step = r);
        IF missing IS NOT NULL THEN
            PERFORM land.refuse_case_value(
                format('case %s cannot close as %s before these steps are done: %s', NEW.code, NEW.outcome,
                       array_to_string(missing, ', ')),
                jsonb_build_object('field', 'outcome', 'problem', 'steps_missing', 'steps', missing));
        END IF;
        IF EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = NEW.id AND s.done_on > NEW.closed_on) THEN
            PERFORM land.refuse_case_value(
                format('case %s cannot close on %s: a step was done after that day', NEW.code, NEW.closed_on),
                jsonb_build_object('field', 'closed_on', 'problem', 'before_steps'));
        END IF;
        NEW.closed_by := coalesce(NEW.closed_by, gisapp_meta.current_actor());
    END IF;
    IF NEW.closed_on IS NULL THEN
        NEW.closed_by := NULL;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_check ON land.cases;
CREATE TRIGGER case_check BEFORE INSERT OR UPDATE ON land.cases
    FOR EACH ROW EXECUTE FUNCTION land.check_case();

-- The case a child record belongs to, locked (FOR NO KEY UPDATE) until the transaction ends: two
-- people recording steps of one case are served one after the other, so each sees the other's
-- steps (and the case's pathway) when the order of steps is checked. SECURITY DEFINER: a zone
-- editor may not update the case row, which FOR UPDATE would otherwise require.
CREATE OR REPLACE FUNCTION land.case_for_child(p_case_id bigint) RETURNS land.cases
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c land.cases;
BEGIN
    SELECT * INTO c FROM land.cases WHERE id = p_case_id FOR NO KEY UPDATE;
    -- a case outside a zone editor's zones is not said to exist (nor its code, nor its steps)
    IF NOT FOUND OR auth.app_role() = 'zone_editor' AND NOT (c.zone_id = ANY (auth.app_zone_ids())) THEN
        RAISE EXCEPTION USING ERRCODE = 'GA404', MESSAGE = format('there is no case %s', p_case_id),
            DETAIL = json_build_object('field', 'case', 'problem', 'unknown')::text;
    END IF;
    RETURN c;
END
$$;

-- A step: of the case's pathway, on an open case, not before the case was opened nor before the
-- steps it depends on, with a result the step allows, after the money it settles is paid in full;
-- its article, pathway and recorder are set here. SECURITY DEFINER: it reads the case's other
-- steps and money whatever the writer may read (the policies decided what the writer may write).
CREATE OR REPLACE FUNCTION land.check_case_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c        land.cases;
    d        land.case_pathway_steps;
    late     record;
    missing  text[];
    start_on date;
BEGIN
    c := land.case_for_child(NEW.case_id);
    IF TG_OP = 'UPDATE' AND (NEW.case_id <> OLD.case_id OR NEW.step <> OLD.step OR NEW.pathway <> OLD.pathway) THEN
        PERFORM land.refuse_case_value(format('case %s: a recorded step stays the step it is; delete it and record '
                                              'another', c.code), jsonb_build_object('field', 'step', 'problem', 'fixed'));
    END IF;
    IF c.closed_on IS NOT NULL THEN
        PERFORM land.refuse_case_value(
            format('case %s was closed on %s (%s): no step can be recorded or changed', c.code, c.closed_on, c.outcome),
            jsonb_build_object('field', 'case', 'problem', 'closed', 'closed_on', c.closed_on));
    END IF;
    -- the policies decide too, after this trigger: said here first, so a refused user learns
    -- nothing of the case from the checks below
    IF (auth.session_is_app() OR auth.signed_in()) AND NOT auth.may_record_case_step(NEW.case_id, NEW.step) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s (%s) may not record %s in case %s: %s', coalesce(auth.app_user(), session_user::text),
                             coalesce(auth.app_role(), 'no role'), NEW.step, c.code,
                             CASE WHEN auth.app_role() = 'zone_editor' THEN 'that is a decision of the bureau'
                                  ELSE 'this role records no steps' END);
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.pathway := c.pathway;
        NEW.done_by := gisapp_meta.current_actor();
    END IF;
    SELECT * INTO d FROM land.case_pathway_steps WHERE pathway = NEW.pathway AND step = NEW.step;
    IF NOT FOUND THEN
        PERFORM land.refuse_case_value(
            format('case %s follows the %s pathway, which has no step %s', c.code, NEW.pathway, NEW.step),
            jsonb_build_object('field', 'step', 'problem', 'not_in_pathway', 'pathway', NEW.pathway));
    END IF;
    NEW.article := d.article;
    IF NEW.done_on < c.opened_on THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s cannot be done on %s, before the case was opened (%s)', c.code, NEW.step, NEW.done_on,
                   c.opened_on),
            jsonb_build_object('field', 'done_on', 'problem', 'before_opened', 'opened_on', c.opened_on));
    END IF;
    SELECT array_agg(x.depends_on ORDER BY x.depends_on) INTO missing
    FROM land.case_step_dependencies x
    WHERE x.pathway = NEW.pathway AND x.step = NEW.step
      AND NOT EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = NEW.case_id AND s.step = x.depends_on);
    IF missing IS NOT NULL THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s cannot be done before %s', c.code, NEW.step, array_to_string(missing, ', ')),
            jsonb_build_object('field', 'step', 'problem', 'step_order', 'missing', missing));
    END IF;
    SELECT s.step, s.done_on INTO late
    FROM land.case_step_dependencies x
    JOIN land.case_steps s ON s.case_id = NEW.case_id AND s.step = x.depends_on
    WHERE x.pathway = NEW.pathway AND x.step = NEW.step AND s.done_on > NEW.done_on
    ORDER BY s.done_on DESC LIMIT 1;
    IF FOUND THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s cannot be done on %s, before %s (done on %s)', c.code, NEW.step, NEW.done_on,
                   late.step, late.done_on),
            jsonb_build_object('field', 'done_on', 'problem', 'before_dependency', 'dependency', late.step,
                               'dependency_on', late.done_on));
    END IF;
    -- a step already done that depends on this one keeps its order when this one is corrected
    IF TG_OP = 'UPDATE' AND NEW.done_on > OLD.done_on THEN
        SELECT s.step, s.done_on INTO late
        FROM land.case_step_dependencies x
        JOIN land.case_steps s ON s.case_id = NEW.case_id AND s.step = x.step
        WHERE x.pathway = NEW.pathway AND x.depends_on = NEW.step AND s.done_on < NEW.done_on
        LIMIT 1;
        IF FOUND THEN
            PERFORM land.refuse_case_value(
                format('case %s: %s cannot move to %s, after %s (done on %s), which depends on it', c.code, NEW.step,
                       NEW.done_on, late.step, late.done_on),
                jsonb_build_object('field', 'done_on', 'problem', 'after_dependent', 'dependent', late.step,
                                   'dependent_on', late.done_on));
        END IF;
    END IF;
    IF (CASE WHEN d.results IS NULL THEN NEW.result IS NOT NULL
             ELSE NEW.result IS NULL OR NOT (NEW.result = ANY (d.results)) END) THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s records %s', c.code, NEW.step,
                   CASE WHEN d.results IS NULL THEN 'no result' ELSE 'one of the results ' || array_to_string(d.results, ', ') END),
            jsonb_build_object('field', 'result', 'problem', 'result', 'allowed', coalesce(d.results, '{}'::text[])));
    END IF;
    IF d.settles IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM land.case_money m WHERE m.case_id = NEW.case_id AND m.purpose = d.settles)
       OR EXISTS (SELECT 1 FROM land.case_money m WHERE m.case_id = NEW.case_id AND m.purpose = d.settles
                  AND (m.paid_wan < m.amount_wan OR m.paid_on > NEW.done_on)) THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s needs the %s decided in the case paid in full by %s', c.code, NEW.step, d.settles,
                   NEW.done_on),
            jsonb_build_object('field', 'step', 'problem', 'unpaid', 'purpose', d.settles));
    END IF;
    IF NEW.due_on IS NOT NULL THEN
        start_on := CASE WHEN d.anchor IS NULL THEN c.opened_on
                         ELSE (SELECT s.done_on FROM land.case_steps s WHERE s.case_id = NEW.case_id AND s.step = d.anchor) END;
        IF start_on IS NULL OR NEW.due_on < start_on THEN
            PERFORM land.refuse_case_value(
                format('case %s: %s cannot be due on %s, before its period began (%s)', c.code, NEW.step, NEW.due_on,
                       coalesce(start_on::text, 'not yet')),
                jsonb_build_object('field', 'due_on', 'problem', 'before_start'));
        END IF;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_step_check ON land.case_steps;
CREATE TRIGGER case_step_check BEFORE INSERT OR UPDATE ON land.case_steps
    FOR EACH ROW EXECUTE FUNCTION land.check_case_step();

-- Undoing a step: only on an open case, and only when no recorded step depends on it.
CREATE OR REPLACE FUNCTION land.check_case_step_removal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c         land.cases;
    dependent text;
BEGIN
    SELECT * INTO c FROM land.cases WHERE id = OLD.case_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN OLD;  -- the case itself is being deleted
    END IF;
    IF c.closed_on IS NOT NULL THEN
        PERFORM land.refuse_case_value(format('case %s was closed on %s: its steps stay', c.code, c.closed_on),
                                       jsonb_build_object('field', 'case', 'problem', 'closed', 'closed_on', c.closed_on));
    END IF;
    SELECT s.step INTO dependent
    FROM land.case_step_dependencies x
    JOIN land.case_steps s ON s.case_id = OLD.case_id AND s.step = x.step
    WHERE x.pathway = c.pathway AND x.depends_on = OLD.step LIMIT 1;
    IF FOUND THEN
        PERFORM land.refuse_case_value(
            format('case %s: %s cannot be undone while %s, which depends on it, is recorded', c.code, OLD.step, dependent),
            jsonb_build_object('field', 'step', 'problem', 'has_dependent', 'dependent', dependent));
    END IF;
    RETURN OLD;
END
$$;

DROP TRIGGER IF EXISTS case_step_removal_check ON land.case_steps;
CREATE TRIGGER case_step_removal_check BEFORE DELETE ON land.case_steps
    FOR EACH ROW EXECUTE FUNCTION land.check_case_step_removal();

-- A step that must come with a record (the supplementary agreement of an extension) has it by the
-- end of the transaction that recorded it.
CREATE OR REPLACE FUNCTION land.check_case_step_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    needs text;
BEGIN
    SELECT d.record INTO needs FROM land.case_pathway_steps d WHERE d.pathway = NEW.pathway AND d.step = NEW.step;
    IF needs = 'extension' AND EXISTS (SELECT 1 FROM land.case_steps s WHERE s.id = NEW.id)
       AND NOT EXISTS (SELECT 1 FROM land.case_extensions e WHERE e.step_id = NEW.id) THEN
        PERFORM land.refuse_case_value(
            format('the %s of case %s is recorded with the extension it agrees (new agreed start date)',
                   NEW.step, NEW.case_id),
            jsonb_build_object('field', 'new_start_on', 'problem', 'required'));
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS case_step_record_check ON land.case_steps;
CREATE CONSTRAINT TRIGGER case_step_record_check AFTER INSERT ON land.case_steps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION land.check_case_step_record();

-- Money: decided on an open case (a payment can be recorded after it closed: the money stays
-- due); a zone office changes only what it records, the service and the payment.
CREATE OR REPLACE FUNCTION land.check_case_money() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c land.cases;
BEGIN
    c := land.case_for_child(NEW.case_id);
    IF TG_OP = 'INSERT' AND c.closed_on IS NOT NULL THEN
        PERFORM land.refuse_case_value(format('case %s was closed on %s: no money can be decided in it', c.code,
                                              c.closed_on),
                                       jsonb_build_object('field', 'case', 'problem', 'closed', 'closed_on', c.closed_on));
    END IF;
    IF TG_OP = 'INSERT' AND NEW.decided_on < c.opened_on THEN
        PERFORM land.refuse_case_value(format('case %s: money cannot be decided on %s, before the case was opened (%s)',
                                              c.code, NEW.decided_on, c.opened_on),
                                       jsonb_build_object('field', 'decided_on', 'problem', 'before_opened',
                                                          'opened_on', c.opened_on));
    END IF;
    -- (a request of the app, or any session with a verified user; a psql or CLI session as the
    -- owner without one is the bureau's administrator. Not current_user: this function runs as
    -- its owner)
    IF TG_OP = 'UPDATE' AND (auth.session_is_app() OR auth.signed_in()) AND NOT auth.may_write_all() AND (
           NEW.case_id IS DISTINCT FROM OLD.case_id OR NEW.step_id IS DISTINCT FROM OLD.step_id
           OR NEW.purpose IS DISTINCT FROM OLD.purpose OR NEW.payer IS DISTINCT FROM OLD.payer
           OR NEW.amount_wan IS DISTINCT FROM OLD.amount_wan OR NEW.basis IS DISTINCT FROM OLD.basis
           OR NEW.base_wan IS DISTINCT FROM OLD.base_wan OR NEW.rate IS DISTINCT FROM OLD.rate
           OR NEW.decided_on IS DISTINCT FROM OLD.decided_on) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may record the service and payment of money decided in case %s, not change the '
                             'decision (amount, basis, date): that is the bureau''s', auth.app_user(), c.code);
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_money_check ON land.case_money;
CREATE TRIGGER case_money_check BEFORE INSERT OR UPDATE ON land.case_money
    FOR EACH ROW EXECUTE FUNCTION land.check_case_money();

-- Documents and extensions belong to a step of their own case.
CREATE OR REPLACE FUNCTION land.check_case_child_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM land.case_for_child(NEW.case_id);
    IF NEW.step_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM land.case_steps s WHERE s.id = NEW.step_id AND s.case_id = NEW.case_id) THEN
        PERFORM land.refuse_case_value(format('step %s is not a step of case %s', NEW.step_id, NEW.case_id),
                                       jsonb_build_object('field', 'step', 'problem', 'other_case'));
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_document_check ON land.case_documents;
CREATE TRIGGER case_document_check BEFORE INSERT OR UPDATE ON land.case_documents
    FOR EACH ROW EXECUTE FUNCTION land.check_case_child_step();

-- 3. An extension reaches the idle rule ------------------------------------------------------------

-- The new agreed start (and completion) date is written to the grant, where the idle rule reads
-- it (gisapp/rules/idle_land.py: land_grants.agreed_start_on); the grant's own triggers audit the
-- change and queue the zone's re-assessment (sql/security/0800_live_findings.sql). The extension
-- must say truly what it replaces: the grant's agreed start at the time. SECURITY DEFINER: only a
-- bureau admin inserts extensions (policy above); the grant is written for them.
CREATE OR REPLACE FUNCTION land.apply_case_extension() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c    land.cases;
    g    land.land_grants;
    said text := coalesce(current_setting('gisapp.reason', true), '');
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- the agreement undone (its step deleted): the grant gets back the dates it replaced,
        -- unless something changed them since
        PERFORM set_config('gisapp.reason', format('extension of case %s undone', OLD.case_id), true);
        UPDATE land.land_grants SET agreed_start_on = OLD.previous_start_on,
                                    agreed_completion_on = OLD.previous_completion_on
        WHERE id = OLD.grant_id AND agreed_start_on = OLD.new_start_on;
        PERFORM set_config('gisapp.reason', said, true);
        RETURN OLD;
    END IF;
    IF (auth.session_is_app() OR auth.signed_in()) AND NOT auth.may_write_all() THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not agree an extension: that is a decision of the bureau', auth.app_user());
    END IF;
    c := land.case_for_child(NEW.case_id);
    IF NOT EXISTS (SELECT 1 FROM land.case_steps s
                   JOIN land.case_pathway_steps d ON d.pathway = s.pathway AND d.step = s.step
                   WHERE s.id = NEW.step_id AND s.case_id = NEW.case_id AND d.record = 'extension') THEN
        PERFORM land.refuse_case_value(format('step %s of case %s is not a supplementary agreement', NEW.step_id, c.code),
                                       jsonb_build_object('field', 'step', 'problem', 'not_extension'));
    END IF;
    IF NEW.agreed_on IS DISTINCT FROM (SELECT s.done_on FROM land.case_steps s WHERE s.id = NEW.step_id) THEN
        PERFORM land.refuse_case_value(format('case %s: the extension is agreed on the day of its supplementary '
                                              'agreement step', c.code),
                                       jsonb_build_object('field', 'agreed_on', 'problem', 'not_step_day'));
    END IF;
    SELECT * INTO g FROM land.land_grants WHERE id = NEW.grant_id FOR NO KEY UPDATE;
    IF g.parcel_id IS DISTINCT FROM c.parcel_id THEN
        PERFORM land.refuse_case_value(format('grant %s is not a grant of the parcel of case %s', NEW.grant_id, c.code),
                                       jsonb_build_object('field', 'grant', 'problem', 'other_parcel'));
    END IF;
    IF g.agreed_start_on IS DISTINCT FROM NEW.previous_start_on THEN
        PERFORM land.refuse_case_value(
            format('case %s: the grant''s agreed start date is %s, not %s; the extension replaces the date in force',
                   c.code, coalesce(g.agreed_start_on::text, 'not recorded'), NEW.previous_start_on),
            jsonb_build_object('field', 'previous_start_on', 'problem', 'not_in_force',
                               'in_force', g.agreed_start_on));
    END IF;
    PERFORM set_config('gisapp.reason', format('extension of the start period by supplementary agreement of %s '
                                               '(case %s): agreed start %s -> %s', NEW.agreed_on, c.code,
                                               NEW.previous_start_on, NEW.new_start_on), true);
    UPDATE land.land_grants
    SET agreed_start_on = NEW.new_start_on,
        agreed_completion_on = coalesce(NEW.new_completion_on, agreed_completion_on)
    WHERE id = g.id;
    PERFORM set_config('gisapp.reason', said, true);
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS case_extension_applies ON land.case_extensions;
CREATE TRIGGER case_extension_applies BEFORE INSERT OR DELETE ON land.case_extensions
    FOR EACH ROW EXECUTE FUNCTION land.apply_case_extension();

-- 4. A confirmed finding opens a case -------------------------------------------------------------

-- Confirming a finding whose rule and outcome are in land.case_openers opens a case of that kind
-- on its parcel (or zone), unless one is open already; the case keeps the finding's id, what it
-- said, the confirmation's time and, for idle land, the day the idle period runs from. A review
-- that a later assessment run carries over (same confirmation: the case keeps its time) opens
-- nothing. Withdrawing the confirmation (dismissed or reopened) closes the case it opened as
-- finding_withdrawn while nobody has recorded a step in it; otherwise the case stays for a person
-- to decide. Independent of sql/security/0820_review_moves_status.sql, which moves the parcel's
-- status on the same event. SECURITY DEFINER: the reviewer (a zone editor may confirm) may not
-- write cases; the database opens the case, and names the reviewer as who opened it.
CREATE OR REPLACE FUNCTION land.case_from_review() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    opener land.case_openers;
    ev     jsonb;
    said   text := coalesce(current_setting('gisapp.reason', true), '');
    today  date := CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date);
    open_id bigint;
BEGIN
    IF NEW.review_status = 'confirmed' THEN
        ev := coalesce(NEW.evidence::jsonb, '{}'::jsonb);
        SELECT o.* INTO opener FROM land.case_openers o
        WHERE o.rule = NEW.rule AND o.outcome = NEW.outcome
          AND (o.evidence_flag = '' OR coalesce(ev ->> o.evidence_flag, '') = 'true')
        ORDER BY o.evidence_flag DESC LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        -- the same confirmation carried over to a later run's finding: written in the transaction
        -- that made the run current (made_current_at is that transaction's now()), or one whose
        -- case exists (or existed) already
        IF EXISTS (SELECT 1 FROM rules.current_runs r
                   WHERE r.rule = NEW.rule AND r.zone_key = NEW.zone_key AND r.run_id = NEW.run_id
                     AND r.made_current_at = now())
           OR EXISTS (SELECT 1 FROM land.cases c
                      WHERE c.finding_rule = NEW.rule AND c.finding_reviewed_at = NEW.reviewed_at
                        AND c.zone_id = NEW.zone_id AND c.parcel_id IS NOT DISTINCT FROM NEW.parcel_id) THEN
            RETURN NULL;
        END IF;
        SELECT c.id INTO open_id FROM land.cases c
        WHERE c.kind = opener.kind AND c.closed_on IS NULL
          AND (CASE WHEN NEW.parcel_id IS NOT NULL THEN c.parcel_id = NEW.parcel_id
                    ELSE c.parcel_id IS NULL AND c.zone_id = NEW.zone_id END);
        IF FOUND THEN
            RETURN NULL;  -- the open case goes on
        END IF;
        PERFORM set_config('gisapp.reason', format('case opened by the confirmation of finding %s (%s, %s)',
                                                   NEW.id, NEW.rule, NEW.outcome), true);
        INSERT INTO land.cases (kind, pathway, parcel_id, zone_id, grant_id, finding_id, finding_rule, finding_outcome,
                                finding_reviewed_at, idle_clock_from, responsible_body, opened_on, opened_by,
                                opened_via)
        VALUES (opener.kind, opener.pathway, NEW.parcel_id, NEW.zone_id,
                (SELECT g.id FROM land.land_grants g WHERE g.id = CAST(ev ->> 'grant_id' AS integer)
                   AND g.parcel_id = NEW.parcel_id),
                NEW.id, NEW.rule, NEW.outcome, NEW.reviewed_at,
                -- not started: from the agreed start; started and stalled: from the suspension
                CASE WHEN NEW.rule = 'idle_land' THEN
                     CAST(CASE WHEN ev ->> 'started_on' IS NULL THEN ev ->> 'agreed_start_on'
                               ELSE ev ->> 'suspended_since' END AS date) END,
                '', today, coalesce(NEW.reviewed_by, gisapp_meta.current_actor()), 'finding');
        PERFORM set_config('gisapp.reason', said, true);
    ELSIF OLD.review_status = 'confirmed' THEN
        PERFORM set_config('gisapp.reason', format('confirmation of finding %s withdrawn (%s)', NEW.id,
                                                   NEW.review_status), true);
        UPDATE land.cases c SET outcome = 'finding_withdrawn', closed_on = GREATEST(today, c.opened_on)
        WHERE c.finding_rule = NEW.rule AND c.finding_reviewed_at = OLD.reviewed_at
          AND c.zone_id = NEW.zone_id AND c.parcel_id IS NOT DISTINCT FROM NEW.parcel_id
          AND c.closed_on IS NULL
          AND NOT EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = c.id);
        PERFORM set_config('gisapp.reason', said, true);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS review_opens_case ON rules.findings;
CREATE TRIGGER review_opens_case AFTER UPDATE OF review_status ON rules.findings
    FOR EACH ROW WHEN (OLD.review_status IS DISTINCT FROM NEW.review_status)
    EXECUTE FUNCTION land.case_from_review();
