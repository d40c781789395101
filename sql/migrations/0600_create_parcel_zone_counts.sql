-- Parcels counted per zone and status, kept current by triggers, for the map's zone summaries
-- below the detail zoom (gisapp/queries/features.py): a city-wide view at z10 counted ~0.9 M
-- parcels in view on every request (0.6-1 s at 1M parcels); a zone whose parcels all lie in
-- the view now takes its counts from here.
--
-- Rows are deltas, only ever inserted by the triggers (so concurrent edits never wait on one
-- another for a counter row, and cannot deadlock on them): a reader sums them. Now and then a
-- trigger folds them into one row per zone and status. Each row also carries the extent of the
-- parcels it adds: the union of a zone's rows covers all its parcels (it never shrinks when a
-- parcel is deleted or moved, which only makes a zone use the summary less often, never wrongly).
CREATE TABLE layers.parcel_zone_counts (
    zone_id integer          NOT NULL,
    status  text             NOT NULL,
    n       bigint           NOT NULL,
    west    double precision,
    south   double precision,
    east    double precision,
    north   double precision
);
CREATE INDEX parcel_zone_counts_zone_idx ON layers.parcel_zone_counts (zone_id, status);
COMMENT ON TABLE layers.parcel_zone_counts IS
    'land.parcels counted per zone and status (delta rows, summed by layers.parcels_zone_summary); '
    'written only by the triggers on land.parcels';

-- Fold the deltas into one row per zone and status, at most one transaction at a time and
-- without waiting: a transaction that cannot take the lock simply leaves it to a later one.
-- Only rows committed before this statement are folded; others' new rows stay as they are.
CREATE FUNCTION layers.fold_parcel_zone_counts() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF pg_try_advisory_xact_lock(7240601) THEN
        WITH d AS (DELETE FROM layers.parcel_zone_counts RETURNING *)
        INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
        SELECT zone_id, status, sum(n), min(west), min(south), max(east), max(north)
        FROM d GROUP BY zone_id, status HAVING sum(n) <> 0;
    END IF;
END
$$;

CREATE FUNCTION layers.count_inserted_parcels() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
    SELECT zone_id, status, count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)),
           max(ST_YMax(geom))
    FROM new_rows GROUP BY zone_id, status;
    IF random() < 0.02 THEN
        PERFORM layers.fold_parcel_zone_counts();
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION layers.count_deleted_parcels() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO layers.parcel_zone_counts (zone_id, status, n)
    SELECT zone_id, status, -count(*) FROM old_rows GROUP BY zone_id, status;
    IF random() < 0.02 THEN
        PERFORM layers.fold_parcel_zone_counts();
    END IF;
    RETURN NULL;
END
$$;

-- Only rows whose zone, status or bounding box changed leave a trace (a status change: one row
-- less in the old status, one more in the new).
CREATE FUNCTION layers.count_updated_parcels() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    WITH changed AS (
        SELECT o.zone_id AS old_zone, o.status AS old_status, n.zone_id, n.status, n.geom
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.zone_id <> n.zone_id OR o.status <> n.status
           OR ST_XMin(o.geom) <> ST_XMin(n.geom) OR ST_YMin(o.geom) <> ST_YMin(n.geom)
           OR ST_XMax(o.geom) <> ST_XMax(n.geom) OR ST_YMax(o.geom) <> ST_YMax(n.geom)
    ), d AS (
        SELECT old_zone AS zone_id, old_status AS status, -1 AS n, NULL::float8 AS x0, NULL::float8 AS y0,
               NULL::float8 AS x1, NULL::float8 AS y1
        FROM changed
        UNION ALL
        SELECT zone_id, status, 1, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM changed
    )
    INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
    SELECT zone_id, status, sum(n), min(x0), min(y0), max(x1), max(y1)
    FROM d GROUP BY zone_id, status;
    IF random() < 0.02 THEN
        PERFORM layers.fold_parcel_zone_counts();
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION layers.count_truncated_parcels() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    DELETE FROM layers.parcel_zone_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER parcel_zone_counts_insert AFTER INSERT ON land.parcels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION layers.count_inserted_parcels();
CREATE TRIGGER parcel_zone_counts_update AFTER UPDATE ON land.parcels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION layers.count_updated_parcels();
CREATE TRIGGER parcel_zone_counts_delete AFTER DELETE ON land.parcels
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION layers.count_deleted_parcels();
CREATE TRIGGER parcel_zone_counts_truncate AFTER TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION layers.count_truncated_parcels();
-- Bulk loads run with session_replication_role = replica (no audit or version triggers per row);
-- the counts must follow them all the same.
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_insert;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_update;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_delete;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_truncate;

-- No write may slip between the count and the triggers.
LOCK TABLE land.parcels IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
SELECT zone_id, status, count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom))
FROM land.parcels GROUP BY zone_id, status;
