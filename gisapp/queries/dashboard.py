"""Aggregates for the zone dashboards, per zone or for all zones, as pandas frames.

Rule verdicts come from ``rules.current_findings`` (docs/findings.md), never recomputed here;
the rest is accounting over the land tables. Areas are on the ellipsoid (m² in the tables),
shown in hectares and 亩 (1 ha = 15 亩).

Example:
    >>> sorted(DATASETS)[:3]
    ['approved_vs_used', 'grants_pipeline', 'grants_review']
"""

from __future__ import annotations

import decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.errors import InputError, NotFoundError
from gisapp.i18n import LANGUAGES, label
from gisapp.units import MU_PER_M2

# statuses whose land has been supplied (granted or allocated) and is in use or on its way
SUPPLIED = ("granted_unbuilt", "under_construction", "completed", "in_production", "idle", "low_efficiency",
            "in_disposal", "transferred")
BUILT = ("completed", "in_production", "low_efficiency", "transferred")

_ZONE_FILTER = "(CAST(:zone AS text) IS NULL OR z.code = :zone)"
# Findings join their zone on zone_key (rules.current_runs' key): joined on zone_id, one zone's
# dashboard read every zone's findings of the rule (0.95 s instead of 1.3 ms at 1M parcels).

# The idle register of the idle_land layer (layers.idle_register_class, sql/views/0210), one row
# per parcel and outcome (``zid``: the zone): confirmed when the zone office marked the parcel idle
# or confirmed the finding, suspected when the rule finds it idle and nobody dismissed it. Exempt,
# no longer idle with a decided fee due (its ``fee_wan``: what is unpaid of it), unevaluable and
# the inventories (批而未供, 供而未用) follow the rules' outcomes. The dashboard's idle_land
# dataset and the quarterly stock snapshots (gisapp.revitalization.snapshots) count these.
IDLE_ROWS = """
    SELECT f.zone_key AS zid, p.area_m2, layers.json_number(f.evidence, 'fee_wan') AS fee_wan,
           layers.json_bool(f.evidence, 'recovery_candidate') AS recovery,
           CASE layers.idle_register_class(p.status, f.review_status, f.outcome)
                WHEN 'confirmed' THEN 'idle_confirmed' ELSE f.outcome END AS outcome
    FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
    WHERE f.rule = 'idle_land' AND f.outcome IN ('idle_not_started', 'idle_stalled')
      AND layers.idle_register_class(p.status, f.review_status, f.outcome) IS NOT NULL
    UNION ALL
    -- marked idle on the register without a current idle verdict of the rule
    SELECT p.zone_id, p.area_m2, NULL, NULL, 'idle_confirmed'
    FROM land.parcels p
    WHERE p.status = 'idle' AND NOT EXISTS (
        SELECT 1 FROM rules.current_findings f WHERE f.rule = 'idle_land' AND f.zone_key = p.zone_id
          AND f.parcel_id = p.id AND f.outcome IN ('idle_not_started', 'idle_stalled'))
    UNION ALL
    SELECT f.zone_key, p.area_m2, layers.json_number(f.evidence, 'fee_wan'), NULL, f.outcome
    FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
    WHERE ((f.rule = 'idle_land' AND f.outcome IN ('exempt', 'idle_fee_due', 'cannot_evaluate') AND p.status <> 'idle')
           OR f.rule = 'land_inventory')"""
# The per-mu classes, one row per graded parcel (``zid``: the zone; class_d is low-efficiency land).
PER_MU_ROWS = """
    SELECT f.zone_key AS zid, p.area_m2, f.outcome
    FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
    WHERE f.rule = 'per_mu'"""

