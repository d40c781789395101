"""Hostile values against every JSON edit endpoint and every GET route under /api and /tiles
(issue 16): NUL bytes, lone surrogates, huge and non-finite numbers, wrong types, deep nesting,
long strings. No answer may be a 5xx, every refusal is JSON with a sentence, and a refused edit
writes nothing."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web import hostile_targets
from tests.web.hostile_targets import edit_url, fingerprint, valid_bodies

pytestmark = pytest.mark.db

#: every field each edit reads (gisapp.queries.edits), besides ``reason`` which all of them take
FIELDS = {
    "status": ["to_status", "changed_on", "note", "version"],
    "green-areas": ["measured_on", "green_area_m2", "id", "version"],
    "progress": ["reported_on", "started_on", "should_develop_area_m2", "developed_area_m2", "invested_wan",
                 "total_investment_wan", "completed_on", "accepted_on", "id", "version"],
    "metrics": ["year", "grading_category", "revenue_wan", "tax_wan", "value_added_wan", "energy_tce",
                "electricity_kwh", "emissions_t", "employees", "rd_spend_wan", "id", "version"],
    "mixed-use": ["components", "expected"],
    "grants": ["contract_no", "supply_method", "announced_on", "granted_on", "delivery_due_on", "delivered_on",
               "agreed_start_on", "agreed_completion_on", "term_years", "price_wan", "total_investment_wan",
               "is_standardized", "is_major_project", "industry", "id", "version"],
    "grant-requirements": ["grant_id", "indicator", "review_stage", "min_value", "max_value", "id", "version"],
    "quota-requests": ["account_id", "amount", "requested_on", "note"],
    "geometry": ["geom", "version"],
    "review": ["decision", "version"],
}


def test_the_fuzzed_kinds_are_every_edit_of_the_api():
    from gisapp.web.edit_api import PARCEL_EDITS

    assert set(FIELDS) == set(PARCEL_EDITS) | {"review"}


# -- hostile values, as JSON text (some are not what json.dumps would ever write) ------------------


def _nested_list(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


hostile_texts = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "\u200b", " \u3000 ", "", "\ufeff", "\x00" * 50,
                     "' OR 1=1 --", "<script>alert(1)</script>", "%00", "../../etc/passwd", "null", "NaN",
                     "1e400", "0x10", "२०२४-०१-०१", "2024-13-45", "9999-12-31", "-infinity"]),
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("\x00\ud800\udbff\u200b\x1f\u202e a1-"), max_size=12),
    st.integers(min_value=400, max_value=200_000).map(lambda n: "长" * n),
)
hostile_numbers = st.one_of(
    st.sampled_from([10**20, 2**31, 2**31 - 1, -(2**31) - 1, 2**63, 10**400, 1e30, -1e30, 1e308, 5e-324, 0, -1,
                     "1e30", "-1e30", "1e400", "1e999999999999999999999", "9" * 5000, "1,000,000,000,000,000,000",
                     "NaN", "-0", "²", "٣"]),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
)
literals = st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 4400, "true", "null",
                            "[]", "{}", "[5]", "[[1, 2, 3]]", "[null]", '[{"land_use_code": "1001"}]'])
deep = st.one_of(
    st.integers(min_value=5, max_value=60).map(_nested_list),
    st.integers(min_value=900, max_value=6000).map(_nested_list),
    st.integers(min_value=900, max_value=6000).map(_nested_object),
)
wrong_types = st.one_of(
    st.none(), st.booleans(),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
#: a JSON text for one field's value
hostile_json = st.one_of(
    hostile_texts.map(json.dumps),
    hostile_numbers.map(lambda v: json.dumps(v) if not isinstance(v, int) or abs(v) < 10**300 else str(v)),
    literals,
    deep,
    wrong_types.map(json.dumps),
)


def _geometry_values():
    ring = [[121.6, 31.3], [121.61, 31.3], [121.61, 31.31], [121.6, 31.3]]
    return st.sampled_from([
        json.dumps({"type": "Polygon", "coordinates": [ring]}).replace("121.61", "1e400"),
        json.dumps({"type": "Polygon", "coordinates": [[[None, None]]]}),
        json.dumps({"type": "Polygon", "coordinates": "x"}),
        json.dumps({"type": "Point", "coordinates": [1, 2]}),
        json.dumps({"type": "Feature", "geometry": [1]}),
        json.dumps({"type": "Polygon", "coordinates": [[[10**30, 1], [2, 3], [4, 5], [10**30, 1]]]}),
        json.dumps({"type": ["Polygon"], "coordinates": [ring]}),
        json.dumps(json.dumps({"type": "Polygon", "coordinates": _nested_list(3000)})),
        '{"type": "MultiPolygon", "coordinates": ' + _nested_list(950) + "}",
        json.dumps({"type": "Polygon", "coordinates": [ring * 5000]}),
    ])


def _body(base: dict, spoiled: dict[str, str]) -> str:
    """``base`` as JSON text with the ``spoiled`` fields' values replaced by raw JSON texts."""
    marked = base | {name: f"@@{i}@@" for i, name in enumerate(spoiled)}
    text = json.dumps(marked)
    for i, raw in enumerate(spoiled.values()):
        text = text.replace(f'"@@{i}@@"', raw)
    return text


# the app on this module's own database, the records to post to, a signed-in bureau admin
app, targets, client = hostile_targets.app, hostile_targets.targets, hostile_targets.client


def _assert_contract(resp, what: str) -> None:
    assert resp.status_code < 500, (what, resp.status_code, resp.get_data(as_text=True)[:400])
    if resp.status_code >= 400:
        assert resp.is_json, (what, resp.status_code, resp.mimetype)
        body = resp.get_json()
        assert isinstance(body.get("error"), str) and body["error"].strip(), (what, body)
        assert "field" in body, (what, body)


FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(FIELDS)))
def test_hostile_values_in_an_edit_get_a_4xx_sentence_and_write_nothing(
    client, isolated_engine, targets, data, kind
):
    names = [*FIELDS[kind], "reason", "unknown_field"]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="fields")
    spoiled = {
        name: data.draw(_geometry_values() | hostile_json if name == "geom" else hostile_json, label=name)
        for name in chosen
    }
    raw = _body(valid_bodies(isolated_engine, targets)[kind], spoiled)
    lang = data.draw(st.sampled_from(["zh", "en"]), label="lang")
    before = fingerprint(isolated_engine)
    resp = client.post(edit_url(targets, kind, lang), data=raw, content_type="application/json")
    _assert_contract(resp, f"{kind} {spoiled}")
    if resp.status_code >= 400:
        assert fingerprint(isolated_engine) == before, f"{kind} {spoiled}: refused ({resp.status_code}) yet written"


hostile_bodies = st.one_of(
    st.sampled_from([b"", b"null", b"[]", b"5", b'"x"', b"{", b"\xff\xfe", b'{"a": NaN}', b"{\x00}",
                     b"[" * 100_000, b'{"reason": "\xed\xa0\x80"}', b'{"version": 1e400}']),
    st.binary(max_size=64),
    deep.map(str.encode),
)


@FUZZ
@given(kind=st.sampled_from(sorted(FIELDS)), body=hostile_bodies,
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_a_hostile_body_gets_a_4xx_sentence_and_writes_nothing(client, isolated_engine, targets, kind, body,
                                                              content_type):
    before = fingerprint(isolated_engine)
    resp = client.post(edit_url(targets, kind), data=body, content_type=content_type)
    _assert_contract(resp, f"{kind} {body[:60]!r}")
    assert resp.status_code >= 400 and fingerprint(isolated_engine) == before


# -- GET routes ------------------------------------------------------------------------------------

hostile_segments = st.one_of(
    st.sampled_from(["\x00", "WGQ-00001\x00", "\ud800", "1" * 30, "-" + "9" * 30, "²", "٣", "1e5", "%", "..",
                     "parcels", "zones", "WGQ-00001", "waigaoqiao_ftz", "zones.csv", "1", "0", "-1", "x" * 5000,
                     "' OR 1=1 --", "<b>", "2024-01-01", "9999-99-99", "NaN", "Infinity"]),
    st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
QUERY_NAMES = ["bbox", "zoom", "zone", "format", "properties", "q", "limit", "lang", "unknown"]
hostile_queries = st.one_of(
    hostile_segments,
    st.sampled_from(["121.5,31.2,121.7,31.4", "1e400,0,1,1", "nan,nan,nan,nan", "-180,-90,180,90", "1,2,3",
                     "15", "99999999999999999999", "geobuf", "style", "en"]),
)


def _encode(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _get_rules(app) -> list[str]:
    return sorted(
        rule.rule for rule in app.server.url_map.iter_rules()
        if "GET" in rule.methods and rule.rule.startswith(("/api", "/tiles")) and "<path:" not in rule.rule
    )


def test_the_fuzzed_read_routes_include_the_map_and_edit_reads(app):
    rules = _get_rules(app)
    for expected in ("/tiles/<layer_id>/<z>/<x>/<y>.pbf", "/api/search", "/api/parcels/<code>",
                     "/api/layers/<layer_id>/features/<feature_id>", "/api/edits/parcels/<code>/as-of/<on>",
                     "/api/dashboard/<name>.<ext>"):
        assert expected in rules


@FUZZ
@given(data=st.data())
def test_hostile_values_in_a_read_route_get_an_answer_below_500(app, client, data):
    rule = data.draw(st.sampled_from(_get_rules(app)), label="rule")
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _encode(data.draw(hostile_segments, label=m.group(1))), rule)
    names = data.draw(st.lists(st.sampled_from(QUERY_NAMES), max_size=4, unique=True), label="query")
    query = "&".join(f"{name}={_encode(data.draw(hostile_queries, label=name))}" for name in names)
    url = f"{path}?{query}" if query else path
    resp = client.get(url)
    _assert_contract(resp, url[:300])
    assert resp.mimetype != "text/html", url[:300]


@FUZZ
@given(data=st.data(), kind=st.sampled_from(sorted(FIELDS)))
def test_hostile_codes_and_ids_in_an_edit_path_get_a_4xx_sentence_and_write_nothing(
    client, isolated_engine, targets, data, kind
):
    segment = _encode(data.draw(hostile_segments, label="segment"))
    if kind == "review":
        url = f"/api/edits/findings/{segment}/review"
    elif data.draw(st.booleans(), label="hostile kind"):
        url = f"/api/edits/parcels/{targets.code}/{segment}"
    else:
        url = f"/api/edits/parcels/{segment}/{kind}"
    before = fingerprint(isolated_engine)
    resp = client.post(url, json=valid_bodies(isolated_engine, targets)[kind])
    _assert_contract(resp, url[:300])
    if resp.status_code >= 400:
        assert fingerprint(isolated_engine) == before, f"{url[:200]}: refused ({resp.status_code}) yet written"


def test_an_encoded_slash_in_a_code_gets_a_json_answer_not_a_redirect(client):
    """Found by the read-route fuzz: Werkzeug merged the empty segment with an HTML 308 page."""
    for url in ("/api/edits/parcels/0%2F/as-of/%0A", "/api/parcels/WGQ%2F", "/api//parcels/WGQ-00001"):
        resp = client.get(url)
        _assert_contract(resp, url)
        assert resp.status_code != 308 and resp.mimetype != "text/html", url
