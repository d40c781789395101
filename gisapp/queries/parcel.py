"""Everything about one parcel for its detail panel: attributes, status history, grants with their
requirements and review, the rules' current findings with their explanations, and the approved
mixed-use pilot it belongs to (with its floor-area shares), if any.

Example:
    >>> ParcelDetail(attributes={"code": "WGQ-00001"}, history=[], grants=[], findings=[]).code
    'WGQ-00001'
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.queries.live import freshness_on
from gisapp.units import MU_PER_M2

_ATTRIBUTES = sa.text(f"""
    SELECT p.id, p.code, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
           p.land_use_code, lu.name_zh AS land_use_zh, lu.name_en AS land_use_en,
           p.legacy_land_use_code, p.status, s.name_zh AS status_zh, s.name_en AS status_en, p.status_since,
           round(p.area_m2::numeric, 1) AS area_m2, round((p.area_m2 * {MU_PER_M2})::numeric, 2) AS area_mu,
           p.plot_ratio_min, p.plot_ratio_max, round(p.floor_area_m2::numeric, 1) AS floor_area_m2,
           e.name_zh AS enterprise_zh, e.name_en AS enterprise_en, e.credit_code,
           p.source_crs, p.is_synthetic, p.version, p.updated_at, p.updated_by,
           ST_XMin(p.geom) AS minx, ST_YMin(p.geom) AS miny, ST_XMax(p.geom) AS maxx, ST_YMax(p.geom) AS maxy,
           ST_AsGeoJSON(p.geom, 7)::json AS geometry,
           ST_X(ST_PointOnSurface(p.geom)) AS center_x, ST_Y(ST_PointOnSurface(p.geom)) AS center_y
    FROM land.parcels p
    JOIN land.zones z ON z.id = p.zone_id
    JOIN land.land_use_codes lu ON lu.code = p.land_use_code
    JOIN land.parcel_statuses s ON s.code = p.status
    LEFT JOIN land.enterprises e ON e.id = p.enterprise_id
    WHERE p.code = :code""")

_HISTORY = sa.text("""
    SELECT h.changed_on, h.from_status, fs.name_zh AS from_zh, fs.name_en AS from_en,
           h.to_status, ts.name_zh AS to_zh, ts.name_en AS to_en, h.reason, h.changed_by
    FROM land.parcel_status_history h
    LEFT JOIN land.parcel_statuses fs ON fs.code = h.from_status
    JOIN land.parcel_statuses ts ON ts.code = h.to_status
    WHERE h.parcel_id = :pid
    ORDER BY h.changed_on, h.id""")

_GRANTS = sa.text("""
    SELECT g.id, g.contract_no, g.supply_method, g.announced_on, g.granted_on, g.delivered_on,
           g.agreed_start_on, g.agreed_completion_on, g.term_years, g.price_wan, g.total_investment_wan,
           g.is_standardized, g.is_major_project
    FROM land.land_grants g WHERE g.parcel_id = :pid ORDER BY g.granted_on, g.id""")

# Requirements with the latest reviewed value of the same indicator and stage.
_REQUIREMENTS = sa.text("""
    SELECT q.grant_id, q.indicator, i.name_zh, i.name_en, i.unit, q.review_stage, q.min_value, q.max_value,
           r.actual_value, r.reviewed_on
    FROM land.grant_requirements q
    JOIN land.performance_indicators i ON i.code = q.indicator
    LEFT JOIN LATERAL (
        SELECT rv.actual_value, rv.reviewed_on FROM land.grant_reviews rv
        WHERE rv.grant_id = q.grant_id AND rv.indicator = q.indicator AND rv.review_stage = q.review_stage
        ORDER BY rv.reviewed_on DESC LIMIT 1) r ON true
    WHERE q.grant_id = ANY(:gids)
    ORDER BY q.grant_id, q.id""")

_FINDINGS = sa.text("""
    SELECT f.id, f.rule, f.rule_version, f.as_of, f.subject_type, f.subject_id, f.outcome, f.is_positive,
           f.review_status, f.review_reason, f.evidence, f.explanation_zh, f.explanation_en
    FROM rules.current_findings f
    -- findings about the parcel's grants carry its id too; the zone picks the current runs
    WHERE f.parcel_id = :pid AND f.zone_key = (SELECT zone_id FROM land.parcels WHERE id = :pid)
    ORDER BY f.is_positive DESC, f.rule, f.id""")


# an approved mixed-use pilot (at most one per parcel) and the shares of its uses: the panel's badge
_PILOT = sa.text("SELECT pilot_ref, approved_on, note FROM land.mixed_use_pilots WHERE parcel_id = :pid")
_SHARES = sa.text("""
    SELECT c.land_use_code, lu.name_zh, lu.name_en, c.floor_share_pct
    FROM land.mixed_use_components c JOIN land.land_use_codes lu ON lu.code = c.land_use_code
    WHERE c.parcel_id = :pid ORDER BY c.floor_share_pct DESC, c.land_use_code""")


def _plain(value: Any) -> Any:
    """JSON-friendly values (dates as ISO text, decimals as floats)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _rows(result) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in result.mappings()]


