-- The findings of the latest assessment of each rule and zone (what the map, the dashboards and
-- reviews show): the rows of the run that rules.current_runs names for the finding's rule and
-- zone, with their parameters (stored once per distinct set in rules.parameter_sets) and their
-- evidence as jsonb (stored as JSON text: cheaper to write, see migrations 0500 and 1100).
DROP VIEW IF EXISTS rules.current_findings CASCADE;
CREATE VIEW rules.current_findings AS
SELECT f.id, f.run_id, f.rule, f.rule_version, f.as_of, f.zone_id, f.parcel_id, f.subject_type,
       f.subject_id, f.outcome, f.is_positive, coalesce(s.parameters, '{}'::jsonb) AS parameters,
       f.evidence::jsonb AS evidence, f.explanation_zh, f.explanation_en, f.review_status, f.review_reason,
       f.reviewed_by, f.reviewed_at, f.version, f.updated_at, f.updated_by,
       f.zone_key  -- zone_id, 0 without a zone: what rules.current_runs is keyed by
FROM rules.findings f
JOIN rules.current_runs c ON c.rule = f.rule AND c.zone_key = f.zone_key AND c.run_id = f.run_id
LEFT JOIN rules.parameter_sets s ON s.id = f.parameter_set_id;

-- Every finding (current or not) with its parameters and whether it is current: history.
DROP VIEW IF EXISTS rules.findings_history CASCADE;
CREATE VIEW rules.findings_history AS
SELECT f.id, f.run_id, f.rule, f.rule_version, f.as_of, f.zone_id, f.parcel_id, f.subject_type,
       f.subject_id, f.outcome, f.is_positive, coalesce(s.parameters, '{}'::jsonb) AS parameters,
       f.evidence::jsonb AS evidence, f.explanation_zh, f.explanation_en, f.review_status, f.review_reason,
       f.reviewed_by, f.reviewed_at, f.version, f.updated_at, f.updated_by, f.zone_key,
       EXISTS (SELECT 1 FROM rules.current_runs c
               WHERE c.rule = f.rule AND c.zone_key = f.zone_key AND c.run_id = f.run_id) AS is_current
FROM rules.findings f
LEFT JOIN rules.parameter_sets s ON s.id = f.parameter_set_id;
