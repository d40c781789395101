-- Schemas, extensions and the reference tables (codes) every other table points at.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE SCHEMA IF NOT EXISTS land;    -- base tables
CREATE SCHEMA IF NOT EXISTS layers;  -- views that are map-layer sources
CREATE SCHEMA IF NOT EXISTS rules;   -- rule parameters, assessment runs, findings
CREATE SCHEMA IF NOT EXISTS auth;    -- users of the application
CREATE SCHEMA IF NOT EXISTS audit;   -- change history

-- What this database holds (e.g. synthetic demo data), shown wherever the data is shown.
CREATE TABLE gisapp_meta.dataset (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- National land and sea use classification (国土空间调查、规划、用途管制用地用海分类指南, 2023).
CREATE TABLE land.land_use_codes (
    code      text PRIMARY KEY CHECK (code ~ '^[0-9]{2}([0-9]{2}([0-9]{2})?)?$'),
    name_zh   text NOT NULL,
    name_en   text NOT NULL,
    category  text NOT NULL CHECK (category IN ('residential', 'public', 'commercial', 'industrial',
                  'logistics', 'transport', 'utility', 'green', 'reserve', 'research', 'other')),
    is_green  boolean NOT NULL DEFAULT false
);

INSERT INTO land.land_use_codes (code, name_zh, name_en, category, is_green) VALUES
  ('0701',   '城镇住宅用地',     'Urban residential',                 'residential', false),
  ('0801',   '机关团体用地',     'Government and organisations',      'public',      false),
  ('0802',   '科研用地',         'Research',                          'research',    false),
  ('0901',   '商业用地',         'Commercial',                        'commercial',  false),
  ('0902',   '商务金融用地',     'Business and finance',              'commercial',  false),
  ('1001',   '工业用地',         'Industrial',                        'industrial',  false),
  ('100101', '一类工业用地',     'Industrial, class 1',               'industrial',  false),
  ('100102', '二类工业用地',     'Industrial, class 2',               'industrial',  false),
  ('100103', '三类工业用地',     'Industrial, class 3',               'industrial',  false),
  ('1101',   '物流仓储用地',     'Logistics and warehousing',         'logistics',   false),
  ('110101', '一类物流仓储用地', 'Logistics and warehousing, class 1', 'logistics',  false),
  ('110102', '二类物流仓储用地', 'Logistics and warehousing, class 2', 'logistics',  false),
  ('110103', '三类物流仓储用地', 'Logistics and warehousing, class 3', 'logistics',  false),
  ('1102',   '储备库用地',       'Reserve depots',                    'logistics',   false),
  ('1207',   '城镇道路用地',     'Urban roads',                       'transport',   false),
  ('1208',   '交通场站用地',     'Transport stations',                'transport',   false),
  ('13',     '公用设施用地',     'Utilities',                         'utility',     false),
  ('1401',   '公园绿地',         'Parks',                             'green',       true),
  ('1402',   '防护绿地',         'Protective green',                  'green',       true),
  ('1403',   '广场用地',         'Squares',                           'green',       false),
  ('16',     '留白用地',         'Reserved (white) land',             'reserve',     false);

-- Legacy GB 50137-2011 codes found in older data, mapped to the national classification.
CREATE TABLE land.legacy_land_use_codes (
    legacy_code text PRIMARY KEY,
    system      text NOT NULL DEFAULT 'GB 50137-2011',
    name_zh     text NOT NULL,
    code        text NOT NULL REFERENCES land.land_use_codes (code)
);

INSERT INTO land.legacy_land_use_codes (legacy_code, name_zh, code) VALUES
  ('M1', '一类工业用地', '100101'), ('M2', '二类工业用地', '100102'), ('M3', '三类工业用地', '100103'),
  ('W1', '一类物流仓储用地', '110101'), ('W2', '二类物流仓储用地', '110102'),
  ('W3', '三类物流仓储用地', '110103'), ('G1', '公园绿地', '1401'), ('G2', '防护绿地', '1402'),
  ('G3', '广场用地', '1403'), ('B1', '商业用地', '0901'), ('B2', '商务用地', '0902'),
  ('A35', '科研用地', '0802'), ('S1', '城市道路用地', '1207'), ('S4', '交通场站用地', '1208'),
  ('U', '公用设施用地', '13'), ('R', '居住用地', '0701');

-- Parcel lifecycle (domain §6): the statuses and the allowed transitions, as data.
CREATE TABLE land.parcel_statuses (
    code     text PRIMARY KEY,
    name_zh  text NOT NULL,
    name_en  text NOT NULL,
    sort     smallint NOT NULL
);

INSERT INTO land.parcel_statuses (code, name_zh, name_en, sort) VALUES
  ('approved_unsupplied', '批而未供', 'Approved, not supplied', 1),
  ('granted_unbuilt',     '供而未建', 'Granted, not built',     2),
  ('under_construction',  '在建',     'Under construction',     3),
  ('completed',           '已竣工',   'Completed',              4),
  ('in_production',       '已投产',   'In production',          5),
  ('idle',                '闲置（已认定）', 'Idle (confirmed)', 6),
  ('low_efficiency',      '低效（已认定）', 'Low-efficiency (confirmed)', 7),
  ('in_disposal',         '处置中',   'In disposal',            8),
  ('reclaimed',           '已收回',   'Reclaimed',              9),
  ('transferred',         '已转让/转租', 'Transferred / sublet', 10),
  ('exited',              '已退出',   'Exited',                 11);

CREATE TABLE land.parcel_status_transitions (
    from_status text NOT NULL REFERENCES land.parcel_statuses (code),
    to_status   text NOT NULL REFERENCES land.parcel_statuses (code),
    PRIMARY KEY (from_status, to_status),
    CHECK (from_status <> to_status)
);

INSERT INTO land.parcel_status_transitions (from_status, to_status) VALUES
  ('approved_unsupplied', 'granted_unbuilt'),
  ('granted_unbuilt', 'under_construction'), ('granted_unbuilt', 'idle'),
  ('granted_unbuilt', 'in_disposal'), ('granted_unbuilt', 'reclaimed'),
  ('under_construction', 'completed'), ('under_construction', 'idle'),
  ('under_construction', 'in_disposal'), ('under_construction', 'reclaimed'),
  ('completed', 'in_production'), ('completed', 'idle'), ('completed', 'low_efficiency'),
  ('completed', 'transferred'), ('completed', 'in_disposal'),
  ('in_production', 'low_efficiency'), ('in_production', 'idle'), ('in_production', 'transferred'),
  ('in_production', 'in_disposal'), ('in_production', 'exited'),
  ('idle', 'under_construction'), ('idle', 'in_disposal'), ('idle', 'reclaimed'),
  ('low_efficiency', 'in_production'), ('low_efficiency', 'in_disposal'),
  ('low_efficiency', 'transferred'), ('low_efficiency', 'exited'),
  ('in_disposal', 'under_construction'), ('in_disposal', 'in_production'),
  ('in_disposal', 'reclaimed'), ('in_disposal', 'transferred'), ('in_disposal', 'exited'),
  ('reclaimed', 'approved_unsupplied'),
  ('transferred', 'under_construction'), ('transferred', 'in_production'),
  ('exited', 'approved_unsupplied');

-- Reasons that exempt land from idle-land disposal (MLR Order No. 53, art. 8).
CREATE TABLE land.idle_exemption_reasons (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);

INSERT INTO land.idle_exemption_reasons (code, name_zh, name_en) VALUES
  ('land_not_delivered', '未按约定交付土地', 'Land not delivered as agreed'),
  ('plan_revision',      '规划调整',         'Plan revision'),
  ('state_policy',       '国家政策调整',     'New state policy'),
  ('petition',           '信访等群体性事件未解决', 'Unresolved petitions'),
  ('military_relic',     '军事管制、文物保护', 'Military or cultural-relic control'),
  ('government_act',     '其他政府行为',     'Other government acts'),
  ('force_majeure',      '不可抗力',         'Force majeure');

-- Kinds of zone-level comprehensive regional evaluation (区域评估, opinions 1.6).
CREATE TABLE land.assessment_kinds (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);

INSERT INTO land.assessment_kinds (code, name_zh, name_en) VALUES
  ('environment',        '环境影响评价',     'Environmental impact'),
  ('water_resources',    '水资源论证',       'Water resources'),
  ('geological_hazard',  '地质灾害危险性评估', 'Geological hazard'),
  ('flood',              '洪水影响评价',     'Flood impact'),
  ('soil_water',         '水土保持',         'Soil and water conservation'),
  ('energy',             '节能评估',         'Energy conservation');

-- Quota resources: energy in tonnes of standard coal equivalent, pollutants in t/yr.
CREATE TABLE land.quota_resources (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL,
    unit    text NOT NULL
);

INSERT INTO land.quota_resources (code, name_zh, name_en, unit) VALUES
  ('energy', '能耗', 'Energy', 'tce'),
  ('cod',    '化学需氧量', 'COD', 't/yr'),
  ('nh3n',   '氨氮', 'NH3-N', 't/yr'),
  ('so2',    '二氧化硫', 'SO2', 't/yr'),
  ('nox',    '氮氧化物', 'NOx', 't/yr'),
  ('vocs',   '挥发性有机物', 'VOCs', 't/yr');

-- Performance indicators a standardized grant can require (标准地 conditions).
CREATE TABLE land.performance_indicators (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL,
    unit    text NOT NULL
);

INSERT INTO land.performance_indicators (code, name_zh, name_en, unit) VALUES
  ('investment_intensity', '固定资产投资强度', 'Fixed-asset investment intensity', '万元/亩'),
  ('plot_ratio',           '容积率',           'Plot ratio',                       ''),
  ('energy_per_output',    '单位产值能耗',     'Energy per unit of output',        'tce/万元'),
  ('emissions_per_output', '单位产值排放',     'Emissions per unit of output',     't/万元'),
  ('tax_per_mu',           '亩均税收',         'Tax per mu',                       '万元/亩'),
  ('output_per_mu',        '亩均产值',         'Output per mu',                    '万元/亩'),
  ('rd_share',             '研发投入占比',     'R&D share of revenue',             '%');
