-- The live worker reads one zone's idle-land exemptions at a time (gisapp.rules.worker): without
-- an index on the parcel it read the whole table for every zone's round.
CREATE INDEX idle_exemptions_parcel_idx ON land.idle_exemptions (parcel_id);
