"""Attributes and records of the synthetic dataset, built column-wise with numpy.

Each parcel draws a *scenario* (e.g. ``unbuilt_idle``: granted, agreed start more than a year
before the demo date, never started) and every record follows from it, so that each rule of
docs/policy.md §5 meets true positives, true negatives and edge cases. The scenario is kept in the
returned frames (column ``scenario``) for the tests; it is not loaded into the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gisapp.demo import DEMO_AS_OF
from gisapp.units import MU_PER_M2

# land-use mix of a zone's parcels (code, share); green and utility parcels are not granted
LAND_USE_MIX = [("100101", 0.25), ("100102", 0.17), ("110101", 0.17), ("110102", 0.08), ("0802", 0.06),
                ("0902", 0.06), ("1401", 0.06), ("1402", 0.05), ("13", 0.03), ("16", 0.03),
                ("1001", 0.02), ("1101", 0.02)]
LEGACY_OF = {"100101": "M1", "100102": "M2", "110101": "W1", "110102": "W2", "1401": "G1", "1402": "G2",
             "0802": "A35", "0902": "B2", "13": "U"}
GRANTABLE = {"100101", "100102", "110101", "110102", "0802", "0902", "1001", "1101"}

# scenario -> (status, share among grantable parcels)
SCENARIOS = [
    ("unsupplied", "approved_unsupplied", 0.08),
    ("unbuilt_recent", "granted_unbuilt", 0.05),        # agreed start less than a year ago: not idle
    ("unbuilt_idle", "granted_unbuilt", 0.03),          # not started one full year after the agreed start
    ("unbuilt_exempt", "granted_unbuilt", 0.015),       # would be idle, but a government cause exempts it
    ("unbuilt_undelivered", "granted_unbuilt", 0.01),   # land not delivered as agreed: exempt (half of
    # them are unbuilt_delivered_late instead: delivered late, the start moved by the delay, not idle yet)
    ("building_active", "under_construction", 0.07),
    ("building_stalled_idle", "under_construction", 0.025),   # < 1/3 developed, suspended > 1 year
    ("building_stalled_recent", "under_construction", 0.015),  # suspended < 1 year
    ("building_edge_exact", "under_construction", 0.01),      # exactly 1/3 and 25%, suspended: not idle
    ("building_restarted", "under_construction", 0.01),       # resumed, then suspended again recently
    ("completed", "completed", 0.05),
    ("production", "in_production", 0.52),
    ("production_startup", "in_production", 0.03),      # not graded by per-mu evaluation
    ("idle_confirmed", "idle", 0.015),
    ("low_efficiency_confirmed", "low_efficiency", 0.015),
    ("in_disposal", "in_disposal", 0.01),
    ("transferred", "transferred", 0.01),
    ("reclaimed", "reclaimed", 0.005),
]
BUILT = {"completed", "production", "production_startup", "low_efficiency_confirmed", "transferred"}
STARTED = BUILT | {"building_active", "building_stalled_idle", "building_stalled_recent", "building_edge_exact",
                   "building_restarted", "in_disposal"}
GRANTED = STARTED | {"unbuilt_recent", "unbuilt_idle", "unbuilt_exempt", "unbuilt_undelivered",
                     "unbuilt_delivered_late", "idle_confirmed", "reclaimed"}
METRIC_YEARS = (2023, 2024, 2025)


def _days(d: dt.date) -> np.datetime64:
    return np.datetime64(d, "D")


AS_OF = _days(DEMO_AS_OF)


@dataclass
class Tables:
    """The frames to load, keyed by table name (``land.<name>``), in load order."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


def _dates(base: np.ndarray | np.datetime64, offsets_days: np.ndarray) -> np.ndarray:
    return (np.asarray(base, dtype="datetime64[D]") + offsets_days.astype("timedelta64[D]"))


