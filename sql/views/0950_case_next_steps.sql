-- Casework (issue #20): each open case's next steps. Re-applied by every `gisapp migrate`; the
-- grants are sql/security/0300_roles_and_rls.sql's (every relation of land), and security_invoker
-- makes the row-level security of the case tables apply to whoever reads it.

-- The steps of each open case's pathway that are not done and whose dependencies all are, with
-- the day their period starts (the anchor's date, or the case's opening) and the parameter that
-- gives the period. gisapp.casework.schedule turns these into due dates as the law counts them.
CREATE OR REPLACE VIEW land.case_next_steps WITH (security_barrier = true, security_invoker = true) AS
SELECT c.id AS case_id, c.code AS case_code, c.kind, c.pathway, c.zone_id, c.parcel_id,
       d.step, d.sort, d.who, d.optional, d.anchor, d.period_param, d.article, d.document,
       CASE WHEN d.anchor IS NULL THEN c.opened_on ELSE a.done_on END AS period_starts_after
FROM land.cases c
JOIN land.case_pathway_steps d ON d.pathway = c.pathway
LEFT JOIN land.case_steps a ON a.case_id = c.id AND a.step = d.anchor
WHERE c.closed_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = c.id AND s.step = d.step)
  AND NOT EXISTS (SELECT 1 FROM land.case_step_dependencies x
                  WHERE x.pathway = d.pathway AND x.step = d.step
                    AND NOT EXISTS (SELECT 1 FROM land.case_steps s WHERE s.case_id = c.id AND s.step = x.depends_on));
