-- The two per-row costs of rules.findings' COPY that buy nothing at write time (perf of a
-- 1M-row binary COPY of findings, docs/benchmarks.md): the json check of the evidence, 13% of
-- the server's time, and the generated zone_key, 8% (a stored generated column forms each row
-- a second time). The evidence is written by `gisapp assess` from orjson (a rule's evidence that
-- is already text is parsed there first) and read through the views as jsonb, which parse it
-- anyway; zone_key is now written by its writer and checked, which costs no second row.
DROP VIEW IF EXISTS rules.current_findings CASCADE;  -- re-created from sql/views after migrating
DROP VIEW IF EXISTS rules.findings_history CASCADE;
ALTER TABLE rules.findings
    ALTER COLUMN zone_key DROP EXPRESSION,
    ALTER COLUMN evidence DROP DEFAULT,
    ALTER COLUMN evidence TYPE text USING evidence::text,
    ALTER COLUMN evidence SET DEFAULT '{}',
    ADD CONSTRAINT findings_zone_key_is_zone CHECK (zone_key = COALESCE(zone_id, 0));
COMMENT ON COLUMN rules.findings.evidence IS
    'JSON text (written by gisapp assess, checked there); rules.current_findings gives it as jsonb';
COMMENT ON COLUMN rules.findings.zone_key IS 'COALESCE(zone_id, 0): what rules.current_runs is keyed by';
