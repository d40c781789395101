"""Malformed viewport input is refused with a reason before any query."""

import pytest

from gisapp.errors import InputError
from gisapp.queries.features import BBox, parse_zoom, simplify_tolerance


@pytest.mark.parametrize("text, reason", [
    (None, "required"),
    ("1,2,3", "4 comma-separated"),
    ("a,b,c,d", "not a number"),
    ("121.6,31.3,121.5,31.4", "inverted"),
    ("121,31,200,32", "out of range"),
    ("nan,31,122,32", "finite"),
])
def test_bad_bbox_is_refused_with_reason(text, reason):
    with pytest.raises(InputError, match=reason):
        BBox.parse(text)


def test_good_bbox_parses():
    assert BBox.parse("121.5,31.2,121.6,31.3") == BBox(121.5, 31.2, 121.6, 31.3)


@pytest.mark.parametrize("zoom", ["-1", "23", "x", None, "1.5"])
def test_bad_zoom_is_refused(zoom):
    with pytest.raises(InputError, match="zoom"):
        parse_zoom(zoom)


def test_simplification_halves_with_each_zoom_level():
    assert simplify_tolerance(13) == pytest.approx(simplify_tolerance(12) / 2)
