-- rules.findings grows by one run's findings at a time (~4M rows, ~3.5 GB at city scale) and
-- shrinks only by prune-findings (deletes). The insert-count trigger of autovacuum (PostgreSQL
-- 13+) started a vacuum of the whole new run while `gisapp assess` was still writing it: measured
-- on the city-scale bench it scanned ~530k pages (~4 GB) beside the run, taking a core and the
-- page cache from it, and was then cancelled by the next prune (its work lost). Vacuums of this
-- table are left to the dead rows that pruning leaves (the usual trigger) and to the
-- anti-wraparound freeze, which both still run; the statistics are still analyzed as before.
ALTER TABLE rules.findings SET (autovacuum_vacuum_insert_threshold = -1);
