"""The parcel split of a surplus land transfer (issue #20; land.split_parcel,
sql/security/0940_parcel_split.sql): by a line and by a polygon, the two parts' union is the
original, each refusal says which part is wrong and why and leaves nothing written, row-level
security, the audit, the status history, the case's step and the live re-assessment queue."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.casework.queries.split import split_parcel
from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.i18n import problem_texts
from gisapp.queries.edit_errors import EditRefused, ValidationFailed

pytestmark = pytest.mark.db

ADMIN = Actor("split.admin", "bureau_admin", ())
VIEWER = Actor("split.viewer", "bureau_viewer", ())


def _editor(zone_id: int) -> Actor:
    return Actor(f"split.ed{zone_id}", "zone_editor", (zone_id,))


def _one(eng, sql: str, **params):
    with eng.connect() as conn:
        return conn.execute(sa.text(sql), params).first()


CANDIDATES = """
    SELECT p.id, p.code, p.zone_id FROM land.parcels p
    WHERE p.status IN ('low_efficiency', 'in_production', 'completed') AND p.area_m2 > 5000
      AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM land.parcel_splits s WHERE p.id IN (s.parcel_id, s.new_parcel_id))
      AND land.parcel_geometry_problems(p.id, p.zone_id, p.geom) = '[]'::jsonb
      AND GeometryType(p.geom) = 'MULTIPOLYGON' AND ST_NumGeometries(p.geom) = 1
    ORDER BY p.id
"""


@pytest.fixture(scope="module")
def parcels(isolated_engine):
    with isolated_engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(CANDIDATES))]
    assert len(rows) >= 12
    return iter(rows)


def _case(eng, code: str, zone: int, pathway: str = "le_surplus_land_transfer", plan: bool = True) -> str:
    case = q.open_case(eng, ADMIN, {"kind": "low_efficiency_exit", "pathway": pathway, "parcel": code,
                                    "opened_on": "2026-01-05"}).case_code
    editor = _editor(zone)
    q.record_step(eng, editor, case, {"step": "enterprise_notified", "done_on": "2026-01-09"})
    q.record_step(eng, editor, case, {"step": "enterprise_plan", "done_on": "2026-02-06"})
    if plan and pathway == "le_surplus_land_transfer":
        q.record_step(eng, editor, case, {"step": "split_plan", "done_on": "2026-02-20"})
    return case


def _line(eng, code: str) -> str:
    """GeoJSON of a north-south line through a point inside the parcel, past its bounding box."""
    return _one(eng, """
        SELECT ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g) - 0.001), ST_MakePoint(ST_X(c), ST_YMax(g) + 0.001)))
        FROM (SELECT geom AS g, ST_PointOnSurface(geom) AS c FROM land.parcels WHERE code = :c) x""", c=code)[0]


def _west_half(eng, code: str) -> str:
    """GeoJSON of a rectangle covering the western half of the parcel's bounding box (and beyond)."""
    return _one(eng, """
        SELECT ST_AsGeoJSON(ST_MakeEnvelope(ST_XMin(g) - 0.001, ST_YMin(g) - 0.001, ST_X(ST_PointOnSurface(g)),
                                            ST_YMax(g) + 0.001, 4490))
        FROM (SELECT geom AS g FROM land.parcels WHERE code = :c) x""", c=code)[0]


def _state(eng, code: str) -> tuple:
    """What a refused split must leave as it was."""
    return tuple(_one(eng, """
        SELECT (SELECT count(*) FROM land.parcels), p.version, ST_AsEWKT(p.geom),
               (SELECT count(*) FROM land.parcel_splits), (SELECT max(id) FROM audit.change_log),
               (SELECT count(*) FROM land.case_steps), (SELECT count(*) FROM land.parcel_status_history)
        FROM land.parcels p WHERE p.code = :c""", c=code))


