"""Boundary and topology QA (docs/policy.md §5, SMPG GO [2021] No. 1 §1.3: keep each zone's land inside the
State-Council-approved boundary, 四至范围): parcels outside the boundary in force, overlapping
parcels, and each zone's parcel area against its approved area.

How it is measured (and why so):

- Topology (covered by the boundary? do two parcels' interiors meet?) is tested on the stored
  EPSG:4490 coordinates: predicates do not depend on the units, and between vertices a few hundred
  metres apart a straight edge in lon/lat and in a projection differ by far less than a millimetre.
- Distances and areas are measured in metres, never degrees: the parts outside a boundary are
  projected to a transverse Mercator centred on the zone (GRS80, the CGCS2000 ellipsoid; scale
  error < 0.01% within 50 km), and overlap areas are computed on the ellipsoid (``gisapp.geodesy``).
  A parcel's distance outside is the largest distance of its (densified) outline from the boundary.
- Speed, measured on gisapp_bench (1M parcels, 498 zones): PostGIS took 3.4 s for the
  covered-by test (``ST_Covers`` with the prepared boundary) but 16-46 s for the parcel self-join
  (a GiST probe per parcel); shapely's STRtree finds the intersecting pairs of 1M parcels in about
  5 s. So this rule is Python on the loaded geometries (see bench/assess_rules_part2.py).

Findings: a parcel gets one when there is something to say (outside, overlapping, no boundary in
force, or reaching out / overlapping within the tolerances); every zone gets one with its area
totals and the count of its parcels found inside, so nothing passes unreported. Parameter
``parcel_findings = "all"`` gives every parcel its own finding (a million rows at city scale).

A zone's district is taken from its geometry: the district (land.districts, imported from the
real boundaries) holding the largest share of the boundary in force, measured on the ellipsoid
(:func:`district_from_geometry`). Every zone's finding carries it in its evidence; where the
recorded district (land.zones.district_id) is another one, the zone gets a second finding,
subject ``zone_district``, outcome ``district_mismatch``. Without district boundaries (or a
zone outside every district) nothing is said about it.

Tolerances are marked demo defaults: no official figure was found. A run restricted to some zones
(``gisapp assess --zone``) checks overlaps among those zones' parcels only.

Example:
    >>> from shapely.geometry import MultiPolygon, box
    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame({"id": [1], "zone_id": [1], "valid_from": [pd.Timestamp("2020-01-01")],
    ...     "valid_to": [pd.NaT], "geom": [MultiPolygon([box(121.0, 31.0, 121.01, 31.01)])]}, geometry="geom")
    >>> p = gpd.GeoDataFrame({"id": [7], "code": ["P7"], "zone_id": [1], "area_m2": [9000.0],
    ...     "land_use_code": ["100101"], "geom": [MultiPolygon([box(121.009, 31.0, 121.0101, 31.001)])]}, geometry="geom")
    >>> m = measure(p, b, dt.date(2026, 6, 30))
    >>> round(float(m.loc[0, "distance_m"]), 2)  # 0.0001° of longitude at 31°N
    9.55
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gisapp.geodesy import ellipsoid_area_m2
from gisapp.rules.base import CANNOT_EVALUATE, Param, RuleSpec
from gisapp.rules.common import concat_findings, findings, gc_paused, num, zone_params

_OPINIONS = dt.date(2021, 1, 15)
BOUNDARY_QA = RuleSpec(
    "boundary_qa", "1.0", "四至范围与拓扑检查", "Boundary and topology QA",
    (Param("outside_tolerance_m", 1.0,
           "DEMO DEFAULT (no official figure found): digitising differences between cadastral parcels and the "
           "approved boundary drawing up to 1 m are not reported", _OPINIONS,
           "how far a parcel may reach outside the boundary before it is reported"),
     Param("overlap_tolerance_m2", 1.0,
           "DEMO DEFAULT (no official figure found): slivers up to 1 m² between parcels are digitising noise",
           _OPINIONS, "overlap area between two parcels that is reported"),
     Param("area_tolerance_m2", 5000.0,
           "approved areas are published in km² with two decimals: half a unit of the last digit (0.005 km²)",
           _OPINIONS, "how much the parcels may exceed the approved area"),
     Param("parcel_findings", "exceptions",
           "design: a zone's finding counts the parcels found inside; one finding per parcel ('all') is a "
           "million rows at city scale", _OPINIONS,
           "exceptions = parcels outside, overlapping, without a boundary, or reaching out / overlapping "
           "within the tolerances; all = every parcel")))

SPECS: tuple[RuleSpec, ...] = (BOUNDARY_QA,)
INPUTS: tuple[str, ...] = ("parcels_geom", "zone_boundaries", "zones", "districts")
#: findings for a zone depend only on that zone's rows (gisapp.scaleout may run zones apart)
ZONE_LOCAL = True
#: CPU seconds this module typically costs a city-scale run, findings' COPY included
#: (bench/assess_1m.py): `gisapp assess` starts the costliest first
TYPICAL_SECONDS = 10

_MAX_LISTED = 10  # overlapping partners listed in a finding's evidence


def _in_force(boundaries: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    start = pd.to_datetime(boundaries["valid_from"])
    end = pd.to_datetime(boundaries["valid_to"])
    ok = (start <= day) & (end.isna() | (end > day))
    return boundaries[ok.to_numpy()].drop_duplicates("zone_id", keep="last")


def _local(lon: float, lat: float) -> Transformer:
    return Transformer.from_crs("EPSG:4490", f"+proj=tmerc +lat_0={lat:.4f} +lon_0={lon:.4f} +k=1 +x_0=0 +y_0=0 "
                                "+ellps=GRS80 +units=m +no_defs", always_xy=True)


def _project(geoms: np.ndarray, tr: Transformer) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def district_from_geometry(boundaries: pd.DataFrame, districts: pd.DataFrame | None, as_of: dt.date
                           ) -> pd.DataFrame:
    """Per zone (index zone_id): the district holding the largest share of its boundary in force
    (``district_id``, ``share``) and every district's share (``shares``: {district id: share}),
    areas on the ellipsoid. Empty when there are no district boundaries; a zone that overlaps no
    district is left out.

    Example:
        >>> from shapely.geometry import box
        >>> d = pd.DataFrame({"id": [1, 2], "geom": [box(121.0, 31.0, 121.1, 31.1), box(121.1, 31.0, 121.2, 31.1)]})
        >>> b = pd.DataFrame({"id": [9], "zone_id": [5], "valid_from": [pd.Timestamp("2020-01-01")],
        ...     "valid_to": [pd.NaT], "geom": [box(121.07, 31.0, 121.11, 31.01)]})
        >>> row = district_from_geometry(b, d, dt.date(2026, 6, 30)).loc[5]
        >>> int(row["district_id"]), round(float(row["share"]), 2)
        (1, 0.75)
    """
    out = pd.DataFrame(columns=["district_id", "share", "shares"], index=pd.Index([], name="zone_id"))
    if districts is None or districts.empty or boundaries is None or boundaries.empty:
        return out
    bnd = _in_force(boundaries, as_of)
    zgeom = np.asarray(bnd.geometry if hasattr(bnd, "geometry") else bnd["geom"])
    dgeom = np.asarray(districts.geometry if hasattr(districts, "geometry") else districts["geom"])
    have = ~pd.isna(dgeom)
    dgeom, dids = dgeom[have], districts["id"].to_numpy()[have]
    if not dgeom.size or not zgeom.size:
        return out
    z_idx, d_idx = shapely.STRtree(dgeom).query(zgeom, predicate="intersects")
    overlap = ellipsoid_area_m2(shapely.intersection(zgeom[z_idx], dgeom[d_idx])) if z_idx.size else np.zeros(0)
    total = ellipsoid_area_m2(zgeom)
    rows = {}
    for k in range(zgeom.size):
        mine = z_idx == k
        if not mine.any() or total[k] <= 0:
            continue
        shares = {int(dids[j]): float(a / total[k]) for j, a in zip(d_idx[mine], overlap[mine]) if a > 0}
        if not shares:
            continue
        best = max(shares, key=shares.get)
        rows[int(bnd["zone_id"].iat[k])] = (best, shares[best], shares)
    if not rows:
        return out
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["district_id", "share", "shares"])
    frame.index.name = "zone_id"
    return frame


def measure(parcels: pd.DataFrame, boundaries: pd.DataFrame, as_of: dt.date, densify_m: float = 0.5
            ) -> pd.DataFrame:
    """Per parcel: the boundary in force, whether the boundary covers it, how far (m) and how much
    (m²) it lies outside, and its overlaps with other parcels (pairs, m² on the ellipsoid).

    Returns one row per parcel (index as ``parcels``) with columns boundary_id, boundary_from,
    has_boundary, covered, distance_m, outside_m2, overlap_m2, overlaps (list of (id, m²)).
    """
    geoms = np.asarray(parcels.geometry if hasattr(parcels, "geometry") else parcels["geom"])
    zid = parcels["zone_id"].to_numpy()
    n = len(parcels)
    bnd = _in_force(boundaries, as_of)
    bgeom = dict(zip(bnd["zone_id"], np.asarray(bnd.geometry if hasattr(bnd, "geometry") else bnd["geom"])))
    out = pd.DataFrame(index=parcels.index)
    out["boundary_id"] = pd.Series(zid).map(dict(zip(bnd["zone_id"], bnd["id"]))).to_numpy()
    out["boundary_from"] = pd.Series(zid).map(dict(zip(bnd["zone_id"], pd.to_datetime(bnd["valid_from"])))).to_numpy()
    has = np.isin(zid, list(bgeom))
    covered = np.zeros(n, dtype=bool)
    distance = np.zeros(n, dtype=float)
    outside_m2 = np.zeros(n, dtype=float)
    order = np.argsort(zid, kind="stable")
    starts = np.flatnonzero(np.r_[True, zid[order][1:] != zid[order][:-1]]) if n else np.zeros(0, dtype=int)
    for k, start in enumerate(starts.tolist()):
        idx = order[start:(starts[k + 1] if k + 1 < len(starts) else n)]
        z = zid[idx[0]]
        if z not in bgeom:
            continue
        b = bgeom[z]
        shapely.prepare(b)
        cov = shapely.covers(b, geoms[idx])
        covered[idx] = cov
        out_idx = idx[~cov]
        if out_idx.size == 0:
            continue
        c = b.centroid
        tr = _local(c.x, c.y)
        b_loc = _project(np.array([b]), tr)[0]
        p_loc = _project(geoms[out_idx], tr)
        outside = shapely.difference(p_loc, b_loc)
        outside_m2[out_idx] = shapely.area(outside)
        dense = shapely.segmentize(p_loc, densify_m)
        pts, owner = shapely.get_coordinates(dense, return_index=True)
        dist = shapely.distance(shapely.points(pts), b_loc)
        distance[out_idx] = pd.Series(dist).groupby(owner).max().reindex(range(out_idx.size)).fillna(0).to_numpy()
    out["has_boundary"] = has
    out["covered"] = covered
    out["distance_m"] = np.where(has, distance, np.nan)
    out["outside_m2"] = np.where(has, outside_m2, np.nan)
    # overlaps: interiors that meet (touching along an edge is not an overlap)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inner = shapely.relate_pattern(geoms[a], geoms[b], "2********") if a.size else np.zeros(0, dtype=bool)
    a, b = a[inner], b[inner]
    area = ellipsoid_area_m2(shapely.intersection(geoms[a], geoms[b])) if a.size else np.zeros(0)
    ids = parcels["id"].to_numpy()
    overlaps = np.full(n, None, dtype=object)  # a list of (other id, m²) where a parcel overlaps others
    for i, j, m2 in zip(a.tolist(), b.tolist(), area.tolist()):
        for x, y in ((i, j), (j, i)):
            if overlaps[x] is None:
                overlaps[x] = []
            overlaps[x].append((int(ids[y]), m2))
    out["overlaps"] = overlaps
    total = np.zeros(n)
    np.add.at(total, a, area)
    np.add.at(total, b, area)
    out["overlap_m2"] = total
    return out


@gc_paused
def evaluate(inputs: dict[str, pd.DataFrame], as_of: dt.date, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """``boundary_qa`` findings per parcel (outside / overlap / inside) and per zone (area totals)."""
    parcels, boundaries, zones = inputs.get("parcels_geom"), inputs.get("zone_boundaries"), inputs.get("zones")
    if zones is None or parcels is None or boundaries is None:
        missing = [n for n, f in (("parcels_geom", parcels), ("zone_boundaries", boundaries), ("zones", zones))
                   if f is None]
        if zones is None:
            return concat_findings([])
        return _zone_cannot(zones, as_of, ", ".join(missing))
    keys = [(int(z), as_of.year) for z in zones["id"]]
    per_zone = {k[0]: v for k, v in zone_params(BOUNDARY_QA, overrides, as_of=as_of, keys=keys).items()}
    for z in pd.unique(parcels["zone_id"]):
        if int(z) not in per_zone:
            per_zone[int(z)] = zone_params(BOUNDARY_QA, overrides, as_of=as_of, keys=[(int(z), as_of.year)])[
                (int(z), as_of.year)]
    m = measure(parcels, boundaries, as_of)
    found, outcome = _parcel_findings(parcels, m, zones, as_of, per_zone)
    located = district_from_geometry(boundaries, inputs.get("districts"), as_of)
    return concat_findings([found, _zone_findings(parcels, m, outcome, zones, boundaries, as_of, per_zone, located,
                                                  inputs.get("districts"))])


def _parcel_findings(parcels, m, zones, as_of, per_zone) -> tuple[pd.DataFrame, np.ndarray]:
    """The parcel findings (exceptions only, or every parcel) and every parcel's outcome."""
    if parcels.empty:
        return concat_findings([]), np.array([], dtype=object)
    zid = parcels["zone_id"].to_numpy()
    tol_out_z = {z: float(v[0]["outside_tolerance_m"]) for z, v in per_zone.items()}
    tol_ov_z = {z: float(v[0]["overlap_tolerance_m2"]) for z, v in per_zone.items()}
    tol_out = pd.Series(zid).map(tol_out_z).to_numpy(dtype=float)
    has = m["has_boundary"].to_numpy()
    dist = m["distance_m"].to_numpy(dtype=float)
    outside = has & (dist > tol_out)
    # partners whose overlap passes the tolerance (only parcels that overlap anything are looked at)
    lists = m["overlaps"].to_numpy()
    big = {}
    for i in np.flatnonzero(m["overlap_m2"].to_numpy() > 0).tolist():
        t = tol_ov_z[int(zid[i])]
        hits = [(j, a) for j, a in lists[i] if a > t]
        if hits:
            big[i] = hits
    overlap = np.zeros(len(parcels), dtype=bool)
    overlap[list(big)] = True
    outcome = np.select([~has, outside, overlap], [CANNOT_EVALUATE, "outside_boundary", "overlap"],
                        default="inside").astype(object)
    names = zones.set_index("id")
    bnd = m.groupby(zid)[["boundary_id", "boundary_from"]].first()
    day = as_of.isoformat()
    # "inside" findings (nearly all of a million) share one evidence dict and one sentence per zone
    per_zone_text = {}
    for z in pd.unique(zid).tolist():
        nzh, nen = (names.at[z, "name_zh"], names.at[z, "name_en"]) if z in names.index else (f"园区 {z}", f"zone {z}")
        b_id, b_from = bnd.at[z, "boundary_id"], bnd.at[z, "boundary_from"]
        b_from = None if pd.isna(b_from) else pd.Timestamp(b_from).date().isoformat()
        to, tv = tol_out_z[z], tol_ov_z[z]
        per_zone_text[z] = (
            {"distance_m": 0.0, "overlap_m2": 0.0, "boundary_id": None if pd.isna(b_id) else int(b_id),
             "boundary_valid_from": b_from, "outside_tolerance_m": to, "overlap_tolerance_m2": tv},
            (f"地块位于{nzh}批准四至范围内（{b_from} 起施行的边界，容差 {num(to)} m），"
             f"未与其他地块重叠超过 {num(tv)} m²（截至 {day}）"),
            (f"The parcel lies inside {nen}'s approved boundary (in force since {b_from}, tolerance {num(to)} m) "
             f"and overlaps no other parcel by more than {num(tv)} m² (as of {day})"),
            nzh, nen)
    zl = zid.tolist()
    ev = [per_zone_text[z][0] for z in zl]
    zh = [per_zone_text[z][1] for z in zl]
    en = [per_zone_text[z][2] for z in zl]
    outside_m2 = m["outside_m2"].to_numpy(dtype=float)
    code = parcels["code"].to_numpy() if "code" in parcels else parcels["id"].astype(str).to_numpy()
    covered = m["covered"].to_numpy()
    # the shared sentence does not fit parcels that reach out within the tolerance or overlap a little
    special = (outcome != "inside") | (has & ~covered) | (m["overlap_m2"].to_numpy() > 0)
    for i in np.flatnonzero(special).tolist():
        z = zl[i]
        base, _, _, nzh, nen = per_zone_text[z]
        hits = big.get(i, [])
        listed = sorted(hits, key=lambda x: -x[1])[:_MAX_LISTED]
        total = float(sum(a for _, a in hits))
        ev[i] = base | {"distance_m": None if np.isnan(dist[i]) else round(float(dist[i]), 2),
                        "outside_m2": None if np.isnan(outside_m2[i]) else round(float(outside_m2[i]), 2),
                        "overlap_m2": round(total, 2), "overlap_count": len(hits),
                        "overlaps": [{"parcel_id": j, "overlap_m2": round(a, 2)} for j, a in listed]}
        others = "、".join(f"{j}（{num(a)} m²）" for j, a in listed)
        others_en = ", ".join(f"{j} ({num(a)} m²)" for j, a in listed)
        b_from, to, tv = base["boundary_valid_from"], base["outside_tolerance_m"], base["overlap_tolerance_m2"]
        if outcome[i] == CANNOT_EVALUATE:
            zh[i] = f"无法评估：{nzh}截至 {day} 没有施行中的批准四至范围"
            en[i] = f"Cannot evaluate: {nen} has no approved boundary in force on {day}"
        elif outcome[i] == "outside_boundary":
            extra_zh = f"；另与地块 {others} 重叠" if listed else ""
            extra_en = f"; it also overlaps parcels {others_en}" if listed else ""
            zh[i] = (f"地块 {code[i]} 超出{nzh}批准四至范围（{b_from} 起施行）最远 {num(dist[i], 2)} m，"
                     f"界外面积 {num(outside_m2[i])} m²，超过容差 {num(to)} m{extra_zh}")
            en[i] = (f"Parcel {code[i]} reaches {num(dist[i], 2)} m outside {nen}'s approved boundary (in force "
                     f"since {b_from}), {num(outside_m2[i])} m² outside, beyond the {num(to)} m tolerance{extra_en}")
        elif outcome[i] == "inside":
            ev[i]["overlap_m2"] = round(float(m["overlap_m2"].iat[i]), 2)
            zh[i] = (f"地块 {code[i]} 越出{nzh}批准四至范围最远 {num(dist[i], 2)} m、与其他地块重叠共 "
                     f"{num(ev[i]['overlap_m2'], 2)} m²，均在容差（{num(to)} m、{num(tv)} m²）内，视为在范围内")
            en[i] = (f"Parcel {code[i]} reaches at most {num(dist[i], 2)} m outside {nen}'s approved boundary and "
                     f"overlaps others by {num(ev[i]['overlap_m2'], 2)} m², both within the tolerances "
                     f"({num(to)} m, {num(tv)} m²): inside")
        else:
            zh[i] = f"地块 {code[i]} 与地块 {others} 重叠，共 {num(total)} m²，超过容差 {num(tv)} m²"
            en[i] = (f"Parcel {code[i]} overlaps parcels {others_en}, {num(total)} m² in all, more than the "
                     f"{num(tv)} m² tolerance")
    every = np.isin(zid, [z for z, v in per_zone.items() if v[0]["parcel_findings"] == "all"])
    keep = np.flatnonzero(special | every)
    ids = parcels["id"].to_numpy()[keep]
    prov = {z: per_zone[int(z)][1] for z in per_zone_text}
    found = findings(
        BOUNDARY_QA, as_of, [prov[zl[i]] for i in keep.tolist()], zone_id=zid[keep], parcel_id=ids,
        subject_type="parcel", subject_id=ids.astype(str), outcome=outcome[keep],
        is_positive=outcome[keep] != "inside", evidence=[ev[i] for i in keep.tolist()],
        explanation_zh=[zh[i] for i in keep.tolist()], explanation_en=[en[i] for i in keep.tolist()])
    return found, outcome


