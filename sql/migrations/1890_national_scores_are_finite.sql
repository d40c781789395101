-- Numbers are finite wherever a number is stored (migration 1300): the published national
-- results' score and regional average too (migration 1871 made them without the check).
ALTER TABLE land.zone_national_results
    ADD CONSTRAINT zone_national_results_score_finite CHECK (score > '-Infinity' AND score < 'Infinity'),
    ADD CONSTRAINT zone_national_results_region_average_finite
        CHECK (region_average > '-Infinity' AND region_average < 'Infinity');
