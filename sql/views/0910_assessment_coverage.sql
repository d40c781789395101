-- Regional assessment coverage on the map (issue #18): each zone coloured by what its regional
-- assessments (land.zone_assessments) cover on the reading date (today, or gisapp.as_of):
-- all_valid (every required kind valid), some_expired (a required kind expired or never made),
-- none (no required kind valid). The required kinds are the assessment_coverage rule's parameter
-- as its current finding on the zone records them (evidence.kinds_required); before the rule has
-- run, every kind some zone has been assessed for.
DROP VIEW IF EXISTS layers.assessment_coverage CASCADE;
CREATE VIEW layers.assessment_coverage AS
WITH f AS (
    SELECT DISTINCT ON (c.zone_key) c.zone_key, c.outcome, c.evidence
    FROM rules.current_findings c
    WHERE c.rule = 'assessment_coverage' AND c.subject_type = 'zone'
    ORDER BY c.zone_key, c.as_of DESC, c.id DESC
), required AS (
    SELECT z.id AS zone_id, k.kind
    FROM land.zones z
    LEFT JOIN f ON f.zone_key = z.id
    CROSS JOIN LATERAL (
        SELECT jsonb_array_elements_text(f.evidence -> 'kinds_required') AS kind
        WHERE jsonb_typeof(f.evidence -> 'kinds_required') = 'array'
        UNION
        SELECT DISTINCT a.kind FROM land.zone_assessments a
        WHERE f.evidence IS NULL OR jsonb_typeof(f.evidence -> 'kinds_required') IS DISTINCT FROM 'array'
    ) k
), state AS (
    SELECT r.zone_id, r.kind, ak.name_zh, ak.name_en,
           bool_or(a.valid_from <= gisapp_meta.as_of() AND (a.valid_to IS NULL OR a.valid_to >= gisapp_meta.as_of()))
               AS valid,
           bool_or(a.valid_to < gisapp_meta.as_of()) AS had_expired,
           min(a.valid_to) FILTER (WHERE a.valid_from <= gisapp_meta.as_of() AND a.valid_to >= gisapp_meta.as_of())
               AS valid_to
    FROM required r
    JOIN land.assessment_kinds ak ON ak.code = r.kind
    LEFT JOIN land.zone_assessments a ON a.zone_id = r.zone_id AND a.kind = r.kind
    GROUP BY r.zone_id, r.kind, ak.name_zh, ak.name_en
), per_zone AS (
    SELECT s.zone_id,
           count(*) FILTER (WHERE s.valid)                         AS kinds_valid,
           count(*)                                                AS kinds_required,
           string_agg(s.name_zh, '、' ORDER BY s.kind) FILTER (WHERE s.valid) AS valid_zh,
           string_agg(s.name_en, ', ' ORDER BY s.kind) FILTER (WHERE s.valid) AS valid_en,
           string_agg(s.name_zh, '、' ORDER BY s.kind) FILTER (WHERE NOT coalesce(s.valid, false) AND s.had_expired)
               AS expired_zh,
           string_agg(s.name_en, ', ' ORDER BY s.kind) FILTER (WHERE NOT coalesce(s.valid, false) AND s.had_expired)
               AS expired_en,
           string_agg(s.name_zh, '、' ORDER BY s.kind)
               FILTER (WHERE NOT coalesce(s.valid, false) AND NOT coalesce(s.had_expired, false)) AS missing_zh,
           string_agg(s.name_en, ', ' ORDER BY s.kind)
               FILTER (WHERE NOT coalesce(s.valid, false) AND NOT coalesce(s.had_expired, false)) AS missing_en,
           min(s.valid_to)                                         AS next_expiry
    FROM state s GROUP BY s.zone_id
)
SELECT z.id, z.code, z.name_zh, z.name_en,
       CASE WHEN p.kinds_valid = p.kinds_required AND p.kinds_required > 0 THEN 'all_valid'
            WHEN coalesce(p.kinds_valid, 0) = 0 THEN 'none'
            ELSE 'some_expired' END AS coverage,
       coalesce(p.kinds_valid, 0)::integer AS kinds_valid,
       coalesce(p.kinds_required, 0)::integer AS kinds_required,
       p.valid_zh, p.valid_en, p.expired_zh, p.expired_en, p.missing_zh, p.missing_en,
       p.next_expiry,
       (p.next_expiry - gisapp_meta.as_of())::integer AS days_to_next_expiry,
       gisapp_meta.as_of() AS as_of,
       f.outcome AS rule_outcome,
       z.is_synthetic,
       z.geom
FROM layers.zones z
LEFT JOIN per_zone p ON p.zone_id = z.id
LEFT JOIN f ON f.zone_key = z.id
WHERE z.kind <> 'benchmark';
