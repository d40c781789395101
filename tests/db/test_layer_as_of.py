"""The parcels layer as of a date (``api.read_layer("parcels", as_of=...)``): each parcel as the audit
history recorded it at the end of that day, the same reading as the parcel page's "as of"."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp import api
from gisapp.errors import InputError
from gisapp.queries.edits import Actor
from gisapp.queries.parcel_record import parcel_as_of

TODAY = dt.date.today()
ADMIN = Actor("as-of-test", "bureau_admin")


def _next_status(conn, status: str) -> str:
    return conn.execute(sa.text("SELECT to_status FROM land.parcel_status_transitions WHERE from_status = :s "
                                "ORDER BY to_status LIMIT 1"), {"s": status}).scalar_one()


def _change(conn, parcel_id: int, reason: str) -> dict:
    """Move the parcel one lifecycle step on and shrink it to 80 % of its size (an audited UPDATE)."""
    before = conn.execute(sa.text("SELECT status, area_m2 FROM land.parcels WHERE id = :p"),
                          {"p": parcel_id}).mappings().one()
    to = _next_status(conn, before["status"])
    conn.execute(sa.text("SELECT set_config('gisapp.reason', :r, true), set_config('gisapp.user', 'as-of-test', true)"),
                 {"r": reason})
    conn.execute(sa.text("""
        UPDATE land.parcels SET status = :to,
            geom = ST_Multi(ST_Scale(geom, ST_MakePoint(0.8944, 0.8944), ST_Centroid(geom)))
        WHERE id = :p"""), {"to": to, "p": parcel_id})
    after = conn.execute(sa.text("SELECT status, area_m2 FROM land.parcels WHERE id = :p"),
                         {"p": parcel_id}).mappings().one()
    return {"before": dict(before), "after": dict(after)}


def _insert_parcel(conn, like_id: int, code: str) -> int:
    """A new parcel (an audited INSERT): a small square in the road east of an existing parcel, in
    its zone (the database refuses a parcel that overlaps another)."""
    conn.execute(sa.text("SELECT set_config('gisapp.reason', 'as-of test: new parcel', true)"))
    return conn.execute(sa.text("""
        INSERT INTO land.parcels (code, zone_id, geom, land_use_code, status, is_synthetic)
        SELECT :code, p.zone_id,
               ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint((ST_XMax(p.geom) + e.xmin) / 2,
                                                          (ST_YMin(p.geom) + ST_YMax(p.geom)) / 2), 4490),
                                  0.00003, 'quad_segs=1')),
               p.land_use_code, 'approved_unsupplied', true
        FROM land.parcels p
        CROSS JOIN LATERAL (SELECT min(ST_XMin(n.geom)) AS xmin FROM land.parcels n
                            WHERE n.zone_id = p.zone_id AND ST_XMin(n.geom) > ST_XMax(p.geom)
                              AND n.geom && ST_Translate(p.geom, 0.0005, 0)) e
        WHERE p.id = :like RETURNING id"""), {"code": code, "like": like_id}).scalar_one()


def _with_east_neighbour(conn, n: int) -> list[int]:
    return conn.execute(sa.text("""
        SELECT p.id FROM land.parcels p WHERE EXISTS (
            SELECT 1 FROM land.parcels n WHERE n.zone_id = p.zone_id AND ST_XMin(n.geom) > ST_XMax(p.geom)
              AND n.geom && ST_Translate(p.geom, 0.0005, 0))
        ORDER BY p.id LIMIT :n"""), {"n": n}).scalars().all()


def _back_date(conn, parcel_id: int, action: str, days: int) -> None:
    """Pretend a recorded change happened ``days`` ago (the history cannot be written in the past)."""
    conn.execute(sa.text("UPDATE audit.change_log SET changed_at = changed_at - make_interval(days => :d) "
                         "WHERE table_name = 'parcels' AND row_id = :r AND action = :a"),
                 {"d": days, "r": str(parcel_id), "a": action})


def _layer(engine, day, codes) -> dict:
    frame = api.read_layer("parcels", as_of=day, engine=engine, fields=["code", "status", "area_m2", "version"])
    frame = frame[frame.code.isin(codes)]
    return {r.code: r for r in frame.itertuples()}


def test_parcels_layer_as_of_shows_the_status_and_area_before_and_after_a_change(isolated_engine):
    with isolated_engine.begin() as conn:
        parcel = conn.execute(sa.text("SELECT id, code FROM land.parcels p WHERE status = 'in_production' "
                                      "ORDER BY id LIMIT 1")).mappings().one()
        change = _change(conn, parcel["id"], "as-of test: demo parcel")
    before, after = change["before"], change["after"]
    assert before["status"] != after["status"] and after["area_m2"] < 0.9 * before["area_m2"]
    yesterday = _layer(isolated_engine, TODAY - dt.timedelta(days=1), [parcel["code"]])[parcel["code"]]
    today = _layer(isolated_engine, TODAY, [parcel["code"]])[parcel["code"]]
    # the demo data was bulk-loaded today: yesterday's status comes from the status history, the
    # rest (area) from the earliest recorded state, the values before today's change
    assert yesterday.status == before["status"]
    assert yesterday.area_m2 == pytest.approx(before["area_m2"], abs=0.1)
    assert today.status == after["status"]
    assert today.area_m2 == pytest.approx(after["area_m2"], abs=0.1)
    assert yesterday.geometry.area > today.geometry.area


def test_parcels_layer_as_of_reads_the_audit_history_created_and_deleted_parcels(isolated_engine):
    with isolated_engine.begin() as conn:
        first, second, third = _with_east_neighbour(conn, 3)
        changed = _insert_parcel(conn, first, "ASOF-CHANGED")
        deleted = _insert_parcel(conn, second, "ASOF-DELETED")
        _insert_parcel(conn, third, "ASOF-CREATED")
    with isolated_engine.begin() as conn:
        change = _change(conn, changed, "as-of test: recorded parcel")
        conn.execute(sa.text("DELETE FROM land.parcels WHERE id = :p"), {"p": deleted})
        # recorded as: both made ten days ago, the first changed three days ago; the third made
        # today, the second deleted today
        for pid in (changed, deleted):
            _back_date(conn, pid, "INSERT", 10)
        _back_date(conn, changed, "UPDATE", 3)
    codes = ["ASOF-CHANGED", "ASOF-DELETED", "ASOF-CREATED"]
    eleven_days_ago = _layer(isolated_engine, TODAY - dt.timedelta(days=11), codes)
    five_days_ago = _layer(isolated_engine, TODAY - dt.timedelta(days=5), codes)
    yesterday = _layer(isolated_engine, TODAY - dt.timedelta(days=1), codes)
    today = _layer(isolated_engine, TODAY, codes)
    assert set(eleven_days_ago) == set()                                     # none existed yet
    assert set(five_days_ago) == set(yesterday) == {"ASOF-CHANGED", "ASOF-DELETED"}
    assert set(today) == {"ASOF-CHANGED", "ASOF-CREATED"}                  # deleted today, created today
    was, now = five_days_ago["ASOF-CHANGED"], today["ASOF-CHANGED"]
    assert (was.status, was.version) == (change["before"]["status"], 1)
    assert was.area_m2 == pytest.approx(change["before"]["area_m2"], abs=0.1)
    assert (now.status, now.version) == (change["after"]["status"], 2)
    assert yesterday["ASOF-CHANGED"].status == now.status                  # changed three days ago
    # the parcel page reads the same history the same way
    page = parcel_as_of(isolated_engine, ADMIN, "ASOF-CHANGED", TODAY - dt.timedelta(days=5))
    assert page["source"] == "audit" and page["state"]["status"] == was.status
    assert parcel_as_of(isolated_engine, ADMIN, "ASOF-CHANGED", TODAY - dt.timedelta(days=11))["source"] == "absent"


def test_a_layer_without_a_dated_view_still_refuses_as_of(isolated_engine):
    with pytest.raises(InputError, match="as_of is not supported"):
        api.read_layer("grants", as_of="2020-01-01", engine=isolated_engine)
