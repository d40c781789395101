-- The revitalization record (issue #20, domain §7 "Progress"): per zone and quarter, the area and
-- the number of parcels of idle, low-efficiency, approved-unsupplied and supplied-unbuilt land,
-- counted from the current findings as the dashboard counts them (gisapp/revitalization/
-- snapshots.py reuses the dashboard's SQL) and kept as they were: a snapshot is the record of a
-- past quarter, so nobody but the tables' owner may change or delete one
-- (sql/security/0960_revitalization.sql refuses it for every other role and audits every row).
--
-- Taken by `gisapp snapshot take` (as the owner) and by the live worker's daily pass when a
-- quarter has ended (as gisapp_assessor, which may insert here and nowhere else in this schema
-- but the findings). ``findings_as_of``: the day the counted findings were as of (NULL for a
-- record that was not counted from findings: the demo's synthetic history says so in ``note``).
CREATE TABLE rules.stock_snapshots (
    id              bigserial PRIMARY KEY,
    quarter_end     date NOT NULL,
    zone_id         integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('idle', 'low_efficiency', 'approved_unsupplied', 'supplied_unbuilt')),
    parcels         integer NOT NULL CHECK (parcels >= 0),
    area_m2         double precision NOT NULL CHECK (area_m2 >= 0 AND area_m2 < 'Infinity'),
    findings_as_of  date,
    taken_at        timestamptz NOT NULL DEFAULT now(),
    taken_by        text NOT NULL DEFAULT current_user,
    taken_via       text NOT NULL CHECK (taken_via IN ('command', 'daily_pass', 'demo')),
    note            text,
    UNIQUE (quarter_end, zone_id, kind),
    -- the last day of a calendar quarter (31 March, 30 June, 30 September, 31 December)
    CONSTRAINT stock_snapshots_quarter_end
        CHECK (quarter_end = CAST(date_trunc('quarter', quarter_end) + interval '3 months - 1 day' AS date)),
    -- counted from findings as of a day from the quarter's end to before the next quarter's end
    CONSTRAINT stock_snapshots_findings_after_quarter
        CHECK (findings_as_of IS NULL OR (findings_as_of >= quarter_end AND findings_as_of
               < CAST(date_trunc('quarter', quarter_end + 1) + interval '3 months - 1 day' AS date))),
    CONSTRAINT stock_snapshots_counted_or_noted
        CHECK (findings_as_of IS NOT NULL OR length(btrim(note)) > 0)
);
CREATE INDEX stock_snapshots_zone_idx ON rules.stock_snapshots (zone_id, quarter_end);
