-- The files of a case's documents (issue #20): the .docx the app renders for a row of
-- land.case_documents (gisapp/casework/documents) from the bureau's templates, kept in the
-- database with the case, so that what was issued can be downloaded as it was. Insert-only: a
-- document rendered again gets a new file, the newest is the document's and the older stay as
-- history. Who may read, add and remove files, the checks and the audit (without the bytes):
-- sql/security/0910_case_documents.sql.
CREATE TABLE land.case_document_files (
    id               bigserial PRIMARY KEY,
    document_id      bigint NOT NULL REFERENCES land.case_documents (id) ON DELETE CASCADE,
    case_id          bigint NOT NULL REFERENCES land.cases (id) ON DELETE CASCADE,   -- the document's (by trigger)
    filename         text NOT NULL CHECK (filename ~ '^[^/\\]+\.docx$' AND length(filename) <= 200),
    content          bytea NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 10485760),
    sha256           text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),                 -- of content (by trigger)
    template         text NOT NULL CHECK (template ~ '^[a-z_]+\.docx$'),                -- the template's file
    template_sha256  text NOT NULL CHECK (template_sha256 ~ '^[0-9a-f]{64}$'),      -- as it was when rendered
    synthetic        boolean NOT NULL,      -- rendered from the synthetic demo data (the text says so)
    rendered_at      timestamptz NOT NULL DEFAULT now(),
    rendered_by      text NOT NULL DEFAULT current_user                             -- the verified user (by trigger)
);
CREATE INDEX case_document_files_document_idx ON land.case_document_files (document_id, id DESC);
CREATE INDEX case_document_files_case_idx ON land.case_document_files (case_id);

-- The numbers (文号) the app gives documents issued without one: the last number given per
-- prefix (e.g. 沪规资闲调) and year. Written only by land.give_case_document_number.
CREATE TABLE land.case_document_numbers (
    prefix   text NOT NULL CHECK (length(btrim(prefix)) BETWEEN 1 AND 40),
    year     smallint NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    last_no  integer NOT NULL CHECK (last_no > 0),
    PRIMARY KEY (prefix, year)
);
