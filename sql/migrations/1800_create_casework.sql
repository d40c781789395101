-- Casework (issue #20): what happens after a finding. A case (idle-land disposal, low-efficiency
-- exit, zone rectification) follows a pathway of steps; each step rests on an article, may run a
-- period (a parameter of gisapp.casework.params, with its source), and can be done only after the
-- steps it depends on. Money decided in a case (the idle-land fee, compensation, a repurchase
-- price) is kept with what it was based on and what was paid. docs/casework.md describes the
-- procedures; the triggers, row-level security and the opening from a confirmed finding are in
-- sql/security/0900_casework.sql.
--
-- The procedures are data (the reference tables below): a pathway is a set of steps with their
-- dependencies; a step's period names the parameter, never a number, so that the bureau's values
-- (rules.parameter_overrides) apply. Labels of every code are in gisapp/i18n.py.

-- 1. The procedures --------------------------------------------------------------------------------

CREATE TABLE land.case_kinds (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    code_prefix   text NOT NULL UNIQUE CHECK (code_prefix ~ '^[A-Z]{2}$'),  -- of the case codes: XZ-2026-00001
    subject       text NOT NULL CHECK (subject IN ('parcel', 'zone')),      -- what a case of the kind is about
    default_body  text NOT NULL,   -- the body responsible unless the case names another
    policy_ref    text NOT NULL,
    sort          smallint NOT NULL
);
INSERT INTO land.case_kinds (code, code_prefix, subject, default_body, policy_ref, sort) VALUES
  ('idle_land_disposal', 'XZ', 'parcel', '所在区规划和自然资源主管部门', '闲置土地处置办法（国土资源部令第53号）', 1),
  ('low_efficiency_exit', 'DX', 'parcel', '综合保税区管理机构', '关于促进本市综合保税区高质量发展的实施意见（2021）1.4', 2),
  ('zone_rectification', 'ZG', 'zone', '综合保税区管理机构', '关于促进本市综合保税区高质量发展的实施意见（2021）3.5', 3);

CREATE TABLE land.case_pathways (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    kind        text NOT NULL REFERENCES land.case_kinds (code),
    policy_ref  text NOT NULL,      -- the article that provides for the pathway
    -- the idle clock restarts from the new agreed start (Order No. 53 art. 12, except paid recovery)
    restarts_clock boolean NOT NULL DEFAULT false,
    sort        smallint NOT NULL,
    UNIQUE (kind, code)
);
INSERT INTO land.case_pathways (code, kind, policy_ref, restarts_clock, sort) VALUES
  ('idle_fee',            'idle_land_disposal', '第十四条第（一）项', false, 1),
  ('idle_recovery',       'idle_land_disposal', '第十四条第（二）项', false, 2),
  ('idle_extension',      'idle_land_disposal', '第八条、第十二条第（一）项、第十三条', true, 3),
  ('idle_change_of_use',  'idle_land_disposal', '第八条、第十二条第（二）项、第十三条', true, 4),
  ('idle_temporary_use',  'idle_land_disposal', '第八条、第十二条第（三）项、第十三条', true, 5),
  ('idle_paid_recovery',  'idle_land_disposal', '第八条、第十二条第（四）项、第十三条', false, 6),
  ('idle_swap',           'idle_land_disposal', '第八条、第十二条第（五）项、第十三条', true, 7),
  ('le_market_repurchase',        'low_efficiency_exit', '1.4 市场化回购退出', false, 1),
  ('le_quality_property_swap',    'low_efficiency_exit', '1.4 优质物业换低效用地', false, 2),
  ('le_surplus_land_transfer',    'low_efficiency_exit', '1.4 节余土地转让', false, 3),
  ('le_surplus_building_sublease', 'low_efficiency_exit', '1.4 节余房屋转租', false, 4),
  ('le_voluntary_exit',           'low_efficiency_exit', '1.4 自愿退出', false, 5),
  ('zr_rectification', 'zone_rectification', '3.5 低于东部地区平均水平：说明情况、整改方案、两年未整改约谈', false, 1),
  ('zr_exit',          'zone_rectification', '3.5 设立满5年、连续两年C类且全国排名后5位：启动退出程序', false, 2);