def _zone_findings(parcels, m, parcel_outcome, zones, boundaries, as_of, per_zone, located=None,
                   districts=None) -> pd.DataFrame:
    bnd = _in_force(boundaries, as_of).set_index("zone_id")
    area = parcels["area_m2"].astype(float)
    used = area.groupby(parcels["zone_id"]).sum()
    counts = parcels.groupby("zone_id").size()
    mix = area.groupby([parcels["zone_id"], parcels["land_use_code"].astype(str)]).sum()
    flags = pd.DataFrame({"zone_id": parcels["zone_id"].to_numpy(),
                          "outside": ~m["covered"].to_numpy() & m["has_boundary"].to_numpy(),
                          "overlap": m["overlap_m2"].to_numpy() > 0,
                          "inside": parcel_outcome == "inside",
                          "outside_boundary": parcel_outcome == "outside_boundary",
                          "overlap_found": parcel_outcome == "overlap"}).groupby("zone_id").sum()
    mix_by_zone = {z: {str(code): round(float(v), 1) for code, v in part.droplevel(0).items()}
                   for z, part in mix.groupby(level=0)}
    by_id = zones.set_index("id")
    day = as_of.isoformat()
    rows, district_rows = [], []
    for z in zones["id"].to_numpy():
        values, prov = per_zone[int(z)]
        zr = by_id.loc[z]
        approved = zr["approved_area_m2"]
        u = float(used.get(z, 0.0))
        tol = float(values["area_tolerance_m2"])
        b_area = float(bnd.at[z, "area_m2"]) if z in bnd.index and "area_m2" in bnd.columns else None
        ev = {"used_m2": round(u, 1), "approved_m2": None if pd.isna(approved) else float(approved),
              "boundary_area_m2": None if b_area is None else round(b_area, 1), "parcels": int(counts.get(z, 0)),
              "area_tolerance_m2": tol,
              "approved_area_is_demo": bool(zr.get("approved_area_is_demo", False)),
              "land_use_m2": mix_by_zone.get(z, {}),
              "parcels_not_covered": int(flags.at[z, "outside"]) if z in flags.index else 0,
              "parcels_overlapping": int(flags.at[z, "overlap"]) if z in flags.index else 0,
              "parcels_inside": int(flags.at[z, "inside"]) if z in flags.index else 0,
              "parcels_outside_boundary": int(flags.at[z, "outside_boundary"]) if z in flags.index else 0,
              "parcels_overlap": int(flags.at[z, "overlap_found"]) if z in flags.index else 0}
        mismatch = _district_check(z, zr, located, districts, ev, prov, day)
        if mismatch is not None:
            district_rows.append(mismatch)
        checked_zh = (f"；{ev['parcels']} 块地块中 {ev['parcels_inside']} 块位于批准四至范围内、"
                      f"{ev['parcels_outside_boundary']} 块超出、{ev['parcels_overlap']} 块重叠")
        checked_en = (f"; of its {ev['parcels']} parcels {ev['parcels_inside']} lie inside the approved boundary, "
                      f"{ev['parcels_outside_boundary']} reach outside, {ev['parcels_overlap']} overlap others")
        if pd.isna(approved) or approved <= 0:
            rows.append((z, CANNOT_EVALUATE, prov, ev | {"missing": "approved_area_m2"},
                         f"无法评估：{zr['name_zh']} 没有批准面积，无法核对地块用地合计 {num(u)} m²{checked_zh}",
                         (f"Cannot evaluate: {zr['name_en']} has no approved area to check its "
                          f"{num(u)} m² of parcels against{checked_en}")))
            continue
        share = u / float(approved)
        demo_zh = "（演示值）" if ev["approved_area_is_demo"] else ""
        demo_en = " (a demo value)" if ev["approved_area_is_demo"] else ""
        if u > float(approved) + tol:
            rows.append((z, "area_over_approved", prov, ev,
                         (f"{zr['name_zh']} 地块用地合计 {num(u)} m²，超过批准面积 {num(float(approved))} m²{demo_zh}"
                          f" {num(u - float(approved))} m²（容差 {num(tol)} m²，截至 {day}）{checked_zh}"),
                         (f"{zr['name_en']}'s parcels cover {num(u)} m², {num(u - float(approved))} m² more than the "
                          f"approved {num(float(approved))} m²{demo_en} (tolerance {num(tol)} m², as of {day})"
                          f"{checked_en}")))
        else:
            rows.append((z, "area_within_approved", prov, ev,
                         (f"{zr['name_zh']} 地块用地合计 {num(u)} m²，为批准面积 {num(float(approved))} m²{demo_zh}的 "
                          f"{share * 100:.1f}%，未超出（截至 {day}）{checked_zh}"),
                         (f"{zr['name_en']}'s parcels cover {num(u)} m², {share * 100:.1f}% of the approved "
                          f"{num(float(approved))} m²{demo_en}: within it (as of {day}){checked_en}")))
    frames = []
    for subject, found in (("zone", rows), ("zone_district", district_rows)):
        if not found:
            continue
        z, outcome, prov, ev, zh, en = map(list, zip(*found))
        outcome = np.array(outcome, dtype=object)
        frames.append(findings(BOUNDARY_QA, as_of, prov, zone_id=z, parcel_id=None, subject_type=subject,
                                     subject_id=[str(x) for x in z], outcome=outcome,
                                     is_positive=outcome != "area_within_approved", evidence=ev, explanation_zh=zh,
                                     explanation_en=en))
    return concat_findings(frames)


