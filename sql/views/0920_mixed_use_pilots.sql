-- Approved mixed-use pilots (混合用地试点, SMPG GO [2021] No. 1 §1.3; docs/policy.md §5.4): the
-- parcels of land.mixed_use_pilots with their approval and floor-area shares, and the mixed_use
-- rule's current verdict on them (the rule is not re-implemented here: its finding is read).
-- A view of its own so that the pilots show as such on the map, whatever else the
-- mixed_use layer holds.
DROP VIEW IF EXISTS layers.mixed_use_pilots CASCADE;
CREATE VIEW layers.mixed_use_pilots AS
SELECT p.id,
       p.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       mp.pilot_ref,
       mp.approved_on       AS pilot_approved_on,
       (SELECT string_agg(c.land_use_code || ' ' || trim_scale(c.floor_share_pct)::text || '%', ', '
                          ORDER BY c.floor_share_pct DESC, c.land_use_code)
        FROM land.mixed_use_components c WHERE c.parcel_id = p.id) AS shares,
       (SELECT count(*) FROM land.mixed_use_components c WHERE c.parcel_id = p.id)::integer AS uses,
       coalesce(f.outcome, 'not_assessed') AS mixed_result,
       f.explanation_zh,
       f.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       p.is_synthetic,
       p.geom
FROM land.mixed_use_pilots mp
JOIN land.parcels p ON p.id = mp.parcel_id
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
LEFT JOIN LATERAL rules.current_parcel_finding('mixed_use', p.zone_id, p.id) f ON true;
