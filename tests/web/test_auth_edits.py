"""Edits through the app's HTTP endpoints and through Dash's callback endpoint (what the parcel
page's forms post), as different users: zones, read-only roles, bad values, stale versions."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from gisapp.i18n import label
from tests.findings_util import insert_current_finding

pytestmark = pytest.mark.db

TODAY = dt.date.today().isoformat()


@pytest.fixture(scope="module")
def app(isolated_engine):
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def people(isolated_engine, make_user):
    return {
        "wgq": make_user("zone_editor", ["waigaoqiao_ftz"]),
        "wgp": make_user("zone_editor", ["waigaoqiao_port"]),
        "both": make_user("zone_editor", ["waigaoqiao_ftz", "waigaoqiao_port"]),
        "viewer": make_user("bureau_viewer"),
        "analyst": make_user("analyst"),
        "admin": make_user("bureau_admin"),
    }


def _client(app, login, user):
    client = app.server.test_client()
    login(client, user.username, user.password)
    return client


def _parcel(eng, zone_code: str, status: str = "in_production", offset: int = 0) -> dict:
    with eng.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT p.id, p.code, p.status, p.version FROM land.parcels p JOIN land.zones z ON "
                    "z.id = p.zone_id "
                    "WHERE z.code = :z AND p.status = :s ORDER BY p.id OFFSET :o LIMIT 1"
                ),
                {"z": zone_code, "s": status, "o": offset},
            )
            .mappings()
            .one()
        )


def _state(eng, parcel_id: int) -> tuple:
    with eng.connect() as conn:
        return tuple(
            conn.execute(
                sa.text(
                    "SELECT p.status, p.version, (SELECT count(*) FROM land.parcel_status_history h WHERE "
                    "h.parcel_id = p.id) "
                    "FROM land.parcels p WHERE p.id = :i"
                ),
                {"i": parcel_id},
            ).one()
        )


def _status_edit(p: dict, to: str = "low_efficiency", **extra) -> dict:
    return {"to_status": to, "changed_on": TODAY, "reason": "核查", "version": p["version"]} | extra


def test_a_zone_editor_changes_a_status_of_own_zone_over_http(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz")
    client = _client(app, login, people["wgq"])
    record = client.get(f"/api/edits/parcels/{p['code']}").get_json()
    assert record["may_edit"] is True and "low_efficiency" in [s["code"] for s in record["next_statuses"]]
    resp = client.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p))
    assert resp.status_code == 200 and resp.get_json()["version"] == p["version"] + 1
    assert _state(isolated_engine, p["id"])[:2] == ("low_efficiency", p["version"] + 1)


@pytest.mark.parametrize("who", ["wgp", "viewer", "analyst"])
def test_others_cannot_edit_a_waigaoqiao_parcel_over_http(app, login, people, isolated_engine, who):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=1)
    before = _state(isolated_engine, p["id"])
    client = _client(app, login, people[who])
    assert client.get(f"/api/edits/parcels/{p['code']}").get_json()["may_edit"] is False
    resp = client.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p))
    assert resp.status_code == 403 and "waigaoqiao_ftz" in resp.get_json()["error"]
    for kind, body in [
        ("green-areas", {"measured_on": TODAY, "green_area_m2": "10"}),
        ("progress", {"reported_on": TODAY}),
        ("mixed-use", {"components": "1001 100", "expected": []}),
    ]:
        assert client.post(f"/api/edits/parcels/{p['code']}/{kind}", json=body).status_code == 403
    assert _state(isolated_engine, p["id"]) == before


def test_an_editor_of_two_zones_and_the_admin_edit_both(app, login, people, isolated_engine):
    for who, offset in (("both", 2), ("admin", 3)):
        client = _client(app, login, people[who])
        for zone in ("waigaoqiao_ftz", "waigaoqiao_port"):
            p = _parcel(isolated_engine, zone, offset=offset)
            resp = client.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p))
            assert resp.status_code == 200, resp.get_json()


def test_a_transition_outside_the_graph_gets_422_with_its_reason(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=4)
    client = _client(app, login, people["wgq"])
    resp = client.post(
        f"/api/edits/parcels/{p['code']}/status?lang=en", json=_status_edit(p, "granted_unbuilt")
    )
    assert resp.status_code == 422
    message = resp.get_json()["fields"]["to_status"]
    assert "In production" in message and "Supplied, not built" in message and "Allowed next" in message


def test_a_stale_edit_gets_409_with_the_current_values(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=5)
    first, second = _client(app, login, people["wgq"]), _client(app, login, people["both"])
    assert first.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p)).status_code == 200
    resp = second.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p, "idle"))
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["current"]["status"] == "low_efficiency" and body["current"]["version"] == p["version"] + 1
    assert people["wgq"].username in body["error"]


@pytest.mark.parametrize(
    "kind, body, field_name",
    [
        ("green-areas", {"measured_on": TODAY, "green_area_m2": "-1"}, "green_area_m2"),
        (
            "progress",
            {"reported_on": TODAY, "started_on": "2026-03-01", "completed_on": "2026-02-01"},
            "completed_on",
        ),
        ("mixed-use", {"components": "1001 50\n0802 40", "expected": []}, "components"),
        ("status", {"to_status": "exploded", "changed_on": TODAY, "reason": "r", "version": 1}, "to_status"),
        ("quota-requests", {"account_id": "999999", "amount": "5", "requested_on": TODAY}, "account_id"),
        (
            "grant-requirements",
            {"grant_id": "1", "indicator": "nope", "review_stage": "acceptance", "min_value": "1"},
            "indicator",
        ),
    ],
)
def test_malformed_values_get_422_naming_the_field(
    app, login, people, isolated_engine, kind, body, field_name
):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=6)
    with isolated_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT max(id) FROM audit.change_log")).scalar()
    resp = _client(app, login, people["wgq"]).post(f"/api/edits/parcels/{p['code']}/{kind}", json=body)
    assert resp.status_code == 422 and field_name in resp.get_json()["fields"], resp.get_json()
    with isolated_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(id) FROM audit.change_log")).scalar() == before


def test_edits_must_be_json(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=7)
    client = _client(app, login, people["wgq"])
    resp = client.post(f"/api/edits/parcels/{p['code']}/status", data=_status_edit(p))  # a form post
    assert resp.status_code == 415
    assert client.post(f"/api/edits/parcels/{p['code']}/teleport", json={}).status_code == 404


def test_a_quota_request_and_a_requirement_for_own_parcel(app, login, people, isolated_engine):
    with isolated_engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("""
            SELECT p.code, a.id AS account, g.id AS grant_id FROM land.quota_accounts a
            JOIN land.land_grants g ON g.id = a.grant_id JOIN land.parcels p ON p.id = g.parcel_id
            WHERE p.zone_id = 1 AND a.level = 'project' ORDER BY a.id LIMIT 1""")
            )
            .mappings()
            .one()
        )
    client = _client(app, login, people["wgq"])
    resp = client.post(
        f"/api/edits/parcels/{row['code']}/quota-requests",
        json={"account_id": row["account"], "amount": "12.5", "requested_on": TODAY, "note": "扩产"},
    )
    assert resp.status_code == 200, resp.get_json()
    request_id = resp.get_json()["id"]
    resp = client.post(
        f"/api/edits/parcels/{row['code']}/grant-requirements",
        json={
            "grant_id": row["grant_id"],
            "indicator": "rd_share",
            "review_stage": "periodic",
            "min_value": "5",
            "max_value": "3",
        },
    )
    assert resp.status_code == 422 and "max_value" in resp.get_json()["fields"]
    resp = client.post(
        f"/api/edits/parcels/{row['code']}/grant-requirements",
        json={
            "grant_id": row["grant_id"],
            "indicator": "rd_share",
            "review_stage": "periodic",
            "min_value": "3",
        },
    )
    assert resp.status_code == 200, resp.get_json()
    # a second request while the first waits for the bureau is the same need asked twice
    again = client.post(
        f"/api/edits/parcels/{row['code']}/quota-requests",
        json={"account_id": row["account"], "amount": "1", "requested_on": TODAY},
    )
    assert again.status_code == 409 and again.get_json()["current"]["id"] == request_id
    with isolated_engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT status FROM land.quota_requests WHERE id = :i"), {"i": request_id}
            ).scalar()
            == "pending"
        )


def test_a_zone_editor_cannot_decide_quota_requests_in_sql(isolated_engine):
    from gisapp.queries.edits import Actor, acting_as

    with isolated_engine.connect() as conn:
        req = conn.execute(sa.text("SELECT id FROM land.quota_requests ORDER BY id LIMIT 1")).scalar()
    with acting_as(isolated_engine, Actor("x", "zone_editor", tuple(range(1, 11))), "sneak") as conn:
        assert (
            conn.execute(
                sa.text(
                    "UPDATE land.quota_requests SET status = 'granted', decided_on = current_date "
                    "WHERE id = :i"
                ),
                {"i": req},
            ).rowcount
            == 0
        )


# -- through the UI's own channel: Dash's callback endpoint ----------------------------------------


def _status_callback(client) -> dict:
    """The parcel page's status-form callback as Dash declares it (output ids carry hashes)."""
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if any(i["id"] == "parcel-status-save" for i in d["inputs"]))


