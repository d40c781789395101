-- Zone rectification (issue #20; the 2021 opinions 3.5): the class a zone receives is the result
-- the national evaluation publishes, recorded here per zone and year with its source (imported
-- from a CSV or entered by a bureau admin: `gisapp rectification import|set`). The project's own
-- ranking (gisapp/rules/zone_performance.py) ranks only the zones of this database and is shown as
-- an estimate; the rectification flags (land.zone_rectification_flags, sql/views/0960) read this
-- table only. Row-level security, versions and the audit are those of every editable land table
-- (sql/security/0300, 0010, 0020): everyone signed in reads, a bureau admin writes.
CREATE TABLE land.zone_national_results (
    id                    serial PRIMARY KEY,
    zone_id               integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    year                  smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),   -- the year evaluated
    national_class        text NOT NULL CHECK (national_class IN ('A', 'B', 'C')),
    regional_class        text CHECK (regional_class IN ('A', 'B', 'C')),
    national_rank         integer CHECK (national_rank >= 1),
    national_count        integer CHECK (national_count >= 1),
    -- evaluated below the average of the zone's region (the eastern region for Shanghai's zones)
    below_region_average  boolean NOT NULL,
    score                 numeric(8, 2),
    region_average        numeric(8, 2),
    source                text NOT NULL CHECK (length(btrim(source)) > 0),
    published_on          date,
    note                  text,
    version               integer NOT NULL DEFAULT 1,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL DEFAULT current_user,
    UNIQUE (zone_id, year),
    CONSTRAINT zone_national_results_rank_within_count CHECK (national_rank <= national_count),
    CONSTRAINT zone_national_results_rank_with_count CHECK ((national_rank IS NULL) = (national_count IS NULL)),
    CONSTRAINT zone_national_results_below_agrees
        CHECK (score IS NULL OR region_average IS NULL OR (score < region_average) = below_region_average),
    CONSTRAINT zone_national_results_published_after_year CHECK (published_on IS NULL OR published_on >= make_date(year, 1, 1)),
    CONSTRAINT zone_national_results_published_not_future
        CHECK (published_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date)
);
