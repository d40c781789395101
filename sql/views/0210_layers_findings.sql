-- Map layers over the rules' current findings (docs/findings.md), joined to the parcels.
-- One view per declared layer (layers/<id>.yml names it as its source). Re-applied on every
-- migrate. The rules write rules.findings; these views only read the latest verdict, so the map
-- and the dashboards never re-implement a rule. A parcel's finding is looked up by its zone and
-- parcel id (the current run of the rule for that zone, then the index on run, rule, zone,
-- parcel); findings about a grant carry its parcel's id and zone.

-- A number from a JSON document, or NULL when the key is missing or not a number (evidence is
-- free-form per rule: a cast of a non-number must never break a map request).
CREATE OR REPLACE FUNCTION layers.json_number(doc jsonb, key text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc -> key) = 'number' THEN (doc ->> key)::numeric END
$$;

CREATE OR REPLACE FUNCTION layers.json_bool(doc jsonb, key text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc -> key) = 'boolean' THEN (doc ->> key)::boolean END
$$;

-- The current finding of a rule about a parcel (or, with p_subject_id, about a subject of that
-- parcel such as one of its grants): one place for "the latest verdict" that every layer reads.
-- A plain SQL function, inlined by the planner into each view, so the lookup stays the zone's
-- current run of the rule, then the index on (run, rule, zone, parcel).
CREATE OR REPLACE FUNCTION rules.current_parcel_finding(p_rule text, p_zone_id integer, p_parcel_id bigint,
                                                        p_subject_id text DEFAULT NULL)
RETURNS SETOF rules.current_findings
LANGUAGE sql STABLE AS $$
    SELECT c.* FROM rules.current_findings c
    -- zone_key, not zone_id: the planner then finds the zone's current run by its key
    WHERE c.zone_key = p_zone_id AND c.parcel_id = p_parcel_id AND c.rule = p_rule
      AND (p_subject_id IS NULL OR c.subject_id = p_subject_id)
    ORDER BY c.as_of DESC, c.id DESC
    LIMIT 1
$$;

-- The idle-land register, in one place for the map's layer and the dashboard
-- (gisapp/queries/dashboard.py): confirmed when the zone office marked the parcel idle or
-- confirmed the rule's finding; suspected when the rule finds it idle and nobody dismissed it;
-- fee_due when the land is no longer idle but a fee decided in a case is still due (a decision
-- of the bureau, which a review of the finding does not undo); exempt when the rule finds it idle
-- but a government cause exempts it (to be settled by negotiation); NULL: not on the register.
CREATE OR REPLACE FUNCTION layers.idle_register_class(status text, review_status text, outcome text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN status = 'idle' OR (outcome IN ('idle_not_started', 'idle_stalled') AND review_status = 'confirmed')
            THEN 'confirmed'
        WHEN outcome = 'idle_not_started' AND review_status <> 'dismissed' THEN 'suspected_not_started'
        WHEN outcome = 'idle_stalled' AND review_status <> 'dismissed' THEN 'suspected_stalled'
        WHEN outcome = 'idle_fee_due' THEN 'fee_due'
        WHEN outcome = 'exempt' THEN 'exempt'
    END
$$;

-- Idle land: suspected by the idle_land rule (not dismissed on review) or confirmed (status idle,
-- or the finding confirmed by the zone office); land no longer idle whose decided fee is due;
-- exempt land.
DROP VIEW IF EXISTS layers.idle_land CASCADE;
CREATE VIEW layers.idle_land AS
SELECT p.id,
       p.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       p.status,
       layers.idle_register_class(p.status, f.review_status, f.outcome) AS idle_class,
       f.outcome,
       f.review_status,
       f.evidence ->> 'agreed_start_on' AS agreed_start_on,
       f.evidence ->> 'idle_since'      AS idle_since,
       layers.json_number(f.evidence, 'fee_wan') AS fee_wan,
       layers.json_bool(f.evidence, 'recovery_candidate') AS recovery_candidate,
       -- the idle-land fee decided in a case and not yet paid, and that case
       CASE WHEN f.evidence -> 'fee_decision' ->> 'status' = 'due'
            THEN layers.json_number(f.evidence -> 'fee_decision', 'outstanding_wan') END AS fee_due_wan,
       f.evidence -> 'fee_decision' ->> 'case_code' AS fee_case_code,
       f.explanation_zh,
       f.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       p.is_synthetic,
       p.geom
FROM land.parcels p
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
LEFT JOIN LATERAL rules.current_parcel_finding('idle_land', p.zone_id, p.id) f ON true
WHERE layers.idle_register_class(p.status, f.review_status, f.outcome) IS NOT NULL;

-- Per-mu (亩均) evaluation: the class of every graded parcel; class D is the low-efficiency
-- candidate; parcels confirmed low-efficiency by the zone office show as such.
DROP VIEW IF EXISTS layers.per_mu CASCADE;
CREATE VIEW layers.per_mu AS
SELECT p.id,
       p.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       p.status,
       CASE WHEN p.status = 'low_efficiency' THEN 'low_efficiency_confirmed'
            ELSE coalesce(f.outcome, 'not_assessed') END AS mu_class,
       f.outcome,
       f.review_status,
       layers.json_number(f.evidence, 'year')       AS year,
       layers.json_number(f.evidence, 'score')      AS score,
       layers.json_number(f.evidence, 'rank')       AS rank,
       layers.json_number(f.evidence, 'percentile') AS percentile,
       f.explanation_zh,
       f.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       p.is_synthetic,
       p.geom
FROM land.parcels p
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
LEFT JOIN LATERAL rules.current_parcel_finding('per_mu', p.zone_id, p.id) f ON true
WHERE f.outcome IS NOT NULL OR p.status = 'low_efficiency';

-- Standardized grants (标准地) with the result of their performance review and notice check.
-- One feature per grant; ``code`` is the parcel's code (the map opens the parcel's detail).
DROP VIEW IF EXISTS layers.grants CASCADE;
CREATE VIEW layers.grants AS
SELECT g.id,
       p.code,
       g.contract_no,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       g.announced_on,
       g.granted_on,
       g.term_years,
       g.is_major_project,
       coalesce(r.outcome, 'not_assessed') AS review_result,
       r.evidence ->> 'stage' AS review_stage,
       coalesce(n.outcome, 'not_assessed') AS notice_result,
       r.explanation_zh,
       r.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       g.is_synthetic,
       p.geom