def _post_status_form(client, code: str, version: int, to: str, reason: str) -> dict:
    dep = _status_callback(client)
    values = {
        "parcel-status-to_status": to,
        "parcel-status-changed_on": TODAY,
        "parcel-status-reason": reason,
        "parcel-status-note": "",
        "parcel-status-context": {"version": version},
        "parcel-code": code,
        "parcel-refresh": 0,
        "parcel-lang": "en",
    }
    payload = {
        "output": dep["output"],
        "outputs": [_split(o) for o in _outputs(dep["output"])],
        "inputs": [{"id": "parcel-status-save", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in dep["state"]
        ],
        "changedPropIds": ["parcel-status-save.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code in (200, 204), resp.get_data(as_text=True)[:300]
    return resp.get_json() if resp.status_code == 200 else {}


def _outputs(output: str) -> list[str]:
    return output.strip(".").split("...")


def _split(out: str) -> dict:
    ident, prop = out.rsplit(".", 1)
    return {"id": ident, "property": prop.split("@")[0]}


def test_the_status_form_saves_for_own_zone_through_dash(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=8)
    answer = _post_status_form(
        _client(app, login, people["wgq"]), p["code"], p["version"], "low_efficiency", "UI"
    )
    assert answer["response"]["parcel-refresh"]["data"] == 1
    assert _state(isolated_engine, p["id"])[:2] == ("low_efficiency", p["version"] + 1)


def test_a_forged_status_form_for_another_zone_is_refused_through_dash(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=9)
    before = _state(isolated_engine, p["id"])
    answer = _post_status_form(
        _client(app, login, people["wgp"]), p["code"], p["version"], "low_efficiency", "forged"
    )
    text = json.dumps(answer, ensure_ascii=False)
    assert "Not allowed" in text and "waigaoqiao_ftz" in text and "parcel-refresh" not in answer["response"]
    assert _state(isolated_engine, p["id"]) == before


def test_html_typed_into_a_reason_is_stored_as_text_and_sent_as_text(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=10)
    client = _client(app, login, people["wgq"])
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    assert (
        client.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p, reason=evil)).status_code
        == 200
    )
    record = client.get(f"/api/edits/parcels/{p['code']}")
    # kept verbatim and sent as JSON data, never as HTML (the page shows it through React, as text:
    # tests/browser/test_editing.py checks nothing runs)
    assert record.mimetype == "application/json"
    assert record.get_json()["history"][0]["reason"] == evil


def _call(client, input_id: str, inputs: dict, states: dict | None = None, output: str | None = None) -> dict:
    """Run the callback that has ``input_id`` among its inputs (and ``output`` in its outputs), as the
    browser would."""
    dep = next(
        d
        for d in client.get("/_dash-dependencies").get_json()
        if any(i["id"] == input_id for i in d["inputs"]) and (output is None or output in d["output"])
    )
    values = {**inputs, **(states or {})}
    payload = {
        "output": dep["output"],
        "outputs": [_split(o) for o in _outputs(dep["output"])]
        if dep["output"].startswith("..")
        else _split(dep["output"]),
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in dep["inputs"]
        ],
        "state": [
            {"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in dep["state"]
        ],
        "changedPropIds": [f"{input_id}.{next(i['property'] for i in dep['inputs'] if i['id'] == input_id)}"],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["response"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("who, editable", [("wgq", True), ("viewer", False), ("admin", True)])
def test_the_parcel_page_renders_with_forms_only_for_those_who_may_edit(
    app, login, people, isolated_engine, lang, who, editable
):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=11)
    client = _client(app, login, people[who])
    body = json.dumps(
        _call(client, "parcel-code", {"parcel-code": p["code"], "parcel-lang": lang, "parcel-refresh": 0}),
        ensure_ascii=False,
    )
    assert p["code"] in body and "parcel-history" in body and "parcel-changes" in body
    assert ("parcel-status-save" in body) is editable
    assert ("parcel-read-only" in body) is not editable
    assert ("Status history" in body) is (lang == "en")
    bar = json.dumps(
        _call(client, "_pages_location", {"_pages_location": f"?lang={lang}"}, output="app-user"),
        ensure_ascii=False,
    )
    assert people[who].username in bar and "app-logout" in bar


def test_the_parcel_page_says_when_a_code_is_unknown(app, login, people):
    client = _client(app, login, people["viewer"])
    body = json.dumps(_call(client, "parcel-code", {"parcel-code": "NOPE-404", "parcel-lang": "en"}))
    assert "parcel-not-found" in body and "NOPE-404" in body


def test_the_parcel_as_of_a_date(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=12)
    client = _client(app, login, people["wgq"])
    before = client.get(f"/api/edits/parcels/{p['code']}/as-of/{TODAY}").get_json()
    assert before["state"]["status"] == "in_production"
    assert client.post(f"/api/edits/parcels/{p['code']}/status", json=_status_edit(p)).status_code == 200
    # later the same day the change shows; the day before shows the status then (from the history)
    assert client.get(f"/api/edits/parcels/{p['code']}/as-of/{TODAY}").get_json()["state"]["status"] == (
        "low_efficiency"
    )
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    earlier = client.get(f"/api/edits/parcels/{p['code']}/as-of/{yesterday}").get_json()
    assert earlier["state"]["status"] == "in_production"
    assert client.get(f"/api/edits/parcels/{p['code']}/as-of/2026-13-45").status_code == 400
    shown = json.dumps(
        _call(
            client,
            "parcel-asof-show",
            {"parcel-asof-show": 1},
            {"parcel-asof-date": yesterday, "parcel-code": p["code"], "parcel-lang": "en"},
        ),
        ensure_ascii=False,
    )
    assert "In production" in shown


def test_a_finding_is_confirmed_through_the_review_form(app, login, people, isolated_engine):
    p = _parcel(isolated_engine, "waigaoqiao_ftz", offset=13)
    with isolated_engine.begin() as conn:
        finding = insert_current_finding(
            conn, rule="per_mu", zone_id=1, parcel_id=p["id"], outcome="class_d", is_positive=True,
            explanation_zh="亩均 D 类", explanation_en="per-mu class D")
    client = _client(app, login, people["wgq"])
    page = json.dumps(
        _call(client, "parcel-code", {"parcel-code": p["code"], "parcel-lang": "zh"}), ensure_ascii=False
    )
    assert "parcel-review-save" in page and label("outcome", "class_d", "zh") in page
    states = {
        "parcel-review-finding_id": finding,
        "parcel-review-decision": "confirmed",
        "parcel-review-reason": "企业已确认",
        "parcel-review-context": {"versions": {str(finding): 1}},
        "parcel-code": p["code"],
        "parcel-refresh": 0,
        "parcel-lang": "zh",
    }
    answer = _call(client, "parcel-review-save", {"parcel-review-save": 1}, states)
    assert answer["parcel-refresh"]["data"] == 1
    with isolated_engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT review_status, review_reason, reviewed_by FROM rules.findings WHERE id = :i"),
            {"i": finding},
        ).one()
    assert tuple(row) == ("confirmed", "企业已确认", people["wgq"].username)
    # the same form from another zone's editor is refused, and so is a second review from the stale version
    other = _call(_client(app, login, people["wgp"]), "parcel-review-save", {"parcel-review-save": 1}, states)
    assert "parcel-refresh" not in other and "无权编辑" in json.dumps(other, ensure_ascii=False)
    stale = _call(
        client,
        "parcel-review-save",
        {"parcel-review-save": 1},
        states | {"parcel-review-decision": "dismissed"},
    )
    assert "parcel-refresh" not in stale and "保存失败" in json.dumps(stale, ensure_ascii=False)
