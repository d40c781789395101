"""Column parsers and file round trips without a database."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gisapp.io.fields import METRICS, PARCELS, ZONES, match_columns
from gisapp.io.readers import read_source
from gisapp.io.values import parse_column
from gisapp.io.writers import format_for, shapefile_names, write_frame

SPEC = {f.name: f for f in PARCELS.fields}


def test_numbers_accept_thousands_separators_and_report_the_rest():
    values, bad = parse_column(pd.Series(["1,234.5", " 7 ", "", "abc", "inf", "-3"]), SPEC["floor_area_m2"])
    assert values.iloc[0] == 1234.5 and values.iloc[1] == 7 and pd.isna(values.iloc[2])
    assert set(bad) == {3, 4, 5}
    assert "not a number" in bad[3] and "finite" in bad[4] and "below the allowed minimum 0" in bad[5]


def test_whole_numbers_and_ranges():
    year = {f.name: f for f in METRICS.fields}["year"]
    values, bad = parse_column(pd.Series([2024, 2024.5, 1800, None]), year)
    assert values.iloc[0] == 2024
    assert "whole number" in bad[1] and "below the allowed minimum 1990" in bad[2]


def test_dates_in_the_forms_people_write_them():
    values, bad = parse_column(pd.Series(["2024-02-29", "2024/3/1", "2024年3月2日", "20240303", "2023-02-29",
                                          "31/12/2024"]), SPEC["status_since"])
    assert list(values[:4]) == [dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)]
    assert set(bad) == {4, 5}


def test_booleans_in_chinese_and_english():
    values, bad = parse_column(pd.Series(["是", "否", "true", "0", "maybe"]), SPEC["is_synthetic"])
    assert list(values[:4]) == [True, False, True, False] and set(bad) == {4}


@pytest.mark.parametrize("text,why", [
    ("<img src=x onerror=alert(1)>", "markup"), ("javascript:alert(1)", "markup"), ("=1+1", "formula"),
    ("@SUM(A1)", "formula"), ("-cmd", "formula"), ("a\x00b", "control"), ("two\nlines", "control"),
])
def test_hostile_text_is_reported(text, why):
    _, bad = parse_column(pd.Series([text]), SPEC["enterprise_zh"])
    assert why in bad[0]


def test_ordinary_text_passes_including_quotes_and_negative_numbers():
    values, bad = parse_column(pd.Series(["O'Brien 公司", "-12.5", "A&B <= C"]), SPEC["enterprise_zh"])
    assert bad == {}  # "<=" opens no tag; a leading minus before a digit is a number, not a formula
    assert values.iloc[0] == "O'Brien 公司"


def test_codes_follow_their_pattern_and_spreadsheet_numbers_keep_their_digits():
    values, bad = parse_column(pd.Series(["WGQ-00001", "bad code", 1001.0]), SPEC["code"])
    assert values.iloc[2] == "1001" and set(bad) == {1}


@pytest.mark.parametrize(("field", "pool"), [
    ("status", ["in_production", " Idle ", "", None, "=cmd()", "no such", "<b>x</b>", "闲置"]),
    ("land_use_code", ["100101", "M1", "bad code", None, 1001.0, "=1+1"]),
    ("status_since", ["2024-02-29", "2023-02-29", "20240303", None, "soon", "1800-01-01"]),
    ("plot_ratio_min", ["1,5", "2", "abc", None, "-1", "inf"]),
    ("is_synthetic", ["是", "否", "maybe", None]),
    ("enterprise_zh", [True, 1, 1.0, "x", "=1", None]),  # mixed Python values: True is not "1"
])
def test_a_large_column_of_repeated_values_parses_as_value_by_value(field, pool):
    # a million-row column of a few distinct values is parsed once per value (values.parse_column):
    # the same values and the same reasons at the same rows as parsing each row
    from gisapp.io.values import DISTINCT_MIN_ROWS, PARSERS

    n = DISTINCT_MIN_ROWS + 1_000
    col = pd.Series(np.random.default_rng(7).choice(np.array(pool, dtype=object), n))
    for column in (col, col.astype("string[pyarrow]")) if field == "status" else (col,):
        values, bad = parse_column(column, SPEC[field])
        one_by_one, bad_one_by_one = PARSERS[SPEC[field].kind](column, SPEC[field])
        assert bad == bad_one_by_one and len(bad) > 0
        assert values.dtype == one_by_one.dtype
        assert (values.astype(object).where(values.notna(), None).tolist()
                == one_by_one.astype(object).where(one_by_one.notna(), None).tolist())


def test_column_matching_prefers_exact_names_then_aliases():
    mapping, ignored = match_columns(PARCELS, ["Code", "用地代码", "zone_code", "status_sin", "whatever"])
    assert mapping == {"code": "Code", "land_use_code": "用地代码", "zone_code": "zone_code",
                       "status_since": "status_sin"}
    assert ignored == ["whatever"]
    mapping, _ = match_columns(ZONES, ["code", "zone_code"])
    assert mapping["code"] == "code"


def test_shapefile_names_are_short_and_unique():
    names = shapefile_names(["enterprise_zh", "enterprise_en", "land_use_code", "land_use_zh", "id"])
    assert all(len(v) <= 10 for v in names.values())
    assert len({v.lower() for v in names.values()}) == 5


def test_format_is_taken_from_the_suffix_or_refused():
    assert format_for("a.GPKG") == "gpkg" and format_for("a.zip") == "shp" and format_for("x", "excel") == "xlsx"
    with pytest.raises(Exception, match="cannot tell the format"):
        format_for("a.txt")


@pytest.mark.parametrize("fmt", ["gpkg", "zip", "geojson", "csv", "xlsx", "kml"])
def test_files_written_read_back_with_their_values(tmp_path, fmt):
    frame = gpd.GeoDataFrame(
        {"code": ["A-1", "B-2"], "name_zh": ["外高桥", "=formula"], "n": [1.5, None],
         "d": [dt.date(2024, 2, 29), None], "flag": [True, False]},
        geometry=[shapely.MultiPolygon([shapely.box(121.5, 31.2, 121.51, 31.21)]),
                  shapely.MultiPolygon([shapely.box(121.6, 31.2, 121.61, 31.21)])], crs=4490)
    path = write_frame(frame, tmp_path / f"t.{fmt}", layer_name="t")
    src = read_source(path)
    assert len(src) == 2
    geoms = np.asarray(src.geometry, dtype=object)
    assert shapely.hausdorff_distance(geoms, np.asarray(frame.geometry.values)).max() < 1e-9
    cols = {c.lower(): c for c in src.frame.columns}
    assert list(src.frame[cols["code"]]) == ["A-1", "B-2"]
    assert src.frame[cols["name_zh"]].iloc[0] == "外高桥"
    if fmt in ("csv", "xlsx"):  # formula-like text is defused with an apostrophe
        assert src.frame[cols["name_zh"]].iloc[1] == "'=formula"
        assert src.crs_text == "EPSG:4490"
