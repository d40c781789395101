"""The assessment's binary reader (ADBC) gives the same frames as the CSV reader of notebooks."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from gisapp.demo import DEMO_AS_OF
from gisapp.queries.rule_inputs import FRAME_SQL, input_snapshot, load_inputs, read_in_snapshot, zone_ids_for

pytestmark = pytest.mark.db


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame).copy()
    if "geom" in out:
        out["geom"] = shapely.to_wkb(out["geom"].to_numpy(), hex=True, include_srid=True)
    return out


@pytest.mark.parametrize("zones", [None, ["yangshan", "jiading"]])
def test_every_frame_reads_the_same_in_binary_as_in_csv(engine, zones):
    names = list(FRAME_SQL)
    with engine.connect() as conn:
        zone_ids = zone_ids_for(conn, zones)
        csv = load_inputs(conn, names, zone_codes=zones, as_of=DEMO_AS_OF)
    params = {"zone_ids": zone_ids, "as_of": DEMO_AS_OF}
    with input_snapshot(engine) as snapshot:
        binary = dict(read_in_snapshot(engine, snapshot, names, params))
    assert sum(len(f) for f in binary.values()) > 10_000
    for name in names:
        assert type(binary[name]) is type(csv[name]), name
        pd.testing.assert_frame_equal(_comparable(binary[name]), _comparable(csv[name]), obj=name)


def test_the_binary_reader_sees_the_snapshot_not_later_changes(engine):
    import sqlalchemy as sa

    with input_snapshot(engine) as snapshot:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT set_config('gisapp.user', 'snapshot-test', true), "
                                 "set_config('gisapp.reason', 'snapshot test', true)"))
            before = conn.execute(sa.text("SELECT count(*) FROM land.zones")).scalar()
            zone = conn.execute(sa.text("SELECT id FROM land.zones ORDER BY id LIMIT 1")).scalar()
            conn.execute(sa.text("UPDATE land.zones SET name_en = name_en || ' (renamed)' WHERE id = :z"), {"z": zone})
        try:
            zones = dict(read_in_snapshot(engine, snapshot, ["zones"], {"zone_ids": None, "as_of": DEMO_AS_OF}))["zones"]
            assert len(zones) == before
            assert not zones["name_en"].str.endswith("(renamed)").any()
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT set_config('gisapp.user', 'snapshot-test', true), "
                                     "set_config('gisapp.reason', 'snapshot test', true)"))
                conn.execute(sa.text("UPDATE land.zones SET name_en = left(name_en, -10) WHERE id = :z"), {"z": zone})