-- The documents a step issues (labels: case_document.<code> in gisapp/i18n.py).
CREATE TABLE land.case_document_kinds (
    code  text PRIMARY KEY CHECK (code ~ '^[a-z_]+$')
);
INSERT INTO land.case_document_kinds (code) VALUES
  ('investigation_notice'), ('idle_determination'), ('hearing_notice'), ('fee_decision'), ('recovery_decision'),
  ('disposal_plan'), ('supplementary_agreement'), ('temporary_use_agreement'), ('recovery_agreement'),
  ('swap_agreement'), ('repurchase_agreement'), ('transfer_contract'), ('sublease_approval'), ('exit_agreement'),
  ('enterprise_notice'), ('evaluation_notice'), ('rectification_plan'), ('interview_record'), ('exit_report');

-- A step of a pathway. ``anchor``: the step whose date starts the step's period (NULL: the day
-- the case was opened); ``period_param``: the parameter of gisapp.casework.params that gives the
-- period (NULL: no period); ``who``: 'zone' steps are recorded by the zone office (and the
-- bureau), 'bureau' steps are decisions of a bureau admin; ``results``: what the step may record
-- as its result (NULL: none); ``settles``: the money (case_money.purpose) that must be paid in
-- full before the step can be recorded; ``record``: a record the step must come with
-- (extension: land.case_extensions).
CREATE TABLE land.case_pathway_steps (
    pathway       text NOT NULL REFERENCES land.case_pathways (code),
    step          text NOT NULL CHECK (step ~ '^[a-z_]+$'),
    sort          smallint NOT NULL,
    who           text NOT NULL CHECK (who IN ('zone', 'bureau')),
    optional      boolean NOT NULL DEFAULT false,
    anchor        text,
    period_param  text CHECK (period_param ~ '^[a-z_]+$'),
    article       text NOT NULL,
    document      text REFERENCES land.case_document_kinds (code),
    results       text[],
    settles       text,
    record        text CHECK (record IN ('extension')),
    PRIMARY KEY (pathway, step),
    FOREIGN KEY (pathway, anchor) REFERENCES land.case_pathway_steps (pathway, step),
    CHECK (results IS NULL OR cardinality(results) > 0)
);

CREATE TABLE land.case_step_dependencies (
    pathway     text NOT NULL,
    step        text NOT NULL,
    depends_on  text NOT NULL,
    PRIMARY KEY (pathway, step, depends_on),
    FOREIGN KEY (pathway, step) REFERENCES land.case_pathway_steps (pathway, step),
    FOREIGN KEY (pathway, depends_on) REFERENCES land.case_pathway_steps (pathway, step),
    CHECK (step <> depends_on)
);

