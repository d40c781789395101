"""Reviews over the JSON API move the parcel's status as the database decides (issue #18 item 5):
the answer says what happened in the reader's language; a step the lifecycle lacks is a 422 at
the decision, naming the parcel; another zone's editor gets 403 and nothing moves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.findings_util import insert_current_finding

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(isolated_engine):
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.assess import run_assessment
    from gisapp.web.app import create_app

    run_assessment(assessor_engine())
    return create_app()


@pytest.fixture(scope="module")
def people(isolated_engine, make_user):
    return {"wgq": make_user("zone_editor", ["waigaoqiao_ftz"]), "wgp": make_user("zone_editor", ["waigaoqiao_port"])}


def _client(app, login, user):
    client = app.server.test_client()
    login(client, user.username, user.password)
    return client


def _open_idle_finding(eng, offset: int) -> dict:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text("""
            SELECT f.id AS fid, f.version AS fversion, p.id, p.code, p.status
            FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id
            JOIN land.zones z ON z.id = p.zone_id
            WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' AND f.review_status = 'open'
              AND p.status = 'granted_unbuilt' AND z.code = 'waigaoqiao_ftz'
            ORDER BY p.id OFFSET :o LIMIT 1"""), {"o": offset}).mappings().one())


def _status(eng, parcel_id: int) -> str:
    with eng.connect() as conn:
        return conn.execute(sa.text("SELECT status FROM land.parcels WHERE id = :i"), {"i": parcel_id}).scalar()


@pytest.mark.parametrize("lang, said", [("zh", "地块状态已由“供而未用”变更为“闲置（已认定）”"),
                                        ("en", "The parcel's status changed from “Supplied, not built” to "
                                               "“Idle (confirmed)”")])
def test_a_confirmation_over_the_api_moves_the_status_and_says_so(app, login, people, isolated_engine, lang, said):
    f = _open_idle_finding(isolated_engine, 0)
    client = _client(app, login, people["wgq"])
    resp = client.post(f"/api/edits/findings/{f['fid']}/review?lang={lang}",
                       json={"decision": "confirmed", "reason": "现场核实", "version": f["fversion"]})
    assert resp.status_code == 200, resp.get_json()
    assert said in resp.get_json()["message"]
    assert _status(isolated_engine, f["id"]) == "idle"
    # the parcel's record over the API agrees
    assert client.get(f"/api/edits/parcels/{f['code']}").get_json()["parcel"]["status"] == "idle"


def test_another_zones_editor_gets_403_and_nothing_moves(app, login, people, isolated_engine):
    f = _open_idle_finding(isolated_engine, 0)
    resp = _client(app, login, people["wgp"]).post(
        f"/api/edits/findings/{f['fid']}/review", json={"decision": "confirmed", "reason": "x",
                                                       "version": f["fversion"]})
    assert resp.status_code == 403
    assert _status(isolated_engine, f["id"]) == "granted_unbuilt"


def test_a_confirmation_the_lifecycle_cannot_follow_gets_422_at_the_decision(app, login, people, isolated_engine):
    with isolated_engine.begin() as conn:
        p = conn.execute(sa.text(
            "SELECT p.id, p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE z.code = 'waigaoqiao_ftz' AND p.status = 'transferred' ORDER BY p.id LIMIT 1")).one()
        fid = insert_current_finding(conn, rule="idle_land", zone_id=1, parcel_id=p.id, outcome="idle_stalled",
                                     is_positive=True, explanation_zh="测试", explanation_en="test")
    resp = _client(app, login, people["wgq"]).post(
        f"/api/edits/findings/{fid}/review?lang=en", json={"decision": "confirmed", "reason": "x", "version": 1})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["field"] == "decision"
    assert p.code in body["fields"]["decision"] and "“Transferred / sublet”" in body["fields"]["decision"]
    assert _status(isolated_engine, p.id) == "transferred"
