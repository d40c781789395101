"""A collection's extent: computed once and kept; a slow scan (a rule layer's view at city scale)
does not hold up the answer, it finishes in the background for the next one."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import get_layer
from gisapp.queries import ogc_items


def test_extent_is_the_layers_bbox_in_crs84(engine):
    from gisapp.db.engine import get_engine

    layer = get_layer("zones").model_copy(update={"id": "zones_extent_probe"})
    got = ogc_items.layer_extent(get_engine(), layer)
    with engine.connect() as conn:
        box = conn.execute(sa.text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                   "(SELECT ST_Extent(geom) e FROM layers.zones) x")).one()
    assert got == pytest.approx(list(box), abs=1e-6)


def test_a_slow_extent_is_answered_later_not_waited_for(engine, monkeypatch):
    from gisapp.db.engine import get_engine

    layer = get_layer("zones").model_copy(update={"id": "zones_slow_extent_probe"})
    slow = sa.text("SELECT 121.0, 31.0, 122.0, 32.0 FROM pg_sleep(0.6)")
    monkeypatch.setattr(ogc_items, "_extent_sql", lambda _layer: slow)
    monkeypatch.setattr(ogc_items, "EXTENT_WAIT_MS", 100)
    started = time.monotonic()
    assert ogc_items.layer_extent(get_engine(), layer) is None
    assert time.monotonic() - started < 0.5, "the request waited for the whole scan"
    deadline = time.monotonic() + 10
    while ogc_items.layer_extent(get_engine(), layer) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ogc_items.layer_extent(get_engine(), layer) == [121.0, 31.0, 122.0, 32.0]