-- The steps, written once per group of pathways that share them (the investigation of Order
-- No. 53 art. 5-11 opens every idle-land pathway; the enterprise's notice and plan every exit).
CREATE TEMPORARY TABLE step_seed (
    pathways text[], step text, sort smallint, who text, optional boolean, anchor text, period_param text,
    article text, document text, results text[], settles text, record text, depends_on text[]
) ON COMMIT DROP;
INSERT INTO step_seed VALUES
  -- idle land: investigation and determination (every idle pathway)
  ('{idle_fee,idle_recovery,idle_extension,idle_change_of_use,idle_temporary_use,idle_paid_recovery,idle_swap}',
   'investigation_notice', 10, 'zone', false, NULL, 'investigation_days', '国土资源部令第53号第五条、第六条',
   'investigation_notice', NULL, NULL, NULL, '{}'),
  ('{idle_fee,idle_recovery,idle_extension,idle_change_of_use,idle_temporary_use,idle_paid_recovery,idle_swap}',
   'user_reply', 20, 'zone', false, 'investigation_notice', 'reply_days', '国土资源部令第53号第五条', NULL,
   '{received,none}', NULL, NULL, '{investigation_notice}'),
  ('{idle_fee,idle_recovery,idle_extension,idle_change_of_use,idle_temporary_use,idle_paid_recovery,idle_swap}',
   'determination', 30, 'bureau', false, 'user_reply', NULL, '国土资源部令第53号第九条、第十条', 'idle_determination',
   NULL, NULL, NULL, '{user_reply}'),
  ('{idle_fee,idle_recovery,idle_extension,idle_change_of_use,idle_temporary_use,idle_paid_recovery,idle_swap}',
   'publication', 40, 'zone', false, 'determination', NULL, '国土资源部令第53号第十一条', NULL, NULL, NULL, NULL,
   '{determination}'),
  -- user-caused: fee and recovery (art. 14-18)
  ('{idle_fee,idle_recovery}', 'hearing_notice', 50, 'zone', false, 'determination', NULL, '国土资源部令第53号第十五条',
   'hearing_notice', NULL, NULL, NULL, '{determination}'),
  ('{idle_fee,idle_recovery}', 'hearing', 60, 'zone', true, 'hearing_notice', 'hearing_request_working_days',
   '国土资源部令第53号第十五条；国土资源听证规定', NULL, '{held,waived}', NULL, NULL, '{hearing_notice}'),
  ('{idle_fee}', 'fee_decision', 70, 'bureau', false, 'hearing_notice', NULL, '国土资源部令第53号第十四条第（一）项、第十六条',
   'fee_decision', NULL, NULL, NULL, '{hearing_notice,publication}'),
  ('{idle_fee}', 'fee_paid', 80, 'zone', false, 'fee_decision', 'fee_payment_days', '国土资源部令第53号第十七条', NULL,
   NULL, 'idle_fee', NULL, '{fee_decision}'),
  ('{idle_recovery}', 'recovery_approval', 70, 'bureau', false, 'hearing_notice', NULL, '国土资源部令第53号第十四条第（二）项',
   NULL, NULL, NULL, NULL, '{hearing_notice,publication}'),
  ('{idle_recovery}', 'recovery_decision', 75, 'bureau', false, 'recovery_approval', NULL,
   '国土资源部令第53号第十四条第（二）项、第十六条', 'recovery_decision', NULL, NULL, NULL, '{recovery_approval}'),
  ('{idle_recovery}', 'registration_cancelled', 80, 'zone', false, 'recovery_decision', 'cancellation_days',
   '国土资源部令第53号第十七条、第十八条第（一）项', NULL, '{by_user,announced}', NULL, NULL, '{recovery_decision}'),
  ('{idle_fee}', 'reconsideration', 90, 'zone', true, 'fee_decision', 'reconsideration_days',
   '国土资源部令第53号第十七条；行政复议法第二十条', NULL, '{upheld,changed,revoked}', NULL, NULL, '{fee_decision}'),
  ('{idle_recovery}', 'reconsideration', 90, 'zone', true, 'recovery_decision', 'reconsideration_days',
   '国土资源部令第53号第十七条；行政复议法第二十条', NULL, '{upheld,changed,revoked}', NULL, NULL, '{recovery_decision}'),
  ('{idle_fee}', 'lawsuit', 91, 'zone', true, 'fee_decision', 'lawsuit_months',
   '国土资源部令第53号第十七条；行政诉讼法第四十六条', NULL, '{upheld,changed,revoked}', NULL, NULL, '{fee_decision}'),
  ('{idle_recovery}', 'lawsuit', 91, 'zone', true, 'recovery_decision', 'lawsuit_months',
   '国土资源部令第53号第十七条；行政诉讼法第四十六条', NULL, '{upheld,changed,revoked}', NULL, NULL, '{recovery_decision}'),
  ('{idle_fee}', 'enforcement', 95, 'bureau', true, 'fee_decision', NULL, '国土资源部令第53号第十八条第（二）项', NULL,
   NULL, NULL, NULL, '{fee_decision}'),
  ('{idle_recovery}', 'enforcement', 95, 'bureau', true, 'recovery_decision', NULL, '国土资源部令第53号第十八条第（二）项',
   NULL, NULL, NULL, NULL, '{recovery_decision}'),
  -- government-caused (art. 8): negotiated disposal by a plan the government approves (art. 12-13)
  ('{idle_extension,idle_change_of_use,idle_temporary_use,idle_paid_recovery,idle_swap}', 'disposal_plan_approved', 50,
   'bureau', false, 'publication', NULL, '国土资源部令第53号第十三条', 'disposal_plan', NULL, NULL, NULL, '{publication}'),
  ('{idle_extension}', 'supplementary_agreement', 60, 'bureau', false, 'disposal_plan_approved', NULL,
   '国土资源部令第53号第十二条第（一）项', 'supplementary_agreement', NULL, NULL, 'extension', '{disposal_plan_approved}'),
  ('{idle_change_of_use}', 'conditions_changed', 60, 'bureau', false, 'disposal_plan_approved', NULL,
   '国土资源部令第53号第十二条第（二）项', 'supplementary_agreement', NULL, NULL, NULL, '{disposal_plan_approved}'),
  ('{idle_temporary_use}', 'temporary_use_started', 60, 'bureau', false, 'disposal_plan_approved', NULL,
   '国土资源部令第53号第十二条第（三）项', 'temporary_use_agreement', NULL, NULL, NULL, '{disposal_plan_approved}'),
  ('{idle_temporary_use}', 'temporary_use_ended', 70, 'zone', false, 'temporary_use_started', 'temporary_use_max_years',
   '国土资源部令第53号第十二条第（三）项', NULL, NULL, NULL, NULL, '{temporary_use_started}'),
  ('{idle_paid_recovery}', 'recovery_agreement', 60, 'bureau', false, 'disposal_plan_approved', NULL,
   '国土资源部令第53号第十二条第（四）项', 'recovery_agreement', NULL, NULL, NULL, '{disposal_plan_approved}'),
  ('{idle_paid_recovery}', 'compensation_paid', 70, 'zone', false, 'recovery_agreement', NULL,
   '国土资源部令第53号第十二条第（四）项', NULL, NULL, 'compensation', NULL, '{recovery_agreement}'),
  ('{idle_paid_recovery}', 'registration_cancelled', 80, 'zone', false, 'recovery_agreement', NULL,
   '国土资源部令第53号第十二条第（四）项', NULL, '{by_user,announced}', NULL, NULL, '{recovery_agreement}'),
  ('{idle_swap}', 'swap_agreement', 60, 'bureau', false, 'disposal_plan_approved', NULL,
   '国土资源部令第53号第十二条第（五）项', 'swap_agreement', NULL, NULL, NULL, '{disposal_plan_approved}'),
  ('{idle_swap}', 'replacement_granted', 70, 'bureau', false, 'swap_agreement', NULL,
   '国土资源部令第53号第十二条第（五）项', NULL, NULL, NULL, NULL, '{swap_agreement}'),
  ('{idle_swap}', 'registration_cancelled', 80, 'zone', false, 'swap_agreement', NULL,
   '国土资源部令第53号第十二条第（五）项', NULL, '{by_user,announced}', NULL, NULL, '{swap_agreement}'),
  -- low-efficiency exit (2021 opinions 1.4): the enterprise is told and answers with a plan
  ('{le_market_repurchase,le_quality_property_swap,le_surplus_land_transfer,le_surplus_building_sublease,le_voluntary_exit}',
   'enterprise_notified', 10, 'zone', false, NULL, 'le_notice_days', '实施意见（2021）1.4', 'enterprise_notice', NULL,
   NULL, NULL, '{}'),
  ('{le_market_repurchase,le_quality_property_swap,le_surplus_land_transfer,le_surplus_building_sublease,le_voluntary_exit}',
   'enterprise_plan', 20, 'zone', false, 'enterprise_notified', 'le_plan_days', '实施意见（2021）1.4', NULL, NULL,
   NULL, NULL, '{enterprise_notified}'),
  ('{le_market_repurchase}', 'valuation', 30, 'zone', false, 'enterprise_plan', NULL, '实施意见（2021）1.4', NULL,
   NULL, NULL, NULL, '{enterprise_plan}'),
  ('{le_market_repurchase}', 'repurchase_agreement', 40, 'bureau', false, 'enterprise_plan', 'le_agreement_days',
   '实施意见（2021）1.4', 'repurchase_agreement', NULL, NULL, NULL, '{valuation}'),
  ('{le_market_repurchase}', 'price_paid', 50, 'zone', false, 'repurchase_agreement', NULL, '实施意见（2021）1.4', NULL,
   NULL, 'repurchase_price', NULL, '{repurchase_agreement}'),
  ('{le_market_repurchase}', 'registration_transferred', 60, 'zone', false, 'repurchase_agreement', 'le_handover_days',
   '实施意见（2021）1.4', NULL, NULL, NULL, NULL, '{price_paid}'),
  ('{le_quality_property_swap}', 'swap_agreement', 30, 'bureau', false, 'enterprise_plan', 'le_agreement_days',
   '实施意见（2021）1.4', 'swap_agreement', NULL, NULL, NULL, '{enterprise_plan}'),
  ('{le_quality_property_swap}', 'property_delivered', 40, 'zone', false, 'swap_agreement', NULL, '实施意见（2021）1.4',
   NULL, NULL, NULL, NULL, '{swap_agreement}'),
  ('{le_quality_property_swap}', 'registration_transferred', 50, 'zone', false, 'swap_agreement', 'le_handover_days',
   '实施意见（2021）1.4', NULL, NULL, NULL, NULL, '{property_delivered}'),
  ('{le_surplus_land_transfer}', 'split_plan', 30, 'zone', false, 'enterprise_plan', NULL, '实施意见（2021）1.4', NULL,
   NULL, NULL, NULL, '{enterprise_plan}'),
  ('{le_surplus_land_transfer}', 'parcel_split', 40, 'zone', false, 'split_plan', NULL, '实施意见（2021）1.4', NULL,
   NULL, NULL, NULL, '{split_plan}'),
  ('{le_surplus_land_transfer}', 'transfer_contract', 50, 'bureau', false, 'enterprise_plan', 'le_agreement_days',
   '实施意见（2021）1.4', 'transfer_contract', NULL, NULL, NULL, '{parcel_split}'),
  ('{le_surplus_land_transfer}', 'registration_transferred', 60, 'zone', false, 'transfer_contract', 'le_handover_days',
   '实施意见（2021）1.4', NULL, NULL, NULL, NULL, '{transfer_contract}'),
  ('{le_surplus_building_sublease}', 'sublease_approved', 30, 'bureau', false, 'enterprise_plan', 'le_agreement_days',
   '实施意见（2021）1.4', 'sublease_approval', NULL, NULL, NULL, '{enterprise_plan}'),
  ('{le_surplus_building_sublease}', 'sublease_contract', 40, 'zone', false, 'sublease_approved', 'le_handover_days',
   '实施意见（2021）1.4', NULL, NULL, NULL, NULL, '{sublease_approved}'),
  ('{le_voluntary_exit}', 'exit_agreement', 30, 'bureau', false, 'enterprise_plan', 'le_agreement_days',
   '实施意见（2021）1.4', 'exit_agreement', NULL, NULL, NULL, '{enterprise_plan}'),
  ('{le_voluntary_exit}', 'compensation_paid', 40, 'zone', false, 'exit_agreement', NULL, '实施意见（2021）1.4', NULL,
   NULL, 'compensation', NULL, '{exit_agreement}'),
  ('{le_voluntary_exit}', 'registration_transferred', 50, 'zone', false, 'exit_agreement', 'le_handover_days',
   '实施意见（2021）1.4', NULL, NULL, NULL, NULL, '{compensation_paid}'),
  -- zone rectification (2021 opinions 3.5)
  ('{zr_rectification}', 'evaluation_notified', 10, 'bureau', false, NULL, NULL, '实施意见（2021）3.5',
   'evaluation_notice', NULL, NULL, NULL, '{}'),
  ('{zr_rectification}', 'explanation_submitted', 20, 'zone', false, 'evaluation_notified', 'zr_explanation_days',
   '实施意见（2021）3.5', NULL, NULL, NULL, NULL, '{evaluation_notified}'),
  ('{zr_rectification}', 'plan_reported', 30, 'zone', false, 'evaluation_notified', 'zr_plan_days',
   '实施意见（2021）3.5', 'rectification_plan', NULL, NULL, NULL, '{explanation_submitted}'),
  ('{zr_rectification}', 'rectification_reviewed', 40, 'bureau', false, 'evaluation_notified', 'zr_rectification_years',
   '实施意见（2021）3.5', NULL, '{rectified,not_rectified}', NULL, NULL, '{plan_reported}'),
  ('{zr_rectification}', 'interview', 50, 'bureau', true, 'rectification_reviewed', NULL, '实施意见（2021）3.5',
   'interview_record', NULL, NULL, NULL, '{rectification_reviewed}'),
  ('{zr_exit}', 'exit_conditions_confirmed', 10, 'bureau', false, NULL, NULL, '实施意见（2021）3.5', NULL, NULL,
   NULL, NULL, '{}'),
  ('{zr_exit}', 'exit_reported', 20, 'bureau', false, 'exit_conditions_confirmed', NULL, '实施意见（2021）3.5',
   'exit_report', NULL, NULL, NULL, '{exit_conditions_confirmed}');

-- steps first without anchors (an anchor is a step of the same pathway), then the anchors
INSERT INTO land.case_pathway_steps (pathway, step, sort, who, optional, period_param, article, document, results,
                                     settles, record)
SELECT p, s.step, s.sort, s.who, s.optional, s.period_param, s.article, s.document, s.results, s.settles, s.record
FROM step_seed s CROSS JOIN LATERAL unnest(s.pathways) AS p;
UPDATE land.case_pathway_steps d SET anchor = s.anchor
FROM step_seed s WHERE d.pathway = ANY (s.pathways) AND d.step = s.step AND s.anchor IS NOT NULL;
INSERT INTO land.case_step_dependencies (pathway, step, depends_on)
SELECT p, s.step, dep
FROM step_seed s CROSS JOIN LATERAL unnest(s.pathways) AS p CROSS JOIN LATERAL unnest(s.depends_on) AS dep;

-- How a case may end: an outcome of its kind (of one pathway, or of any), with the steps that
-- must be done before a case can close with it.
CREATE TABLE land.case_outcomes (
    kind      text NOT NULL REFERENCES land.case_kinds (code),
    code      text NOT NULL CHECK (code ~ '^[a-z_]+$'),
    pathway   text REFERENCES land.case_pathways (code),
    requires  text[] NOT NULL DEFAULT '{}',
    frees_land boolean NOT NULL DEFAULT false,   -- the land goes back to the zone (counted as revitalized)
    PRIMARY KEY (kind, code)
);
INSERT INTO land.case_outcomes (kind, code, pathway, requires, frees_land) VALUES
  ('idle_land_disposal', 'fee_collected', 'idle_fee', '{fee_paid}', false),
  ('idle_land_disposal', 'recovered', 'idle_recovery', '{registration_cancelled}', true),
  ('idle_land_disposal', 'extended', 'idle_extension', '{supplementary_agreement}', false),
  ('idle_land_disposal', 'use_changed', 'idle_change_of_use', '{conditions_changed}', false),
  ('idle_land_disposal', 'temporary_use_ended', 'idle_temporary_use', '{temporary_use_ended}', false),
  ('idle_land_disposal', 'recovered_with_compensation', 'idle_paid_recovery',
   '{compensation_paid,registration_cancelled}', true),
  ('idle_land_disposal', 'swapped', 'idle_swap', '{replacement_granted,registration_cancelled}', true),
  ('idle_land_disposal', 'not_idle', NULL, '{}', false),
  ('idle_land_disposal', 'finding_withdrawn', NULL, '{}', false),
  ('low_efficiency_exit', 'repurchased', 'le_market_repurchase', '{registration_transferred}', true),
  ('low_efficiency_exit', 'swapped', 'le_quality_property_swap', '{registration_transferred}', true),
  ('low_efficiency_exit', 'surplus_transferred', 'le_surplus_land_transfer', '{registration_transferred}', true),
  ('low_efficiency_exit', 'surplus_sublet', 'le_surplus_building_sublease', '{sublease_contract}', false),
  ('low_efficiency_exit', 'exited', 'le_voluntary_exit', '{registration_transferred}', true),
  ('low_efficiency_exit', 'improved', NULL, '{}', false),
  ('low_efficiency_exit', 'finding_withdrawn', NULL, '{}', false),
  ('zone_rectification', 'rectified', 'zr_rectification', '{rectification_reviewed}', false),
  ('zone_rectification', 'interviewed', 'zr_rectification', '{interview}', false),
  ('zone_rectification', 'exit_started', 'zr_exit', '{exit_reported}', false),
  ('zone_rectification', 'finding_withdrawn', NULL, '{}', false);

-- Which confirmed finding opens which case (sql/security/0900_casework.sql): the rule's outcome,
-- and optionally a flag of its evidence that picks another pathway (the most specific row wins).
CREATE TABLE land.case_openers (
    rule           text NOT NULL,
    outcome        text NOT NULL,
    evidence_flag  text NOT NULL DEFAULT '',   -- '' for any finding of the outcome
    kind           text NOT NULL,
    pathway        text NOT NULL,
    PRIMARY KEY (rule, outcome, evidence_flag),
    FOREIGN KEY (kind, pathway) REFERENCES land.case_pathways (kind, code)
);
INSERT INTO land.case_openers (rule, outcome, evidence_flag, kind, pathway) VALUES
  ('idle_land', 'idle_not_started', '', 'idle_land_disposal', 'idle_fee'),
  ('idle_land', 'idle_not_started', 'recovery_candidate', 'idle_land_disposal', 'idle_recovery'),
  ('idle_land', 'idle_stalled', '', 'idle_land_disposal', 'idle_fee'),
  ('idle_land', 'idle_stalled', 'recovery_candidate', 'idle_land_disposal', 'idle_recovery'),
  ('per_mu', 'class_d', '', 'low_efficiency_exit', 'le_market_repurchase'),
  ('zone_performance', 'rectification', '', 'zone_rectification', 'zr_rectification'),
  ('zone_performance', 'exit_risk', '', 'zone_rectification', 'zr_exit');

-- 2. The cases -------------------------------------------------------------------------------------

CREATE TABLE land.cases (
    id                  bigserial PRIMARY KEY,
    code                text NOT NULL UNIQUE,       -- XZ-2026-00001: written by trigger from kind, year, id
    kind                text NOT NULL REFERENCES land.case_kinds (code),
    pathway             text NOT NULL,
    parcel_id           bigint REFERENCES land.parcels (id) ON DELETE CASCADE,
    zone_id             integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    grant_id            integer REFERENCES land.land_grants (id) ON DELETE SET NULL,
    -- the confirmed finding that opened it (a plain id: findings are pruned by run), what it said,
    -- and when it was confirmed (a review a later run carries over keeps that time)
    finding_id          bigint,
    finding_rule        text,
    finding_outcome     text,
    finding_reviewed_at timestamptz,
    -- the day the idle period runs from (agreed start, or the suspension), when known: the fee
    -- and the recovery are counted in full years from it
    idle_clock_from     date,
    responsible_body    text NOT NULL CHECK (length(btrim(responsible_body)) > 0),
    opened_on           date NOT NULL,
    opened_by           text NOT NULL,
    opened_via          text NOT NULL CHECK (opened_via IN ('finding', 'hand')),
    outcome             text,
    closed_on           date,
    closed_by           text,
    freed_area_m2       double precision CHECK (freed_area_m2 >= 0),
    note                text,
    version             integer NOT NULL DEFAULT 1,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text NOT NULL DEFAULT current_user,
    FOREIGN KEY (kind, pathway) REFERENCES land.case_pathways (kind, code),
    FOREIGN KEY (kind, outcome) REFERENCES land.case_outcomes (kind, code),
    CONSTRAINT cases_closed_has_outcome CHECK ((outcome IS NULL) = (closed_on IS NULL)),
    CONSTRAINT cases_closed_by CHECK ((closed_on IS NULL) = (closed_by IS NULL)),
    CONSTRAINT cases_closed_after_opened CHECK (closed_on IS NULL OR closed_on >= opened_on),
    CONSTRAINT cases_finding_named CHECK (opened_via <> 'finding' OR (finding_id IS NOT NULL AND finding_rule IS NOT NULL)),
    CONSTRAINT cases_opened_on_not_future CHECK (opened_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT cases_closed_on_not_future CHECK (closed_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT cases_freed_area_m2_finite CHECK (freed_area_m2 > '-Infinity' AND freed_area_m2 < 'Infinity')
);
-- one open case per parcel and kind (per zone and kind for a zone's case)
CREATE UNIQUE INDEX cases_one_open_per_parcel ON land.cases (parcel_id, kind)
    WHERE closed_on IS NULL AND parcel_id IS NOT NULL;
CREATE UNIQUE INDEX cases_one_open_per_zone ON land.cases (zone_id, kind)
    WHERE closed_on IS NULL AND parcel_id IS NULL;
CREATE INDEX cases_zone_idx ON land.cases (zone_id, kind);
CREATE INDEX cases_parcel_idx ON land.cases (parcel_id);

CREATE TABLE land.case_steps (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES land.cases (id) ON DELETE CASCADE,
    pathway     text NOT NULL,     -- the case's pathway when the step was recorded (set by trigger)
    step        text NOT NULL,
    -- when it happened; for a notice or decision the day it was served (a period it starts runs
    -- from the day after)
    done_on     date NOT NULL,
    due_on      date,              -- the deadline that applied, as gisapp.casework counted it
    period      jsonb,             -- how: parameter, value, unit, source, effective date, holiday rule
    result      text,
    done_by     text NOT NULL,     -- who recorded it (set by trigger: the verified user)
    note        text,
    article     text NOT NULL,     -- what it rests on (copied from the pathway's step by trigger)
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user,
    UNIQUE (case_id, step),
    FOREIGN KEY (pathway, step) REFERENCES land.case_pathway_steps (pathway, step),
    CONSTRAINT case_steps_due_has_period CHECK (due_on IS NULL OR period IS NOT NULL),
    CONSTRAINT case_steps_done_on_not_future CHECK (done_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date)
);

-- Money decided in a case: what, how much and on what basis, when decided, served and due, and
-- what was paid (cumulative) by when.
CREATE TABLE land.case_money (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES land.cases (id) ON DELETE CASCADE,
    step_id     bigint REFERENCES land.case_steps (id) ON DELETE CASCADE,   -- the decision or agreement
    purpose     text NOT NULL CHECK (purpose IN ('idle_fee', 'compensation', 'repurchase_price', 'price_adjustment')),
    payer       text NOT NULL CHECK (payer IN ('land_user', 'government')),
    amount_wan  numeric(14, 2) NOT NULL CHECK (amount_wan >= 0),
    basis       text NOT NULL CHECK (length(btrim(basis)) > 0),   -- e.g. 出让价款 1200.00 万元 × 20%
    base_wan    numeric(14, 2) CHECK (base_wan >= 0),              -- what the rate applies to
    rate        numeric(6, 4) CHECK (rate >= 0 AND rate <= 1),
    decided_on  date NOT NULL,
    served_on   date,
    due_on      date,
    period      jsonb,             -- how due_on was counted (as case_steps.period)
    paid_wan    numeric(14, 2) NOT NULL DEFAULT 0 CHECK (paid_wan >= 0),
    paid_on     date,              -- the day the amount paid so far was complete
    note        text,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user,
    CONSTRAINT case_money_paid_within_amount CHECK (paid_wan <= amount_wan),
    CONSTRAINT case_money_paid_dated CHECK ((paid_wan > 0) = (paid_on IS NOT NULL)),
    CONSTRAINT case_money_rate_and_base CHECK ((rate IS NULL) = (base_wan IS NULL)),
    CONSTRAINT case_money_amount_is_rate_of_base CHECK (rate IS NULL OR amount_wan = round(base_wan * rate, 2)),
    CONSTRAINT case_money_served_after_decided CHECK (served_on IS NULL OR served_on >= decided_on),
    CONSTRAINT case_money_due_after_start CHECK (due_on IS NULL OR due_on >= coalesce(served_on, decided_on)),
    CONSTRAINT case_money_due_has_period CHECK (due_on IS NULL OR period IS NOT NULL),
    CONSTRAINT case_money_paid_after_decided CHECK (paid_on IS NULL OR paid_on >= decided_on),
    CONSTRAINT case_money_decided_on_not_future CHECK (decided_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT case_money_served_on_not_future CHECK (served_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT case_money_paid_on_not_future CHECK (paid_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT case_money_amount_wan_finite CHECK (amount_wan > '-Infinity' AND amount_wan < 'Infinity'),
    CONSTRAINT case_money_base_wan_finite CHECK (base_wan > '-Infinity' AND base_wan < 'Infinity'),
    CONSTRAINT case_money_rate_finite CHECK (rate > '-Infinity' AND rate < 'Infinity'),
    CONSTRAINT case_money_paid_wan_finite CHECK (paid_wan > '-Infinity' AND paid_wan < 'Infinity')
);
CREATE INDEX case_money_case_idx ON land.case_money (case_id);

-- The documents a case issued: which, its number (文号), when. The files themselves are for
-- whoever generates them to add.
CREATE TABLE land.case_documents (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES land.cases (id) ON DELETE CASCADE,
    step_id     bigint REFERENCES land.case_steps (id) ON DELETE CASCADE,
    kind        text NOT NULL REFERENCES land.case_document_kinds (code),
    doc_no      text CHECK (length(btrim(doc_no)) > 0),
    issued_on   date NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user,
    CONSTRAINT case_documents_issued_on_not_future CHECK (issued_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date)
);
CREATE INDEX case_documents_case_idx ON land.case_documents (case_id);

-- An extension of the start period by supplementary agreement (Order No. 53 art. 12 (1)): the
-- new agreed start is written to the grant, where the idle rule reads it (by trigger); the dates
-- it replaced stay here. ``latest_start_on``: the end of the extended start period, at most
-- ``cap_years`` full years from the new agreed start (the cap in force, recorded with its source).
CREATE TABLE land.case_extensions (
    id                      bigserial PRIMARY KEY,
    case_id                 bigint NOT NULL REFERENCES land.cases (id) ON DELETE CASCADE,
    step_id                 bigint NOT NULL UNIQUE REFERENCES land.case_steps (id) ON DELETE CASCADE,
    grant_id                integer NOT NULL REFERENCES land.land_grants (id) ON DELETE CASCADE,
    agreed_on               date NOT NULL,
    previous_start_on       date NOT NULL,
    previous_completion_on  date,
    new_start_on            date NOT NULL,
    new_completion_on       date,
    latest_start_on         date NOT NULL,
    cap_years               smallint NOT NULL CHECK (cap_years > 0),
    cap_source              text NOT NULL,
    version                 integer NOT NULL DEFAULT 1,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              text NOT NULL DEFAULT current_user,
    CONSTRAINT case_extensions_later_start CHECK (new_start_on > previous_start_on),
    CONSTRAINT case_extensions_completion_after_start CHECK (new_completion_on IS NULL OR new_completion_on >= new_start_on),
    CONSTRAINT case_extensions_latest_after_start CHECK (latest_start_on >= new_start_on),
    -- date + interval counts years as the Civil Code does (29 February + 1 year = 28 February)
    CONSTRAINT case_extensions_within_cap
        CHECK (latest_start_on <= CAST(new_start_on + make_interval(years => cap_years) AS date)),
    CONSTRAINT case_extensions_agreed_on_not_future CHECK (agreed_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date)
);
CREATE INDEX case_extensions_case_idx ON land.case_extensions (case_id);
