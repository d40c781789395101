-- Findings of the latest assessment of a rule and zone are current; older ones stay as history.
ALTER TABLE rules.findings ADD COLUMN is_current boolean NOT NULL DEFAULT true;
CREATE INDEX findings_current_parcel_idx ON rules.findings (parcel_id, rule) WHERE is_current;
CREATE INDEX findings_current_rule_idx ON rules.findings (rule, outcome) WHERE is_current;
