-- Districts get their boundary (issue #18): the map's district layer and the city's outline (the
-- offline base map) are drawn from it, and boundary QA takes each zone's district from geometry.
-- Nullable: a district may be recorded before its boundary is imported
-- (`gisapp import districts FILE --crs gcj02`); the source CRS is kept as for zone boundaries.
ALTER TABLE land.districts
    ADD COLUMN geom       geometry(MultiPolygon, 4490) CHECK (geom IS NULL OR ST_IsValid(geom)),
    ADD COLUMN source_crs text NOT NULL DEFAULT 'EPSG:4490';
CREATE INDEX districts_geom_gix ON land.districts USING gist (geom);

-- district boundaries arrive through the importer like every other file, and are logged
ALTER TABLE audit.imports DROP CONSTRAINT imports_kind_check;
ALTER TABLE audit.imports ADD CONSTRAINT imports_kind_check
    CHECK (kind IN ('parcels', 'zones', 'metrics', 'districts'));
