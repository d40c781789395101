-- Confirming a finding moves the parcel's status (issue #18 item 5; the trigger that does it is
-- sql/security/0820_review_moves_status.sql, so every path to a review obeys it).
--
-- Which confirmed outcome means which status: declared here, one row per outcome, not branched
-- in code. ``settled_statuses``: statuses that already lie beyond the confirmed one on its
-- disposal path (domain §7); confirming there records the review and leaves the status as it is.
-- A row added later needs a migration that also records the confirmations standing by then (as
-- below), or the next assessment would take their carried-over reviews for new decisions.
CREATE TABLE rules.confirmed_outcome_statuses (
    rule             text NOT NULL,
    outcome          text NOT NULL,
    status           text NOT NULL REFERENCES land.parcel_statuses (code),
    settled_statuses text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (rule, outcome)
);
INSERT INTO rules.confirmed_outcome_statuses (rule, outcome, status, settled_statuses) VALUES
  ('idle_land', 'idle_not_started', 'idle', '{in_disposal,reclaimed}'),
  ('idle_land', 'idle_stalled', 'idle', '{in_disposal,reclaimed}'),
  ('per_mu', 'class_d', 'low_efficiency', '{in_disposal,transferred,exited}');

-- Each confirmation of such an outcome, what it did to the parcel's status, and what became of
-- that when the confirmation was withdrawn (dismissed, or reopened). A confirmation is known by
-- what a review carries over with it to the next run's finding (gisapp/rules/assess.py): rule,
-- subject and outcome, and the review's own reviewed_by and reviewed_at; so a carried-over
-- review is recognised as the decision already acted on, and the finding of a later run still
-- finds the change its confirmation made. Written only by the trigger (SECURITY DEFINER); the
-- check of the lifecycle graph reads it to let a withdrawal take its own change back
-- (sql/security/0310_parcel_workflow.sql).
--   effect: moved (the status changed: from_status, from_since, to_status, history_id),
--           already (the parcel had the status), settled (it was further along, in disposal...),
--           before (confirmed before this table existed: recorded below, no effect)
CREATE TABLE rules.review_status_changes (
    id                  bigserial PRIMARY KEY,
    parcel_id           bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    finding_id          bigint NOT NULL,  -- the finding confirmed (a plain id, as findings are pruned by run)
    rule                text NOT NULL,
    subject_type        text NOT NULL,
    subject_id          text NOT NULL,
    outcome             text NOT NULL,
    reviewed_by         text,
    reviewed_at         timestamptz,
    effect              text NOT NULL CHECK (effect IN ('moved', 'already', 'settled', 'before')),
    from_status         text REFERENCES land.parcel_statuses (code),
    from_since          date,
    to_status           text REFERENCES land.parcel_statuses (code),
    history_id          bigint REFERENCES land.parcel_status_history (id) ON DELETE CASCADE,
    confirmed_by        text NOT NULL,
    confirmed_at        timestamptz NOT NULL DEFAULT now(),
    confirmed_txid      bigint NOT NULL DEFAULT txid_current(),
    withdrawn_by        text,
    withdrawn_at        timestamptz,
    withdrawn_txid      bigint,
    -- a withdrawn change: true, the status went back to from_status; false, someone had changed
    -- it since the confirmation, so it stayed
    restored            boolean,
    restore_history_id  bigint REFERENCES land.parcel_status_history (id) ON DELETE CASCADE,
    CHECK ((effect = 'moved') = (to_status IS NOT NULL AND from_status IS NOT NULL)),
    CHECK (restored IS NULL OR (effect = 'moved' AND withdrawn_at IS NOT NULL)),
    CHECK (restore_history_id IS NULL OR restored)
);
CREATE INDEX review_status_changes_key_idx ON rules.review_status_changes
    (parcel_id, rule, subject_type, subject_id, outcome) WHERE withdrawn_at IS NULL;
CREATE INDEX review_status_changes_history_idx ON rules.review_status_changes (history_id)
    WHERE history_id IS NOT NULL;
CREATE INDEX review_status_changes_restore_idx ON rules.review_status_changes (restore_history_id)
    WHERE restore_history_id IS NOT NULL;

-- The confirmations standing now: their reviews carry over like any other (findings_reviewed_idx
-- finds them).
INSERT INTO rules.review_status_changes (parcel_id, finding_id, rule, subject_type, subject_id, outcome,
                                         reviewed_by, reviewed_at, effect, confirmed_by, confirmed_at)
SELECT DISTINCT ON (f.parcel_id, f.rule, f.subject_type, f.subject_id, f.outcome, f.reviewed_by, f.reviewed_at)
       f.parcel_id, f.id, f.rule, f.subject_type, f.subject_id, f.outcome, f.reviewed_by, f.reviewed_at, 'before',
       coalesce(f.reviewed_by, f.updated_by), coalesce(f.reviewed_at, f.updated_at)
FROM rules.findings f
JOIN rules.confirmed_outcome_statuses c ON c.rule = f.rule AND c.outcome = f.outcome
JOIN land.parcels p ON p.id = f.parcel_id
WHERE f.review_status = 'confirmed'
ORDER BY f.parcel_id, f.rule, f.subject_type, f.subject_id, f.outcome, f.reviewed_by, f.reviewed_at, f.id DESC;