def test_a_split_by_a_line_keeps_the_parcel_whole_and_records_everything(isolated_engine, parcels):
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    before = _one(isolated_engine, "SELECT geom, area_m2, land_use_code, enterprise_id, status, zone_id "
                                   "FROM land.parcels WHERE id = :i", i=pid)
    with isolated_engine.connect() as conn:
        queued_before = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM rules.reassess_queue")).scalar()
        audit_before = conn.execute(sa.text("SELECT max(id) FROM audit.change_log")).scalar()
    result = split_parcel(isolated_engine, _editor(zone), case,
                          {"cut": _line(isolated_engine, code), "new_code": f"{code}-S", "reason": "节余土地转让（测试）",
                           "split_on": "2026-03-02"})
    assert result.parcel_code == code and result.new_parcel_code == f"{code}-S"
    new = _one(isolated_engine, "SELECT * FROM land.parcels WHERE code = :c", c=f"{code}-S")._mapping
    assert (new["zone_id"], new["land_use_code"], new["enterprise_id"]) == (zone, before.land_use_code,
                                                                            before.enterprise_id)
    assert new["status"] == "transferred" and str(new["status_since"]) == "2026-03-02"
    # the line makes two parts; the smaller is the surplus; together they are the original
    check = _one(isolated_engine, """
        SELECT ST_IsValid(o.geom), ST_IsValid(n.geom), o.area_m2, n.area_m2,
               ST_Area(ST_SymDifference(ST_Union(o.geom, n.geom), s.original_geom)::geography),
               ST_Area(ST_Intersection(o.geom, n.geom)::geography),
               land.parcel_geometry_problems(o.id, o.zone_id, o.geom), land.parcel_geometry_problems(n.id, n.zone_id, n.geom)
        FROM land.parcel_splits s JOIN land.parcels o ON o.id = s.parcel_id JOIN land.parcels n ON n.id = s.new_parcel_id
        WHERE s.id = :s""", s=result.split_id)
    assert check[0] and check[1]
    assert check[3] <= check[2]
    assert check[2] + check[3] == pytest.approx(before.area_m2, abs=0.5)
    assert check[4] < 0.5 and check[5] < 0.5
    assert check[6] == [] and check[7] == []
    # the case's parcel_split step is done, on the split's day
    step = _one(isolated_engine, "SELECT s.done_on, s.done_by FROM land.case_steps s JOIN land.cases c ON c.id = s.case_id "
                                 "WHERE c.code = :c AND s.step = 'parcel_split'", c=case)
    assert str(step.done_on) == "2026-03-02" and step.done_by == f"split.ed{zone}"
    # audited: both parcels, with the reason naming the case, by the verified user
    with isolated_engine.connect() as conn:
        audit = conn.execute(sa.text(
            "SELECT table_name, action, row_id, reason, app_user FROM audit.change_log WHERE id > :a "
            "AND table_name IN ('parcels', 'parcel_splits') ORDER BY id"), {"a": audit_before}).all()
        history = conn.execute(sa.text("SELECT from_status, to_status, reason, changed_by FROM land.parcel_status_history "
                                       "WHERE parcel_id = :n"), {"n": new["id"]}).all()
        queued = set(conn.execute(sa.text("SELECT parcel_id FROM rules.reassess_queue WHERE id > :q AND parcel_id IS NOT NULL"),
                                  {"q": queued_before}).scalars())
    assert [(a.table_name, a.action, a.row_id) for a in audit] == [
        ("parcels", "UPDATE", str(pid)), ("parcels", "INSERT", str(new["id"])), ("parcel_splits", "INSERT", str(result.split_id))]
    assert all(case in a.reason and "节余土地转让（测试）" in a.reason and a.app_user == f"split.ed{zone}" for a in audit)
    assert len(history) == 1 and history[0].to_status == "transferred" and case in history[0].reason
    # the live re-assessment gets both parcels (the parcels' own change capture)
    assert {pid, new["id"]} <= queued


