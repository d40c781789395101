-- Every finding takes its id from rules.findings_id_seq. With the default CACHE 1 each row of a
-- city-scale COPY (~3.3M rows per run) called into the shared sequence: measured on 1M findings
-- copied into a copy of the table, three times each way, 7.4-8.6 s of server CPU with CACHE 1 and
-- 6.3-7.9 s with CACHE 1000 (docs/benchmarks.md). A session now takes 1000 ids at a time. Ids stay
-- unique; a session that ends leaves the rest of its block unused (a gap), which nothing relies on:
-- ids only name a finding, their order means nothing (runs and dates do).
ALTER SEQUENCE rules.findings_id_seq CACHE 1000;
