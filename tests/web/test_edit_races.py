"""Two editors send the same kind of edit for the same record at the same instant, against the
running server, 100 times per kind of edit: exactly one is saved, the other gets 409 with the
current values, no duplicate row appears, and mixed-use shares always sum to 100%.

Each race starts from what both editors read (the same version, or the same empty record), as two
people with the page open would; every race is on a record of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from tests.findings_util import insert_current_finding

pytestmark = pytest.mark.db

RACES = 100
TODAY = dt.date.today()


@dataclass
class Race:
    """One race: the URL, the two bodies, and a check of the stored result (given the winner)."""

    url: str
    bodies: tuple[dict, dict]
    check: Callable[[int], None]


#: Tables an edit writes, and how long each write is held before it goes on (see below).
WRITTEN = ("land.parcels", "land.construction_progress", "land.enterprise_metrics", "land.mixed_use_components",
           "land.green_areas", "land.quota_requests", "rules.findings")
HOLD_SECONDS = 0.03


@pytest.fixture(scope="module", autouse=True)
def wide_race_window(isolated_engine):
    """Every row an edit writes is held a moment before its transaction goes on, in this module's
    own database: the second editor's request then reads while the first one's write is not yet
    committed, on every run, instead of only when the two requests happen to overlap by the
    millisecond (a race that passes by luck proves nothing)."""
    with isolated_engine.begin() as conn:
        conn.execute(sa.text(f"CREATE FUNCTION public.hold_write() RETURNS trigger LANGUAGE plpgsql AS "
                             f"$$ BEGIN PERFORM pg_sleep({HOLD_SECONDS}); RETURN NULL; END $$"))
        for table in WRITTEN:
            conn.execute(sa.text(f"CREATE TRIGGER zz_hold_write AFTER INSERT OR UPDATE OR DELETE ON {table} "
                                 "FOR EACH ROW EXECUTE FUNCTION public.hold_write()"))
    yield
    with isolated_engine.begin() as conn:
        for table in WRITTEN:
            conn.execute(sa.text(f"DROP TRIGGER zz_hold_write ON {table}"))
        conn.execute(sa.text("DROP FUNCTION public.hold_write()"))


@pytest.fixture(scope="module")
def editors(isolated_server, make_user, login):
    sessions = []
    for _ in range(2):
        person = make_user("bureau_admin")
        session = requests.Session()
        login(session, person.username, person.password, base_url=isolated_server)
        sessions.append(session)
    yield sessions
    for s in sessions:
        s.close()


def _rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _run(editors, races: list[Race]) -> None:
    """Run each race: both posts released together; one 200 and one 409 with ``current``."""
    assert len(races) == RACES, f"only {len(races)} records to race on"
    failures = []
    for n, race in enumerate(races):
        start = threading.Barrier(2)
        answers: list = [None, None]

        def post(i: int) -> None:
            start.wait()
            answers[i] = editors[i].post(race.url, json=race.bodies[i], timeout=60)

        threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        codes = sorted(a.status_code for a in answers)
        if codes != [200, 409]:
            failures.append(f"race {n} {race.url}: {[(a.status_code, a.text[:300]) for a in answers]}")
            continue
        loser = next(a for a in answers if a.status_code == 409).json()
        if not loser.get("current") or not loser.get("error"):
            failures.append(f"race {n}: the 409 has no current values: {loser}")
        race.check(next(i for i, a in enumerate(answers) if a.status_code == 200))
    assert not failures, f"{len(failures)} of {len(races)} races: " + "\n".join(failures[:5])


def _url(server: str, code: str, kind: str) -> str:
    return f"{server}/api/edits/parcels/{code}/{kind}"


def test_status_races(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT id, code, version FROM land.parcels WHERE status = 'in_production' "
                                     "ORDER BY id LIMIT :n", n=RACES)
    targets = ("low_efficiency", "idle")

    def race(p) -> Race:
        def check(winner: int) -> None:
            history = _rows(isolated_engine, "SELECT to_status FROM land.parcel_status_history "
                                             "WHERE parcel_id = :p AND reason LIKE 'race %'", p=p["id"])
            assert [h["to_status"] for h in history] == [targets[winner]]

        return Race(_url(isolated_server, p["code"], "status"),
                    tuple({"to_status": targets[i], "changed_on": TODAY.isoformat(), "reason": f"race {i}",
                           "version": p["version"]} for i in (0, 1)), check)

    _run(editors, [race(p) for p in parcels])


def test_progress_races_on_a_new_report(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT p.id, p.code FROM land.parcels p WHERE p.status = 'under_construction' "
                                     "AND NOT EXISTS (SELECT 1 FROM land.construction_progress c WHERE c.parcel_id "
                                     "= p.id AND c.reported_on = current_date) ORDER BY p.id LIMIT :n", n=RACES)

    def race(p) -> Race:
        def check(winner: int) -> None:
            rows = _rows(isolated_engine, "SELECT developed_area_m2 FROM land.construction_progress "
                                          "WHERE parcel_id = :p AND reported_on = current_date", p=p["id"])
            assert [r["developed_area_m2"] for r in rows] == [100.0 + winner]

        return Race(_url(isolated_server, p["code"], "progress"),
                    tuple({"reported_on": TODAY.isoformat(), "developed_area_m2": 100 + i, "reason": "race"}
                          for i in (0, 1)), check)

    _run(editors, [race(p) for p in parcels])


def test_metrics_races_on_an_existing_year(isolated_server, isolated_engine, editors):
    rows = _rows(isolated_engine, "SELECT m.id, m.version, m.year, p.id AS parcel_id, p.code "
                                  "FROM land.enterprise_metrics m JOIN land.parcels p ON p.id = m.parcel_id "
                                  "AND p.enterprise_id = m.enterprise_id ORDER BY m.id LIMIT :n", n=RACES)

    def race(m) -> Race:
        def check(winner: int) -> None:
            stored = _rows(isolated_engine, "SELECT tax_wan, version FROM land.enterprise_metrics WHERE id = :i",
                           i=m["id"])
            assert [(float(s["tax_wan"]), s["version"]) for s in stored] == [(10.0 + winner, m["version"] + 1)]

        return Race(_url(isolated_server, m["code"], "metrics"),
                    tuple({"id": m["id"], "version": m["version"], "year": m["year"], "tax_wan": 10 + i,
                           "reason": "race"} for i in (0, 1)), check)

    _run(editors, [race(m) for m in rows])


def _shares(engine, parcel_id: int) -> list:
    return _rows(engine, "SELECT id, version, land_use_code, floor_share_pct FROM land.mixed_use_components "
                         "WHERE parcel_id = :p ORDER BY land_use_code", p=parcel_id)


def test_mixed_use_races_on_a_parcel_without_shares(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT p.id, p.code FROM land.parcels p WHERE NOT EXISTS (SELECT 1 FROM "
                                     "land.mixed_use_components m WHERE m.parcel_id = p.id) ORDER BY p.id LIMIT :n",
                    n=RACES)
    offers = ([["0902", 40], ["1001", 60]], [["1101", 100]])  # no use in common: no unique key to meet

    def race(p) -> Race:
        def check(winner: int) -> None:
            stored = _shares(isolated_engine, p["id"])
            assert [[s["land_use_code"], float(s["floor_share_pct"])] for s in stored] == offers[winner]
            assert sum(float(s["floor_share_pct"]) for s in stored) == 100

        return Race(_url(isolated_server, p["code"], "mixed-use"),
                    tuple({"components": offers[i], "expected": [], "reason": "race"} for i in (0, 1)), check)

    _run(editors, [race(p) for p in parcels])


def test_mixed_use_races_on_a_parcel_with_shares(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT p.id, p.code FROM land.parcels p JOIN land.mixed_use_components m "
                                     "ON m.parcel_id = p.id GROUP BY p.id, p.code "
                                     "HAVING abs(sum(m.floor_share_pct) - 100) <= 0.01 ORDER BY p.id LIMIT :n",
                    n=RACES)
    if len(parcels) < RACES:  # the demo has fewer mixed-use parcels: give more parcels two uses first
        extra = _rows(isolated_engine, "SELECT p.id, p.code FROM land.parcels p WHERE NOT EXISTS (SELECT 1 FROM "
                                       "land.mixed_use_components m WHERE m.parcel_id = p.id) "
                                       "ORDER BY p.id DESC LIMIT :n", n=RACES - len(parcels))
        for p in extra:
            answer = editors[0].post(_url(isolated_server, p["code"], "mixed-use"), timeout=60,
                                     json={"components": [["0802", 50], ["1001", 50]], "expected": [],
                                           "reason": "set up"})
            assert answer.status_code == 200, answer.text
        parcels = [*parcels, *extra]
    offers = ([["0902", 30], ["1001", 70]], [["1101", 100]])

    def race(p) -> Race:
        expected = [[s["id"], s["version"]] for s in _shares(isolated_engine, p["id"])]

        def check(winner: int) -> None:
            stored = _shares(isolated_engine, p["id"])
            assert [[s["land_use_code"], float(s["floor_share_pct"])] for s in stored] == offers[winner]

        return Race(_url(isolated_server, p["code"], "mixed-use"),
                    tuple({"components": offers[i], "expected": expected, "reason": "race"} for i in (0, 1)),
                    check)

    _run(editors, [race(p) for p in parcels])


def test_green_area_races_on_a_new_measurement(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT p.id, p.code FROM land.parcels p WHERE p.area_m2 > 1000 AND NOT EXISTS "
                                     "(SELECT 1 FROM land.green_areas g WHERE g.parcel_id = p.id AND g.measured_on = "
                                     "current_date) ORDER BY p.id LIMIT :n", n=RACES)

    def race(p) -> Race:
        def check(winner: int) -> None:
            rows = _rows(isolated_engine, "SELECT green_area_m2 FROM land.green_areas WHERE parcel_id = :p "
                                          "AND measured_on = current_date", p=p["id"])
            assert [r["green_area_m2"] for r in rows] == [500.0 + winner]

        return Race(_url(isolated_server, p["code"], "green-areas"),
                    tuple({"measured_on": TODAY.isoformat(), "green_area_m2": 500 + i, "reason": "race"}
                          for i in (0, 1)), check)

    _run(editors, [race(p) for p in parcels])


def test_quota_request_races_on_one_project_account(isolated_server, isolated_engine, editors):
    accounts = _rows(isolated_engine, """
        SELECT DISTINCT ON (g.parcel_id) a.id, p.code FROM land.quota_accounts a
        JOIN land.land_grants g ON g.id = a.grant_id JOIN land.parcels p ON p.id = g.parcel_id
        WHERE a.level = 'project' AND NOT EXISTS (SELECT 1 FROM land.quota_requests r
                                                  WHERE r.account_id = a.id AND r.status = 'pending')
        ORDER BY g.parcel_id, a.id""")
    more = _rows(isolated_engine, """
        SELECT a.id, p.code FROM land.quota_accounts a
        JOIN land.land_grants g ON g.id = a.grant_id JOIN land.parcels p ON p.id = g.parcel_id
        WHERE a.level = 'project' AND a.id <> ALL (:taken) ORDER BY a.id""", taken=[a["id"] for a in accounts])
    accounts = [*accounts, *more][:RACES]

    def race(a) -> Race:
        def check(winner: int) -> None:
            rows = _rows(isolated_engine, "SELECT amount FROM land.quota_requests WHERE account_id = :a "
                                          "AND status = 'pending'", a=a["id"])
            assert [float(r["amount"]) for r in rows] == [7.0 + winner]

        return Race(_url(isolated_server, a["code"], "quota-requests"),
                    tuple({"account_id": a["id"], "amount": 7 + i, "requested_on": TODAY.isoformat(),
                           "reason": "race"} for i in (0, 1)), check)

    _run(editors, [race(a) for a in accounts])


def test_geometry_races(isolated_server, isolated_engine, editors):
    parcels = _rows(isolated_engine, "SELECT id, code, version, ST_AsGeoJSON(geom) AS shape, "
                                     "ST_X(ST_Centroid(geom)) AS cx, ST_Y(ST_Centroid(geom)) AS cy "
                                     "FROM land.parcels WHERE status = 'completed' ORDER BY id LIMIT :n", n=RACES)

    def scaled(p, factor: float) -> dict:
        shape = json.loads(p["shape"])
        return {"type": shape["type"], "coordinates": [
            [[[p["cx"] + (x - p["cx"]) * factor, p["cy"] + (y - p["cy"]) * factor] for x, y in ring]
             for ring in poly] for poly in shape["coordinates"]]}

    def race(p) -> Race:
        before = _scalar(isolated_engine, "SELECT ST_Area(geom::geography) FROM land.parcels WHERE id = :i", i=p["id"])

        def check(winner: int) -> None:
            area, version = _rows(isolated_engine, "SELECT ST_Area(geom::geography) AS a, version FROM land.parcels "
                                                   "WHERE id = :i", i=p["id"])[0].values()
            assert version == p["version"] + 1
            assert area == pytest.approx(before * (0.9, 0.8)[winner] ** 2, rel=1e-3)

        return Race(_url(isolated_server, p["code"], "geometry"),
                    tuple({"geom": json.dumps(scaled(p, (0.9, 0.8)[i])), "reason": f"race {i}",
                           "version": p["version"]} for i in (0, 1)), check)

    _run(editors, [race(p) for p in parcels])


def test_finding_review_races(isolated_server, isolated_engine, editors):
    with isolated_engine.begin() as conn:
        parcels = conn.execute(sa.text("SELECT id, zone_id FROM land.parcels ORDER BY id DESC LIMIT :n"),
                               {"n": RACES}).all()
        findings = [insert_current_finding(conn, rule="idle_land", zone_id=z, parcel_id=p, outcome="suspected_idle",
                                           is_positive=True, explanation_zh="竞争测试", explanation_en="race test")
                    for p, z in parcels]
    decisions = ("confirmed", "dismissed")

    def race(finding_id: int) -> Race:
        version = _scalar(isolated_engine, "SELECT version FROM rules.findings WHERE id = :i", i=finding_id)

        def check(winner: int) -> None:
            status, reviewed_version = _rows(isolated_engine, "SELECT review_status, version FROM rules.findings "
                                                              "WHERE id = :i", i=finding_id)[0].values()
            assert (status, reviewed_version) == (decisions[winner], version + 1)

        return Race(f"{isolated_server}/api/edits/findings/{finding_id}/review",
                    tuple({"decision": decisions[i], "reason": f"race {i}", "version": version} for i in (0, 1)),
                    check)

    _run(editors, [race(f) for f in findings])
