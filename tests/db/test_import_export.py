"""Import and export against real PostGIS: every format round-trips, GCJ-02 included; every class
of bad input is refused with a message naming file, feature/row, field and problem, and writes
nothing; large imports load in bulk and are still audited."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from gisapp import api
from gisapp.errors import InputError, NotFoundError
from gisapp.io import crs as crsmod
from gisapp.io.importer import ImportRejected, import_file
from tests.fresh_parcels import new_parcels

pytestmark = pytest.mark.db

FORMATS = {"gpkg": "gpkg", "shp": "zip", "geojson": "geojson", "csv": "csv", "xlsx": "xlsx", "kml": "kml"}
# formats whose files cannot say "GCJ-02" (GeoJSON and KML are WGS84 by definition): name it on import
NEEDS_CRS_ON_IMPORT = {"geojson", "kml"}
COUNTED = ["land.parcels", "land.zones", "land.zone_boundaries", "land.enterprise_metrics", "audit.imports",
           "audit.change_log"]


@pytest.fixture(scope="module")
def target(settings, cluster, engine):
    """A scratch database with the demo's districts and enterprises but no zones or parcels."""
    if cluster is None:
        pytest.skip("needs the local cluster to create a scratch database")
    from gisapp.db.migrate import migrate
    from gisapp.demo.load import load_demo

    name = f"{settings.db_name}_io_target"
    cluster.drop_database(name)
    cluster.create_database(name)
    eng = sa.create_engine(cluster.url(name))
    migrate(eng, settings.sql_dir)
    load_demo(eng, replace=True)
    yield eng
    eng.dispose()
    cluster.drop_database(name)


