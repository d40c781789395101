"""Zone- and district-level demo records: energy and pollutant quota ledgers, regional
assessments, annual zone performance indicators."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gisapp.demo.facts import (
    ESCALATED_DISTRICT,
    EXPIRED_ASSESSMENT_ZONE,
    EXPIRING_ASSESSMENT_ZONE,
    LAND_ESCALATED_DISTRICT,
    MISSING_ASSESSMENT_ZONE,
    UNESCALATED_DISTRICT,
)

QUOTA_YEARS = (2025, 2026)
POLLUTANTS = ("cod", "nh3n", "so2", "nox", "vocs")


class _Ledger:
    """Accumulates accounts and ledger entries with explicit ids."""

    def __init__(self) -> None:
        self.accounts: list[dict] = []
        self.entries: list[dict] = []
        self.requests: list[dict] = []

    def account(self, year, resource, level, name, parent=None, district_id=None, zone_id=None, grant_id=None):
        acc = {"id": len(self.accounts) + 1, "year": year, "resource": resource, "level": level,
               "parent_id": parent, "district_id": district_id, "zone_id": zone_id, "grant_id": grant_id,
               "name": name}
        self.accounts.append(acc)
        return acc["id"]

    def entry(self, year, resource, kind, src, dst, amount, day, note=""):
        self.entries.append({"id": len(self.entries) + 1, "year": year, "resource": resource, "entry_type": kind,
                             "from_account_id": src, "to_account_id": dst, "amount": round(float(amount), 3),
                             "recorded_on": day, "reference": None, "note": note or None})

    def request(self, year, resource, account_id, amount, day, status, note):
        self.requests.append({"id": len(self.requests) + 1, "year": year, "resource": resource,
                              "account_id": account_id, "amount": round(float(amount), 3), "requested_on": day,
                              "status": status, "decided_on": day + dt.timedelta(days=20), "note": note})


def build_quotas(districts: pd.DataFrame, zones: pd.DataFrame, grants: pd.DataFrame,
                 rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """City -> district -> zone -> project quotas per year and resource, with uses.

    Scenarios: ``ESCALATED_DISTRICT`` needs more energy than it holds and escalates the
    shortfall to the city, which allocates it; ``UNESCALATED_DISTRICT`` overspends without an
    escalation record (the rule must flag it); the other districts stay within quota.
    """
    led = _Ledger()
    # a few standardized grants per zone become quota-holding projects
    projects = grants[grants["is_standardized"]].groupby("zone_id").head(4)
    real_zone = zones[zones["kind"] != "benchmark"]
    for year in QUOTA_YEARS:
        jan = dt.date(year, 1, 10)
        for resource in ("energy", *POLLUTANTS):
            scale = 1.0 if resource == "energy" else 0.002
            city = led.account(year, resource, "city", "上海市")
            for _, d in districts.iterrows():
                d_zones = real_zone[real_zone["district_id"] == d["id"]]
                if d_zones.empty:
                    continue
                d_quota = 40000.0 * scale * len(d_zones)
                dist = led.account(year, resource, "district", d["name_zh"], parent=city, district_id=d["id"])
                led.entry(year, resource, "allocation", city, dist, d_quota, jan, "年度下达（合成）")
                per_zone = d_quota * 0.9 / len(d_zones)
                for _, z in d_zones.iterrows():
                    zacc = led.account(year, resource, "zone", z["name_zh"], parent=dist, zone_id=z["id"])
                    led.entry(year, resource, "allocation", dist, zacc, per_zone, jan + dt.timedelta(days=10))
                    zone_projects = projects[projects["zone_id"] == z["id"]]
                    for _, g in zone_projects.iterrows():
                        pacc = led.account(year, resource, "project", g["contract_no"], parent=zacc,
                                           grant_id=g["id"])
                        give = per_zone * 0.2
                        led.entry(year, resource, "allocation", zacc, pacc, give, jan + dt.timedelta(days=30))
                        led.entry(year, resource, "use", pacc, None, give * rng.uniform(0.5, 0.95),
                                  dt.date(year, 12, 31) if year < 2026 else dt.date(2026, 6, 30))
                    # zone's own (non-project) consumption
                    led.entry(year, resource, "use", zacc, None, per_zone * 0.15, dt.date(year, 6, 30))
                if resource != "energy" or year != 2025:
                    continue
                day = dt.date(year, 9, 1)
                if d["code"] == ESCALATED_DISTRICT:
                    # a new project needs more than the district holds: escalated to the city
                    pacc = led.account(year, resource, "project", "合成重大项目（超区配额）", parent=dist,
                                       grant_id=_new_project_grant(grants, projects, d_zones))
                    shortfall = d_quota * 0.1 + 12000
                    need = d_quota * 0.1 + shortfall  # the district's remaining 10% and the shortfall
                    led.request(year, resource, pacc, need, day, "escalated", "超出区剩余配额，报市统筹（合成）")
                    led.entry(year, resource, "escalation", dist, city, shortfall, day, "区平衡不足，报市统筹（合成）")
                    led.entry(year, resource, "allocation", city, dist, shortfall, day + dt.timedelta(days=15),
                              "市统筹追加（合成）")
                    led.entry(year, resource, "allocation", dist, pacc, need, day + dt.timedelta(days=20))
                    led.entry(year, resource, "use", pacc, None, need * 0.8, dt.date(year, 12, 31))
                elif d["code"] == UNESCALATED_DISTRICT:
                    pacc = led.account(year, resource, "project", "合成项目（未报市统筹）", parent=dist,
                                       grant_id=_new_project_grant(grants, projects, d_zones))
                    need = d_quota * 0.1 + 1200
                    led.request(year, resource, pacc, need, day, "granted", "区直接批准，未报市（合成，应被发现）")
                    led.entry(year, resource, "allocation", dist, pacc, need, day)
                    led.entry(year, resource, "use", pacc, None, need, dt.date(year, 12, 31))
    _construction_land(led, districts, real_zone, projects, grants)
    return {"quota_accounts": pd.DataFrame(led.accounts), "quota_ledger": pd.DataFrame(led.entries),
            "quota_requests": pd.DataFrame(led.requests)}


#: construction land (用地指标, ha) the city gives a district per zone in it each year (synthetic)
LAND_HA_PER_ZONE = 30.0


def _construction_land(led: _Ledger, districts: pd.DataFrame, real_zone: pd.DataFrame, projects: pd.DataFrame,
                       grants: pd.DataFrame) -> None:
    """The construction-land quota (SMPG GO [2021] No. 1 §1.3: land reserved for key projects) in
    the same ledger, in hectares: city -> district -> zone -> key project, each project using the
    hectares it was given. ``LAND_ESCALATED_DISTRICT`` meets a 2026 key project beyond its balance
    and escalates the shortfall to the city, which covers it. No random draws: the generator's
    sequence (and so every later demo table) stays as it was."""
    resource = "construction_land"
    for year in QUOTA_YEARS:
        jan = dt.date(year, 1, 15)
        city = led.account(year, resource, "city", "上海市")
        for _, d in districts.iterrows():
            d_zones = real_zone[real_zone["district_id"] == d["id"]]
            if d_zones.empty:
                continue
            d_quota = LAND_HA_PER_ZONE * len(d_zones)
            dist = led.account(year, resource, "district", d["name_zh"], parent=city, district_id=d["id"])
            led.entry(year, resource, "allocation", city, dist, d_quota, jan, "年度用地指标下达（合成）")
            per_zone = d_quota * 0.8 / len(d_zones)
            for _, z in d_zones.iterrows():
                zacc = led.account(year, resource, "zone", z["name_zh"], parent=dist, zone_id=z["id"])
                led.entry(year, resource, "allocation", dist, zacc, per_zone, jan + dt.timedelta(days=10))
                for _, g in projects[projects["zone_id"] == z["id"]].head(2).iterrows():
                    pacc = led.account(year, resource, "project", g["contract_no"], parent=zacc, grant_id=g["id"])
                    led.entry(year, resource, "allocation", zacc, pacc, per_zone * 0.3, jan + dt.timedelta(days=30))
                    led.entry(year, resource, "use", pacc, None, per_zone * 0.3, dt.date(year, 4, 30))
            if year == 2026 and d["code"] == LAND_ESCALATED_DISTRICT:
                day = dt.date(year, 3, 1)
                pacc = led.account(year, resource, "project", "合成重点项目（用地指标超区余额）", parent=dist,
                                   grant_id=_new_project_grant(grants, projects, d_zones))
                shortfall = 25.0
                need = d_quota * 0.2 + shortfall  # the district's unallocated 20% and the shortfall
                led.request(year, resource, pacc, need, day, "escalated", "重点项目用地超出区剩余指标，报市统筹（合成）")
                led.entry(year, resource, "escalation", dist, city, shortfall, day, "区用地指标不足，报市统筹（合成）")
                led.entry(year, resource, "allocation", city, dist, shortfall, day + dt.timedelta(days=15),
                          "市统筹追加用地指标（合成）")
                led.entry(year, resource, "allocation", dist, pacc, need, day + dt.timedelta(days=20))
                led.entry(year, resource, "use", pacc, None, need, dt.date(year, 5, 31))


def _new_project_grant(grants: pd.DataFrame, projects: pd.DataFrame, d_zones: pd.DataFrame) -> int:
    """A grant in the district's zones that holds no quota account yet."""
    pool = grants[grants["zone_id"].isin(d_zones["id"]) & ~grants["id"].isin(projects["id"])]
    return int(pool["id"].iloc[-1])


