-- The revitalization record and zone rectification (issue #20). Re-applied by every `gisapp
-- migrate`; the grants are sql/security/0300_roles_and_rls.sql's (every relation of land and
-- layers), and security_invoker makes the row-level security of the case tables apply to
-- whoever reads (a zone editor acting in the app reads its zones' cases only).

-- Each case and the stage it stands at: the stage of the latest step recorded in it
-- (land.case_step_stages, migration 1872), 'opened' before the first.
DROP VIEW IF EXISTS land.case_stage_now CASCADE;
CREATE VIEW land.case_stage_now WITH (security_barrier = true, security_invoker = true) AS
SELECT c.id AS case_id, c.code AS case_code, c.kind, c.pathway, c.zone_id, c.parcel_id, c.opened_on,
       c.closed_on, c.outcome, st.code AS stage, st.sort AS stage_sort, l.step AS last_step,
       l.done_on AS last_step_on
FROM land.cases c
LEFT JOIN LATERAL (
    SELECT s.step, s.done_on, ss.stage
    FROM land.case_steps s
    JOIN land.case_pathway_steps d ON d.pathway = s.pathway AND d.step = s.step
    JOIN land.case_step_stages ss ON ss.step = s.step
    WHERE s.case_id = c.id
    ORDER BY s.done_on DESC, d.sort DESC, s.id DESC
    LIMIT 1) l ON true
JOIN land.case_stages st ON st.code = coalesce(l.stage, 'opened');

-- The map layer of open cases by stage (layers/cases.yml): a parcel's open case drawn on the
-- parcel (a zone's case has no parcel to draw: the revitalization page lists those).
DROP VIEW IF EXISTS layers.open_cases CASCADE;
CREATE VIEW layers.open_cases WITH (security_barrier = true, security_invoker = true) AS
SELECT c.case_id AS id,
       p.code,
       c.case_code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       c.kind,
       c.stage,
       c.last_step_on,
       c.opened_on,
       round(p.area_m2::numeric, 1) AS area_m2,
       p.is_synthetic,
       p.geom
FROM land.case_stage_now c
JOIN land.parcels p ON p.id = c.parcel_id
JOIN land.zones z ON z.id = c.zone_id
WHERE c.closed_on IS NULL;

-- Zone rectification flags from the published national results (land.zone_national_results;
-- the 2021 opinions 3.5), for each zone's latest evaluated year up to the year of ``p_as_of``:
--   rectification  below the average of its region that year: explanation and rectification plan
--   interview      below it in each of the ``p_rectify_years`` + 1 years up to then (the years
--                  given to rectify passed without the zone rising to the average)
--   exit           set up ``p_exit_min_years`` full years by ``p_as_of`` (approved_on + years <=
--                  p_as_of, as the Civil Code counts years), and in each of the ``p_exit_years``
--                  years up to then class ``p_exit_class`` nationally and regionally and among the
--                  national bottom ``p_exit_bottom_n`` (rank > count - n)
-- Consecutive means evaluated years next to each other: a year without a published result breaks
-- the run. The parameters come from gisapp.revitalization.params (the project's one parameter
-- mechanism); gisapp/revitalization/rectification.py calls this with them.
CREATE OR REPLACE FUNCTION land.zone_rectification_flags(
    p_as_of date, p_rectify_years integer, p_exit_min_years integer, p_exit_years integer,
    p_exit_bottom_n integer, p_exit_class text DEFAULT 'C')
RETURNS TABLE (zone_id integer, year smallint, national_class text, regional_class text, national_rank integer,
               national_count integer, below_region_average boolean, below_years integer, exit_years integer,
               set_up_on date, set_up_full_years boolean, rectification boolean, interview boolean,
               exit_due boolean, source text)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT n.*, coalesce(n.national_class = p_exit_class AND n.regional_class = p_exit_class
                             AND n.national_rank > n.national_count - p_exit_bottom_n, false) AS exit_year
        FROM land.zone_national_results n
        WHERE n.year <= extract(year FROM p_as_of)
    ), latest AS (
        SELECT DISTINCT ON (r.zone_id) r.* FROM r ORDER BY r.zone_id, r.year DESC
    ), runs AS (
        -- islands of consecutive years meeting each condition: year - row_number() is constant
        SELECT r.zone_id, 'below' AS what, max(r.year) AS last_year, count(*)::integer AS n
        FROM (SELECT r.zone_id, r.year, r.year - row_number() OVER (PARTITION BY r.zone_id ORDER BY r.year) AS island
              FROM r WHERE r.below_region_average) r
        GROUP BY r.zone_id, r.island
        UNION ALL
        SELECT r.zone_id, 'exit', max(r.year), count(*)::integer
        FROM (SELECT r.zone_id, r.year, r.year - row_number() OVER (PARTITION BY r.zone_id ORDER BY r.year) AS island
              FROM r WHERE r.exit_year) r
        GROUP BY r.zone_id, r.island
    )
    SELECT l.zone_id, l.year, l.national_class, l.regional_class, l.national_rank, l.national_count,
           l.below_region_average, coalesce(b.n, 0), coalesce(e.n, 0), z.approved_on,
           coalesce(CAST(z.approved_on + make_interval(years => p_exit_min_years) AS date) <= p_as_of, false),
           coalesce(b.n, 0) >= 1,
           coalesce(b.n, 0) >= p_rectify_years + 1,
           coalesce(e.n, 0) >= p_exit_years
               AND coalesce(CAST(z.approved_on + make_interval(years => p_exit_min_years) AS date) <= p_as_of, false),
           l.source
    FROM latest l
    JOIN land.zones z ON z.id = l.zone_id
    LEFT JOIN runs b ON b.zone_id = l.zone_id AND b.what = 'below' AND b.last_year = l.year
    LEFT JOIN runs e ON e.zone_id = l.zone_id AND e.what = 'exit' AND e.last_year = l.year
    ORDER BY l.zone_id
$$;