def test_a_split_by_a_polygon_makes_the_polygon_the_surplus(isolated_engine, parcels):
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    cut = _west_half(isolated_engine, code)
    expected = _one(isolated_engine, "SELECT ST_Area(ST_Intersection(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4490))::geography) "
                                     "FROM land.parcels WHERE id = :i", g=cut, i=pid)[0]
    result = split_parcel(isolated_engine, ADMIN, case, {"cut": {"type": "Feature", "geometry": __import__("json").loads(cut)},
                                                         "new_code": f"{code}-P", "reason": "按面分割"})
    assert result.surplus_area_m2 == pytest.approx(expected, rel=1e-9)
    assert _one(isolated_engine, "SELECT area_m2 FROM land.parcels WHERE code = :c", c=f"{code}-P")[0] == pytest.approx(
        expected, rel=1e-6)


REFUSALS = {
    # name: (how to make the cut from the parcel's geometry g (SQL), new code, expected field, key)
    "not_crossing": ("ST_MakeLine(ST_MakePoint(ST_XMax(g) + 0.01, ST_YMin(g)), ST_MakePoint(ST_XMax(g) + 0.01, ST_YMax(g)))",
                     None, "cut", "split.err.cut_not_crossing"),
    "whole_parcel": ("ST_Expand(ST_Envelope(g), 0.001)", None, "cut", "split.err.cut_whole_parcel"),
    # a strip of about 5 cm along the western edge of the bounding box
    "sliver": ("ST_MakeEnvelope(ST_XMin(g) - 0.001, ST_YMin(g) - 0.001, ST_XMin(g) + 0.0000005, ST_YMax(g) + 0.001, 4490)",
               None, "cut", "split.err.sliver"),
    "point": ("ST_PointOnSurface(g)", None, "cut", "split.err.cut_type"),
    "code_taken": ("NULL", "TAKEN", "new_code", "split.err.code_taken"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_bad_split_is_refused_saying_why_and_writes_nothing(isolated_engine, parcels, name):
    how, new_code, field, key = REFUSALS[name]
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    if how == "NULL":
        cut = _line(isolated_engine, code)
    else:
        cut = _one(isolated_engine, f"SELECT ST_AsGeoJSON({how}) FROM (SELECT geom AS g FROM land.parcels WHERE id = :i) x",
                   i=pid)[0]
    taken = _one(isolated_engine, "SELECT code FROM land.parcels WHERE id <> :i ORDER BY id LIMIT 1", i=pid)[0]
    before = _state(isolated_engine, code)
    with pytest.raises(ValidationFailed) as refused:
        split_parcel(isolated_engine, _editor(zone), case, {"cut": cut, "new_code": taken if new_code else f"{code}-X",
                                                            "reason": "测试"})
    assert refused.value.problems[field].key == key
    zh, en = problem_texts(refused.value.problems, "zh")[field], problem_texts(refused.value.problems, "en")[field]
    assert zh and en and zh != en and "{" not in zh + en
    assert _state(isolated_engine, code) == before


def test_a_split_overlapping_a_neighbour_names_the_part_and_the_neighbour(isolated_engine, parcels):
    """A parcel that already overlaps another (old data that the checks would refuse today): the
    split is refused naming the part and the neighbour, and nothing is written."""
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    with isolated_engine.begin() as conn:
        # the old data, loaded as a bulk load would (its checks switched off, visibly, for this insert)
        conn.execute(sa.text("ALTER TABLE land.parcels DISABLE TRIGGER parcel_insert_geometry_check"))
        conn.execute(sa.text("""
            INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status, is_synthetic)
            SELECT 'OLD-OVERLAP', zone_id, ST_Multi(ST_Buffer(ST_PointOnSurface(geom), 0.0003)), land_use_code,
                   'in_production', true FROM land.parcels WHERE id = :i"""), {"i": pid})
        conn.execute(sa.text("ALTER TABLE land.parcels ENABLE TRIGGER parcel_insert_geometry_check"))
    before = _state(isolated_engine, code)
    with pytest.raises(ValidationFailed) as refused:
        split_parcel(isolated_engine, _editor(zone), case, {"cut": _west_half(isolated_engine, code),
                                                            "new_code": f"{code}-O", "reason": "测试"})
    problem = refused.value.problems["cut"]
    assert problem.key == "split.err.part_overlap" and "OLD-OVERLAP" in problem.values["neighbours"]
    assert "OLD-OVERLAP" in problem_texts(refused.value.problems, "en")["cut"]
    assert _state(isolated_engine, code) == before


def test_a_parcel_whose_status_cannot_be_transferred_is_not_split(isolated_engine):
    pid, code, zone = _one(isolated_engine, """
        SELECT p.id, p.code, p.zone_id FROM land.parcels p WHERE p.status = 'granted_unbuilt' AND p.area_m2 > 5000
          AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id) ORDER BY p.id LIMIT 1""")
    case = _case(isolated_engine, code, zone)
    before = _state(isolated_engine, code)
    with pytest.raises(ValidationFailed) as refused:
        split_parcel(isolated_engine, ADMIN, case, {"cut": _line(isolated_engine, code), "new_code": f"{code}-T",
                                                    "reason": "测试"})
    assert refused.value.problems["status"].key == "split.err.split_status"
    assert "供" in problem_texts(refused.value.problems, "zh")["status"]
    assert _state(isolated_engine, code) == before


def test_only_a_surplus_land_transfer_case_splits_and_only_after_the_split_plan(isolated_engine, parcels):
    pid, code, zone = next(parcels)
    other = _case(isolated_engine, code, zone, pathway="le_market_repurchase")
    with pytest.raises(ValidationFailed) as wrong:
        split_parcel(isolated_engine, ADMIN, other, {"cut": _line(isolated_engine, code), "new_code": f"{code}-W",
                                                     "reason": "测试"})
    assert wrong.value.problems["case"].key == "split.err.split_case_pathway"
    pid, code, zone = next(parcels)
    early = _case(isolated_engine, code, zone, plan=False)
    before = _state(isolated_engine, code)
    with pytest.raises(ValidationFailed) as order:
        split_parcel(isolated_engine, _editor(zone), early, {"cut": _line(isolated_engine, code), "new_code": f"{code}-E",
                                                             "reason": "测试"})
    assert order.value.problems["step"].key == "case.err.step_order"
    assert _state(isolated_engine, code) == before


def test_the_split_step_cannot_be_recorded_without_a_split(isolated_engine, parcels):
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    with pytest.raises(ValidationFailed) as refused:
        q.record_step(isolated_engine, ADMIN, case, {"step": "parcel_split", "done_on": "2026-03-01"})
    assert refused.value.problems["step"].key == "case.err.split_needed"


def test_a_zone_editor_splits_only_in_its_zone(isolated_engine, parcels):
    pid, code, zone = next(parcels)
    case = _case(isolated_engine, code, zone)
    other_zone = _one(isolated_engine, "SELECT id FROM land.zones WHERE id <> :z ORDER BY id LIMIT 1", z=zone)[0]
    before = _state(isolated_engine, code)
    data = {"cut": _line(isolated_engine, code), "new_code": f"{code}-R", "reason": "测试"}
    # another zone's case does not exist for the editor
    with pytest.raises(NotFoundError):
        split_parcel(isolated_engine, _editor(other_zone), case, data)
    # nor may the editor split the parcel in SQL, nor a viewer at all: refused with who and why
    for actor in (_editor(other_zone), VIEWER):
        with pytest.raises(sa.exc.DBAPIError, match="may not edit parcel") as refused, \
                acting_as(isolated_engine, actor) as conn:
            conn.execute(sa.text("SELECT land.split_parcel(:c, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4490), :n, 'x')"),
                         {"c": code, "g": data["cut"], "n": data["new_code"]})
        assert refused.value.orig.sqlstate == "42501"
    with pytest.raises(EditRefused):
        split_parcel(isolated_engine, VIEWER, case, data)
    assert _state(isolated_engine, code) == before
    # the editor of the zone may
    split_parcel(isolated_engine, _editor(zone), case, data)
    assert _one(isolated_engine, "SELECT zone_id FROM land.parcels WHERE code = :c", c=f"{code}-R")[0] == zone


def test_split_records_cannot_be_changed_or_removed_by_the_app(isolated_engine):
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"), acting_as(isolated_engine, ADMIN) as conn:
        conn.execute(sa.text("DELETE FROM land.parcel_splits"))