def _district_check(z, zr, located, districts, ev, prov, day):
    """Put the district found from the geometry into the zone's evidence (``ev``); the
    ``district_mismatch`` finding when the recorded district is another one, else None."""
    if located is None or z not in located.index or districts is None or "district_id" not in zr.index:
        return None
    recorded = None if pd.isna(zr["district_id"]) else int(zr["district_id"])
    found, share, shares = located.loc[z, ["district_id", "share", "shares"]]
    names = districts.set_index("id")
    code = names["code"].to_dict()
    ev.update({"district_recorded": code.get(recorded), "district_from_geometry": code.get(int(found)),
               "district_share": round(float(share), 4),
               "district_shares": {code.get(d, str(d)): round(v, 4) for d, v in sorted(shares.items())}})
    if recorded is None or int(found) == recorded:
        return None
    rshare = float(shares.get(recorded, 0.0))
    rec_zh = names.at[recorded, "name_zh"] if recorded in names.index else f"区 {recorded}"
    rec_en = names.at[recorded, "name_en"] if recorded in names.index else f"district {recorded}"
    geo_zh, geo_en = names.at[int(found), "name_zh"], names.at[int(found), "name_en"]
    evidence = {"district_recorded": ev["district_recorded"], "district_from_geometry": ev["district_from_geometry"],
                "district_share": ev["district_share"], "recorded_district_share": round(rshare, 4),
                "district_shares": ev["district_shares"]}
    return (z, "district_mismatch", prov, evidence,
            (f"{zr['name_zh']} 记录的所在区为{rec_zh}，但其批准四至范围的 {share * 100:.1f}% 位于{geo_zh}"
             f"（按与区界重叠面积最大者判定；位于{rec_zh}的仅 {rshare * 100:.1f}%），请核对所在区记录（截至 {day}）"),
            (f"{zr['name_en']} is recorded in {rec_en}, but {share * 100:.1f}% of its approved boundary lies in "
             f"{geo_en} (the district it overlaps most; {rshare * 100:.1f}% lies in {rec_en}): check the "
             f"recorded district (as of {day})"))


def _zone_cannot(zones, as_of, what) -> pd.DataFrame:
    n = len(zones)
    _, prov = zone_params(BOUNDARY_QA, None, as_of=as_of, keys=[(None, as_of.year)])[(None, as_of.year)]
    return findings(BOUNDARY_QA, as_of, [prov] * n, zone_id=zones["id"].to_numpy(), parcel_id=None,
                          subject_type="zone", subject_id=zones["id"].astype(str).to_numpy(), outcome=CANNOT_EVALUATE,
                          is_positive=True, evidence=[{"missing": what}] * n,
                          explanation_zh=[f"无法评估：缺少输入 {what}"] * n,
                          explanation_en=[f"Cannot evaluate: missing input {what}"] * n)
