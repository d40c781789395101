-- Live findings (#19): a change to a rule's parameters re-runs that rule, not every rule of its
-- zone. The queue's trigger (sql/security/0800_live_findings.sql) records, for a change to
-- rules.parameter_overrides, the rules whose parameters it changed; the worker runs the modules
-- that write them (a module reads its own specs' parameters only) and nothing for parameters no
-- rule reads (the casework periods, the revitalization targets). NULL: every rule the changed
-- data feeds, as before.
ALTER TABLE rules.reassess_queue ADD COLUMN rules text[];
COMMENT ON COLUMN rules.reassess_queue.rules IS
    'the rules whose parameters the change set (rules.parameter_overrides); NULL: every rule its data feeds';
