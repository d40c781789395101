"""Mixed use (混合用地): single-use or mixed by floor-area shares, share sums, caps.

One finding per parcel with floor-area components (``land.mixed_use_components``), or marked as
a mixed-use pilot:

- shares must sum to 100% within a tolerance (default 0.01 percentage points), else
  ``invalid_shares`` (a data error to fix before anything else is said);
- a use whose share exceeds a cap (parameter ``caps``: land-use code or category -> maximum %,
  default none, as no Shanghai caps were found) on any use other than the parcel's main use
  -> ``cap_exceeded``;
- otherwise ``single_use`` when one use has **more than** 90% of the floor area (Shanghai
  planning technical rules, 2016), else ``mixed``: exactly 90% is still mixed;
- a pilot parcel without recorded shares cannot be evaluated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec, empty_findings
from gisapp.rules.common import ZoneParams, findings, gc_paused, iso_dates

TECH_RULES = "上海控规技术准则（2016）"  # short: stored with every finding
SPEC = RuleSpec(
    "mixed_use",
    "1.0",
    "混合用地",
    "Mixed use",
    (
        Param(
            "single_use_share_pct",
            90.0,
            TECH_RULES,
            dt.date(2016, 1, 1),
            "a parcel is single-use when one use has more than this share of floor area (%)",
        ),
        Param(
            "share_sum_tolerance_pct",
            0.01,
            "项目约定",
            dt.date(2016, 1, 1),
            "allowed deviation of the sum of shares from 100 (percentage points)",
        ),
        Param(
            "caps",
            {},
            "未见上海上限（docs/policy.md §5）",
            dt.date(2016, 1, 1),
            "land-use code or category -> maximum share (%) of a use other than the main one",
        ),
    ),
)
SPECS = (SPEC,)
INPUTS = ("parcels", "mixed_use_components", "mixed_use_pilots")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 1


@gc_paused
def evaluate(
    inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``mixed_use`` findings as of ``as_of`` (components and pilots as recorded)."""
    comp = inputs["mixed_use_components"]
    pilots = inputs["mixed_use_pilots"]
    pilots = pilots[pilots["approved_on"] <= pd.Timestamp(as_of)]
    parcels = inputs["parcels"][["id", "zone_id"]].rename(columns={"id": "parcel_id"})
    ids = pd.Index(comp["parcel_id"].unique()).union(pd.Index(pilots["parcel_id"].unique()))
    subj = parcels[parcels["parcel_id"].isin(ids)].sort_values("parcel_id").reset_index(drop=True)
    if subj.empty:
        return empty_findings()
    zp = ZoneParams(SPEC, overrides, as_of, subj["zone_id"])
    single_pct = zp.column("single_use_share_pct")
    tol = zp.column("share_sum_tolerance_pct")
    caps = zp.column("caps", None)

    c = comp[comp["parcel_id"].isin(subj["parcel_id"])].sort_values(
        ["parcel_id", "floor_share_pct", "land_use_code"], ascending=[True, False, True], kind="stable"
    )
    pos = pd.Series(np.arange(len(subj)), index=subj["parcel_id"].to_numpy())
    row = pos.loc[c["parcel_id"]].to_numpy()
    share = c["floor_share_pct"].to_numpy(dtype="float64")
    total = np.bincount(row, weights=share, minlength=len(subj))
    count = np.bincount(row, minlength=len(subj))
    first = ~pd.Series(row).duplicated().to_numpy()  # the largest share of each parcel comes first
    dominant = np.full(len(subj), np.nan)
    dominant[row[first]] = share[first]
    dom_use = np.full(len(subj), None, dtype=object)
    dom_use[row[first]] = c["land_use_code"].to_numpy(dtype=object)[first]

    shares: list[dict] = [{} for _ in range(len(subj))]
    over: list[list[dict]] = [[] for _ in range(len(subj))]
    codes = c["land_use_code"].tolist()
    cats = c["land_use_category"].tolist()
    for r, code, cat, sh, is_first in zip(row.tolist(), codes, cats, share.tolist(), first.tolist()):
        shares[r][code] = sh
        cap_map = caps[r]
        if cap_map and not is_first:
            cap = cap_map.get(code, cap_map.get(cat))
            if cap is not None and sh > float(cap) + 1e-9:
                over[r].append({"land_use_code": code, "share_pct": sh, "cap_pct": float(cap)})

    has_comp = count > 0
    invalid = has_comp & (np.abs(total - 100.0) > tol + 1e-9)
    capped = has_comp & ~invalid & np.array([bool(o) for o in over], dtype=bool)
    single = has_comp & (dominant > single_pct + 1e-9)
    outcome = np.select(
        [~has_comp, invalid, capped, single],
        [CANNOT_EVALUATE, "invalid_shares", "cap_exceeded", "single_use"],
        "mixed",
    )
    pilot = subj[["parcel_id"]].merge(
        pilots.drop_duplicates("parcel_id")[["parcel_id", "pilot_ref", "approved_on"]],
        on="parcel_id",
        how="left",
    )
    pilot_on = iso_dates(pilot["approved_on"])
    pilot_l = [p if isinstance(p, str) else None for p in pilot["pilot_ref"].tolist()]
    ev, zh, en = [], [], []
    for i, o in enumerate(outcome.tolist()):
        d = None if dominant[i] != dominant[i] else float(dominant[i])
        ev.append(
            {
                "shares": shares[i],
                "dominant_use": dom_use[i],
                "dominant_share": d,
                "share_sum": round(float(total[i]), 4),
                "caps_exceeded": over[i],
                "pilot_ref": pilot_l[i],
                "pilot_approved_on": pilot_on[i],
            }
        )
        listing = "、".join(f"{k} {v:g}%" for k, v in shares[i].items())
        listing_en = ", ".join(f"{k} {v:g}%" for k, v in shares[i].items())
        thr = f"{single_pct[i]:g}%"
        if o == CANNOT_EVALUATE:
            zh.append(f"无法判定：混合用地试点（{pilot_l[i]}）未登记各用途建筑面积占比")
            en.append(f"Cannot evaluate: mixed-use pilot ({pilot_l[i]}) has no floor-area shares recorded")
        elif o == "invalid_shares":
            zh.append(
                f"各用途建筑面积占比之和为 {total[i]:g}%（{listing}），应为 100%（容差 {tol[i]:g} 个百分点）"
            )
            en.append(
                f"Floor-area shares sum to {total[i]:g}% ({listing_en}), not 100% (tolerance {tol[i]:g} "
                f"points)"
            )
        elif o == "cap_exceeded":
            zh.append(
                "补充用途超过比例上限："
                + "；".join(
                    f"{x['land_use_code']} {x['share_pct']:g}%（上限 {x['cap_pct']:g}%）" for x in over[i]
                )
                + f"（{listing}）"
            )
            en.append(
                "Complementary use above its cap: "
                + "; ".join(
                    f"{x['land_use_code']} {x['share_pct']:g}% (cap {x['cap_pct']:g}%)" for x in over[i]
                )
                + f" ({listing_en})"
            )
        elif o == "single_use":
            zh.append(f"单一用地：{dom_use[i]} 占建筑面积 {d:g}%，超过 {thr}（{listing}）")
            en.append(
                f"Single-use: {dom_use[i]} has {d:g}% of the floor area, more than {thr} ({listing_en})"
            )
        else:
            zh.append(f"混合用地：最大用途 {dom_use[i]} 占 {d:g}%，未超过 {thr}（{listing}）")
            en.append(
                f"Mixed use: the largest use {dom_use[i]} has {d:g}%, not more than {thr} ({listing_en})"
            )
    frame = findings(
        SPEC,
        as_of,
        zp,
        zone_id=subj["zone_id"].to_numpy(dtype="int64"),
        parcel_id=subj["parcel_id"].to_numpy(dtype="int64"),
        subject_type="parcel",
        subject_id=subj["parcel_id"].astype("int64").astype(str).to_numpy(),
        outcome=outcome,
        is_positive=np.isin(outcome, ["invalid_shares", "cap_exceeded", CANNOT_EVALUATE]),
        evidence=ev,
        explanation_zh=zh,
        explanation_en=en,
    )
    return frame