_SQL: dict[str, str] = {
    "approved_vs_used": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
               round((z.approved_area_m2 / 1e4)::numeric, 2) AS approved_ha,
               z.approved_area_is_demo AS approved_is_demo,
               round((coalesce(sum(p.area_m2), 0) / 1e4)::numeric, 2) AS parcel_ha,
               round((coalesce(sum(p.area_m2) FILTER (WHERE p.status = ANY(:supplied)), 0) / 1e4)::numeric, 2)
                   AS used_ha,
               round((coalesce(sum(p.area_m2) FILTER (WHERE p.status = ANY(:built)), 0) / 1e4)::numeric, 2)
                   AS built_ha,
               round((100 * coalesce(sum(p.area_m2) FILTER (WHERE p.status = ANY(:supplied)), 0)
                      / nullif(z.approved_area_m2, 0))::numeric, 1) AS used_pct
        FROM land.zones z LEFT JOIN land.parcels p ON p.zone_id = z.id
        WHERE {_ZONE_FILTER}
        GROUP BY z.id ORDER BY z.id""",
    "land_use_mix": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
               lu.category, p.land_use_code, lu.name_zh AS land_use_zh, lu.name_en AS land_use_en,
               count(*) AS parcels, round((sum(p.area_m2) / 1e4)::numeric, 2) AS area_ha,
               round((sum(p.area_m2) * {MU_PER_M2})::numeric, 1) AS area_mu
        FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id
        JOIN land.land_use_codes lu ON lu.code = p.land_use_code
        WHERE {_ZONE_FILTER}
        GROUP BY z.id, lu.category, p.land_use_code, lu.name_zh, lu.name_en ORDER BY z.id, area_ha DESC""",
    "status_breakdown": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
               p.status, s.name_zh AS status_zh, s.name_en AS status_en,
               count(*) AS parcels, round((sum(p.area_m2) / 1e4)::numeric, 2) AS area_ha
        FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id
        JOIN land.parcel_statuses s ON s.code = p.status
        WHERE {_ZONE_FILTER}
        GROUP BY z.id, p.status, s.name_zh, s.name_en, s.sort ORDER BY z.id, s.sort""",
    # the idle register (IDLE_ROWS above), per zone and outcome
    "idle_land": f"""
        WITH idle AS ({IDLE_ROWS})
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
               i.outcome, count(*) AS parcels, round((sum(i.area_m2) / 1e4)::numeric, 2) AS area_ha,
               round(coalesce(sum(i.fee_wan), 0), 2) AS fee_wan,
               count(*) FILTER (WHERE i.recovery) AS recovery_candidates,
               count(*) FILTER (WHERE i.outcome = 'idle_confirmed') AS confirmed
        FROM idle i JOIN land.zones z ON z.id = i.zid
        WHERE {_ZONE_FILTER}
        GROUP BY z.id, i.outcome ORDER BY z.id, i.outcome""",
    "per_mu": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
               m.outcome, count(*) AS parcels, round((sum(m.area_m2) / 1e4)::numeric, 2) AS area_ha
        FROM ({PER_MU_ROWS}) m JOIN land.zones z ON z.id = m.zid
        WHERE {_ZONE_FILTER}
        GROUP BY z.id, m.outcome ORDER BY z.id, m.outcome""",
    "grants_pipeline": f"""
        WITH g AS (
            SELECT z.id AS zid, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
                   g.announced_on, g.granted_on, cp.started_on, cp.completed_on, cp.accepted_on,
                   EXISTS (SELECT 1 FROM land.grant_reviews r WHERE r.grant_id = g.id) AS reviewed
            FROM land.land_grants g JOIN land.parcels p ON p.id = g.parcel_id
            JOIN land.zones z ON z.id = p.zone_id
            LEFT JOIN LATERAL (SELECT c.started_on, c.completed_on, c.accepted_on FROM land.construction_progress c
                               WHERE c.parcel_id = g.parcel_id ORDER BY c.reported_on DESC LIMIT 1) cp ON true
            WHERE g.is_standardized AND {_ZONE_FILTER}
        )
        SELECT zone_code, zone_name_zh, zone_name_en, st.k AS stage_order, st.stage,
               count(*) FILTER (WHERE st.hit) AS grants
        FROM g CROSS JOIN LATERAL (
            VALUES (1, 'announced', announced_on IS NOT NULL), (2, 'granted', true),
                   (3, 'started', started_on IS NOT NULL), (4, 'completed', completed_on IS NOT NULL),
                   (5, 'accepted', accepted_on IS NOT NULL), (6, 'reviewed', reviewed)) AS st(k, stage, hit)
        GROUP BY zid, zone_code, zone_name_zh, zone_name_en, st.k, st.stage ORDER BY zid, st.k""",
    # grants per rule and verdict; the grants within their term (no finding of their own) are
    # counted by the zone's grant_term report
    "grants_review": f"""
        SELECT zone_code, zone_name_zh, zone_name_en, rule, outcome, sum(n)::bigint AS grants FROM (
            SELECT z.id AS zid, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
                   f.rule, f.outcome, count(*) AS n
            FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key
            WHERE f.rule IN ('grant_review', 'grant_notice', 'grant_term') AND f.subject_type = 'grant'
              AND {_ZONE_FILTER}
            GROUP BY z.id, f.rule, f.outcome
            UNION ALL
            SELECT z.id, z.code, z.name_zh, z.name_en, f.rule, 'term_ok', (f.evidence ->> 'term_ok')::bigint
            FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key
            WHERE f.rule = 'grant_term' AND f.subject_type = 'zone' AND {_ZONE_FILTER}
        ) x WHERE n > 0
        GROUP BY zid, zone_code, zone_name_zh, zone_name_en, rule, outcome ORDER BY zid, rule, outcome""",
    "green_balance": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en, f.outcome,
               round(layers.json_number(f.evidence, 'zone_green_m2') / 1e4, 2) AS green_ha,
               round(layers.json_number(f.evidence, 'required_m2') / 1e4, 2) AS required_ha,
               round(layers.json_number(f.evidence, 'margin_m2') / 1e4, 2) AS margin_ha,
               f.explanation_zh, f.explanation_en
        FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key
        WHERE f.rule = 'green_balance_zone' AND {_ZONE_FILTER}
        ORDER BY z.id""",
    # District accounts: quota received, allocated on to zones and projects, used by the district and
    # everything below it, escalated to the city; with the quota_balance rule's verdict on the account.
    "quota_use": """
        WITH RECURSIVE d AS (
            SELECT a.id, a.year, a.resource, a.district_id FROM land.quota_accounts a WHERE a.level = 'district'
        ), tree AS (
            SELECT d.id AS root, d.id FROM d
            UNION ALL
            SELECT tree.root, c.id FROM land.quota_accounts c JOIN tree ON c.parent_id = tree.id
        ), uses AS (
            SELECT tree.root, sum(l.amount) AS used FROM tree
            JOIN land.quota_ledger l ON l.from_account_id = tree.id AND l.entry_type = 'use' GROUP BY tree.root
        )
        SELECT di.code AS district_code, di.name_zh AS district_zh, di.name_en AS district_en, d.year,
               d.resource, r.name_zh AS resource_zh, r.name_en AS resource_en, r.unit,
               coalesce((SELECT sum(l.amount) FROM land.quota_ledger l
                         WHERE l.to_account_id = d.id AND l.entry_type IN ('allocation', 'transfer')), 0) AS quota,
               coalesce((SELECT sum(l.amount) FROM land.quota_ledger l
                         WHERE l.from_account_id = d.id AND l.entry_type IN ('allocation', 'transfer')), 0)
                   AS allocated,
               coalesce(u.used, 0) AS used,
               coalesce((SELECT sum(l.amount) FROM land.quota_ledger l
                         WHERE l.from_account_id = d.id AND l.entry_type = 'escalation'), 0) AS escalated,
               f.outcome
        FROM d JOIN land.districts di ON di.id = d.district_id
        JOIN land.quota_resources r ON r.code = d.resource
        LEFT JOIN uses u ON u.root = d.id
        LEFT JOIN LATERAL (SELECT c.outcome FROM rules.current_findings c
                           WHERE c.rule = 'quota_balance' AND c.subject_type = 'account'
                             AND c.subject_id = d.id::text ORDER BY c.as_of DESC LIMIT 1) f ON true
        WHERE CAST(:zone AS text) IS NULL
           OR d.district_id = (SELECT z.district_id FROM land.zones z WHERE z.code = :zone)
        ORDER BY di.id, d.year, d.resource""",
    "zone_evaluation": f"""
        SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en, f.outcome,
               layers.json_number(f.evidence, 'year') AS year, f.evidence ->> 'method' AS method,
               layers.json_number(f.evidence, 'score') AS score,
               layers.json_number(f.evidence, 'rank_national') AS rank_national,
               layers.json_number(f.evidence, 'rank_regional') AS rank_regional,
               f.explanation_zh, f.explanation_en
        FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key
        WHERE f.rule = 'zone_performance' AND f.subject_type = 'zone' AND {_ZONE_FILTER}
        ORDER BY score DESC NULLS LAST, z.id""",
}

#: The datasets a dashboard shows, by name (the export URL and the table ids use these names).
DATASETS: tuple[str, ...] = tuple(_SQL)


def zones(engine: Engine) -> pd.DataFrame:
    """The zones to choose from (id, code, names), real zones first."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT id, code, name_zh, name_en, kind FROM land.zones "
                                   "ORDER BY kind = 'benchmark', id"), conn)