ASSESSMENT_KINDS = ("environment", "water_resources", "geological_hazard", "flood", "soil_water")


def build_assessments(zones: pd.DataFrame) -> pd.DataFrame:
    """Each real zone's regional assessments; one expired, one never made."""
    rows = []
    for _, z in zones[zones["kind"] != "benchmark"].iterrows():
        for kind in ASSESSMENT_KINDS:
            if z["code"] == MISSING_ASSESSMENT_ZONE and kind == "flood":
                continue
            start = dt.date(2021, 3, 1)
            end = dt.date(2024, 12, 31) if (z["code"] == EXPIRED_ASSESSMENT_ZONE and kind == "environment") \
                else dt.date(2027, 3, 31) if (z["code"] == EXPIRING_ASSESSMENT_ZONE and kind == "water_resources") \
                else dt.date(2030, 12, 31)
            rows.append({"zone_id": z["id"], "kind": kind, "document_ref": f"{z['name_zh']}区域评估-{kind}（合成）",
                         "approved_on": start, "valid_from": start, "valid_to": end})
    df = pd.DataFrame(rows)
    df.insert(0, "id", np.arange(1, len(df) + 1))
    return df


# (indicator, category, unit, typical value, spread)
ZONE_INDICATORS = [
    ("import_export_value", "scale", "亿元", 600.0, 0.8),
    ("bonded_enterprises", "scale", "家", 120.0, 0.5),
    ("processing_trade_share", "quality", "%", 35.0, 0.3),
    ("tax_revenue", "quality", "亿元", 40.0, 0.7),
    ("rd_enterprises", "innovation", "家", 20.0, 0.6),
    ("customs_violations", "compliance", "起", 2.0, 0.8),
]


def build_zone_indicators(zones: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Annual non-land performance indicators per real zone (land ones come from parcels)."""
    rows = []
    for _, z in zones[zones["kind"] != "benchmark"].iterrows():
        size = rng.lognormal(0, 0.5)
        for year in (2023, 2024, 2025):
            for ind, cat, unit, typical, spread in ZONE_INDICATORS:
                value = typical * size * rng.lognormal(0, spread * 0.3) * (1 + 0.04 * (year - 2023))
                rows.append({"zone_id": z["id"], "year": year, "category": cat, "indicator": ind,
                             "value": round(float(value), 2), "unit": unit, "source": "合成演示数据"})
    df = pd.DataFrame(rows)
    df.insert(0, "id", np.arange(1, len(df) + 1))
    return df