@pytest.fixture(scope="module")
def small_zone(engine):
    """The zone with the fewest parcels (but some): quick round trips."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT z.code FROM land.zones z JOIN land.parcels p ON p.zone_id = z.id GROUP BY z.code "
            "HAVING count(*) >= 20 ORDER BY count(*), z.code LIMIT 1")).scalar_one()


def _empty(target) -> None:
    with target.begin() as conn:
        conn.execute(sa.text("TRUNCATE land.zones CASCADE"))


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}


def _assert_same_layer(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, key: str, skip: set[str],
                       approx: dict[str, float]) -> None:
    assert len(before) == len(after) > 0
    a = before.set_index(key).sort_index()
    b = after.set_index(key).sort_index()
    assert list(a.index) == list(b.index)
    dist = shapely.hausdorff_distance(np.asarray(a.geometry.values), np.asarray(b.geometry.values))
    assert dist.max() < 1e-7, f"geometry moved by up to {dist.max():.2e} degrees"
    for col in a.columns:
        if col in skip or col == a.geometry.name:
            continue
        left, right = a[col], b[col]
        if col in approx:
            diff = (left.astype(float) - right.astype(float)).abs()
            assert (diff <= approx[col]).all(), f"{col} differs by up to {diff.max()}"
        else:
            mismatch = ~((left == right) | (left.isna() & right.isna())).fillna(False).astype(bool)
            assert not mismatch.any(), f"{col}: {list(zip(left[mismatch][:3], right[mismatch][:3]))}"


@pytest.mark.parametrize("crs", ["EPSG:4490", "gcj02"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_export_then_import_round_trips_geometry_and_attributes(engine, target, small_zone, tmp_path, fmt, crs):
    zones_file = tmp_path / f"zones.{FORMATS[fmt]}"
    parcels_file = tmp_path / f"parcels.{FORMATS[fmt]}"
    api.export("zones", zones_file, crs=crs, engine=engine)
    api.export("parcels", parcels_file, crs=crs, zone=small_zone, engine=engine)
    if crs == "gcj02" and fmt != "kml":  # the file really holds offset coordinates (KML: always WGS84)
        raw = gpd.read_file(zones_file) if fmt not in ("csv", "xlsx") else None
        if raw is not None:
            src = api.read_layer("zones", engine=engine)
            assert shapely.hausdorff_distance(raw.geometry.iloc[0], src.geometry.iloc[0]) > 0.003
    _empty(target)
    given = crs if fmt in NEEDS_CRS_ON_IMPORT and crs != "EPSG:4490" and fmt != "kml" else None
    zr = import_file(target, "zones", zones_file, crs=given)
    pr = import_file(target, "parcels", parcels_file, crs=given)
    assert zr.wrote and pr.wrote and pr.inserted > 0
    with target.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT DISTINCT source_crs FROM land.parcels")).scalars())
    assert stored == {crsmod.resolve_crs(crs).label if fmt != "kml" else "EPSG:4326"}
    _assert_same_layer(api.read_layer("zones", engine=engine), api.read_layer("zones", engine=target), "code",
                       skip={"id", "boundary_valid_from"}, approx={"boundary_area_m2": 0.01})
    _assert_same_layer(api.read_layer("parcels", zone=small_zone, engine=engine),
                       api.read_layer("parcels", zone=small_zone, engine=target), "code",
                       skip={"id", "version"}, approx={"area_m2": 0.1})


def test_cli_export_and_import_dry_run(engine, small_zone, tmp_path):
    from click.testing import CliRunner

    from gisapp.cli import main

    out = tmp_path / "p.gpkg"
    res = CliRunner().invoke(main, ["export", "parcels", str(out), "--zone", small_zone, "--crs", "EPSG:4549"])
    assert res.exit_code == 0, res.output
    assert gpd.read_file(out).crs.to_epsg() == 4549
    before = _counts(engine)
    res = CliRunner().invoke(main, ["import", "parcels", str(out), "--dry-run"])
    assert res.exit_code == 1  # the codes exist already
    assert "already in the database" in res.output and "nothing was written" in res.output
    res = CliRunner().invoke(main, ["import", "parcels", str(out), "--dry-run", "--update-existing"])
    assert res.exit_code == 0, res.output
    assert "dry run, nothing written" in res.output
    assert _counts(engine) == before


# -- bad input: each class has its message, and nothing is written --------------------------------------

@pytest.fixture()
def fresh(engine, small_zone):
    return new_parcels(engine, small_zone)


def _rejected(engine, path, kind="parcels", **kw) -> str:
    before = _counts(engine)
    with pytest.raises(ImportRejected) as info:
        import_file(engine, kind, path, **kw)
    assert _counts(engine) == before, "a rejected import wrote something"
    return str(info.value)


def _line(message: str, pattern: str) -> None:
    assert re.search(pattern, message), f"no line matching {pattern!r} in:\n{message}"


def test_good_fresh_file_imports_then_the_same_again_is_a_duplicate(engine, fresh, tmp_path):
    path = tmp_path / "fresh.gpkg"
    fresh.to_file(path)
    result = import_file(engine, "parcels", path)
    assert result.inserted == 4
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT count(*) FROM audit.change_log WHERE table_name = 'parcels' AND action = 'INSERT' "
            "AND reason = :r"), {"r": f"import #{result.import_id} fresh.gpkg"}).scalar()
    assert rows == 4  # small imports are audited row by row, with the import as the reason
    msg = _rejected(engine, path)
    _line(msg, r"fresh\.gpkg: feature \d+ \(code NEW-1\): code: parcel code 'NEW-1' is already in the database")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.parcels WHERE code LIKE 'NEW-%'"))


def test_missing_crs_is_refused(engine, fresh, tmp_path):
    path = tmp_path / "no_crs.csv"
    frame = pd.DataFrame(fresh.drop(columns="geometry"))
    frame["wkt"] = fresh.geometry.to_wkt()
    frame.to_csv(path, index=False)
    msg = _rejected(engine, path)
    _line(msg, r"no_crs\.csv: file: crs: the file does not say which coordinate system it uses; give it with --crs")
    # checked in chunks of one row (as a large bulk import is), every chunk finds it: said once
    streamed = _rejected(engine, path, bulk_threshold=1, chunk_rows=1)
    assert streamed == msg and streamed.count("coordinate system") == 1


def test_unknown_and_conflicting_crs_are_refused(engine, fresh, tmp_path):
    path = tmp_path / "p.gpkg"
    fresh.to_file(path)
    _line(_rejected(engine, path, crs="EPSG:999999"), r"p\.gpkg: file: crs: unknown CRS 'EPSG:999999'")
    _line(_rejected(engine, path, crs="EPSG:4549"),
          r"p\.gpkg: file: crs: the file declares EPSG:4490 but --crs says EPSG:4549")


def test_gauss_kruger_metres_labelled_as_degrees_are_refused_with_a_hint(engine, fresh, tmp_path):
    metres = fresh.to_crs(4549).set_crs(4490, allow_override=True)
    path = tmp_path / "gk.gpkg"
    metres.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"gk\.gpkg: feature \d+ \(code NEW-1\): geometry: lies outside China once read as EPSG:4490.*EPSG:4549")


def test_gauss_kruger_file_with_its_crs_imports_dry_run(engine, fresh, tmp_path):
    path = tmp_path / "gk_ok.gpkg"
    fresh.to_crs(4549).to_file(path)
    result = import_file(engine, "parcels", path, dry_run=True)
    assert result.report.ok and not result.wrote
    assert result.prepared.source_crs == "EPSG:4549"
    got = shapely.hausdorff_distance(np.asarray(result.prepared.rows["geom"].to_numpy()),
                                     shapely.multipolygons(np.asarray(fresh.geometry.values),
                                                           indices=np.arange(len(fresh))))
    assert got.max() < 1e-7


def test_invalid_geometry_is_refused_unless_repair_is_asked(engine, fresh, tmp_path):
    bow = fresh.copy()
    (x0, y0, x1, y1) = bow.geometry.iloc[1].bounds
    bow.loc[1, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    path = tmp_path / "bow.gpkg"
    bow.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"bow\.gpkg: feature 2 \(code NEW-2\): geometry: invalid geometry: Self-intersection.*--repair")
    result = import_file(engine, "parcels", path, repair=True, dry_run=True)
    assert result.report.ok
    assert any("repaired" in line for line in result.report.lines())


def test_wrong_geometry_type_and_empty_geometry_are_refused(engine, fresh, tmp_path):
    pts = fresh.copy()
    pts["geometry"] = pts.geometry.representative_point()
    pts.loc[1, "geometry"] = None
    path = tmp_path / "points.gpkg"
    pts.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"points\.gpkg: feature 1 \(code NEW-1\): geometry: is a point; parcels need polygons")
    _line(msg, r"points\.gpkg: feature 2 \(code NEW-2\): geometry: has no geometry")


def test_duplicates_in_the_file_are_refused(engine, fresh, tmp_path):
    dup = fresh.copy()
    dup.loc[3, "code"] = "NEW-1"
    dup.loc[2, "geometry"] = dup.geometry.iloc[1]
    path = tmp_path / "dup.geojson"
    dup.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"dup\.geojson: feature 0 \(code NEW-1\): code: parcel code 'NEW-1' appears more than once in the file "
          r"\(also feature 3")
    _line(msg, r"dup\.geojson: feature 2 \(code NEW-3\): geometry: the same geometry as feature 1 \(code NEW-2\)")


def test_land_use_codes_outside_the_classification_are_refused_and_legacy_codes_mapped(engine, fresh, tmp_path):
    bad = fresh.copy()
    bad["land_use_code"] = ["9999", "902", "M1", "G2"]
    path = tmp_path / "codes.gpkg"
    bad.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"codes\.gpkg: feature 1 \(code NEW-1\): land_use_code: '9999' is neither a code of the national "
          r"classification")
    _line(msg, r"feature 2 \(code NEW-2\): land_use_code: '902' .*did you mean 0902")
    good = fresh.copy()
    good["land_use_code"] = ["M1", "G2", "W1", "1001"]
    path2 = tmp_path / "legacy.gpkg"
    good.to_file(path2)
    result = import_file(engine, "parcels", path2, dry_run=True)
    rows = result.prepared.rows
    assert list(rows["land_use_code"]) == ["100101", "1402", "110101", "1001"]
    assert list(rows["legacy_land_use_code"][:3]) == ["M1", "G2", "W1"]
    assert any("legacy GB 50137 codes mapped" in line for line in result.report.lines())


def test_parcels_outside_every_zone_and_in_the_wrong_zone_are_refused(engine, fresh, tmp_path):
    out = fresh.copy()
    out.loc[0, "geometry"] = shapely.affinity.translate(out.geometry.iloc[0], xoff=0.5)
    with engine.connect() as conn:
        other = conn.execute(sa.text("SELECT code FROM land.zones WHERE code <> :z ORDER BY code LIMIT 1"),
                             {"z": fresh.zone_code.iloc[0]}).scalar()
    out.loc[1, "zone_code"] = other
    path = tmp_path / "outside.gpkg"
    out.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"outside\.gpkg: feature 1 \(code NEW-1\): geometry: lies outside every zone's approved boundary in "
          r"force \(nearest: \w+, [\d,]+ m away\)")
    _line(msg, rf"feature 2 \(code NEW-2\): zone_code: says '{other}' but the parcel lies in zone")


def test_out_of_range_and_unreadable_values_are_refused(engine, fresh, tmp_path):
    bad = pd.DataFrame(fresh.drop(columns="geometry"))
    bad["wkt"] = fresh.geometry.to_wkt()
    bad["crs"] = "EPSG:4490"
    bad["plot_ratio_max"] = ["-1", "2.5", "", ""]
    bad["floor_area_m2"] = ["", "abc", "1e12", ""]
    bad["status_since"] = ["", "", "", "2024-02-30"]
    path = tmp_path / "ranges.csv"
    bad.to_csv(path, index=False)
    msg = _rejected(engine, path)
    _line(msg, r"ranges\.csv: row 2 \(code NEW-1\): plot_ratio_max: -1 is below the allowed minimum 0")
    _line(msg, r"ranges\.csv: row 3 \(code NEW-2\): floor_area_m2: 'abc' is not a number")
    _line(msg, r"ranges\.csv: row 4 \(code NEW-3\): floor_area_m2: 1e\+12 is above the allowed maximum")
    _line(msg, r"ranges\.csv: row 5 \(code NEW-4\): status_since: '2024-02-30' is not a date")


def test_hostile_strings_are_refused(engine, fresh, tmp_path):
    bad = fresh.copy()
    bad["enterprise_zh"] = ["<script>alert(1)</script>", "=HYPERLINK(\"http://x\")", "ok\x07bell", None]
    bad.loc[3, "code"] = "NEW-4;DROP"
    path = tmp_path / "hostile.gpkg"
    bad.to_file(path)
    msg = _rejected(engine, path)
    _line(msg, r"hostile\.gpkg: feature 1 \(code NEW-1\): enterprise_zh: contains markup or script")
    _line(msg, r"feature 2 \(code NEW-2\): enterprise_zh: starts like a spreadsheet formula")
    _line(msg, r"feature 3 \(code NEW-3\): enterprise_zh: contains a control character")
    _line(msg, r"feature 4 \(code NEW-4;DROP\): code: 'NEW-4;DROP' is not a valid code")


def test_unreadable_and_empty_files_are_refused(engine, tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage")
    before = _counts(engine)
    with pytest.raises(InputError, match=r"junk\.gpkg: cannot be read"):
        import_file(engine, "parcels", junk)
    empty = tmp_path / "empty.csv"
    empty.write_text("code,land_use_code,wkt\n", encoding="utf-8")
    _line(_rejected(engine, empty, crs="EPSG:4490"), r"empty\.csv: file: file: holds no features or rows")
    missing = tmp_path / "nocols.csv"
    missing.write_text("name,wkt\nx,POINT(121 31)\n", encoding="utf-8")
    _line(_rejected(engine, missing, crs="EPSG:4490"), r"nocols\.csv: file: code: column missing")
    assert _counts(engine) == before


def test_metrics_from_excel_with_chinese_headers_and_gcj02_locations(engine, small_zone, tmp_path):
    parcels = api.read_layer("parcels", zone=small_zone, engine=engine)
    with engine.connect() as conn:
        owned = conn.execute(sa.text(
            "SELECT p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id WHERE z.code = :z "
            "AND p.enterprise_id IS NOT NULL ORDER BY p.code LIMIT 3"), {"z": small_zone}).scalars().all()
    assert len(owned) == 3
    inner = parcels.set_index("code").loc[owned].geometry.representative_point()
    glon, glat = crsmod.wgs84_to_gcj02(inner.x.to_numpy(), inner.y.to_numpy())
    sheet = pd.DataFrame({"经度": glon, "纬度": glat, "年度": [2031, 2031, 2031], "税收": [10.5, 20, 0],
                          "营业收入": [100, 200, 300], "从业人员": [10, 20, 30]})
    path = tmp_path / "metrics.xlsx"
    sheet.to_excel(path, index=False)
    result = import_file(engine, "metrics", path, crs="gcj02")
    assert (result.inserted, result.updated) == (3, 0)
    with engine.connect() as conn:
        got = conn.execute(sa.text(
            "SELECT p.code, m.tax_wan FROM land.enterprise_metrics m JOIN land.parcels p ON p.id = m.parcel_id "
            "WHERE m.year = 2031 ORDER BY p.code")).all()
    assert [(c, float(t)) for c, t in got] == sorted(zip(owned, [10.5, 20.0, 0.0]))
    # the same file again is a duplicate unless updating
    msg = _rejected(engine, path, kind="metrics", crs="gcj02")
    _line(msg, r"metrics\.xlsx: row 2: year: metrics for parcel/year .*already in the database")
    assert import_file(engine, "metrics", path, crs="gcj02", update_existing=True).updated == 3
    bad = sheet.copy()
    bad["年度"] = [1800, 2031, 2031]
    bad["税收"] = [1, -5, 1]
    bad.loc[2, "经度"] = 100.0
    bad_path = tmp_path / "bad_metrics.xlsx"
    bad.to_excel(bad_path, index=False)
    msg = _rejected(engine, bad_path, kind="metrics", crs="gcj02")
    _line(msg, r"bad_metrics\.xlsx: row 2: year: 1800 is below the allowed minimum 1990")
    _line(msg, r"bad_metrics\.xlsx: row 3: tax_wan: -5 is below the allowed minimum 0")
    _line(msg, r"bad_metrics\.xlsx: row 4: geometry: the point lies in no parcel")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.enterprise_metrics WHERE year = 2031"))


def test_bulk_import_writes_one_audit_entry_and_valid_rows(engine, target, small_zone, tmp_path):
    path = tmp_path / "bulk.gpkg"
    _empty(target)
    api.export("zones", tmp_path / "z.gpkg", engine=engine)
    import_file(target, "zones", tmp_path / "z.gpkg")
    api.export("parcels", path, zone=small_zone, engine=engine)
    index_sql = sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'land' AND tablename = 'parcels'")
    with target.connect() as conn:
        indexes = set(conn.execute(index_sql).all())
    result = import_file(target, "parcels", path, bulk_threshold=1)
    assert result.bulk and result.inserted > 0
    assert "wait for load" in result.seconds  # loaded while the last checks ran
    with target.connect() as conn:
        entries = conn.execute(sa.text(
            "SELECT action, (new_row ->> 'rows')::int, (new_row ->> 'import_id')::int FROM audit.change_log "
            "WHERE table_name = 'parcels' AND reason = :r"), {"r": f"import #{result.import_id} bulk.gpkg"}).all()
        assert entries == [("BULK_LOAD", result.inserted, result.import_id)]
        bad_refs = conn.execute(sa.text(
            "SELECT count(*) FROM land.parcels p LEFT JOIN land.zones z ON z.id = p.zone_id "
            "LEFT JOIN land.enterprises e ON e.id = p.enterprise_id "
            "WHERE z.id IS NULL OR (p.enterprise_id IS NOT NULL AND e.id IS NULL) OR p.version <> 1")).scalar()
        assert bad_refs == 0
        record = conn.execute(sa.text("SELECT kind, inserted, bulk, source_crs FROM audit.imports WHERE id = :i"),
                              {"i": result.import_id}).one()
    assert tuple(record) == ("parcels", result.inserted, True, "EPSG:4490")
    with target.connect() as conn:  # a load into an empty table rebuilt the indexes it dropped
        assert set(conn.execute(index_sql).all()) == indexes and len(indexes) >= 5
        # ... and its per-zone counts are those of the rows, the counting trigger on as before
        kept = conn.execute(sa.text("SELECT zone_code, status, n, west, south, east, north "
                                    "FROM layers.parcels_zone_summary ORDER BY 1, 2")).all()
        counted = conn.execute(sa.text(
            "SELECT z.code, p.status, count(*), min(ST_XMin(p.geom)), min(ST_YMin(p.geom)), max(ST_XMax(p.geom)), "
            "max(ST_YMax(p.geom)) FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "GROUP BY 1, 2 ORDER BY 1, 2")).all()
        assert kept == counted and sum(r[2] for r in kept) == result.inserted
        assert conn.execute(sa.text("SELECT tgenabled FROM pg_trigger WHERE tgname = 'parcel_zone_counts_insert' "
                                    "AND tgrelid = CAST('land.parcels' AS regclass)")).scalar() == "A"


def test_a_bulk_load_into_an_empty_table_keeps_the_geometry_check_for_every_other_writer(engine, target, small_zone,
                                                                                          tmp_path):
    # a load that at least doubles land.parcels leaves ST_IsValid to the importer's own check (the
    # COPY does not run it twice): an invalid geometry is still refused, nothing is written, and
    # after the import the table's check is back (NOT VALID) and refuses an ordinary writer's
    _empty(target)
    api.export("zones", tmp_path / "z.gpkg", engine=engine)
    import_file(target, "zones", tmp_path / "z.gpkg")
    good = tmp_path / "good.gpkg"
    api.export("parcels", good, zone=small_zone, engine=engine)
    bad = gpd.read_file(good)
    (x0, y0, x1, y1) = bad.geometry.iloc[1].bounds
    bad.loc[1, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    bad.to_file(tmp_path / "bowtie.gpkg")
    check_sql = sa.text("SELECT convalidated FROM pg_constraint WHERE conname = 'parcels_geom_check' "
                        "AND conrelid = CAST('land.parcels' AS regclass)")
    with target.connect() as conn:
        validated_before = conn.execute(check_sql).scalar()  # an earlier bulk load may have left it NOT VALID
    with pytest.raises(ImportRejected) as info:
        import_file(target, "parcels", tmp_path / "bowtie.gpkg", bulk_threshold=1)
    assert "wait for load" in info.value.result.seconds  # the COPY had started
    _line(str(info.value), r"bowtie\.gpkg: feature 2 \(code [^)]+\): geometry: invalid geometry: Self-intersection")
    with target.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar() == 0
        assert conn.execute(check_sql).scalar() is validated_before  # rolled back with the import
    result = import_file(target, "parcels", good, bulk_threshold=1)
    assert result.bulk and result.inserted == len(bad)
    with target.connect() as conn:
        assert conn.execute(check_sql).scalar() is False  # the database did not check these rows itself
        zone_id = conn.execute(sa.text("SELECT zone_id FROM land.parcels LIMIT 1")).scalar()
        with pytest.raises(sa.exc.IntegrityError, match="parcels_geom_check"):
            conn.execute(sa.text(
                "INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status) VALUES ('BOWTIE-1', :z, "
                "ST_Multi(ST_GeomFromEWKT(:g)), '1001', 'approved_unsupplied')"),
                {"z": zone_id, "g": f"SRID=4490;{bad.geometry.iloc[1].wkt}"})
        conn.rollback()
        # and the database can still check every row itself, at any time
        conn.execute(sa.text("ALTER TABLE land.parcels VALIDATE CONSTRAINT parcels_geom_check"))
        conn.commit()
        assert conn.execute(check_sql).scalar() is True


@pytest.mark.parametrize("chunk_rows", [100_000, 1], ids=["one COPY", "streamed in chunks"])
def test_a_bulk_load_stores_every_value_exactly(engine, target, small_zone, tmp_path, chunk_rows):
    # the bulk COPY is binary (each column in its type's binary form): NULLs stay NULL, numerics
    # round as PostgreSQL rounds their text, dates, the SRID and any text arrive as they left;
    # streamed chunk by chunk (one COPY each) as a large file is, the same
    _empty(target)
    api.export("zones", tmp_path / "z.gpkg", engine=engine)
    import_file(target, "zones", tmp_path / "z.gpkg")
    frame = new_parcels(engine, small_zone, n=4)
    frame["code"] = ["A-1", "b.2/x", "C_3-3.0", "D4"]
    frame["land_use_code"] = ["1001", "1001", None, "1001"]
    frame.loc[2, "land_use_code"] = "M1"  # a legacy GB 50137 code: mapped, the legacy code kept
    frame["status_since"] = ["2024-02-29", None, "1999-12-31", None]
    frame["plot_ratio_min"] = [1.005, np.nan, 0.125, 2.0]
    frame["plot_ratio_max"] = [3.333, np.nan, 49.995, 2.0]
    frame["floor_area_m2"] = [1234.5678, np.nan, 0.0, 1e-3]
    path = tmp_path / "exact.gpkg"
    frame.to_file(path)
    actor = "web:王五 o'brien \"q\" \\N ,;--"  # free text: quotes, a backslash, COPY's NULL marker
    result = import_file(target, "parcels", path, bulk_threshold=1, actor=actor, chunk_rows=chunk_rows)
    assert result.bulk and result.inserted == 4
    assert ("copy: waiting for chunks" in result.seconds) is (chunk_rows == 1)
    with target.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT code, land_use_code, legacy_land_use_code, status_since, plot_ratio_min, plot_ratio_max, "
            "floor_area_m2, enterprise_id, is_synthetic, updated_by, ST_SRID(geom), ST_AsBinary(geom), "
            # the area comes with the COPY (row triggers off): the importer's, equal to PostGIS's
            "abs(area_m2 / ST_Area(geom::geography) - 1) < 1e-7 FROM land.parcels ORDER BY code")).all()
    import datetime as dt
    from decimal import Decimal

    by_code = {r[0]: r for r in rows}
    assert sorted(by_code) == sorted(frame["code"])
    expected = {
        "A-1": ("1001", None, dt.date(2024, 2, 29), Decimal("1.01"), Decimal("3.33"), 1234.5678),
        "b.2/x": ("1001", None, None, None, None, None),
        "C_3-3.0": (by_code["C_3-3.0"][1], "M1", dt.date(1999, 12, 31), Decimal("0.13"), Decimal("50.00"), 0.0),
        "D4": ("1001", None, None, Decimal("2.00"), Decimal("2.00"), 1e-3),
    }
    for code, want in expected.items():
        assert tuple(by_code[code][1:7]) == want, code
    _line("\n".join(result.report.lines()), r"legacy GB 50137 codes mapped: M1→\d+ ×1 \[info\]")
    assert by_code["C_3-3.0"][1] not in (None, "M1")  # mapped to the national code
    for i, code in enumerate(frame["code"]):
        row = by_code[code]
        assert row[7:13] == (None, False, actor, 4490, row[11], True)
        assert shapely.from_wkb(bytes(row[11])).equals_exact(shapely.MultiPolygon([frame.geometry.iloc[i]]), 0)


def _gpkg_wkb(path) -> dict[str, bytes]:
    """code -> the WKB a GeoPackage holds for each feature, read with sqlite3 rather than GDAL: the
    GeoPackage binary header (magic, version, flags, SRS id, envelope of 0-64 bytes) stripped."""
    import sqlite3

    with sqlite3.connect(path) as db:
        table, column = db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
        rows = db.execute(f'SELECT code, "{column}" FROM "{table}"').fetchall()
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    return {code: bytes(blob[8 + envelope[(blob[3] >> 1) & 0b111]:]) for code, blob in rows}


def _bulk_import_fresh(engine, target, tmp_path, frame: gpd.GeoDataFrame, name: str, chunk_rows: int,
                       write: dict | None = None, **options):
    """Write ``frame`` as a GeoPackage (``write``: to_file's options) and import it in bulk into the
    emptied target; ``(result, {code: stored geometry as WKB})``."""
    _empty(target)
    api.export("zones", tmp_path / "z.gpkg", engine=engine)
    import_file(target, "zones", tmp_path / "z.gpkg")
    path = tmp_path / name
    frame.to_file(path, **(write or {}))
    result = import_file(target, "parcels", path, bulk_threshold=1, chunk_rows=chunk_rows, **options)
    assert result.bulk and result.inserted == len(frame)
    assert ("copy: waiting for chunks" in result.seconds) is (chunk_rows == 1)
    with target.connect() as conn:
        stored = {code: bytes(wkb) for code, wkb in conn.execute(sa.text(
            "SELECT code, ST_AsBinary(geom) FROM land.parcels WHERE ST_SRID(geom) = 4490 "
            "AND abs(area_m2 / ST_Area(geom::geography) - 1) < 1e-7"))}
    assert sorted(stored) == sorted(frame["code"])  # every row in 4490, its area from its geometry
    return result, stored


def _multipolygons(engine, zone: str, n: int) -> gpd.GeoDataFrame:
    frame = new_parcels(engine, zone, n=n)
    return frame.set_geometry([shapely.MultiPolygon([g]) for g in frame.geometry])


@pytest.mark.parametrize("chunk_rows", [100_000, 1], ids=["one COPY", "streamed in chunks"])
def test_a_bulk_load_copies_the_files_own_wkb_of_geometry_left_as_read(engine, target, small_zone, tmp_path,
                                                                       chunk_rows):
    # a CGCS2000 file of 2D MultiPolygons: validation changes no geometry, so the COPY sends the
    # bytes the file holds (not encoded again); a mixed file reuses those of its MultiPolygons only
    frame = _multipolygons(engine, small_zone, 6)
    result, stored = _bulk_import_fresh(engine, target, tmp_path, frame, "multi.gpkg", chunk_rows)
    assert result.reused_wkb == len(frame)
    assert stored == _gpkg_wkb(tmp_path / "multi.gpkg")  # byte for byte
    mixed = frame.set_geometry([g.geoms[0] if i in (1, 4) else g for i, g in enumerate(frame.geometry)])
    result, stored = _bulk_import_fresh(engine, target, tmp_path, mixed, "mixed.gpkg", chunk_rows,
                                        write={"geometry_type": "Unknown", "promote_to_multi": False})
    assert result.reused_wkb == len(frame) - 2
    in_file = _gpkg_wkb(tmp_path / "mixed.gpkg")
    for i, (code, geom) in enumerate(zip(frame["code"], frame.geometry)):
        if i in (1, 4):  # single Polygons in the file, promoted: encoded from the geometry
            assert in_file[code][1] == 3 and shapely.from_wkb(stored[code]).equals_exact(geom, 0)
        else:
            assert stored[code] == in_file[code]


def _gcj02(frame):  # WGS84-labelled offset coordinates (as web maps give them), read as GCJ-02
    def offset(xy):
        return np.column_stack(crsmod.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    moved = shapely.transform(np.asarray(frame.geometry.values), offset)
    return frame.set_geometry(moved).set_crs(4326, allow_override=True), {"crs": "gcj02"}


CHANGED = {
    "EPSG:4549": lambda f: (f.to_crs(4549), {}),
    "GCJ-02": _gcj02,
    "Polygons": lambda f: (f.set_geometry([g.geoms[0] for g in f.geometry]), {}),
    "3D": lambda f: (f.set_geometry(shapely.force_3d(np.asarray(f.geometry.values), 4.5)), {}),
}


@pytest.mark.parametrize("chunk_rows", [100_000, 1], ids=["one COPY", "streamed in chunks"])
@pytest.mark.parametrize("case", list(CHANGED))
def test_a_bulk_load_encodes_geometry_that_validation_changed(engine, target, small_zone, tmp_path, case,
                                                              chunk_rows):
    # converted to CGCS2000, promoted to MultiPolygon or made 2D: what is stored is the geometry
    # validation made, never the file's bytes
    frame = _multipolygons(engine, small_zone, 4)
    changed, options = CHANGED[case](frame)
    result, stored = _bulk_import_fresh(engine, target, tmp_path, changed, "changed.gpkg", chunk_rows, **options)
    assert result.reused_wkb == 0
    made = dict(zip(result.prepared.rows["code"], result.prepared.rows["geom"]))
    for code, original in zip(frame["code"], frame.geometry):
        geom = shapely.from_wkb(stored[code])
        assert geom.geom_type == "MultiPolygon" and not geom.has_z
        assert geom.equals_exact(made[code], 1e-9)  # what the geometry path gives
        assert geom.equals_exact(original, 1e-7)    # and where the parcel is


@pytest.mark.parametrize("chunk_rows", [100_000, 3], ids=["one COPY", "streamed in chunks"])
def test_a_bulk_load_started_before_the_last_checks_is_rolled_back_when_they_find_errors(engine, small_zone,
                                                                                          tmp_path, chunk_rows):
    # only problems found by the checks that run while a bulk import already COPYs: the COPY is
    # cancelled, the report is the same as for a small import, and nothing is written; streamed
    # in chunks of 3, the duplicate code (features 1 and 4) lies in two chunks and the invalid
    # geometry (feature 5) in a chunk whose COPY had started
    bad = new_parcels(engine, small_zone, n=8)
    bad.loc[3, "code"] = "NEW-1"
    bad.loc[2, "geometry"] = bad.geometry.iloc[1]
    (x0, y0, x1, y1) = bad.geometry.iloc[4].bounds
    bad.loc[4, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    bad["plot_ratio_min"], bad["plot_ratio_max"] = 1.0, 2.0
    bad.loc[5, "plot_ratio_min"] = 3.0
    path = tmp_path / "late.gpkg"
    bad.to_file(path)
    before = _counts(engine)
    with pytest.raises(ImportRejected) as info:
        import_file(engine, "parcels", path, bulk_threshold=1, chunk_rows=chunk_rows)
    assert _counts(engine) == before, "a rejected bulk import wrote something"
    assert "wait for load" in info.value.result.seconds  # the COPY had started
    msg = str(info.value)
    # GeoPackage feature ids count from 1
    _line(msg, r"late\.gpkg: feature 1 \(code NEW-1\): code: parcel code 'NEW-1' appears more than once in the file "
          r"\(also feature 4")
    _line(msg, r"late\.gpkg: feature 3 \(code NEW-3\): geometry: the same geometry as feature 2 \(code NEW-2\)")
    _line(msg, r"late\.gpkg: feature 5 \(code NEW-5\): geometry: invalid geometry: Self-intersection.*--repair")
    _line(msg, r"late\.gpkg: feature 6 \(code NEW-6\): plot_ratio_min: is greater than plot_ratio_max")
    # the same file checked the small way gives the same problems
    small = import_file(engine, "parcels", path, raise_on_error=False)
    assert not small.wrote and sorted(small.report.lines()) == sorted(info.value.result.report.lines())


def test_a_streamed_bulk_import_whose_last_chunk_has_an_error_writes_nothing(engine, small_zone, tmp_path):
    # chunks of 3: the first two are COPYed while the third is checked; its unknown status stops
    # the load and the whole import is rolled back
    bad = new_parcels(engine, small_zone, n=7)
    bad.loc[6, "status"] = "no_such_status"
    path = tmp_path / "last_chunk.gpkg"
    bad.to_file(path)
    before = _counts(engine)
    with pytest.raises(ImportRejected) as info:
        import_file(engine, "parcels", path, bulk_threshold=1, chunk_rows=3)
    assert _counts(engine) == before, "a rejected streamed import wrote something"
    assert "wait for load" in info.value.result.seconds  # the first chunks had been handed to the COPY
    msg = str(info.value)
    _line(msg, r"last_chunk\.gpkg: feature 7 \(code NEW-7\): status: 'no_such_status' is not a parcel status")
    assert msg.startswith("last_chunk.gpkg: 1 error(s)")


def test_a_bulk_import_with_errors_found_before_the_load_never_starts_it(engine, fresh, tmp_path):
    bad = fresh.copy()
    bad.loc[2, "status"] = "no_such_status"
    path = tmp_path / "early.gpkg"
    bad.to_file(path)
    before = _counts(engine)
    with pytest.raises(ImportRejected) as info:
        import_file(engine, "parcels", path, bulk_threshold=1)
    assert _counts(engine) == before
    assert "wait for load" not in info.value.result.seconds
    _line(str(info.value), r"early\.gpkg: feature 3 \(code NEW-3\): status: 'no_such_status' is not a parcel status")


def test_a_new_zone_boundary_version_takes_effect_on_its_date(engine, target, tmp_path):
    import datetime as dt

    _empty(target)
    api.export("zones", tmp_path / "z.gpkg", engine=engine)
    import_file(target, "zones", tmp_path / "z.gpkg")
    zones = gpd.read_file(tmp_path / "z.gpkg")
    grown = zones.head(1).copy()
    grown["geometry"] = grown.geometry.to_crs(4550).buffer(100).to_crs(4490)  # 100 m wider
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    grown["valid_from"] = tomorrow.isoformat()
    grown.to_file(tmp_path / "grown.gpkg")
    _line(_rejected(target, tmp_path / "grown.gpkg", kind="zones"),
          r"grown\.gpkg: feature 1 \(code \w+\): code: zone code '\w+' is already in the database")
    result = import_file(target, "zones", tmp_path / "grown.gpkg", update_existing=True)
    assert (result.inserted, result.updated) == (0, 1)
    code = grown.code.iloc[0]
    today = api.read_layer("zones", engine=target).set_index("code").boundary_area_m2[code]
    later = api.read_layer("zones", as_of=tomorrow, engine=target).set_index("code").boundary_area_m2[code]
    assert later > today * 1.01
    with target.connect() as conn:
        versions = conn.execute(sa.text(
            "SELECT valid_from, valid_to FROM land.zone_boundaries b JOIN land.zones z ON z.id = b.zone_id "
            "WHERE z.code = :c ORDER BY valid_from"), {"c": code}).all()
    assert versions[-1] == (tomorrow, None) and versions[-2][1] == tomorrow


def test_update_existing_changes_attributes_through_the_audited_path(engine, small_zone, tmp_path):
    path = tmp_path / "upd.gpkg"
    current = api.read_layer("parcels", zone=small_zone, engine=engine).head(3)
    frame = current[["code", "land_use_code", "geometry"]].copy()
    frame["floor_area_m2"] = [111.0, 222.0, 333.0]
    frame.to_file(path)
    result = import_file(engine, "parcels", path, update_existing=True)
    assert (result.inserted, result.updated) == (0, 3)
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT code, floor_area_m2 FROM land.parcels WHERE code = ANY(:c) ORDER BY code"),
                           {"c": list(frame.code)}).all()
        audited = conn.execute(sa.text("SELECT count(*) FROM audit.change_log WHERE action = 'UPDATE' AND reason = :r"),
                               {"r": f"import #{result.import_id} upd.gpkg"}).scalar()
    assert dict(got) == dict(zip(frame.code, frame.floor_area_m2))
    assert audited == 3


def test_a_bulk_import_that_also_updates_loads_the_new_rows_after_the_checks(engine, small_zone, tmp_path):
    existing = api.read_layer("parcels", zone=small_zone, engine=engine).tail(2)
    old = existing[["code", "land_use_code", "geometry"]].copy()
    old["floor_area_m2"] = [444.0, 555.0]
    new = new_parcels(engine, small_zone, n=3)[["code", "land_use_code", "geometry"]]
    new["code"] = [f"BULKUPD-{i}" for i in range(1, 4)]
    new["floor_area_m2"] = 100.0
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame(pd.concat([old, new], ignore_index=True), crs=4490).to_file(path)
    result = import_file(engine, "parcels", path, bulk_threshold=1, update_existing=True)
    assert (result.inserted, result.updated, result.bulk) == (3, 2, True)
    assert "wait for load" not in result.seconds  # updates too: written after every check
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT code, floor_area_m2 FROM land.parcels WHERE code = ANY(:c)"),
                                {"c": [*old.code, *new.code]}).all())
        actions = sorted(conn.execute(sa.text("SELECT action FROM audit.change_log WHERE reason = :r"),
                                      {"r": f"import #{result.import_id} mixed.gpkg"}).scalars())
    assert got == {**dict(zip(old.code, old.floor_area_m2)), **dict.fromkeys(new.code, 100.0)}
    assert actions == ["BULK_LOAD", "UPDATE", "UPDATE"]
    # the shared demo database must stay as the demo made it: the new squares may overlap its
    # parcels (later tests check that no demo parcel overlaps another)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM land.parcels WHERE code LIKE 'BULKUPD-%'"))


def test_a_refusal_by_the_database_rolls_the_whole_import_back(engine, small_zone, tmp_path):
    current = api.read_layer("parcels", zone=small_zone, engine=engine)
    producing = current[current.status == "in_production"].head(2)
    assert len(producing) == 2
    frame = producing[["code", "land_use_code", "geometry"]].copy()
    frame["floor_area_m2"] = [4321.0, 4321.0]
    frame["status"] = ["in_production", "approved_unsupplied"]  # not a step of the lifecycle
    path = tmp_path / "lifecycle.gpkg"
    frame.to_file(path)
    msg = _rejected(engine, path, update_existing=True)
    _line(msg, r"lifecycle\.gpkg: file: database: the database refused the import: parcel .*cannot change from "
          r"in_production to approved_unsupplied")
    with engine.connect() as conn:
        areas = conn.execute(sa.text("SELECT floor_area_m2 FROM land.parcels WHERE code = ANY(:c)"),
                             {"c": list(frame.code)}).scalars().all()
    assert 4321.0 not in areas  # the first row's update went back with the second's refusal


# -- the notebook API ---------------------------------------------------------------------------------

def test_read_layer_filters_and_refuses_unknown_names(engine, small_zone):
    every = api.read_layer("parcels", engine=engine)
    one = api.read_layer("parcels", zone=small_zone, fields=["code", "status"], engine=engine)
    assert set(one.zone_code if "zone_code" in one else [small_zone]) == {small_zone}
    assert list(one.columns) == ["id", "code", "status", "geometry"]
    assert 0 < len(one) < len(every)
    assert one.crs.to_epsg() == 4490
    minx, miny, maxx, maxy = one.total_bounds
    boxed = api.read_layer("parcels", bbox=(minx, miny, maxx, maxy), engine=engine)
    assert set(one.code) <= set(boxed.code)
    with pytest.raises(NotFoundError, match="unknown layer"):
        api.read_layer("parcels; DROP TABLE land.parcels", engine=engine)
    with pytest.raises(InputError, match="has no field"):
        api.read_layer("parcels", fields=["code", "geom\"; --"], engine=engine)
    with pytest.raises(InputError, match="cannot be filtered by zone"):
        api.read_layer("zones", zone="x", engine=engine)
    assert len(api.read_layer("parcels", zone="no'such zone", engine=engine)) == 0


def test_read_layer_as_of_shows_the_boundary_in_force_that_day(engine):
    with engine.connect() as conn:
        zone, changed = conn.execute(sa.text(
            "SELECT z.code, b.valid_to FROM land.zone_boundaries b JOIN land.zones z ON z.id = b.zone_id "
            "WHERE b.valid_to IS NOT NULL ORDER BY b.valid_to LIMIT 1")).one()
    now = api.read_layer("zones", engine=engine).set_index("code")
    before = api.read_layer("zones", as_of=changed - pd.Timedelta(days=1), engine=engine).set_index("code")
    assert before.boundary_area_m2[zone] < now.boundary_area_m2[zone]
    with pytest.raises(InputError, match="as_of is not supported"):
        api.read_layer("grants", as_of="2020-01-01", engine=engine)


def test_explore_uses_the_web_maps_style_and_legend(engine, small_zone):
    from gisapp.catalog.registry import get_layer
    from gisapp.render.style import fill_color, legend

    frame = api.read_layer("parcels", zone=small_zone, engine=engine)
    m = api.explore(frame)
    page = m.get_root().render()
    layer = get_layer("parcels")
    for item in legend(layer, "zh"):
        assert item.label in page and item.color in page
    assert "合成演示数据" in page  # synthetic data says so
    assert "L.tileLayer" not in page  # no basemap: works offline
    # the style function gives each feature the web map's colour
    geo = next(iter(m._children.values()))
    feature = {"properties": {"status": frame.status.iloc[0]}}
    assert geo.style_function(feature)["fillColor"] == fill_color(layer, feature["properties"])
    english = api.explore(frame, lang="en").get_root().render()
    assert legend(layer, "en")[0].label in english


def test_run_rule_on_frames_and_on_the_database(engine, small_zone):
    import datetime as dt

    from gisapp.demo import DEMO_AS_OF

    from_db = api.run_rule("idle_land", as_of=DEMO_AS_OF, zone=small_zone, frames=engine)
    frames = api.rule_inputs("idle_land", as_of=DEMO_AS_OF, zone=small_zone, engine=engine)
    from_frames = api.run_rule("idle_land", frames=frames, as_of=DEMO_AS_OF)
    assert len(from_db) == len(from_frames) > 0
    assert set(from_db.rule) == {"idle_land"}
    later = api.run_rule("idle_land", frames=frames, as_of=DEMO_AS_OF + dt.timedelta(days=3650))
    assert later.is_positive.sum() >= from_frames.is_positive.sum()
    with pytest.raises(InputError, match="unknown rule"):
        api.run_rule("no_such_rule", frames=frames, as_of=DEMO_AS_OF)
