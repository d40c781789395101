"""`gisapp cases split`: a surplus land transfer case's parcel split from a GeoJSON file, as a
named account; a refusal is a sentence naming what is wrong, never a traceback."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gisapp.cli import main

pytestmark = pytest.mark.db


def cases(*args: str):
    return CliRunner().invoke(main, ["cases", *args])


def test_a_parcel_is_split_on_the_command_line(isolated_engine, make_user, tmp_path):
    admin, editor = make_user("bureau_admin"), make_user("zone_editor", ("waigaoqiao_ftz",))
    with isolated_engine.connect() as conn:
        code, line = conn.execute(sa.text("""
            SELECT p.code, ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(p.geom) - 0.001),
                                                    ST_MakePoint(ST_X(c), ST_YMax(p.geom) + 0.001)))
            FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS c) x
            WHERE z.code = 'waigaoqiao_ftz' AND p.status = 'in_production' AND p.area_m2 > 5000
              AND ST_NumGeometries(p.geom) = 1 AND land.parcel_geometry_problems(p.id, p.zone_id, p.geom) = '[]'
              AND NOT EXISTS (SELECT 1 FROM land.cases k WHERE k.parcel_id = p.id)
            ORDER BY p.id LIMIT 1""")).one()
    opened = cases("open", "low_efficiency_exit", "--parcel", code, "--pathway", "le_surplus_land_transfer",
                   "--on", "2026-01-05", "--as", admin.username)
    assert opened.exit_code == 0, opened.output
    case = opened.output.split()[1]
    for step, on in (("enterprise_notified", "2026-01-09"), ("enterprise_plan", "2026-02-06"),
                     ("split_plan", "2026-02-20")):
        assert cases("step", case, step, "--on", on, "--as", editor.username).exit_code == 0
    cut = tmp_path / "cut.geojson"
    cut.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(line)}]}))
    taken = cases("split", case, "--cut", str(cut), "--new-code", code, "--on", "2026-03-02", "--as", editor.username)
    assert taken.exit_code == 1 and f"The parcel code {code} is taken" in taken.output
    assert "Traceback" not in taken.output
    done = cases("split", case, "--cut", str(cut), "--new-code", f"{code}-S", "--on", "2026-03-02",
                 "--as", editor.username, "--lang", "zh")
    assert done.exit_code == 0, done.output
    assert f"new parcel {code}-S has" in done.output
    shown = cases("show", case, "--as", editor.username, "--as-of", "2026-03-02")
    assert "Parcel split" in shown.output
    with isolated_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM land.parcels WHERE code = :c"),
                            {"c": f"{code}-S"}).scalar() == "transferred"