def build_parcel_attributes(parcels: pd.DataFrame, zone_codes: dict[int, str], green_short_zone_id: int | None,
                            rng: np.random.Generator) -> pd.DataFrame:
    """Land use, status and built-state columns for ``parcels`` (id, zone_id, area_local_m2)."""
    n = len(parcels)
    codes = [c for c, _ in LAND_USE_MIX]
    weights = np.array([w for _, w in LAND_USE_MIX])
    land_use = rng.choice(codes, size=n, p=weights / weights.sum())
    if green_short_zone_id is not None:
        # the zone short of green: no dedicated green parcels
        short = (parcels["zone_id"].to_numpy() == green_short_zone_id) & np.isin(land_use, ["1401", "1402"])
        land_use[short] = "100102"
    grantable = np.isin(land_use, list(GRANTABLE))
    names = [s for s, _, _ in SCENARIOS]
    shares = np.array([w for _, _, w in SCENARIOS])
    scenario = np.where(grantable, rng.choice(names, size=n, p=shares / shares.sum()), "public_land")
    # reserved (留白) land is never supplied
    scenario[land_use == "16"] = "unsupplied"
    # every other parcel whose land was not delivered on time was delivered late (not a draw of its
    # own, so that the other parcels' draws stay as they were)
    scenario[np.flatnonzero(scenario == "unbuilt_undelivered")[1::2]] = "unbuilt_delivered_late"
    status_of = {s: st for s, st, _ in SCENARIOS} | {"public_land": "completed",
                                                     "unbuilt_delivered_late": "granted_unbuilt"}
    status = np.array([status_of[s] for s in scenario])
    area = parcels["area_local_m2"].to_numpy()

    plot_min = np.round(rng.choice([1.0, 1.2, 1.5, 2.0], size=n), 2)
    plot_max = plot_min + rng.choice([0.5, 1.0, 1.5], size=n)
    built = np.isin(scenario, list(BUILT))
    plot_actual = np.where(rng.random(n) < 0.08, plot_min * 0.8, rng.uniform(plot_min, plot_max))
    coverage = np.where(rng.random(n) < 0.06, rng.uniform(0.18, 0.29, n), rng.uniform(0.32, 0.6, n))
    office_share = np.where(rng.random(n) < 0.05, rng.uniform(0.08, 0.12, n), rng.uniform(0.02, 0.065, n))
    floor = np.where(built, area * plot_actual, np.nan)
    out = parcels.copy()
    out["land_use_code"] = land_use
    legacy = pd.Series(land_use).map(LEGACY_OF)
    # about a third of the parcels came from a legacy survey and keep their GB 50137 code
    legacy[rng.random(n) > 0.35] = None
    out["legacy_land_use_code"] = legacy.to_numpy()
    out["scenario"] = scenario
    out["status"] = status
    out["plot_ratio_min"] = np.where(grantable, plot_min, np.nan)
    out["plot_ratio_max"] = np.where(grantable, plot_max, np.nan)
    out["floor_area_m2"] = np.round(floor, 1)
    out["building_footprint_m2"] = np.round(np.where(built, area * coverage, np.nan), 1)
    out["office_living_area_m2"] = np.round(np.where(built, area * office_share, np.nan), 1)
    return out


