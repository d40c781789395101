-- Live findings, the parcel's own rules first (#19). A change to a few parcels queues, besides
-- its zone, one row per parcel it touched; `gisapp worker --kind parcels` re-evaluates the
-- parcel-local rules (those whose finding for a parcel depends on that parcel's rows alone:
-- gisapp.rules.registry.parcel_local_rules) and puts the parcels' new findings into the current
-- run of their rule and zone in place of the old ones (a "patch"). The zone's next full run
-- computes the same findings again; these tables keep the two from undoing each other.

-- parcel_id: a parcel job (zone_id is then the parcel's zone at the change). covered: a zone row
-- whose change is, for the zone's parcel-local rules, wholly covered by its parcel jobs (or does
-- not feed them): until its zone is re-run, only the zone-wide rules' findings are pending.
ALTER TABLE rules.reassess_queue
    ADD COLUMN parcel_id bigint,
    ADD COLUMN covered boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT reassess_queue_parcel_has_zone CHECK (parcel_id IS NULL OR zone_id IS NOT NULL);
CREATE INDEX reassess_queue_parcel_idx ON rules.reassess_queue (parcel_id) WHERE parcel_id IS NOT NULL;

-- When each run read its inputs (the time its snapshot was taken): a patch read after a run's
-- snapshot is fresher than that run's finding for the parcel and survives the run being made
-- current (gisapp.rules.assess._make_current).
ALTER TABLE rules.assessment_runs
    ADD COLUMN read_at timestamptz,
    ADD COLUMN parcel_ids bigint[];  -- a patch run: the parcels it re-evaluated
COMMENT ON COLUMN rules.assessment_runs.parcel_ids IS
    'a patch run (gisapp worker --kind parcels): the parcels whose parcel-local findings it replaced';

-- The latest patch of each parcel-local rule and parcel, while no full run of its zone has read
-- the data after it.
CREATE TABLE rules.parcel_patches (
    rule text NOT NULL,
    parcel_id bigint NOT NULL,
    zone_key integer NOT NULL,
    run_id bigint NOT NULL REFERENCES rules.assessment_runs (id) ON DELETE CASCADE,
    read_at timestamptz NOT NULL,
    PRIMARY KEY (rule, parcel_id)
);
CREATE INDEX parcel_patches_zone_idx ON rules.parcel_patches (rule, zone_key);

-- A patched finding says so: the run it is current under is not the run that computed it.
ALTER TABLE rules.findings ADD COLUMN patch_run_id bigint;
COMMENT ON COLUMN rules.findings.patch_run_id IS
    'set when a parcel job (gisapp worker --kind parcels) wrote this finding into the current run run_id';
