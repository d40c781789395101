-- The per-zone parcel counts of migration 0600 were kept by four trigger functions that repeated
-- the same shell (insert the deltas, now and then fold them). One function now serves the four
-- triggers, branching on the operation; what it writes is unchanged.
CREATE FUNCTION layers.count_parcel_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM layers.parcel_zone_counts;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
        SELECT zone_id, status, count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)),
               max(ST_YMax(geom))
        FROM new_rows GROUP BY zone_id, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO layers.parcel_zone_counts (zone_id, status, n)
        SELECT zone_id, status, -count(*) FROM old_rows GROUP BY zone_id, status;
    ELSE
        -- only rows whose zone, status or bounding box changed leave a trace (a status change:
        -- one row less in the old status, one more in the new)
        WITH changed AS (
            SELECT o.zone_id AS old_zone, o.status AS old_status, n.zone_id, n.status, n.geom
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.zone_id <> n.zone_id OR o.status <> n.status
               OR ST_XMin(o.geom) <> ST_XMin(n.geom) OR ST_YMin(o.geom) <> ST_YMin(n.geom)
               OR ST_XMax(o.geom) <> ST_XMax(n.geom) OR ST_YMax(o.geom) <> ST_YMax(n.geom)
        ), d AS (
            SELECT old_zone AS zone_id, old_status AS status, -1 AS n, NULL::float8 AS x0,
                   NULL::float8 AS y0, NULL::float8 AS x1, NULL::float8 AS y1
            FROM changed
            UNION ALL
            SELECT zone_id, status, 1, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM changed
        )
        INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
        SELECT zone_id, status, sum(n), min(x0), min(y0), max(x1), max(y1)
        FROM d GROUP BY zone_id, status;
    END IF;
    IF random() < 0.02 THEN
        PERFORM layers.fold_parcel_zone_counts();
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER parcel_zone_counts_insert ON land.parcels;
DROP TRIGGER parcel_zone_counts_update ON land.parcels;
DROP TRIGGER parcel_zone_counts_delete ON land.parcels;
DROP TRIGGER parcel_zone_counts_truncate ON land.parcels;
CREATE TRIGGER parcel_zone_counts_insert AFTER INSERT ON land.parcels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION layers.count_parcel_changes();
CREATE TRIGGER parcel_zone_counts_update AFTER UPDATE ON land.parcels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION layers.count_parcel_changes();
CREATE TRIGGER parcel_zone_counts_delete AFTER DELETE ON land.parcels
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION layers.count_parcel_changes();
CREATE TRIGGER parcel_zone_counts_truncate AFTER TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION layers.count_parcel_changes();
-- bulk loads run with session_replication_role = replica: the counts must follow them all the same
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_insert;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_update;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_delete;
ALTER TABLE land.parcels ENABLE ALWAYS TRIGGER parcel_zone_counts_truncate;

DROP FUNCTION layers.count_inserted_parcels();
DROP FUNCTION layers.count_updated_parcels();
DROP FUNCTION layers.count_deleted_parcels();
DROP FUNCTION layers.count_truncated_parcels();
