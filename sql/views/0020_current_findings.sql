-- The findings of the latest assessment (what the map, the dashboards and reviews show).
DROP VIEW IF EXISTS rules.current_findings CASCADE;
CREATE VIEW rules.current_findings AS
SELECT * FROM rules.findings WHERE is_current;