def build_enterprises(parcels: pd.DataFrame, zone_prefix: dict[int, str], rng: np.random.Generator) -> pd.DataFrame:
    """One enterprise per granted parcel (``parcels`` gets ``enterprise_id``)."""
    granted = parcels["scenario"].isin(GRANTED).to_numpy()
    idx = np.flatnonzero(granted)
    ids = np.arange(1, idx.size + 1)
    industries = np.array(["集成电路", "生物医药", "高端装备", "跨境电商", "保税物流", "保税维修", "研发设计", "航空服务"])
    industry = rng.choice(industries, size=idx.size)
    prefix = parcels["zone_id"].map(zone_prefix).to_numpy()[idx]
    name = [f"{p}{i:05d}{ind}有限公司（合成）" for p, i, ind in zip(prefix, ids, industry)]
    small = rng.random(idx.size) < 0.2
    established = _dates(np.datetime64("2000-01-01"), rng.integers(0, 9000, idx.size))
    startup = parcels["scenario"].to_numpy()[idx] == "production_startup"
    established[startup] = _dates(AS_OF, -rng.integers(120, 600, startup.sum()))
    parcels.loc[granted, "enterprise_id"] = ids
    return pd.DataFrame({
        "id": ids,
        "credit_code": [f"91310000SYN{i:07d}" for i in ids],
        "name_zh": name,
        "name_en": [f"Synthetic enterprise {p}{i:05d}" for p, i in zip(prefix, ids)],
        "industry": industry,
        "size_class": np.where(small, "small", "regular"),
        "established_on": established,
        "is_synthetic": True,
    })


