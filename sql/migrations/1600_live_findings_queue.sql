-- Live findings (#19): every committed change that feeds a rule records, in its own transaction,
-- which zones' findings it affects; `gisapp worker` re-assesses them with the batch's code and
-- deletes the rows it has done. The triggers that fill the queue are in
-- sql/security/0800_live_findings.sql (re-applied by every migrate, so the list of source tables
-- lives in one place).
CREATE TABLE rules.reassess_queue (
    id bigserial PRIMARY KEY,
    -- the zone whose zone-local rules must run again; NULL: the whole-city rules (zone
    -- performance ranks every zone, quota ledgers span districts)
    zone_id integer,
    source text NOT NULL,  -- the table whose change queued it
    enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reassess_queue_zone_idx ON rules.reassess_queue (zone_id);

-- The date the live findings are "as of": NULL is today in Asia/Shanghai. The synthetic demo
-- fixes it at the date its data was built for (`gisapp demo`), so that the worker and the batch
-- agree with the demo's story. ``daily_pass_on`` is the last day the date pass ran.
CREATE TABLE rules.assessment_clock (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    fixed_on date,
    daily_pass_on date
);
INSERT INTO rules.assessment_clock DEFAULT VALUES;
-- a database holding the synthetic demo keeps the date its findings were assessed as of
UPDATE rules.assessment_clock SET fixed_on = (
    SELECT CAST(value AS date) FROM gisapp_meta.dataset WHERE key = 'scenario_date'
      AND EXISTS (SELECT 1 FROM gisapp_meta.dataset WHERE key = 'synthetic' AND value = 'true'));

CREATE FUNCTION rules.live_as_of() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT fixed_on FROM rules.assessment_clock),
                    CAST(now() AT TIME ZONE 'Asia/Shanghai' AS date))
$$;
