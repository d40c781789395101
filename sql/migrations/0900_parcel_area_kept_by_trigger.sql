-- land.parcels.area_m2 was a generated column, ST_Area(geom::geography): PostgreSQL computed it for
-- every row of every write, ~4.8 s of the server's single core for a 1M-parcel bulk COPY (about a
-- third of the COPY; docs/benchmarks.md). It becomes a plain column kept by a BEFORE trigger with
-- the same expression, so every ordinary write still gets the area from PostGIS and a value
-- written by hand is replaced (the area cannot be forged). Bulk loaders run with row triggers off
-- (session_replication_role = replica, superuser only) and must supply it themselves: the
-- importer and the demo loader compute it with gisapp.geodesy.ellipsoid_area_m2 (vectorised,
-- equal-area projection of the same ellipsoid; within 1e-7 of PostGIS for parcels), and NOT NULL
-- makes a loader that forgets it fail instead of storing a parcel without an area.
ALTER TABLE land.parcels ALTER COLUMN area_m2 DROP EXPRESSION;

CREATE FUNCTION land.set_parcel_area() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- on the ellipsoid of the geometry's CRS (CGCS2000), never in degrees
    NEW.area_m2 := ST_Area(NEW.geom::geography);
    RETURN NEW;
END $$;

CREATE TRIGGER parcel_area BEFORE INSERT OR UPDATE OF geom, area_m2 ON land.parcels
    FOR EACH ROW EXECUTE FUNCTION land.set_parcel_area();

ALTER TABLE land.parcels ALTER COLUMN area_m2 SET NOT NULL;
