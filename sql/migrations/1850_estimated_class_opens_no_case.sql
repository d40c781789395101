-- The class a zone receives is the published national result (2021 opinions 3.5; recorded per
-- year in land.zone_national_results, and the rectification flags open zone cases from it:
-- gisapp.revitalization.rectification). The project's own ranking (rule zone_performance) is an
-- estimate over the zones it holds: confirming it must not open a rectification or exit case.
DELETE FROM land.case_openers WHERE rule = 'zone_performance';
