-- Every file import that wrote data: what, from which file (by content hash), in which CRS,
-- how many rows, by whom. Row-level changes of small imports are in audit.change_log with the
-- reason "import #<id> ..."; large ones are one BULK_LOAD entry pointing here.
CREATE TABLE audit.imports (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('parcels', 'zones', 'metrics')),
    file_name     text NOT NULL,
    file_sha256   text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    source_crs    text,
    rows_in_file  integer NOT NULL CHECK (rows_in_file >= 0),
    inserted      integer NOT NULL DEFAULT 0 CHECK (inserted >= 0),
    updated       integer NOT NULL DEFAULT 0 CHECK (updated >= 0),
    warnings      integer NOT NULL DEFAULT 0 CHECK (warnings >= 0),
    bulk          boolean NOT NULL DEFAULT false,
    options       jsonb NOT NULL DEFAULT '{}',
    imported_by   text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX imports_started_idx ON audit.imports (started_at);


-- The date a session reads the data as of: the transaction's gisapp.as_of setting, else today.
-- Layer views that show "what is in force" (a zone's approved boundary) use it, so that
-- gisapp.api.read_layer(..., as_of=...) can look at an earlier day.
CREATE OR REPLACE FUNCTION gisapp_meta.as_of() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('gisapp.as_of', true), '')::date, current_date)
$$;