@dataclass
class ParcelDetail:
    """The answer for one parcel (plain JSON-friendly values)."""

    attributes: dict
    history: list[dict]
    grants: list[dict]
    findings: list[dict]
    bbox: tuple[float, float, float, float] | None = None
    geometry: dict | None = None
    #: a point inside the parcel (lon, lat) to centre the map on; a bbox centre may lie outside
    center: tuple[float, float] | None = None
    #: how fresh the findings are (gisapp.queries.live.Freshness.to_dict): as of when, or pending
    findings_status: dict | None = None
    #: the approved mixed-use pilot the parcel is in (one row, as the parcel page's record holds it)
    pilot: list[dict] | None = None
    #: its uses' floor-area shares (land.mixed_use_components), read for a pilot only
    mixed_use: list[dict] | None = None

    @property
    def code(self) -> str:
        return self.attributes["code"]

    def to_json(self) -> str:
        return json.dumps({"attributes": self.attributes, "history": self.history, "grants": self.grants,
                           "findings": self.findings, "bbox": self.bbox, "geometry": self.geometry,
                           "center": self.center, "findings_status": self.findings_status,
                           "pilot": self.pilot, "mixed_use": self.mixed_use},
                          ensure_ascii=False)


def parcel_detail(engine: Engine, code: str) -> ParcelDetail | None:
    """The detail of the parcel with ``code``, or None when there is no such parcel."""
    with engine.connect() as conn:
        rows = _rows(conn.execute(_ATTRIBUTES, {"code": code}))
        if not rows:
            return None
        attrs = rows[0]
        bbox = tuple(attrs.pop(k) for k in ("minx", "miny", "maxx", "maxy"))
        geometry = attrs.pop("geometry")
        center = (attrs.pop("center_x"), attrs.pop("center_y"))
        pid = attrs["id"]
        history = _rows(conn.execute(_HISTORY, {"pid": pid}))
        grants = _rows(conn.execute(_GRANTS, {"pid": pid}))
        gids = [g["id"] for g in grants]
        requirements = _rows(conn.execute(_REQUIREMENTS, {"gids": gids})) if gids else []
        findings = _rows(conn.execute(_FINDINGS, {"pid": pid}))
        freshness = freshness_on(conn, code)
        for f in findings:  # each finding says whether a change it depends on is still queued
            f["pending"] = bool(freshness and freshness.rule_pending(f["rule"]))
        pilot = _rows(conn.execute(_PILOT, {"pid": pid}))
        shares = _rows(conn.execute(_SHARES, {"pid": pid})) if pilot else []
    by_grant: dict[int, list[dict]] = {}
    for req in requirements:
        by_grant.setdefault(req.pop("grant_id"), []).append(req)
    for grant in grants:
        review = next((f for f in findings if f["rule"] == "grant_review" and f["subject_id"] == str(grant["id"])),
                      None)
        grant["review"] = review
        grant["requirements"] = by_grant.get(grant["id"], [])
        for req in grant["requirements"]:
            req["passed"] = _indicator_verdict(review, req["indicator"])
    return ParcelDetail(attrs, history, grants, findings, bbox, geometry, center,  # type: ignore[arg-type]
                        freshness.to_dict() if freshness else None, pilot or None, shares)


def _indicator_verdict(review: dict | None, indicator: str) -> bool | None:
    """The grant_review rule's verdict on one indicator (its evidence), None when it gave none.

    The map never compares values itself: the rule is the one place that decides.
    """
    evidence = (review or {}).get("evidence") or {}
    for item in evidence.get("indicators") or []:
        if isinstance(item, dict) and item.get("indicator") == indicator:
            passed = item.get("passed")
            return passed if isinstance(passed, bool) else None
    return None
