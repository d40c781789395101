-- The construction-land quota (用地指标) as a resource of the quota ledger (issue #18): the
-- opinions (SMPG GO [2021] No. 1 §1.3) reserve construction land for key projects in the zones,
-- allocated city -> district -> zone -> project like the energy and pollutant quotas (§1.5), in
-- hectares. The ledger's amounts are numeric(16, 3): a thousandth of a hectare is 10 m².
INSERT INTO land.quota_resources (code, name_zh, name_en, unit) VALUES
  ('construction_land', '用地指标', 'Construction land', 'ha')
ON CONFLICT (code) DO NOTHING;
