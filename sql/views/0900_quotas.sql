-- Energy, pollutant and construction-land quotas on the map (issue #18): each district's account
-- of one year of the ledger, what it received, passed on and has left, what its district used,
-- its escalations to the city, and the quota_balance rule's verdict on the account
-- (rules.current_findings: the map never re-implements the rule).
--
-- Which year: the transaction's gisapp.year setting (gisapp_meta.reading_year(), set by the map's
-- year choice through gisapp.queries.years), else the latest year each resource has accounts for.
-- The dashboard shows every year.
--
-- balance = received - passed on - used by the district account itself: the rule's balance, what
-- the district still holds unallocated; remaining_share = balance / received.

-- The year a session reads the quota layers for: the transaction's gisapp.year, else NULL (latest).
CREATE OR REPLACE FUNCTION gisapp_meta.reading_year() RETURNS smallint
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('gisapp.year', true), '')::smallint
$$;

-- The years the ledger has district accounts for: the map's year choice.
DROP VIEW IF EXISTS layers.quota_years CASCADE;
CREATE VIEW layers.quota_years AS
SELECT DISTINCT a.year FROM land.quota_accounts a WHERE a.level = 'district';

DROP VIEW IF EXISTS layers.quota_district_balances CASCADE;
CREATE VIEW layers.quota_district_balances AS
WITH RECURSIVE d AS (
    SELECT a.id, a.year, a.resource, a.district_id
    FROM land.quota_accounts a
    WHERE a.level = 'district'
      AND a.year = coalesce(gisapp_meta.reading_year(),
                            (SELECT max(x.year) FROM land.quota_accounts x
                             WHERE x.level = 'district' AND x.resource = a.resource))
), tree AS (
    SELECT d.id AS root, d.id FROM d
    UNION ALL
    SELECT tree.root, c.id FROM land.quota_accounts c JOIN tree ON c.parent_id = tree.id
), moves AS (
    SELECT d.id,
           coalesce(sum(l.amount) FILTER (WHERE l.to_account_id = d.id
                                          AND l.entry_type IN ('allocation', 'transfer')), 0) AS quota_in,
           coalesce(sum(l.amount) FILTER (WHERE l.from_account_id = d.id
                                          AND l.entry_type IN ('allocation', 'transfer')), 0) AS passed_on,
           coalesce(sum(l.amount) FILTER (WHERE l.from_account_id = d.id AND l.entry_type = 'use'), 0) AS own_use,
           coalesce(sum(l.amount) FILTER (WHERE l.from_account_id = d.id AND l.entry_type = 'escalation'), 0)
               AS escalated,
           string_agg(l.recorded_on::text || ': ' || trim(to_char(l.amount, 'FM999999999990.999'), '.'),
                      '; ' ORDER BY l.recorded_on) FILTER (WHERE l.from_account_id = d.id
                                                          AND l.entry_type = 'escalation') AS escalations
    FROM d LEFT JOIN land.quota_ledger l ON l.from_account_id = d.id OR l.to_account_id = d.id
    GROUP BY d.id
), uses AS (
    SELECT tree.root, sum(l.amount) AS used
    FROM tree JOIN land.quota_ledger l ON l.from_account_id = tree.id AND l.entry_type = 'use'
    GROUP BY tree.root
), requests AS (
    SELECT tree.root, count(*) AS escalated_requests
    FROM tree JOIN land.quota_requests q ON q.account_id = tree.id AND q.status = 'escalated'
    GROUP BY tree.root
)
SELECT d.id             AS account_id,
       d.district_id,
       d.year,
       d.resource,
       r.name_zh         AS resource_zh,
       r.name_en         AS resource_en,
       r.unit,
       m.quota_in        AS quota,
       m.passed_on       AS allocated,
       coalesce(u.used, 0) AS used,
       m.quota_in - m.passed_on - m.own_use AS balance,
       CASE WHEN m.quota_in > 0 THEN round((m.quota_in - m.passed_on - m.own_use) / m.quota_in * 100, 1) END
           AS remaining_pct,
       m.escalated,
       m.escalations,
       coalesce(q.escalated_requests, 0) AS escalated_requests,
       f.outcome,
       f.explanation_zh,
       f.explanation_en,
       CASE WHEN f.outcome = 'over_quota_not_escalated' THEN 'over_not_escalated'
            WHEN f.outcome = 'over_quota_escalated' THEN 'over_escalated'
            WHEN m.quota_in <= 0 THEN 'no_quota'
            WHEN m.quota_in - m.passed_on - m.own_use < 0.1 * m.quota_in THEN 'low'
            ELSE 'ample' END AS quota_class
