"""Test helper: what hostile-input tests post to and read back (a parcel with an enterprise, a
grant, a quota account, a current finding), and a fingerprint of everything an edit may write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.findings_util import insert_current_finding

TODAY = dt.date.today().isoformat()
ZONE = "waigaoqiao_ftz"

# Every table a JSON edit writes, and the audit trail every write lands in (by trigger).
WRITTEN_TABLES = (
    "audit.change_log",
    "land.parcels",
    "land.parcel_status_history",
    "land.green_areas",
    "land.construction_progress",
    "land.enterprise_metrics",
    "land.mixed_use_components",
    "land.land_grants",
    "land.grant_requirements",
    "land.quota_requests",
    "rules.findings",
)


@dataclass(frozen=True)
class Targets:
    code: str  # a parcel of ZONE with an enterprise and a grant with a project quota account
    parcel_id: int
    grant_id: int
    account_id: int
    finding_id: int


def find_targets(engine) -> Targets:
    with engine.begin() as conn:
        row = conn.execute(sa.text("""
            SELECT p.code, p.id, g.id AS grant_id, a.id AS account_id FROM land.quota_accounts a
            JOIN land.land_grants g ON g.id = a.grant_id JOIN land.parcels p ON p.id = g.parcel_id
            JOIN land.zones z ON z.id = p.zone_id
            WHERE z.code = :z AND a.level = 'project' AND p.enterprise_id IS NOT NULL
            ORDER BY p.id LIMIT 1"""), {"z": ZONE}).one()
        zone_id = conn.execute(sa.text("SELECT id FROM land.zones WHERE code = :z"), {"z": ZONE}).scalar_one()
        finding = insert_current_finding(
            conn, rule="idle_land", zone_id=zone_id, parcel_id=row.id, outcome="idle", is_positive=True,
            explanation_zh="闲置", explanation_en="idle",
        )
    return Targets(row.code, row.id, row.grant_id, row.account_id, finding)


def fingerprint(engine) -> dict[str, tuple]:
    """Row count and highest id of every table an edit writes, and every parcel's version sum."""
    with engine.connect() as conn:
        out = {
            table: tuple(conn.execute(sa.text(f"SELECT count(*), max(id) FROM {table}")).one())
            for table in WRITTEN_TABLES
        }
        out["versions"] = tuple(conn.execute(sa.text(
            "SELECT (SELECT sum(version) FROM land.parcels), (SELECT sum(version) FROM rules.findings)"
        )).one())
    return out


def parcel_version(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT version FROM land.parcels WHERE code = :c"), {"c": code}).scalar_one()


def valid_bodies(engine, targets: Targets) -> dict[str, dict]:
    """A body each edit kind accepts as it stands (hostile tests spoil one field at a time)."""
    version = parcel_version(engine, targets.code)
    with engine.connect() as conn:
        finding_version = conn.execute(
            sa.text("SELECT version FROM rules.findings WHERE id = :i"), {"i": targets.finding_id}
        ).scalar_one()
    return {
        "status": {"to_status": "low_efficiency", "changed_on": TODAY, "reason": "核查", "note": "n",
                   "version": version},
        "green-areas": {"measured_on": TODAY, "green_area_m2": "10"},
        "progress": {"reported_on": TODAY, "invested_wan": "5", "should_develop_area_m2": "100",
                     "developed_area_m2": "50", "total_investment_wan": "10"},
        "metrics": {"year": dt.date.today().year - 1, "revenue_wan": "1", "employees": 5, "tax_wan": "1"},
        "mixed-use": {"components": "1001 100", "expected": []},
        "grants": {"contract_no": "C-1", "granted_on": "2020-01-01", "price_wan": "100", "term_years": 50},
        "grant-requirements": {"grant_id": targets.grant_id, "indicator": "rd_share",
                               "review_stage": "periodic", "min_value": "3"},
        "quota-requests": {"account_id": targets.account_id, "amount": "1", "requested_on": TODAY, "note": "n"},
        "geometry": {"geom": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
                     "reason": "r", "version": version},
        "review": {"decision": "confirmed", "reason": "核实", "version": finding_version},
    }


def edit_url(targets: Targets, kind: str, lang: str = "en") -> str:
    if kind == "review":
        return f"/api/edits/findings/{targets.finding_id}/review?lang={lang}"
    return f"/api/edits/parcels/{targets.code}/{kind}?lang={lang}"


# -- the fixtures both hostile-input modules use (each module takes them by name) --------------------

@pytest.fixture(scope="module")
def app(isolated_engine):
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def targets(isolated_engine):
    return find_targets(isolated_engine)


@pytest.fixture(scope="module")
def client(app, isolated_engine, make_user, login):
    admin = make_user("bureau_admin")
    test_client = app.server.test_client()
    login(test_client, admin.username, admin.password)
    return test_client
