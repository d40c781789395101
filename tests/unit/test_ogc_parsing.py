"""The OGC API's request parsing: CRSs and their axis order, bbox, datetime, property filters."""

from __future__ import annotations

import datetime as dt

import pytest

from gisapp.catalog.registry import get_layer
from gisapp.errors import InputError
from gisapp.queries.ogc_crs import CRS84, parse_bbox, parse_crs
from gisapp.queries.ogc_items import FieldType, ItemsRequest, parse_datetime, parse_filter_value, where_sql


@pytest.mark.parametrize("text, srid, north_first", [
    (None, 4326, False), ("http://www.opengis.net/def/crs/EPSG/0/4490", 4490, True), ("EPSG:4326", 4326, True),
    ("[EPSG:4549]", 4549, True), ("https://www.opengis.net/def/crs/EPSG/0/3857", 3857, False), ("OGC:CRS84", 4326, False),
])
def test_crs_uris_and_their_axis_order(text, srid, north_first):
    crs = parse_crs(text)
    assert (crs.srid, crs.north_first) == (srid, north_first)


def test_an_unoffered_crs_names_the_offered_ones():
    with pytest.raises(InputError, match="4490"):
        parse_crs("EPSG:2000")


def test_bbox_follows_the_axis_order_of_its_crs():
    lon_lat = parse_bbox("121.5,31.2,121.6,31.3", parse_crs(None))
    lat_lon = parse_bbox("31.2,121.5,31.3,121.6", parse_crs("EPSG:4490"))
    assert lon_lat.boxes == lat_lon.boxes[:1] == ((121.5, 31.2, 121.6, 31.3),)
    six = parse_bbox("121.5,31.2,0,121.6,31.3,100", parse_crs(CRS84))
    assert six.boxes == lon_lat.boxes
    across = parse_bbox("170,30,-170,32", parse_crs(None))
    assert across.boxes == ((170.0, 30.0, 180.0, 32.0), (-180.0, 30.0, -170.0, 32.0))


@pytest.mark.parametrize("text, crs", [("1,2,3", None), ("a,b,c,d", None), ("121,31,122,nan", None),
                                       ("121,32,122,31", None), ("121.5,31.2,121.6,31.3", "EPSG:4326")])
def test_malformed_or_out_of_range_bboxes_are_refused(text, crs):
    """The last: longitude first in a CRS whose first axis is latitude."""
    with pytest.raises(InputError, match="bbox"):
        parse_bbox(text, parse_crs(crs))


def test_datetime_is_a_day_or_an_instant_in_shanghai_never_an_interval():
    assert parse_datetime("2025-03-01") == dt.date(2025, 3, 1)
    assert parse_datetime("2025-02-28T17:00:00Z") == dt.date(2025, 3, 1)  # 01:00 in Shanghai
    for bad in ("2025-01-01/2025-02-01", "../2025-01-01", "2025-02-28T17:00:00", "yesterday"):
        with pytest.raises(InputError, match="datetime"):
            parse_datetime(bad)


def test_filter_values_are_checked_against_their_field_type():
    assert parse_filter_value("version", "3", FieldType("integer", "integer")) == 3
    assert parse_filter_value("flag", "TRUE", FieldType("boolean", "boolean")) is True
    assert parse_filter_value("on", "2025-01-02", FieldType("date", "string", "date")) == dt.date(2025, 1, 2)
    for name, text, kind in [("version", "3.5", FieldType("integer", "integer")),
                             ("area", "inf", FieldType("numeric", "number")),
                             ("flag", "yes", FieldType("boolean", "boolean"))]:
        with pytest.raises(InputError, match=name):
            parse_filter_value(name, text, kind)


def test_text_filters_compare_as_text_not_cut_to_a_varchar():
    layer = get_layer("zones")
    types = {"code": FieldType("character varying(8)", "string"), "approved_on": FieldType("date", "string", "date")}
    req = ItemsRequest(crs=parse_crs(None), filters={"code": "waigaoqiao_ftz", "approved_on": dt.date(2020, 1, 1)})
    where, params = where_sql(layer, req, types)
    assert 'CAST(:p0 AS text)' in where and 'CAST(:p1 AS date)' in where
    assert params == {"p0": "waigaoqiao_ftz", "p1": dt.date(2020, 1, 1)}
