-- The parcels counted per zone and status, with the extent of each zone's parcels, in the terms
-- of the parcels layer (its aggregate key zone_code and style field status): what the map's zone
-- summaries read instead of counting the parcels in view (gisapp/queries/features.py).
-- Kept current by the triggers of sql/migrations/0600. Re-applied on every migrate.
DROP VIEW IF EXISTS layers.parcels_zone_summary;
CREATE VIEW layers.parcels_zone_summary AS
SELECT z.code           AS zone_code,
       c.status,
       sum(c.n)::bigint AS n,
       min(c.west)      AS west,
       min(c.south)      AS south,
       max(c.east)      AS east,
       max(c.north)      AS north
FROM layers.parcel_zone_counts c
JOIN land.zones z ON z.id = c.zone_id
GROUP BY z.code, c.status
HAVING sum(c.n) <> 0;

-- Count again from scratch: after a load that switched the triggers of land.parcels off
-- (ALTER TABLE ... DISABLE TRIGGER USER); the counts are otherwise always current.
CREATE OR REPLACE FUNCTION layers.rebuild_parcel_zone_counts() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    total bigint;
BEGIN
    LOCK TABLE land.parcels IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM layers.parcel_zone_counts;
    INSERT INTO layers.parcel_zone_counts (zone_id, status, n, west, south, east, north)
    SELECT zone_id, status, count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)),
           max(ST_YMax(geom))
    FROM land.parcels GROUP BY zone_id, status;
    SELECT coalesce(sum(n), 0) INTO total FROM layers.parcel_zone_counts;
    RETURN total;
END
$$;
REVOKE ALL ON FUNCTION layers.rebuild_parcel_zone_counts() FROM PUBLIC;
REVOKE ALL ON FUNCTION layers.fold_parcel_zone_counts() FROM PUBLIC;
