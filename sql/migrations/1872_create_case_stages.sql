-- Where an open case stands (issue #20: the dashboard's cases by stage and the map layer of open
-- cases): a few stages common to every kind of case, each step of the procedures
-- (land.case_pathway_steps, migration 1800) belonging to one. A case is at the stage of the
-- latest step recorded in it, or 'opened' before its first (sql/views/0960_revitalization.sql).
-- A step code means the same in every pathway that has it, so the stage is the step's.
-- Labels: case_stage.<code> in gisapp/i18n.py.
CREATE TABLE land.case_stages (
    code  text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    sort  smallint NOT NULL UNIQUE
);
INSERT INTO land.case_stages (code, sort) VALUES
  ('opened', 1),          -- opened, nothing recorded yet
  ('investigation', 2),   -- the notice to the land user, enterprise or zone and its answer
  ('decision', 3),        -- determination, hearing, decisions and plans
  ('execution', 4),       -- agreements, payments, registration, interview, exit report
  ('review', 5);          -- reconsideration, lawsuit, review of the rectification

CREATE TABLE land.case_step_stages (
    step   text PRIMARY KEY CHECK (step ~ '^[a-z_]+$'),
    stage  text NOT NULL REFERENCES land.case_stages (code) CHECK (stage <> 'opened')
);
INSERT INTO land.case_step_stages (step, stage)
SELECT s, 'investigation' FROM unnest(ARRAY[
    'investigation_notice', 'user_reply', 'enterprise_notified', 'enterprise_plan', 'evaluation_notified',
    'explanation_submitted', 'exit_conditions_confirmed']) AS s
UNION ALL
SELECT s, 'decision' FROM unnest(ARRAY[
    'determination', 'publication', 'hearing_notice', 'hearing', 'fee_decision', 'recovery_approval',
    'recovery_decision', 'disposal_plan_approved', 'valuation', 'split_plan', 'plan_reported']) AS s
UNION ALL
SELECT s, 'execution' FROM unnest(ARRAY[
    'supplementary_agreement', 'conditions_changed', 'temporary_use_started', 'temporary_use_ended',
    'recovery_agreement', 'compensation_paid', 'swap_agreement', 'replacement_granted', 'repurchase_agreement',
    'price_paid', 'property_delivered', 'parcel_split', 'transfer_contract', 'sublease_approved',
    'sublease_contract', 'exit_agreement', 'fee_paid', 'registration_cancelled', 'registration_transferred',
    'interview', 'exit_reported', 'enforcement']) AS s
UNION ALL
SELECT s, 'review' FROM unnest(ARRAY['reconsideration', 'lawsuit', 'rectification_reviewed']) AS s;

-- every step of the procedures has its stage (a step added later comes with its row)
DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(DISTINCT d.step, ', ') INTO missing FROM land.case_pathway_steps d
    WHERE NOT EXISTS (SELECT 1 FROM land.case_step_stages s WHERE s.step = d.step);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'steps without a stage: %', missing;
    END IF;
END
$$;