FROM d
JOIN moves m ON m.id = d.id
JOIN land.quota_resources r ON r.code = d.resource
LEFT JOIN uses u ON u.root = d.id
LEFT JOIN requests q ON q.root = d.id
LEFT JOIN LATERAL (SELECT c.outcome, c.explanation_zh, c.explanation_en FROM rules.current_findings c
                   WHERE c.rule = 'quota_balance' AND c.subject_type = 'account' AND c.subject_id = d.id::text
                   ORDER BY c.as_of DESC, c.id DESC LIMIT 1) f ON true;

-- One layer per resource group, one feature per district with an account.
DROP VIEW IF EXISTS layers.quota_energy CASCADE;
CREATE VIEW layers.quota_energy AS
SELECT di.id, di.code, di.name_zh, di.name_en,
       b.year, b.quota, b.allocated, b.used, b.balance, b.remaining_pct, b.escalated, b.escalations,
       b.escalated_requests, b.outcome, b.explanation_zh, b.explanation_en, b.quota_class,
       di.geom
FROM layers.quota_district_balances b JOIN land.districts di ON di.id = b.district_id
WHERE b.resource = 'energy' AND di.geom IS NOT NULL;

DROP VIEW IF EXISTS layers.quota_land CASCADE;
CREATE VIEW layers.quota_land AS
SELECT di.id, di.code, di.name_zh, di.name_en,
       b.year, b.quota, b.allocated, b.used, b.balance, b.remaining_pct, b.escalated, b.escalations,
       b.escalated_requests, b.outcome, b.explanation_zh, b.explanation_en, b.quota_class,
       di.geom
FROM layers.quota_district_balances b JOIN land.districts di ON di.id = b.district_id
WHERE b.resource = 'construction_land' AND di.geom IS NOT NULL;

-- Pollutants: the district's tightest pollutant (lowest share left) colours it; the popup lists
-- every pollutant's balance.
DROP VIEW IF EXISTS layers.quota_pollutants CASCADE;
CREATE VIEW layers.quota_pollutants AS
WITH p AS (
    SELECT b.*,
           row_number() OVER (PARTITION BY b.district_id
                              ORDER BY (b.quota_class LIKE 'over%') DESC, b.remaining_pct NULLS FIRST, b.resource)
               AS tightness
    FROM layers.quota_district_balances b
    WHERE b.resource IN ('cod', 'nh3n', 'so2', 'nox', 'vocs')
), lists AS (
    SELECT p.district_id,
           string_agg(p.resource_zh || ' ' || trim(to_char(p.balance, 'FM999999999990.999'), '.') || ' '
                      || p.unit, '；' ORDER BY p.resource) AS balances_zh,
           string_agg(p.resource_en || ' ' || trim(to_char(p.balance, 'FM999999999990.999'), '.') || ' '
                      || p.unit, '; ' ORDER BY p.resource) AS balances_en,
           sum(p.escalated) AS escalated,
           string_agg(p.resource_en || ' ' || p.escalations, '; ' ORDER BY p.resource)
               FILTER (WHERE p.escalations IS NOT NULL) AS escalations,
           sum(p.escalated_requests) AS escalated_requests
    FROM p GROUP BY p.district_id
)
SELECT di.id, di.code, di.name_zh, di.name_en,
       p.year, p.resource AS tightest, p.resource_zh AS tightest_zh, p.resource_en AS tightest_en,
       p.remaining_pct, l.balances_zh, l.balances_en, l.escalated, l.escalations, l.escalated_requests,
       p.outcome, p.quota_class,
       di.geom
FROM p JOIN lists l ON l.district_id = p.district_id JOIN land.districts di ON di.id = p.district_id
WHERE p.tightness = 1 AND di.geom IS NOT NULL;

-- Each escalation to the city (ledger entries district -> city), one row each, for the map's
-- district detail: the escalations of the year and the layer's resources that are shown.
DROP VIEW IF EXISTS layers.quota_escalations CASCADE;
CREATE VIEW layers.quota_escalations AS
SELECT l.id, di.code AS district_code, a.year, a.resource, r.name_zh AS resource_zh, r.name_en AS resource_en,
       r.unit, l.recorded_on, l.amount, l.reference, l.note
FROM land.quota_ledger l
JOIN land.quota_accounts a ON a.id = l.from_account_id AND a.level = 'district'
JOIN land.districts di ON di.id = a.district_id
JOIN land.quota_resources r ON r.code = a.resource
WHERE l.entry_type = 'escalation';
