"""Build the synthetic dataset and write it to PostGIS in one transaction, with COPY.

``load_demo(engine)`` loads the ten zones of docs/policy.md §3 with a few thousand parcels;
``load_demo(engine, total_parcels=1_000_000)`` adds synthetic benchmark zones (kind
``benchmark``) across Shanghai until the total is reached, for city-scale benchmarks.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.affinity import scale as scale_geom
from shapely.geometry import MultiPolygon

from gisapp.demo import DEMO_AS_OF, SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH, records, zone_records
from gisapp.demo.cases import extension_parcel, load_demo_cases, original_start
from gisapp.demo.districts import DISTRICTS_CRS, DISTRICTS_FILE, district_shapes
from gisapp.demo.facts import DISTRICTS, GREEN_SHORT_ZONE, ZONES
from gisapp.demo.geometry import as_multipolygons, grid_parcels, to_4490, to_local, zone_boundary
from gisapp.errors import GisappError
from gisapp.geodesy import ellipsoid_area_m2
from gisapp.io.importer import import_file

# demo blocks: ~1.5-2 ha with 20 m roads; benchmark blocks: ~0.4 ha, denser
DEMO_BLOCK = (150.0, 120.0, 20.0)
BENCH_BLOCK = (60.0, 50.0, 10.0)
BENCH_ZONE_SIDE_M = 3000.0
SHANGHAI_BBOX = (120.90, 30.70, 121.95, 31.70)  # mainland, for benchmark zones


def _zone_tables(rng: np.random.Generator):
    districts = pd.DataFrame([{"id": i + 1, "code": c, "name_zh": zh, "name_en": en}
                              for i, (c, zh, en) in enumerate(DISTRICTS)])
    district_id = dict(zip(districts["code"], districts["id"]))
    zones, boundaries, local_bounds = [], [], {}
    for i, z in enumerate(ZONES, start=1):
        area = z.area_km2 * 1e6
        boundary = zone_boundary([(p.lon, p.lat, area * p.share) for p in z.parts], rng)
        local_bounds[i] = boundary
        zones.append({"id": i, "code": z.code, "name_zh": z.name_zh, "name_en": z.name_en,
                      "district_id": district_id[z.district], "kind": z.kind, "approved_on": z.approved_on,
                      "approved_area_m2": area, "approved_area_is_demo": z.area_is_demo, "region": "east",
                      "is_synthetic": True, "note": z.note or None, "prefix": z.prefix})
        start = z.approved_on or dt.date(2019, 1, 1)
        if z.earlier:
            since, share = z.earlier
            current_from = dt.date(2023, 6, 1)
            old = MultiPolygon([scale_geom(p, math.sqrt(share), math.sqrt(share), origin="centroid")
                                for p in boundary.geoms])
            boundaries.append({"zone_id": i, "valid_from": since, "valid_to": current_from,
                               "approval_ref": f"{z.name_zh}批复（合成，扩区前）", "geom": old})
            start = current_from
        boundaries.append({"zone_id": i, "valid_from": start, "valid_to": None,
                           "approval_ref": f"{z.name_zh}批复（合成）", "geom": boundary})
    return districts, pd.DataFrame(zones), pd.DataFrame(boundaries), local_bounds


def _benchmark_zones(count: int, zones: pd.DataFrame, local_bounds: dict, districts: pd.DataFrame,
                     rng: np.random.Generator):
    """Square synthetic zones on a grid over Shanghai, clear of the real zones."""
    x0, y0 = to_local(SHANGHAI_BBOX[0], SHANGHAI_BBOX[1])
    x1, y1 = to_local(SHANGHAI_BBOX[2], SHANGHAI_BBOX[3])
    pitch = BENCH_ZONE_SIDE_M + 400
    real = shapely.union_all(list(local_bounds.values())).buffer(1000)
    xs, ys = np.meshgrid(np.arange(x0, x1 - BENCH_ZONE_SIDE_M, pitch), np.arange(y0, y1 - BENCH_ZONE_SIDE_M, pitch))
    squares = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + BENCH_ZONE_SIDE_M, ys.ravel() + BENCH_ZONE_SIDE_M)
    squares = squares[~shapely.intersects(real, squares)]
    if count > squares.size:
        raise GisappError(f"cannot place {count} benchmark zones over Shanghai (room for {squares.size}); "
                          "ask for fewer parcels")
    squares = squares[rng.permutation(squares.size)[:count]]
    district_of = _districts_by_overlap(squares, districts)
    next_id = int(zones["id"].max()) + 1
    rows, bounds = [], []
    for k, sq in enumerate(squares):
        zid = next_id + k
        local_bounds[zid] = MultiPolygon([sq])
        rows.append({"id": zid, "code": f"bench_{k + 1:04d}", "name_zh": f"合成基准片区{k + 1:04d}",
                     "name_en": f"Synthetic benchmark area {k + 1:04d}",
                     "district_id": int(district_of[k]), "kind": "benchmark",
                     "approved_on": dt.date(2020, 1, 1), "approved_area_m2": sq.area, "approved_area_is_demo": True,
                     "region": "east", "is_synthetic": True, "note": "城市尺度基准测试用合成片区",
                     "prefix": f"BM{k + 1:04d}"})
        bounds.append({"zone_id": zid, "valid_from": dt.date(2020, 1, 1), "valid_to": None,
                       "approval_ref": "合成基准片区", "geom": MultiPolygon([sq])})
    return pd.DataFrame(rows), pd.DataFrame(bounds)


def _districts_by_overlap(squares: np.ndarray, districts: pd.DataFrame) -> np.ndarray:
    """The district id of each local-metre square: the one it overlaps most (as boundary QA takes a
    zone's district from its geometry), else the nearest (a square over the sea)."""
    shapes = district_shapes().set_index("code").loc[districts["code"], "geom"].to_numpy()
    local = shapely.transform(shapes, lambda xy: np.column_stack(to_local(xy[:, 0], xy[:, 1])))
    overlap = shapely.area(shapely.intersection(squares[:, None], local[None, :]))
    nearest = shapely.distance(shapely.centroid(squares)[:, None], local[None, :]).argmin(axis=1)
    best = np.where(overlap.max(axis=1) > 0, overlap.argmax(axis=1), nearest)
    return districts["id"].to_numpy()[best]


def build_dataset(total_parcels: int | None = None, seed: int = 20210115) -> dict[str, pd.DataFrame]:
    """All frames of the synthetic dataset, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    districts, zones, boundaries, local_bounds = _zone_tables(rng)
    parcel_polys, parcel_zone = [], []
    for zid in zones["id"]:
        polys = grid_parcels(local_bounds[zid], *DEMO_BLOCK, rng)
        parcel_polys.append(polys)
        parcel_zone.append(np.full(polys.size, zid))
    demo_count = sum(p.size for p in parcel_polys)
    if total_parcels and total_parcels > demo_count:
        per_zone = grid_parcels(MultiPolygon([shapely.box(0, 0, BENCH_ZONE_SIDE_M, BENCH_ZONE_SIDE_M)]),
                                *BENCH_BLOCK, np.random.default_rng(0)).size
        # rotated grids fit a few blocks less than the unrotated estimate: keep a margin
        n_bench = math.ceil((total_parcels - demo_count) / per_zone * 1.08) + 1
        bzones, bbounds = _benchmark_zones(n_bench, zones, local_bounds, districts, rng)
        remaining = total_parcels - demo_count
        used = []
        for zid in bzones["id"]:
            if remaining <= 0:
                break
            used.append(zid)
            polys = grid_parcels(local_bounds[zid], *BENCH_BLOCK, rng)[:remaining]
            remaining -= polys.size
            parcel_polys.append(polys)
            parcel_zone.append(np.full(polys.size, zid))
        zones = pd.concat([zones, bzones[bzones["id"].isin(used)]], ignore_index=True)
        boundaries = pd.concat([boundaries, bbounds[bbounds["zone_id"].isin(used)]], ignore_index=True)
    polys = np.concatenate(parcel_polys)
    zone_ids = np.concatenate(parcel_zone)
    prefix = dict(zip(zones["id"], zones["prefix"]))
    counter = pd.Series(zone_ids).groupby(zone_ids).cumcount().to_numpy() + 1
    parcels = pd.DataFrame({
        "id": np.arange(1, polys.size + 1),
        "code": [f"{prefix[z]}-{c:05d}" for z, c in zip(zone_ids, counter)],
        "zone_id": zone_ids,
        "area_local_m2": shapely.area(polys),
        "geom": to_4490(as_multipolygons(polys)),
        "is_synthetic": True,
    })
    green_short = int(zones.loc[zones["code"] == GREEN_SHORT_ZONE, "id"].iloc[0])
    parcels = records.build_parcel_attributes(parcels, dict(zip(zones["id"], zones["code"])), green_short, rng)
    enterprises = records.build_enterprises(parcels, prefix, rng)
    grants = records.build_grants(parcels, rng)
    grants["zone_id"] = parcels.set_index("id").loc[grants["parcel_id"], "zone_id"].to_numpy()
    progress, suspensions = records.build_progress(parcels, grants, rng)
    requirements, reviews = records.build_requirements_and_reviews(grants, progress, rng)
    history = records.build_status_history(parcels, grants)
    last = history.groupby("parcel_id")["changed_on"].max()
    parcels["status_since"] = parcels["id"].map(last).to_numpy(dtype="datetime64[D]")
    boundaries["geom"] = list(to_4490(np.array(list(boundaries["geom"]), dtype=object)))
    frames = {
        "districts": districts,
        "zones": zones,
        "zone_boundaries": boundaries,
        "enterprises": enterprises,
        "parcels": parcels,
        "parcel_status_history": history,
        "land_grants": grants,
        "grant_requirements": requirements,
        "grant_reviews": reviews,
        "construction_progress": progress,
        "construction_suspensions": suspensions,
        "idle_exemptions": records.build_exemptions(grants, rng),
        "enterprise_metrics": records.build_metrics(parcels, enterprises, rng),
        "green_areas": records.build_green(parcels, green_short, rng),
    }
    components, pilots = records.build_mixed_use(parcels, rng)
    frames["mixed_use_components"] = components
    frames["mixed_use_pilots"] = pilots
    frames.update(zone_records.build_quotas(districts, zones, grants, rng))
    frames["zone_assessments"] = zone_records.build_assessments(zones)
    frames["zone_indicator_values"] = zone_records.build_zone_indicators(zones, rng)
    return frames


# -- writing -------------------------------------------------------------------------------

LOAD_ORDER = ["districts", "zones", "zone_boundaries", "enterprises", "parcels", "parcel_status_history",
              "land_grants", "grant_requirements", "grant_reviews", "construction_progress",
              "construction_suspensions", "idle_exemptions", "enterprise_metrics", "green_areas",
              "mixed_use_components", "mixed_use_pilots", "quota_accounts", "quota_ledger", "quota_requests",
              "zone_assessments", "zone_indicator_values"]
# tables that hold data; emptied (in reverse order) by --replace
DATA_TABLES = LOAD_ORDER


def _table_columns(conn, table: str) -> list[str]:
    rows = conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'land' AND table_name = :t "
        "AND is_generated = 'NEVER' AND column_name NOT IN ('version', 'updated_at', 'updated_by') "
        "ORDER BY ordinal_position"), {"t": table}).scalars().all()
    return list(rows)


def _copy_frame(raw, table: str, frame: pd.DataFrame, columns: list[str], chunk: int = 200_000) -> None:
    """COPY ``frame`` into ``land.<table>`` as CSV text, in chunks (fast for a million rows)."""
    cols = [c for c in columns if c in frame.columns]
    data = frame[cols].copy()
    for col in cols:
        # ids and counts may hold NaN (no enterprise): nullable integers, never "1.0"
        if (col == "id" or col.endswith("_id") or col in ("year", "term_years", "employees")) \
                and data[col].dtype.kind == "f":
            data[col] = data[col].astype("Int64")
        elif data[col].dtype.kind == "M":
            data[col] = data[col].dt.strftime("%Y-%m-%d")
    if "geom" in cols:
        geoms = shapely.set_srid(np.asarray(data["geom"]), 4490)
        data["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)  # EWKB carries the SRID
    # CSV: an unquoted empty field is NULL, so missing values need no marker
    sql = f"COPY land.{table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for start in range(0, len(data), chunk):
            copy.write(data.iloc[start:start + chunk].to_csv(header=False, index=False))


def _before_the_cases(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames as loaded before the demo's cases (gisapp.demo.cases): the grant whose start
    period a case extends holds its original agreed start, which the extension then moves to the
    date the dataset has."""
    row = extension_parcel(frames)
    if row is None:
        return frames
    grants = frames["land_grants"].copy()
    grants.loc[grants["parcel_id"] == row["id"], "agreed_start_on"] = pd.Timestamp(original_start(row))
    return frames | {"land_grants": grants}


def demo_loaded(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM land.zones)")).scalar()


def load_demo(engine: sa.Engine, total_parcels: int | None = None, seed: int = 20210115,
              replace: bool = False) -> str:
    """Write the synthetic dataset, all or nothing, then import the districts' boundaries
    (:func:`import_district_boundaries`) and write the demo's cases (gisapp.demo.cases, through
    the casework queries, so the database checks and audits them). Returns a one-line summary."""
    t0 = time.perf_counter()
    frames = build_dataset(total_parcels, seed)
    t_build = time.perf_counter() - t0
    with engine.begin() as conn:
        has_data = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM land.zones)")).scalar()
        if has_data and not replace:
            raise GisappError("the database already holds data; use --replace to replace it with the demo dataset")
        raw = conn.connection.driver_connection
        if has_data:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f"land.{t}" for t in DATA_TABLES)
                                 + ", rules.findings, rules.assessment_runs, auth.user_zones RESTART IDENTITY CASCADE"))
        # Bulk load: row triggers (versions, audit) are off inside this transaction; the load is
        # recorded below as one audit entry per table. As superuser, replica mode also skips the
        # per-row foreign-key checks (like pg_restore --disable-triggers): the generator builds
        # consistent ids and the test suite checks the relations.
        superuser = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        if superuser:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        # row triggers are off for the load: the parcels' area on the ellipsoid (kept by a trigger
        # for every other write, migration 0900) comes with the rows
        parcels = frames["parcels"]
        frames["parcels"] = parcels.assign(area_m2=ellipsoid_area_m2(parcels["geom"].to_numpy()))
        loaded = _before_the_cases(frames)
        for table in LOAD_ORDER:
            frame = loaded[table]
            if frame.empty:
                continue
            if not superuser:
                conn.execute(sa.text(f"ALTER TABLE land.{table} DISABLE TRIGGER USER"))
            _copy_frame(raw, table, frame, _table_columns(conn, table))
            if not superuser:
                conn.execute(sa.text(f"ALTER TABLE land.{table} ENABLE TRIGGER USER"))
            conn.execute(sa.text(
                "INSERT INTO audit.change_log (table_schema, table_name, row_id, action, new_row, app_user, reason) "
                "VALUES ('land', :t, '*', 'BULK_LOAD', jsonb_build_object('rows', CAST(:n AS int)), 'demo-loader', "
                ":why)"), {"t": table, "n": len(frame), "why": "synthetic demo data load (合成演示数据导入)"})
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f"land.{table}"}).scalar()
            if seq:
                conn.execute(sa.text("SELECT setval(:s, (SELECT coalesce(max(id), 1) FROM land." + table + "))"),
                             {"s": seq})
        meta = {"synthetic": "true", "description_zh": SYNTHETIC_NOTE_ZH, "description_en": SYNTHETIC_NOTE_EN,
                "seed": str(seed), "scenario_date": DEMO_AS_OF.isoformat(),
                "parcels": str(len(frames["parcels"])), "loaded_at": dt.datetime.now(dt.UTC).isoformat()}
        for key, value in meta.items():
            conn.execute(sa.text("INSERT INTO gisapp_meta.dataset (key, value) VALUES (:k, :v) "
                                 "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"), {"k": key, "v": value})
        # live findings are as of the date the synthetic story was built for (the worker and
        # `gisapp assess` read this clock), and every zone is queued for them
        conn.execute(sa.text("UPDATE rules.assessment_clock SET fixed_on = :d, daily_pass_on = :d"),
                     {"d": DEMO_AS_OF})
        if superuser:
            conn.execute(sa.text("SET LOCAL session_replication_role = DEFAULT"))
        else:
            # the per-zone parcel counts of the map are kept by triggers that were off above
            conn.execute(sa.text("SELECT layers.rebuild_parcel_zone_counts()"))
            conn.execute(sa.text("SELECT rules.enable_change_capture()"))
            conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) "
                                 "SELECT id, 'demo load' FROM land.zones UNION ALL SELECT NULL, 'demo load'"))
        conn.execute(sa.text("ANALYZE"))
    import_district_boundaries(engine)
    case_codes = load_demo_cases(engine, frames)
    # the synthetic national results of 2023-2025 and the rectification cases they call for
    from gisapp.demo.revitalization import load_demo_results

    case_codes += [opened.case_code for opened in load_demo_results(engine)]
    total = time.perf_counter() - t0
    return (f"synthetic demo data loaded: {len(frames['zones'])} zones, {len(frames['parcels'])} parcels, "
            f"{len(frames['land_grants'])} grants, {len(case_codes)} cases (built in {t_build:.1f} s, "
            f"total {total:.1f} s)")


def import_district_boundaries(engine: sa.Engine) -> None:
    """The 16 districts' real boundaries, through gisapp's own importer: the vendored file is
    GCJ-02 (Gaode-derived), converted to EPSG:4490 there and logged with its source CRS.

    The districts' rows are the demo's (written above, so the zones can name them); the import
    adds their boundaries (``update_existing``), in its own transaction after the demo's.
    """
    import_file(engine, "districts", DISTRICTS_FILE, crs=DISTRICTS_CRS, update_existing=True, actor="demo-loader")
