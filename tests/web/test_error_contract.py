"""The HTTP error contract: a client's mistake gets a 4xx with a sentence (``{"error", "field"}``),
an unknown API or tile path a JSON 404, an unexpected fault a logged id; never a bare 500.

One test per probe of issue 16 (each once answered a bare HTTP 500)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.web import hostile_targets
from tests.web.hostile_targets import edit_url, fingerprint, valid_bodies

pytestmark = pytest.mark.db


# the app on this module's own database, the records to post to, a signed-in bureau admin
app, targets, client = hostile_targets.app, hostile_targets.targets, hostile_targets.client


def _refused(client, engine, targets, kind: str, changes: dict | None = None, raw: str | None = None,
             lang: str = "en"):
    """Post a valid body of ``kind`` spoiled by ``changes`` (or the ``raw`` JSON text); assert
    nothing was written; return the response."""
    body = valid_bodies(engine, targets)[kind] | (changes or {})
    before = fingerprint(engine)
    url = edit_url(targets, kind, lang)
    if raw is not None:
        resp = client.post(url, data=raw, content_type="application/json")
    else:
        resp = client.post(url, json=body)
    assert fingerprint(engine) == before, f"{kind} {changes}: something was written ({resp.status_code})"
    return resp


def _assert_field(resp, status: int, field: str, *words: str):
    body = resp.get_json()
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert isinstance(body["error"], str) and body["error"].strip()
    assert body["field"] == field, body
    message = body["fields"][field] if "fields" in body else body["error"]
    for word in words:
        assert word in message, (word, message)


# -- text fields: NUL, lone surrogates, invisible reasons ---------------------------------------


@pytest.mark.parametrize("kind, field", [
    ("status", "reason"), ("status", "note"), ("grants", "contract_no"), ("quota-requests", "note"),
    ("review", "reason"),
])
def test_a_nul_byte_in_a_text_is_refused_on_its_field(client, isolated_engine, targets, kind, field):
    resp = _refused(client, isolated_engine, targets, kind, {field: "ab\x00cd"})
    _assert_field(resp, 422, field, "U+0000")


@pytest.mark.parametrize("kind, field", [("status", "reason"), ("grants", "contract_no")])
def test_a_lone_surrogate_in_a_text_is_refused_on_its_field(client, isolated_engine, targets, kind, field):
    resp = _refused(client, isolated_engine, targets, kind, {field: "x\ud800y"})
    _assert_field(resp, 422, field, "U+D800")


@pytest.mark.parametrize("reason", ["   ", "\u200b", " \u200b\u3000\ufeff ", "\t\n"])
@pytest.mark.parametrize("kind", ["status", "review", "geometry"])
def test_a_reason_of_only_invisible_characters_counts_as_missing(client, isolated_engine, targets, kind, reason):
    resp = _refused(client, isolated_engine, targets, kind, {"reason": reason})
    _assert_field(resp, 422, "reason", "Required")


@pytest.mark.parametrize("value", [["a", "list"], {"a": 1}, True])
def test_a_text_field_given_another_type_is_refused(client, isolated_engine, targets, value):
    resp = _refused(client, isolated_engine, targets, "status", {"reason": value})
    _assert_field(resp, 422, "reason", "text")


# -- numbers: beyond the database's columns, not finite -----------------------------------------


@pytest.mark.parametrize("kind, field, value", [
    ("status", "version", 10**20),
    ("status", "version", 2**31),
    ("metrics", "employees", 2**31),
    ("metrics", "employees", "99999999999999999999999999999999"),
    ("grant-requirements", "grant_id", 10**30),
])
def test_an_integer_beyond_the_column_is_refused_as_too_large(client, isolated_engine, targets, kind, field, value):
    resp = _refused(client, isolated_engine, targets, kind, {field: value})
    _assert_field(resp, 422, field, "too large")


@pytest.mark.parametrize("kind, field", [
    ("progress", "invested_wan"), ("grants", "price_wan"), ("quota-requests", "amount"),
    ("grant-requirements", "min_value"), ("metrics", "revenue_wan"), ("green-areas", "green_area_m2"),
])
@pytest.mark.parametrize("value", ["1e30", 1e30, "1e400", "-1e30", "1" + "0" * 400])
def test_a_huge_number_is_refused_as_too_large(client, isolated_engine, targets, kind, field, value):
    if str(value).startswith("-") and field != "min_value":
        value = value.lstrip("-") if isinstance(value, str) else -value  # negatives are refused before size
    resp = _refused(client, isolated_engine, targets, kind, {field: value})
    _assert_field(resp, 422, field, "too large")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "Infinity", "NaN"])
def test_a_non_finite_json_number_is_refused(client, isolated_engine, targets, literal):
    body = valid_bodies(isolated_engine, targets)["quota-requests"]
    raw = json.dumps(body | {"amount": "@@"}).replace('"@@"', literal)
    resp = _refused(client, isolated_engine, targets, "quota-requests", raw=raw)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"].strip()


def test_a_number_the_form_allows_but_the_column_cannot_hold_is_422_not_500(client, isolated_engine, targets):
    # revenue_wan is numeric(14, 2): 1e13 passes the form's sanity bound, the database refuses it
    resp = _refused(client, isolated_engine, targets, "metrics", {"revenue_wan": "10000000000000"})
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"].strip()


# -- structures: mixed-use components, deep geometry ---------------------------------------------


@pytest.mark.parametrize("components", [[5], [None], [[1, 2, 3]], [{"land_use_code": "1001"}], ["1001 100"],
                                        {"a": 1}, 5])
def test_malformed_mixed_use_components_are_refused(client, isolated_engine, targets, components):
    resp = _refused(client, isolated_engine, targets, "mixed-use", {"components": components})
    _assert_field(resp, 422, "components")


def _nested(depth: int) -> str:
    return "[" * depth + "0" + "]" * depth


def test_a_geometry_nested_950_levels_deep_is_refused(client, isolated_engine, targets):
    raw = json.dumps(valid_bodies(isolated_engine, targets)["geometry"] | {"geom": "@@"})
    resp = _refused(client, isolated_engine, targets, "geometry",
                    raw=raw.replace('"@@"', '{"type": "Polygon", "coordinates": ' + _nested(950) + "}"))
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert "deep" in resp.get_json()["error"] + json.dumps(resp.get_json().get("fields", {}))


def test_a_geometry_nested_beyond_a_multipolygon_is_refused_on_geom(client, isolated_engine, targets):
    geom = {"type": "MultiPolygon", "coordinates": json.loads(_nested(30))}
    resp = _refused(client, isolated_engine, targets, "geometry", {"geom": geom})
    _assert_field(resp, 422, "geom", "deep")


def test_a_deeply_nested_value_in_any_field_is_refused(client, isolated_engine, targets):
    raw = json.dumps(valid_bodies(isolated_engine, targets)["status"] | {"note": "@@"})
    resp = _refused(client, isolated_engine, targets, "status", raw=raw.replace('"@@"', _nested(5000)))
    assert resp.status_code == 422 and "deep" in resp.get_json()["error"], resp.get_data(as_text=True)[:300]


# -- read routes: NUL in codes, odd digits, huge ids ----------------------------------------------

BBOX = "121.5,31.2,121.7,31.4"


@pytest.mark.parametrize("url", [
    "/api/parcels/WGQ%00-1",
    "/api/edits/parcels/WGQ%00-1",
    "/api/edits/parcels/WGQ%00-1/as-of/2024-01-01",
    f"/api/layers/parcels/features?bbox={BBOX}&zoom=15&zone=wai%00gaoqiao",
    "/api/dashboard/zones.csv?zone=%00",
    "/api/search?q=WGQ%00",
    "/api/layers/parcels/features/1%00",
    "/tiles/parcels/15/27441/13371%00.pbf",
])
def test_a_nul_byte_in_a_code_on_a_read_route_is_a_json_4xx(client, url):
    resp = client.get(url)
    assert resp.status_code in (400, 404), (url, resp.status_code, resp.get_data(as_text=True)[:200])
    assert resp.is_json and resp.get_json()["error"].strip()


@pytest.mark.parametrize("limit", ["²", "٣", "1e1", "-1", "0", "51", "99999999999999999999999", " 5"])
def test_search_limit_must_be_plain_digits_in_range(client, limit):
    resp = client.get("/api/search", query_string={"q": "WGQ", "limit": limit})
    assert resp.status_code == 400 and resp.get_json()["field"] == "limit", resp.get_data(as_text=True)[:200]


@pytest.mark.parametrize("layer", ["parcels", "zones"])
@pytest.mark.parametrize("feature_id", ["1" * 30, "-" + "9" * 30, "1e5"])
def test_a_feature_id_that_cannot_exist_is_404(client, layer, feature_id):
    resp = client.get(f"/api/layers/{layer}/features/{feature_id}")
    assert resp.status_code == 404 and resp.get_json()["error"].strip(), resp.get_data(as_text=True)[:200]


def test_a_30_digit_finding_id_is_404(client):
    resp = client.post("/api/edits/findings/" + "9" * 30 + "/review",
                       json={"decision": "confirmed", "reason": "r", "version": 1})
    assert resp.status_code == 404 and resp.get_json()["error"].strip()


# -- unknown paths, methods and unexpected faults ------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("path", ["/api/x", "/api/layers/parcels/nope/deeper", "/tiles/x", "/tiles/parcels/1/2",
                                  "/api/edits/nope", "/api"])
def test_an_unknown_api_or_tile_path_is_a_json_404(client, method, path):
    resp = getattr(client, method)(path)
    assert resp.status_code == 404 and resp.is_json, (method, path, resp.status_code, resp.mimetype)
    assert resp.get_json()["error"].strip() and "field" in resp.get_json()


def test_a_known_api_path_with_the_wrong_method_is_a_json_405(client):
    resp = client.delete("/api/layers")
    assert resp.status_code == 405 and resp.is_json and resp.get_json()["error"].strip()


def test_an_unknown_page_is_still_the_apps_own_page(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 200 and resp.mimetype == "text/html"


def test_an_unexpected_error_is_logged_with_an_id_the_answer_shows(isolated_engine, make_user, login, caplog):
    from gisapp.web.app import create_app

    app = create_app()

    def boom():
        raise RuntimeError("a bug nobody foresaw")

    app.server.add_url_rule("/api/boom", "test_boom", boom)
    app.server.add_url_rule("/boom-page", "test_boom_page", boom)
    user = make_user("bureau_viewer")
    client = app.server.test_client()
    login(client, user.username, user.password)
    with caplog.at_level(logging.ERROR):
        resp = client.get("/api/boom?lang=en")
        page = client.get("/boom-page")
    body = resp.get_json()
    assert resp.status_code == 500 and body["error_id"] and body["error_id"] in body["error"]
    assert "a bug nobody foresaw" not in body["error"]  # the details stay in the log
    assert any(body["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)
    assert page.status_code == 500 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "服务器" in text and "Traceback" not in text and "a bug nobody foresaw" not in text
    logged = next(r.getMessage() for r in caplog.records if "/boom-page" in r.getMessage())
    page_id = re.search(r"error ([0-9a-f]{8})", logged)
    assert page_id and page_id.group(1) in text, "the page shows the logged id"


def test_a_bad_request_on_a_page_is_a_readable_page_in_the_users_language(client):
    resp = client.post("/?lang=en", data="x")
    assert resp.status_code == 405 and resp.mimetype == "text/html"
    text = resp.get_data(as_text=True)
    assert "<html" in text and "405" in text and "not" in text.lower()
