"""Hand-built input frames for the rule unit tests, shaped like ``load_inputs`` returns them."""

from __future__ import annotations

import pandas as pd

# columns of each frame (the names FRAME_SQL selects), with the date columns typed as dates
COLUMNS = {
    "parcels": [
        "id",
        "code",
        "zone_id",
        "area_m2",
        "land_use_code",
        "land_use_category",
        "is_green",
        "status",
        "status_since",
        "enterprise_id",
        "plot_ratio_min",
        "plot_ratio_max",
        "floor_area_m2",
        "building_footprint_m2",
        "office_living_area_m2",
    ],
    "quota_grants": ["id", "parcel_id", "zone_id"],
    "land_grants": [
        "id",
        "parcel_id",
        "zone_id",
        "enterprise_id",
        "contract_no",
        "supply_method",
        "announced_on",
        "granted_on",
        "delivery_due_on",
        "delivered_on",
        "agreed_start_on",
        "agreed_completion_on",
        "term_years",
        "price_wan",
        "total_investment_wan",
        "is_standardized",
        "is_major_project",
        "industry",
    ],
    "construction_progress": [
        "id",
        "parcel_id",
        "reported_on",
        "started_on",
        "should_develop_area_m2",
        "developed_area_m2",
        "invested_wan",
        "total_investment_wan",
        "completed_on",
        "accepted_on",
    ],
    "construction_suspensions": ["id", "parcel_id", "suspended_from", "resumed_on"],
    "idle_exemptions": ["id", "parcel_id", "reason_code", "reason_zh", "reason_en", "from_on", "to_on"],
    "enterprise_metrics": [
        "id",
        "parcel_id",
        "zone_id",
        "enterprise_id",
        "year",
        "grading_category",
        "revenue_wan",
        "tax_wan",
        "value_added_wan",
        "energy_tce",
        "electricity_kwh",
        "emissions_t",
        "employees",
        "rd_spend_wan",
    ],
    "grant_requirements": [
        "id",
        "grant_id",
        "indicator",
        "review_stage",
        "min_value",
        "max_value",
        "indicator_zh",
        "indicator_en",
        "unit",
    ],
    "grant_reviews": ["id", "grant_id", "review_stage", "reviewed_on", "indicator", "actual_value"],
    "mixed_use_components": [
        "id",
        "parcel_id",
        "land_use_code",
        "land_use_category",
        "floor_share_pct",
        "floor_area_m2",
    ],
    "mixed_use_pilots": ["id", "parcel_id", "approved_on", "pilot_ref"],
    "parameter_overrides": ["id", "rule", "name", "value", "zone_id", "year", "source", "effective_from"],
    "case_extensions": ["id", "case_id", "case_code", "parcel_id", "grant_id", "agreed_on", "previous_start_on",
                        "new_start_on"],
    "idle_fee_decisions": ["id", "case_id", "case_code", "parcel_id", "grant_id", "amount_wan", "paid_wan",
                           "decided_on", "served_on", "due_on", "paid_on", "revoked_on", "revoked_by"],
}
DATES = {
    "status_since",
    "announced_on",
    "granted_on",
    "delivery_due_on",
    "delivered_on",
    "agreed_start_on",
    "agreed_completion_on",
    "reported_on",
    "started_on",
    "completed_on",
    "accepted_on",
    "suspended_from",
    "resumed_on",
    "from_on",
    "to_on",
    "reviewed_on",
    "approved_on",
    "effective_from",
    "agreed_on",
    "previous_start_on",
    "new_start_on",
    "decided_on",
    "served_on",
    "due_on",
    "paid_on",
    "revoked_on",
}
DEFAULTS = {
    "parcels": {
        "code": None,
        "zone_id": 1,
        "area_m2": 10000.0,
        "land_use_code": "100101",
        "land_use_category": "industrial",
        "is_green": False,
        "status": "granted_unbuilt",
    },
    "land_grants": {
        "zone_id": 1,
        "contract_no": None,
        "supply_method": "grant",
        "granted_on": "2020-01-01",
        "term_years": 20,
        "price_wan": 480.0,
        "total_investment_wan": 12000.0,
        "is_standardized": False,
        "is_major_project": False,
    },
}


def frame(name: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """A frame of ``name`` with ``rows`` (missing columns default or NULL); ids numbered from 1."""
    cols = COLUMNS[name]
    filled = []
    for k, row in enumerate(rows or [], start=1):
        r = {c: None for c in cols} | DEFAULTS.get(name, {}) | {"id": k} | row
        filled.append(r)
    out = pd.DataFrame(filled, columns=cols)
    if name == "parcels":
        out["code"] = [c or f"P{i}" for c, i in zip(out["code"], out["id"])]
    if name == "land_grants":
        out["contract_no"] = [c or f"C{i}" for c, i in zip(out["contract_no"], out["id"])]
    for c in cols:
        if c in DATES:
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        elif c in (
            "price_wan",
            "total_investment_wan",
            "should_develop_area_m2",
            "developed_area_m2",
            "invested_wan",
            "min_value",
            "max_value",
            "actual_value",
            "floor_share_pct",
            "area_m2",
            "revenue_wan",
            "tax_wan",
            "value_added_wan",
            "energy_tce",
            "electricity_kwh",
            "emissions_t",
            "rd_spend_wan",
            "term_years",
            "employees",
            "amount_wan",
            "paid_wan",
        ):
            out[c] = out[c].astype("float64")
    return out


def override(
    rule: str,
    name: str,
    value,
    zone_id: int | None = None,
    year: int | None = None,
    source: str = "test override",
    effective_from: str = "2000-01-01",
) -> dict:
    """A row of rules.parameter_overrides (value as the JSON text the loader returns)."""
    import json

    return {
        "rule": rule,
        "name": name,
        "value": json.dumps(value),
        "zone_id": zone_id,
        "year": year,
        "source": source,
        "effective_from": effective_from,
    }
