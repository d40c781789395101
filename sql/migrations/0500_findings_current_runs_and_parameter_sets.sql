-- Findings at city scale (issue 3: the whole assessment of 1M parcels in under a minute).
-- A city-wide run writes ~4M findings. Three things made that cost ~15 minutes, all removed here:
--   * "current" was a flag on every row, so each run rewrote the previous run's ~4M rows
--     (is_current -> false). Now rules.current_runs says which run is current for each rule and
--     zone: a run's findings become current by changing a few hundred rows of that table, in one
--     short transaction at the end of the run; older runs' findings stay as history untouched.
--   * every row carried the full parameter provenance (~0.8 kB of JSON). Now a finding points to
--     a content-addressed rules.parameter_sets row (a few dozen per run); the view
--     rules.current_findings puts the parameters back, so readers see what they saw before.
--   * 7 indexes and 3 foreign keys were checked per row. Now 2 indexes (the key and one more); zone_id / parcel_id /
--     run_id are plain columns (views join the live parcels and zones, so a finding of a deleted
--     parcel simply stops showing; `gisapp assess` deletes a failed run's rows itself).
--   * evidence was parsed into jsonb on the way in (a third of the COPY's time). It is stored as
--     json (checked, kept as text); the views hand it out as jsonb, so readers are unchanged.
-- Existing findings are kept: their parameters move to parameter_sets, the runs of the rows
-- that were current become the current runs.

CREATE TABLE rules.parameter_sets (
    id          bigserial PRIMARY KEY,
    digest      text NOT NULL UNIQUE,      -- md5 of the jsonb text: one row per distinct content
    parameters  jsonb NOT NULL
);

CREATE TABLE rules.current_runs (
    rule        text NOT NULL,
    zone_key    integer NOT NULL,          -- the zone's id; 0 for findings without a zone
    run_id      bigint NOT NULL REFERENCES rules.assessment_runs (id) ON DELETE CASCADE,
    made_current_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule, zone_key)
);
CREATE INDEX current_runs_run_idx ON rules.current_runs (run_id);

ALTER TABLE rules.assessment_runs
    ADD COLUMN status text NOT NULL DEFAULT 'finished'
        CHECK (status IN ('running', 'finished', 'failed')),
    ADD COLUMN seconds jsonb;

-- the view, the layer views over it and the trigger condition name is_current: dropped here,
-- re-created by sql/views and sql/security after the migrations
DROP VIEW IF EXISTS rules.current_findings CASCADE;
DROP TRIGGER IF EXISTS touch_row ON rules.findings;

INSERT INTO rules.current_runs (rule, zone_key, run_id)
SELECT rule, coalesce(zone_id, 0), max(run_id)
FROM rules.findings WHERE is_current AND run_id IS NOT NULL
GROUP BY 1, 2;

ALTER TABLE rules.findings ADD COLUMN parameter_set_id bigint;
INSERT INTO rules.parameter_sets (digest, parameters)
SELECT md5(d.parameters::text), d.parameters FROM (SELECT DISTINCT parameters FROM rules.findings) d
ON CONFLICT (digest) DO NOTHING;
UPDATE rules.findings f SET parameter_set_id = s.id
FROM rules.parameter_sets s WHERE s.digest = md5(f.parameters::text);

ALTER TABLE rules.findings
    DROP CONSTRAINT IF EXISTS findings_run_id_fkey,
    DROP CONSTRAINT IF EXISTS findings_zone_id_fkey,
    DROP CONSTRAINT IF EXISTS findings_parcel_id_fkey,
    DROP COLUMN parameters,
    DROP COLUMN is_current,
    ALTER COLUMN evidence TYPE json USING evidence::json,
    ALTER COLUMN evidence SET DEFAULT '{}'::json,
    ADD COLUMN zone_key integer NOT NULL GENERATED ALWAYS AS (coalesce(zone_id, 0)) STORED;

DROP INDEX IF EXISTS rules.findings_rule_idx;
DROP INDEX IF EXISTS rules.findings_zone_idx;
DROP INDEX IF EXISTS rules.findings_parcel_idx;
DROP INDEX IF EXISTS rules.findings_current_parcel_idx;
DROP INDEX IF EXISTS rules.findings_current_rule_idx;
DROP INDEX IF EXISTS rules.findings_current_subject_idx;
-- The one secondary index: a run's findings of a rule and zone (what current_runs points at),
-- and within them a parcel's (a parcel's finding = its zone's current run of the rule, then this
-- index; findings about a grant carry the grant's parcel and zone). Its keys of one run are
-- adjacent, so a run's COPY touches a small, hot part of it.
CREATE INDEX findings_run_rule_zone_parcel_idx ON rules.findings (run_id, rule, zone_key, parcel_id);
