-- The data version the vector tiles' ETags are keyed on (issue #21): a count of the write
-- statements committed on each table the map's layers read, bumped by a statement trigger
-- (sql/security/0935_data_versions.sql) in the writer's own transaction, so that a tile's ETag
-- changes with the commit of any edit, import or assessment, and a client's copy is never
-- answered 304 after it.
--
-- Several rows ("stripes") per table: a writer bumps a stripe no other open transaction holds
-- (FOR UPDATE SKIP LOCKED) and adds one when all are held, so concurrent writers never wait for
-- each other here (a single counter row would serialize every writing transaction of a table,
-- the parallel assessment's among them, until they commit). The version is the sum.
CREATE TABLE gisapp_meta.data_versions (
    stripe  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relid   oid NOT NULL,
    n       bigint NOT NULL DEFAULT 1 CHECK (n > 0)
);
CREATE INDEX data_versions_relid_idx ON gisapp_meta.data_versions (relid) INCLUDE (n);
REVOKE ALL ON gisapp_meta.data_versions FROM PUBLIC;
