-- Confirming a finding moves the parcel's status (issue #18 item 5; docs/findings.md "Reviews and
-- the parcel's status"). In the database, so the web form, the JSON API, notebooks and psql all
-- get it. Idempotent: re-applied by every migrate.
--
-- * A confirmation of an outcome listed in rules.confirmed_outcome_statuses (migration 1820: idle
--   land -> idle (confirmed), per-mu class D -> low-efficiency (confirmed)) changes the status
--   through land.change_parcel_status, a normal status change: the lifecycle graph, a history row
--   (the review's reason; who: the reviewer), the audit, the row version, the re-assessment queue.
--   Nothing changes when the parcel has that status already, or one of the outcome's settled
--   statuses (in disposal...: further along the path that follows the confirmation).
-- * Otherwise, a parcel whose status has no step to the confirmed one: the confirmation is
--   refused (GA002, DETAIL json with the parcel, from, to, allowed and the finding), and so is
--   nothing half-done: the review rolls back with it.
-- * Withdrawing the confirmation (dismissed, or reopened) takes its change back, to the status
--   and the date it had before, when the parcel's last status change is still the one the
--   confirmation made; when someone changed the status since, the status stays as they left it
--   (rules.review_status_changes.restored says which). The step back is a correction, not a step
--   of the lifecycle: the graph check lets exactly that step through (land.takes_back_confirmation,
--   read by sql/security/0310_parcel_workflow.sql).
-- * A review carried over to a later run's finding (gisapp/rules/assess.py, and the live
--   worker's parcel jobs) keeps its reviewer and time: the same decision, already acted on, so
--   it changes nothing (every confirmation is recorded with them, whatever it did).

-- The step a withdrawal is taking back in this transaction: from the confirmed status back to the
-- one before, for a confirmation withdrawn in this very transaction. SECURITY DEFINER: the check
-- of the graph runs as whoever changes the status; only the trigger below writes the table, so
-- no other statement can make a step look like a withdrawal.
CREATE OR REPLACE FUNCTION land.takes_back_confirmation(p_parcel_id bigint, p_from text, p_to text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM rules.review_status_changes m
                   WHERE m.parcel_id = p_parcel_id AND m.to_status = p_from AND m.from_status = p_to
                     AND m.restored AND m.restore_history_id IS NULL
                     AND m.withdrawn_txid = txid_current())
$$;

-- SECURITY DEFINER: it writes rules.review_status_changes (no app role may) and changes the
-- parcel's status for the reviewer. The review itself already passed the row-level security of
-- rules.findings, whose policy for a parcel's finding is the parcel's own (auth.may_write_parcel),
-- so the reviewer is someone who may change that parcel. A trigger function cannot be called
-- directly.
CREATE OR REPLACE FUNCTION rules.review_moves_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    means     rules.confirmed_outcome_statuses;
    p         land.parcels;
    m         rules.review_status_changes;
    allowed   text[];
    said      text := coalesce(current_setting('gisapp.reason', true), '');
    why       text;
    latest    bigint;
    effect    text;
    take_back boolean;
BEGIN
    SELECT * INTO means FROM rules.confirmed_outcome_statuses c WHERE c.rule = NEW.rule AND c.outcome = NEW.outcome;
    IF NOT FOUND OR NEW.parcel_id IS NULL THEN
        RETURN NULL;
    END IF;
    why := coalesce(nullif(btrim(NEW.review_reason), ''), nullif(btrim(said), ''),
                    format('finding %s %s', NEW.id, NEW.review_status));

    IF NEW.review_status = 'confirmed' THEN
        -- a review carried over to a later run's finding (the same decision: same subject,
        -- outcome, reviewer and time) was acted on when it was made
        IF EXISTS (SELECT 1 FROM rules.review_status_changes c
                   WHERE c.parcel_id = NEW.parcel_id AND c.rule = NEW.rule AND c.subject_type = NEW.subject_type
                     AND c.subject_id = NEW.subject_id AND c.outcome = NEW.outcome AND c.withdrawn_at IS NULL
                     AND c.reviewed_by IS NOT DISTINCT FROM NEW.reviewed_by
                     AND c.reviewed_at IS NOT DISTINCT FROM NEW.reviewed_at) THEN
            RETURN NULL;
        END IF;
        SELECT * INTO p FROM land.parcels WHERE id = NEW.parcel_id FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        effect := CASE WHEN p.status = means.status THEN 'already'
                       WHEN p.status = ANY (means.settled_statuses) THEN 'settled' ELSE 'moved' END;
        IF effect = 'moved' THEN
            IF NOT EXISTS (SELECT 1 FROM land.parcel_status_transitions t
                           WHERE t.from_status = p.status AND t.to_status = means.status) THEN
                SELECT array_agg(t.to_status ORDER BY s.sort) INTO allowed
                FROM land.parcel_status_transitions t JOIN land.parcel_statuses s ON s.code = t.to_status
                WHERE t.from_status = p.status;
                RAISE EXCEPTION USING
                    ERRCODE = 'GA002',
                    MESSAGE = format('finding %s cannot be confirmed: parcel %s is %s, and the parcel lifecycle has '
                                     'no step from %s to %s (allowed from %s: %s); change its status first, or '
                                     'dismiss the finding', NEW.id, p.code, p.status, p.status, means.status,
                                     p.status, coalesce(array_to_string(allowed, ', '), 'none')),
                    DETAIL = json_build_object('parcel', p.code, 'from', p.status, 'to', means.status,
                                               'allowed', coalesce(allowed, '{}'::text[]), 'finding', NEW.id)::text;
            END IF;
            -- dated today as Shanghai counts days (the CHECK *_not_future's "today", migration 1300)
            PERFORM land.change_parcel_status(p.code, means.status,
                                              CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date), why, NULL, NULL);
            SELECT max(h.id) INTO latest FROM land.parcel_status_history h WHERE h.parcel_id = p.id;
        END IF;
        INSERT INTO rules.review_status_changes (parcel_id, finding_id, rule, subject_type, subject_id, outcome,
                                                 reviewed_by, reviewed_at, effect, from_status, from_since,
                                                 to_status, history_id, confirmed_by)
        VALUES (p.id, NEW.id, NEW.rule, NEW.subject_type, NEW.subject_id, NEW.outcome,
                NEW.reviewed_by, NEW.reviewed_at, effect,
                CASE WHEN effect = 'moved' THEN p.status END, CASE WHEN effect = 'moved' THEN p.status_since END,
                CASE WHEN effect = 'moved' THEN means.status END, latest, gisapp_meta.current_actor());
    ELSIF OLD.review_status = 'confirmed' THEN
        -- the confirmation being withdrawn: the latest standing one of this subject and outcome
        -- (an earlier one, whose finding was superseded meanwhile, is closed with it)
        SELECT * INTO m FROM rules.review_status_changes c
        WHERE c.parcel_id = NEW.parcel_id AND c.rule = NEW.rule AND c.subject_type = NEW.subject_type
          AND c.subject_id = NEW.subject_id AND c.outcome = NEW.outcome AND c.withdrawn_at IS NULL
        ORDER BY c.id DESC LIMIT 1;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        take_back := false;
        IF m.effect = 'moved' THEN
            SELECT * INTO p FROM land.parcels WHERE id = NEW.parcel_id FOR NO KEY UPDATE;
            SELECT max(h.id) INTO latest FROM land.parcel_status_history h WHERE h.parcel_id = p.id;
            -- nobody changed the status since: its last change is still the confirmation's
            take_back := p.status = m.to_status AND latest = m.history_id;
        END IF;
        UPDATE rules.review_status_changes c
        SET withdrawn_by = gisapp_meta.current_actor(), withdrawn_at = now(), withdrawn_txid = txid_current(),
            restored = CASE WHEN c.effect = 'moved' THEN c.id = m.id AND take_back END
        WHERE c.parcel_id = m.parcel_id AND c.rule = m.rule AND c.subject_type = m.subject_type
          AND c.subject_id = m.subject_id AND c.outcome = m.outcome AND c.withdrawn_at IS NULL;
        IF take_back THEN
            PERFORM set_config('gisapp.reason', why, true), set_config('gisapp.status_note', '', true),
                    set_config('gisapp.status_dated', 'true', true);
            UPDATE land.parcels SET status = m.from_status, status_since = m.from_since WHERE id = p.id;
            PERFORM set_config('gisapp.status_dated', '', true);
            UPDATE rules.review_status_changes
            SET restore_history_id = (SELECT max(h.id) FROM land.parcel_status_history h WHERE h.parcel_id = p.id)
            WHERE id = m.id;
        END IF;
    END IF;
    -- the rest of the transaction keeps the reason its statements were given
    PERFORM set_config('gisapp.reason', said, true);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS review_moves_status ON rules.findings;
CREATE TRIGGER review_moves_status AFTER UPDATE OF review_status ON rules.findings
    FOR EACH ROW WHEN (OLD.review_status IS DISTINCT FROM NEW.review_status)
    EXECUTE FUNCTION rules.review_moves_status();

-- Written by the trigger alone; everyone who reads the parcel may read what its reviews did.
REVOKE ALL ON rules.review_status_changes, rules.confirmed_outcome_statuses FROM gisapp_web, gisapp_app;
GRANT SELECT ON rules.review_status_changes, rules.confirmed_outcome_statuses TO gisapp_web, gisapp_app;
