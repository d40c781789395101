-- A parcel's page asks when its findings were last patched (gisapp.queries.live): by parcel, which
-- the key (rule, parcel_id) cannot answer without reading every patch.
CREATE INDEX parcel_patches_parcel_idx ON rules.parcel_patches (parcel_id);
