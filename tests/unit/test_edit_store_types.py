"""The edits bind each value with its column's type from the typed table map (gisapp.models)."""

from decimal import Decimal

import pytest

from gisapp import models
from gisapp.errors import GisappError
from gisapp.queries.edit_store import typed_values


def test_a_decimal_goes_to_a_double_column_as_a_float_and_stays_exact_for_numeric():
    metrics = models.table_of("land.construction_progress")
    double = next(c.name for c in metrics.c if type(c.type).__name__ == "Double")
    values = typed_values(metrics, {double: Decimal("0.1")})
    assert type(values[double]) is float and values[double] == 0.1
    grants = models.table_of("land.land_grants")
    assert typed_values(grants, {"price_wan": Decimal("1.10")}) == {"price_wan": Decimal("1.10")}


def test_a_column_the_map_does_not_know_is_refused_before_any_sql():
    with pytest.raises(GisappError, match="land.green_areas has no column.*not_a_column"):
        typed_values(models.table_of("land.green_areas"), {"parcel_id": 1, "not_a_column": 2})


def test_an_unmapped_table_is_named():
    with pytest.raises(KeyError, match="land.nowhere is not mapped"):
        models.table_of("land.nowhere")
