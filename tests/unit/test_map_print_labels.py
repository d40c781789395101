"""The printed map's labels (gisapp.render.map_print): the names the web map writes on districts
and zones, from the declared zoom on, inside each feature's part in view, never over another name,
the scale bar or the north arrow, and kept as text."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from gisapp.catalog.registry import get_layer
from gisapp.render.map_print import PrintLayer, labelled, map_figure, print_zoom

VIEW = (121.0, 31.0, 121.2, 31.15)
#: a box smaller than one 9-10 pt name on the printed VIEW (about 0.015° by 0.005°): room for one
SMALL = (121.095, 31.07, 121.105, 31.074)


def district_frame(*parts: tuple[str, str, tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name_zh": [p[0] for p in parts], "name_en": [p[1] for p in parts]},
                            geometry=[box(*p[2]) for p in parts], crs="EPSG:4490")


def written(page, layer_id: str) -> list[str]:
    ax = page.figure.axes[0]
    return [t.get_text() for t in ax.texts if t.get_gid() == f"map-print-label-{layer_id}"]


@pytest.mark.parametrize("lang, names", [("zh", ["西区", "东区"]), ("en", ["West", "East"])])
def test_each_district_in_view_is_named_in_the_page_language(lang, names):
    frame = district_frame(("西区", "West", (120.9, 30.9, 121.1, 31.2)), ("东区", "East", (121.1, 30.9, 121.3, 31.2)))
    page = map_figure([PrintLayer(get_layer("districts"), frame)], VIEW, lang, zoom=10)
    assert sorted(written(page, "districts")) == sorted(names)
    for text in page.figure.axes[0].texts:  # inside its district's part in view
        if text.get_gid() == "map-print-label-districts":
            x, _y = text.get_position()
            assert (x < 121.1) == (text.get_text() in ("西区", "West"))


def test_names_follow_the_declared_min_zoom():
    frame = district_frame(("西区", "West", (120.9, 30.9, 121.3, 31.2)))
    districts = get_layer("districts")
    assert labelled(districts, districts.labels.min_zoom) and not labelled(districts, districts.labels.min_zoom - 1)
    below = map_figure([PrintLayer(districts, frame)], VIEW, "zh", zoom=districts.labels.min_zoom - 1)
    assert written(below, "districts") == []
    assert not labelled(get_layer("parcels"), 20)  # parcels carry no names, as on the map


def test_without_the_maps_zoom_the_page_width_decides():
    """A view a few kilometres wide is printed as a z13 map would show it; the whole city as ~z9-10."""
    assert 12 < print_zoom((121.50, 31.30, 121.60, 31.38)) < 14
    assert 9 < print_zoom((120.85, 30.68, 122.0, 31.55)) < 10.5


def test_a_sliver_at_the_edge_of_the_view_is_not_named_and_names_do_not_overlap():
    sliver = ("边区", "Edge", (120.9, 31.0, 121.001, 31.15))  # a hundredth of the view's width in view
    # two features on one small box: room for one name only
    twins = [("甲区", "Twin A", SMALL), ("乙区", "Twin B", SMALL)]
    page = map_figure([PrintLayer(get_layer("districts"), district_frame(sliver, *twins))], VIEW, "en", zoom=12)
    names = written(page, "districts")
    assert "Edge" not in names and len([n for n in names if n.startswith("Twin")]) == 1


def test_zone_names_come_before_district_names():
    """The zones are drawn above the districts: where both names would go, the zone's is written."""
    districts = district_frame(("大区", "Big District", SMALL))
    zones = gpd.GeoDataFrame({"name_zh": ["园区"], "name_en": ["Zone"]}, geometry=[box(*SMALL)], crs="EPSG:4490")
    page = map_figure([PrintLayer(get_layer("districts"), districts), PrintLayer(get_layer("zones"), zones)], VIEW,
                      "en", zoom=12)
    assert written(page, "zones") == ["Zone"] and written(page, "districts") == []