def check_zone(engine: Engine, zone: str | None) -> None:
    """Raise NotFoundError for a zone code that does not exist (None means all zones)."""
    if zone is None:
        return
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM land.zones WHERE code = :z)"), {"z": zone}).scalar():
            raise NotFoundError(f"unknown zone {zone!r}")


#: coded columns the datasets carry and their vocabulary in gisapp.i18n: each gets its label
#: columns (``<col>_zh``, ``<col>_en``), which the tables and exports show in place of the code
_LABELLED = {"status": "status", "category": "category", "unit": "unit", "method": "method"}
#: the idle-land outcomes that are idle land (suspected or confirmed), for the totals
IDLE_OUTCOMES = ("idle_confirmed", "idle_not_started", "idle_stalled")


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    for col, prefix in _LABELLED.items():
        if col in frame.columns:
            for lang in LANGUAGES:
                frame[f"{col}_{lang}"] = frame[col].map(
                    lambda v, lang=lang, prefix=prefix: None if v is None else label(prefix, v, lang))
    return frame


def dataset(engine: Engine, name: str, zone: str | None = None) -> pd.DataFrame:
    """One dashboard dataset for ``zone`` (a zone code) or all zones (None).

    Example:
        >>> dataset(engine, "status_breakdown", "jiading")  # doctest: +SKIP
    """
    if name not in _SQL:
        raise InputError(f"unknown dashboard dataset {name!r}; known: {', '.join(DATASETS)}")
    params = {"zone": zone, "supplied": list(SUPPLIED), "built": list(BUILT)}
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(_SQL[name]), conn, params=params)
    for col in frame.columns:
        # numeric columns arrive as Decimal: floats for plotting and export
        if frame[col].dtype == object and frame[col].map(lambda v: isinstance(v, decimal.Decimal)).any():
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return _with_labels(frame)


def datasets(engine: Engine, zone: str | None = None,
             names: tuple[str, ...] = DATASETS) -> dict[str, pd.DataFrame]:
    """Several datasets at once (one connection each; they are small)."""
    return {name: dataset(engine, name, zone) for name in names}

