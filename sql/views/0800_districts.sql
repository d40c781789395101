-- Shanghai's districts and the city's outline (issue #18): the offline base map, drawn from the
-- districts' boundaries (imported from GCJ-02, migration 1500) with no other data. The outline
-- is the union of the 16 districts, so its edge is the coastline and the border with Jiangsu and
-- Zhejiang; the districts tile the city, so the union leaves no seams.

DROP VIEW IF EXISTS layers.districts CASCADE;
CREATE VIEW layers.districts AS
SELECT d.id,
       d.code,
       d.name_zh,
       d.name_en,
       ST_Area(d.geom::geography) AS area_m2,
       (SELECT count(*) FROM land.zones z WHERE z.district_id = d.id AND z.kind <> 'benchmark') AS zones,
       d.source_crs,
       d.geom
FROM land.districts d
WHERE d.geom IS NOT NULL;

DROP VIEW IF EXISTS layers.base_outline CASCADE;
CREATE VIEW layers.base_outline AS
SELECT 1                                                      AS id,
       '上海市'::text                                          AS name_zh,
       'Shanghai'::text                                       AS name_en,
       count(*)::integer                                      AS districts,
       ST_Multi(ST_Union(d.geom))::geometry(MultiPolygon, 4490) AS geom
FROM land.districts d
WHERE d.geom IS NOT NULL
HAVING count(*) > 0;
