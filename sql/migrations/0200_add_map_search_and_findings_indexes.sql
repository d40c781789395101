-- Indexes the web map needs at city scale (1M parcels): substring search on parcel codes and
-- enterprise names (trigram), and the grant-level findings joined to the grants layer.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX parcels_code_trgm_idx ON land.parcels USING gin (code gin_trgm_ops);
CREATE INDEX enterprises_name_zh_trgm_idx ON land.enterprises USING gin (name_zh gin_trgm_ops);
CREATE INDEX enterprises_name_en_trgm_idx ON land.enterprises USING gin (name_en gin_trgm_ops);
-- grant findings are found by their subject (the grant id), not by parcel
CREATE INDEX findings_current_subject_idx ON rules.findings (rule, subject_type, subject_id) WHERE is_current;