def build_grants(parcels: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Land grant contracts, with dates that put each parcel in its scenario."""
    sc = parcels["scenario"].to_numpy()
    mask = np.isin(sc, list(GRANTED))
    p = parcels[mask]
    s = sc[mask]
    m = mask.sum()
    # agreed start relative to the demo date, by scenario
    start_offset = np.select(
        [s == "unbuilt_recent",
         np.isin(s, ["unbuilt_idle", "unbuilt_exempt", "unbuilt_undelivered", "unbuilt_delivered_late"]),
         s == "idle_confirmed", np.isin(s, list(BUILT)), s == "reclaimed"],
        [rng.integers(-300, 200, m), -rng.integers(400, 1100, m), -rng.integers(900, 1800, m),
         -rng.integers(2000, 6500, m), -rng.integers(1500, 3000, m)],
        default=-rng.integers(500, 1500, m))  # under construction, disposal
    agreed_start = _dates(AS_OF, start_offset)
    granted_on = _dates(agreed_start, -rng.integers(120, 365, m))
    delivery_due = _dates(granted_on, rng.integers(30, 90, m))
    delivered = delivery_due.copy()
    undelivered = s == "unbuilt_undelivered"
    delivered[undelivered] = np.datetime64("NaT")
    # delivered late (MLR Order No. 53 art. 8(1)): the agreed start moves by the delay, to 305 days
    # before the demo date, so the year runs on past it (not idle yet, the finding names the dates)
    late = s == "unbuilt_delivered_late"
    days_since_start = (AS_OF - agreed_start[late]).astype("int64")
    delivered[late] = _dates(delivery_due[late], days_since_start - 305)
    # and every fourth idle parcel's land came 10 days late: idle all the same, 10 days later
    late_idle = np.flatnonzero(s == "unbuilt_idle")[::4]
    delivered[late_idle] = _dates(delivery_due[late_idle], np.full(late_idle.size, 10))
    standardized = granted_on >= np.datetime64("2017-01-01")
    standardized &= rng.random(m) < 0.8
    notice = np.where(rng.random(m) < 0.1, rng.integers(7, 20, m), rng.integers(30, 75, m))
    announced = np.where(standardized, _dates(granted_on, -notice), np.datetime64("NaT"))
    major = rng.random(m) < 0.12
    term = np.where(major, np.where(rng.random(m) < 0.7, 50, 20), 20).astype(int)
    area_mu = p["area_local_m2"].to_numpy() * MU_PER_M2
    price = np.round(area_mu * rng.uniform(25, 90, m), 2)
    investment = np.round(area_mu * rng.uniform(500, 1400, m), 2)
    return pd.DataFrame({
        "id": np.arange(1, m + 1),
        "parcel_id": p["id"].to_numpy(),
        "enterprise_id": p["enterprise_id"].to_numpy(),
        "contract_no": [f"沪规划资源出让〔合成〕{i:07d}号" for i in range(1, m + 1)],
        "supply_method": np.where(rng.random(m) < 0.95, "grant", "lease"),
        "announced_on": announced,
        "granted_on": granted_on,
        "delivery_due_on": delivery_due,
        "delivered_on": delivered,
        "agreed_start_on": agreed_start,
        "agreed_completion_on": _dates(agreed_start, rng.integers(540, 1100, m)),
        "term_years": term,
        "price_wan": price,
        "total_investment_wan": investment,
        "is_standardized": standardized,
        "is_major_project": major,
        "industry": None,
        "is_synthetic": True,
        "scenario": s,
    })


def build_progress(parcels: pd.DataFrame, grants: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Construction progress snapshots and suspension periods (idle-land inputs)."""
    g = grants[grants["scenario"].isin(STARTED)].reset_index(drop=True)
    s = g["scenario"].to_numpy()
    m = len(g)
    area = parcels.set_index("id").loc[g["parcel_id"], "area_local_m2"].to_numpy()
    should = np.round(area, 1).astype(float)
    total_inv = g["total_investment_wan"].to_numpy(dtype=float, copy=True)
    dev_share = np.select(
        [s == "building_stalled_idle", s == "building_edge_exact", s == "building_stalled_recent",
         s == "building_restarted", s == "building_active", s == "in_disposal"],
        [rng.uniform(0.05, 0.3, m), np.full(m, 1 / 3), rng.uniform(0.1, 0.3, m), rng.uniform(0.1, 0.3, m),
         rng.uniform(0.35, 0.95, m), rng.uniform(0.1, 0.3, m)],
        default=1.0)
    inv_share = np.select(
        [s == "building_stalled_idle", s == "building_edge_exact", s == "building_active"],
        [rng.uniform(0.05, 0.3, m), np.full(m, 0.25), rng.uniform(0.3, 0.95, m)],
        default=np.where(dev_share >= 1.0, 1.0, rng.uniform(0.1, 0.3, m)))
    started_on = _dates(g["agreed_start_on"].to_numpy(), rng.integers(-30, 120, m))
    done = np.isin(s, list(BUILT))
    completed_on = np.where(done, _dates(started_on, rng.integers(400, 900, m)), np.datetime64("NaT"))
    accepted_on = np.where(done & (rng.random(m) < 0.85), _dates(completed_on, rng.integers(30, 120, m)),
                           np.datetime64("NaT"))
    reported_on = np.where(done, completed_on, _dates(AS_OF, -rng.integers(10, 60, m)))
    reported_on = np.maximum(reported_on, started_on)
    # The edge case must hit exactly 1/3 and 25%: choose round totals so the values are exact.
    edge = s == "building_edge_exact"
    should[edge] = 30000.0
    total_inv[edge] = 12000.0
    developed = np.round(should * dev_share, 1)
    developed[edge] = 10000.0
    invested = np.round(total_inv * inv_share, 2)
    invested[edge] = 3000.0
    progress = pd.DataFrame({
        "parcel_id": g["parcel_id"], "reported_on": reported_on, "started_on": started_on,
        "should_develop_area_m2": should, "developed_area_m2": developed, "invested_wan": invested,
        "total_investment_wan": total_inv, "completed_on": completed_on, "accepted_on": accepted_on,
        "scenario": s,
    })
    progress.insert(0, "id", np.arange(1, m + 1))

    rows = []
    for parcel_id, scen in zip(g["parcel_id"], s):
        if scen in ("building_stalled_idle", "building_edge_exact", "in_disposal"):
            rows.append((parcel_id, AS_OF - np.timedelta64(int(rng.integers(400, 800)), "D"), None))
        elif scen == "building_stalled_recent":
            rows.append((parcel_id, AS_OF - np.timedelta64(int(rng.integers(30, 300)), "D"), None))
        elif scen == "building_restarted":
            first = AS_OF - np.timedelta64(int(rng.integers(700, 900)), "D")
            rows.append((parcel_id, first, first + np.timedelta64(300, "D")))
            rows.append((parcel_id, AS_OF - np.timedelta64(int(rng.integers(60, 200)), "D"), None))
    susp = pd.DataFrame(rows, columns=["parcel_id", "suspended_from", "resumed_on"])
    susp.insert(0, "id", np.arange(1, len(susp) + 1))
    susp["note"] = "合成数据：停工"
    return progress, susp


def build_exemptions(grants: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Exemptions from idle-land disposal for the exempt scenarios (MLR Order No. 53 art. 8).

    Land not delivered on time (unbuilt_undelivered) has none: the rule knows it from the grant's
    delivery dates, without an exemption recorded by hand.
    """
    rows = []
    reasons = ["plan_revision", "state_policy", "military_relic", "government_act", "force_majeure", "petition"]
    for _, g in grants[grants["scenario"] == "unbuilt_exempt"].iterrows():
        reason = reasons[int(rng.integers(0, len(reasons)))]
        rows.append((g["parcel_id"], reason, g["agreed_start_on"], None, "合成数据：政府原因致未动工"))
    ex = pd.DataFrame(rows, columns=["parcel_id", "reason_code", "from_on", "to_on", "note"])
    ex.insert(0, "id", np.arange(1, len(ex) + 1))
    return ex


REQUIREMENTS = [  # indicator, min, max (range of the published floor), tightness
    ("investment_intensity", (600, 1000), None),
    ("plot_ratio", (1.2, 1.5), (2.5, 3.5)),
    ("energy_per_output", None, (0.03, 0.08)),
    ("tax_per_mu", (30, 80), None),
    ("output_per_mu", (600, 1500), None),
]


def build_requirements_and_reviews(grants: pd.DataFrame, progress: pd.DataFrame,
                                   rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Performance requirements of standardized grants; acceptance reviews of the built ones,
    about one in five failing one indicator."""
    std = grants[grants["is_standardized"]]
    n = len(std)
    accepted = progress.dropna(subset=["accepted_on"]).set_index("parcel_id")["accepted_on"]
    review_on = std["parcel_id"].map(accepted).to_numpy(dtype="datetime64[D]")
    reviewed = ~np.isnat(review_on)
    failing = rng.random(n) < 0.2
    fail_ind = rng.integers(0, len(REQUIREMENTS), n)
    req_frames, rev_frames = [], []
    for k, (ind, lo, hi) in enumerate(REQUIREMENTS):
        vmin = np.round(rng.uniform(*lo, n), 2) if lo else np.full(n, np.nan)
        vmax = np.round(rng.uniform(*hi, n), 3) if hi else np.full(n, np.nan)
        fails = failing & (fail_ind == k)
        if lo and hi:
            actual = np.where(fails, vmin * 0.85, rng.uniform(vmin, vmax))
        elif lo:
            actual = vmin * np.where(fails, rng.uniform(0.7, 0.95, n), rng.uniform(1.0, 1.6, n))
        else:
            actual = vmax * np.where(fails, rng.uniform(1.05, 1.4, n), rng.uniform(0.5, 1.0, n))
        req_frames.append(pd.DataFrame({"grant_id": std["id"].to_numpy(), "indicator": ind,
                                        "review_stage": "acceptance", "min_value": vmin, "max_value": vmax}))
        rev_frames.append(pd.DataFrame({"grant_id": std["id"].to_numpy()[reviewed], "review_stage": "acceptance",
                                        "reviewed_on": review_on[reviewed], "indicator": ind,
                                        "actual_value": np.round(actual[reviewed], 4)}))
    req = pd.concat(req_frames, ignore_index=True).sort_values(["grant_id"], kind="stable", ignore_index=True)
    rev = pd.concat(rev_frames, ignore_index=True).sort_values(["grant_id"], kind="stable", ignore_index=True)
    req.insert(0, "id", np.arange(1, len(req) + 1))
    rev.insert(0, "id", np.arange(1, len(rev) + 1))
    return req, rev


def build_metrics(parcels: pd.DataFrame, enterprises: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Enterprise annual metrics for the built parcels, three years each; a wide spread so that
    every per-mu class is populated, confirmed low-efficiency parcels at the bottom."""
    sc = parcels["scenario"].to_numpy()
    mask = np.isin(sc, ["production", "production_startup", "low_efficiency_confirmed", "completed", "transferred"])
    p = parcels[mask]
    small = p["enterprise_id"].map(enterprises.set_index("id")["size_class"]).to_numpy() == "small"
    frames = []
    ny = len(METRIC_YEARS)
    for k, year in enumerate(METRIC_YEARS):
        n = len(p)
        mu = p["area_local_m2"].to_numpy() * MU_PER_M2
        quality = rng.lognormal(0.0, 0.6, n)
        quality[p["scenario"].to_numpy() == "low_efficiency_confirmed"] *= 0.15
        growth = 1 + 0.05 * k
        revenue = mu * 900 * quality * growth
        category = np.where(p["scenario"].to_numpy() == "production_startup", "startup",
                            np.where(small, "small", "regular"))
        # the youngest completed plants were still commissioning in the first year
        category = np.where((p["scenario"].to_numpy() == "completed") & (k == 0), "under_construction", category)
        frames.append(pd.DataFrame({
            "parcel_id": p["id"].to_numpy(), "enterprise_id": p["enterprise_id"].to_numpy(), "year": year,
            "grading_category": category,
            "revenue_wan": np.round(revenue, 2),
            "tax_wan": np.round(revenue * rng.uniform(0.03, 0.08, n), 2),
            "value_added_wan": np.round(revenue * rng.uniform(0.18, 0.32, n), 2),
            "energy_tce": np.round(revenue * rng.uniform(0.01, 0.06, n), 3),
            "electricity_kwh": np.round(revenue * rng.uniform(60, 200, n), 1),
            "emissions_t": np.round(revenue * rng.uniform(0.0002, 0.001, n), 3),
            "employees": np.maximum(1, (mu * rng.uniform(0.5, 3, n))).astype(int),
            "rd_spend_wan": np.round(revenue * rng.uniform(0.0, 0.08, n), 2),
        }))
    del ny
    metrics = pd.concat(frames, ignore_index=True)
    metrics.insert(0, "id", np.arange(1, len(metrics) + 1))
    return metrics


def build_green(parcels: pd.DataFrame, green_short_zone_id: int | None, rng: np.random.Generator) -> pd.DataFrame:
    """Measured green area of built parcels and of dedicated green parcels (1401/1402)."""
    sc = parcels["scenario"].to_numpy()
    lu = parcels["land_use_code"].to_numpy()
    dedicated = np.isin(lu, ["1401", "1402"])
    mask = dedicated | np.isin(sc, list(BUILT))
    p = parcels[mask]
    n = len(p)
    ratio = np.where(rng.random(n) < 0.07, rng.uniform(0.21, 0.28, n), rng.uniform(0.08, 0.2, n))
    ratio = np.where(np.isin(p["land_use_code"].to_numpy(), ["1401", "1402"]), rng.uniform(0.7, 0.9, n), ratio)
    if green_short_zone_id is not None:
        short = p["zone_id"].to_numpy() == green_short_zone_id
        ratio = np.where(short, rng.uniform(0.03, 0.09, n), ratio)
    green = pd.DataFrame({
        "parcel_id": p["id"].to_numpy(),
        "measured_on": _dates(AS_OF, -rng.integers(30, 400, n)),
        "green_area_m2": np.round(p["area_local_m2"].to_numpy() * ratio, 1),
    })
    green.insert(0, "id", np.arange(1, n + 1))
    return green


MIXED_PATTERNS = [  # shares of floor area; the first is the parcel's main use
    (("100101", 85.0), ("0802", 15.0)),                  # mixed (no use above 90%)
    (("110101", 60.0), ("0902", 25.0), ("0802", 15.0)),  # mixed
    (("100101", 95.0), ("0902", 5.0)),                   # single-use: one use above 90%
    (("0802", 90.0), ("0902", 10.0)),                    # exactly 90%: still mixed (> 90% needed)
    (("100102", 70.0), ("0902", 25.0)),                  # shares sum to 95%: a data error to flag
]


def build_mixed_use(parcels: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    sc = parcels["scenario"].to_numpy()
    candidates = parcels[np.isin(sc, ["production", "completed"])]
    take = candidates.sample(n=min(len(candidates), max(len(MIXED_PATTERNS), len(parcels) // 40)),
                             random_state=int(rng.integers(0, 2**31)))
    comp_rows, pilot_rows = [], []
    for k, (_, p) in enumerate(take.iterrows()):
        pattern = MIXED_PATTERNS[k % len(MIXED_PATTERNS)]
        floor = p["floor_area_m2"] if pd.notna(p["floor_area_m2"]) else p["area_local_m2"]
        for code, share in pattern:
            comp_rows.append((p["id"], code, share, round(float(floor) * share / 100, 1)))
        if k % 2 == 0:
            pilot_rows.append((p["id"], (AS_OF - np.timedelta64(int(rng.integers(100, 1500)), "D")),
                               f"混合用地试点（合成）第{k + 1}号"))
    comp = pd.DataFrame(comp_rows, columns=["parcel_id", "land_use_code", "floor_share_pct", "floor_area_m2"])
    comp.insert(0, "id", np.arange(1, len(comp) + 1))
    pilots = pd.DataFrame(pilot_rows, columns=["parcel_id", "approved_on", "pilot_ref"])
    pilots.insert(0, "id", np.arange(1, len(pilots) + 1))
    return comp, pilots


STATUS_PATHS = {
    "granted_unbuilt": ["granted_unbuilt"],
    "under_construction": ["granted_unbuilt", "under_construction"],
    "completed": ["granted_unbuilt", "under_construction", "completed"],
    "in_production": ["granted_unbuilt", "under_construction", "completed", "in_production"],
    "idle": ["granted_unbuilt", "idle"],
    "low_efficiency": ["granted_unbuilt", "under_construction", "completed", "in_production", "low_efficiency"],
    "in_disposal": ["granted_unbuilt", "under_construction", "in_disposal"],
    "transferred": ["granted_unbuilt", "under_construction", "completed", "in_production", "transferred"],
    "reclaimed": ["granted_unbuilt", "idle", "reclaimed"],
}


def build_status_history(parcels: pd.DataFrame, grants: pd.DataFrame) -> pd.DataFrame:
    """A history along the allowed graph ending in each granted parcel's current status."""
    granted_on = grants.set_index("parcel_id")["granted_on"]
    frames = []
    for status, steps in STATUS_PATHS.items():
        p = parcels[(parcels["status"] == status) & parcels["id"].isin(granted_on.index)]
        if p.empty:
            continue
        start = p["id"].map(granted_on).to_numpy(dtype="datetime64[D]")
        day = start
        prev = "approved_unsupplied"
        for k, step in enumerate(steps):
            frames.append(pd.DataFrame({"parcel_id": p["id"].to_numpy(), "from_status": prev, "to_status": step,
                                        "changed_on": np.minimum(day, AS_OF), "step": k}))
            prev = step
            day = day + np.timedelta64(200 + 150 * k, "D")
    hist = pd.concat(frames, ignore_index=True).sort_values(["parcel_id", "step"], ignore_index=True)
    hist = hist.drop(columns="step")
    hist["reason"] = "合成数据：演示历史"
    hist.insert(0, "id", np.arange(1, len(hist) + 1))
    hist["changed_by"] = "demo-loader"
    return hist
