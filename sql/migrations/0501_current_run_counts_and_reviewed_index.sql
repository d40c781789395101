-- Making a run current must not scan the previous run's millions of findings (measured 5.9 s of
-- `gisapp assess` at 1M parcels): each current (rule, zone) keeps its number of findings, so
-- "how many findings did this run supersede" is a sum over a few hundred rows, and the reviewed
-- findings (the ones whose review carries over) have an index of their own, which costs nothing
-- on the COPY (new findings are open, so they are not in it).
ALTER TABLE rules.current_runs ADD COLUMN findings integer NOT NULL DEFAULT 0;
UPDATE rules.current_runs c SET findings = n.n
FROM (SELECT f.rule, f.zone_key, f.run_id, count(*) AS n FROM rules.findings f GROUP BY 1, 2, 3) n
WHERE n.rule = c.rule AND n.zone_key = c.zone_key AND n.run_id = c.run_id;

CREATE INDEX findings_reviewed_idx ON rules.findings (run_id, rule, zone_key) WHERE review_status <> 'open';