FROM land.land_grants g
JOIN land.parcels p ON p.id = g.parcel_id
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = g.enterprise_id
LEFT JOIN LATERAL rules.current_parcel_finding('grant_review', p.zone_id, g.parcel_id, g.id::text) r ON true
LEFT JOIN LATERAL rules.current_parcel_finding('grant_notice', p.zone_id, g.parcel_id, g.id::text) n ON true
WHERE g.is_standardized;

-- Mixed-use parcels and pilots: the floor-area shares and the mixed_use rule's verdict.
DROP VIEW IF EXISTS layers.mixed_use CASCADE;
CREATE VIEW layers.mixed_use AS
SELECT p.id,
       p.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       coalesce(f.outcome, 'not_assessed') AS mixed_result,
       (mp.id IS NOT NULL)  AS is_pilot,
       mp.pilot_ref,
       mp.approved_on       AS pilot_approved_on,
       (SELECT string_agg(c.land_use_code || ' ' || c.floor_share_pct::text || '%', ', '
                          ORDER BY c.floor_share_pct DESC, c.land_use_code)
        FROM land.mixed_use_components c WHERE c.parcel_id = p.id) AS shares,
       f.evidence ->> 'dominant_use' AS dominant_use,
       layers.json_number(f.evidence, 'dominant_share') AS dominant_share,
       f.explanation_zh,
       f.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       p.is_synthetic,
       p.geom
FROM land.parcels p
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
LEFT JOIN land.mixed_use_pilots mp ON mp.parcel_id = p.id
LEFT JOIN LATERAL rules.current_parcel_finding('mixed_use', p.zone_id, p.id) f ON true
WHERE mp.id IS NOT NULL
   OR f.outcome IS NOT NULL
   OR EXISTS (SELECT 1 FROM land.mixed_use_components c WHERE c.parcel_id = p.id);

-- Green-ratio balance: each parcel's surplus or deficit against the zone target, with the
-- zone's margin (the zone total decides, domain §5).
DROP VIEW IF EXISTS layers.green_balance CASCADE;
CREATE VIEW layers.green_balance AS
SELECT p.id,
       p.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       f.outcome            AS green_result,
       layers.json_number(f.evidence, 'green_ratio') AS green_ratio,
       layers.json_number(f.evidence, 'target')      AS target,
       layers.json_number(f.evidence, 'surplus_m2')  AS surplus_m2,
       zf.outcome           AS zone_result,
       layers.json_number(zf.evidence, 'margin_m2')  AS zone_margin_m2,
       f.explanation_zh,
       f.explanation_en,
       round(p.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       p.is_synthetic,
       p.geom
FROM land.parcels p
JOIN land.zones z ON z.id = p.zone_id
LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
JOIN LATERAL rules.current_parcel_finding('green_balance', p.zone_id, p.id) f ON true
LEFT JOIN LATERAL (
    SELECT c.outcome, c.evidence
    FROM rules.current_findings c
    WHERE c.zone_id = p.zone_id AND c.rule = 'green_balance_zone' AND c.subject_type = 'zone'
    ORDER BY c.as_of DESC, c.id DESC
    LIMIT 1
) zf ON true;
