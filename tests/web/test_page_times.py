"""Times and editors as people read them on the parcel page: Asia/Shanghai to the minute, the demo
loader as "the system", and a stale edit's message with the other person's change as labelled
fields (only those that differ) and a link that keeps the page's language."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from gisapp.i18n import label, t
from gisapp.web.components import when
from tests.web.test_auth_edits import _call, _outputs, _split

TODAY = dt.date.today().isoformat()
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:|\+00:00|\d\d:\d\d:\d\d")


def test_times_are_shown_in_shanghai_to_the_minute():
    assert when("2026-03-01T18:05:09.5+00:00") == "2026-03-02 02:05"
    assert when(dt.datetime(2026, 3, 1, 18, 5, tzinfo=dt.UTC)) == "2026-03-02 02:05"
    assert when(dt.datetime(2026, 3, 1, 18, 5)) == "2026-03-02 02:05"  # the database's UTC
    assert when("2026-03-01") == "2026-03-01" and when(dt.date(2026, 3, 1)) == "2026-03-01"
    assert when(None) == "" and when("") == ""


@pytest.fixture(scope="module")
def app(isolated_engine):
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def editors(isolated_engine, make_user):
    return make_user("zone_editor", ["waigaoqiao_ftz"]), make_user("zone_editor", ["waigaoqiao_ftz"])


def _client(app, login, user):
    client = app.server.test_client()
    login(client, user.username, user.password)
    return client


def _parcel(engine, offset: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT p.id, p.code, p.version, p.updated_at, p.updated_by FROM land.parcels p "
            "JOIN land.zones z ON z.id = p.zone_id WHERE z.code = 'waigaoqiao_ftz' AND p.status = 'in_production' "
            "ORDER BY p.id OFFSET :o LIMIT 1"), {"o": offset}).mappings().one())


def _find(tree, ident: str):
    """The component ``ident`` in a Dash answer."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == ident:
            return tree
        return next((f for v in tree.values() if (f := _find(v, ident)) is not None), None)
    if isinstance(tree, list):
        return next((f for v in tree if (f := _find(v, ident)) is not None), None)
    return None


def _page(client, code: str, lang: str) -> dict:
    return _call(client, "parcel-code", {"parcel-code": code, "parcel-lang": lang, "parcel-refresh": 0})


def _save_status(client, code: str, version: int, to: str, lang: str, seen: dict | None) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(i["id"] == "parcel-status-save" for i in d["inputs"]))
    values = {"parcel-status-to_status": to, "parcel-status-changed_on": TODAY, "parcel-status-reason": "test",
              "parcel-status-note": "", "parcel-status-context": {"version": version}, "parcel-code": code,
              "parcel-refresh": 0, "parcel-lang": lang, "parcel-seen": seen}
    payload = {"output": dep["output"], "outputs": [_split(o) for o in _outputs(dep["output"])],
               "inputs": [{"id": "parcel-status-save", "property": "n_clicks", "value": 1}],
               "state": [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in dep["state"]],
               "changedPropIds": ["parcel-status-save.n_clicks"]}
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()["response"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_parcel_page_shows_shanghai_times_and_the_demo_loader_as_the_system(
        app, login, editors, isolated_engine, lang):
    p = _parcel(isolated_engine, offset=3)
    assert p["updated_by"] == "gis"  # as the demo loader left it
    body = json.dumps(_page(_client(app, login, editors[0]), p["code"], lang), ensure_ascii=False)
    assert not ISO_TIME.search(body), ISO_TIME.search(body)
    assert f"{t('editor.demo_load', lang)} · {when(p['updated_at'])}" in body
    assert '"gis"' not in body and "gis ·" not in body


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_stale_edit_shows_the_other_persons_change_as_labelled_fields(
        app, login, editors, isolated_engine, lang):
    p = _parcel(isolated_engine, offset=5 if lang == "zh" else 6)
    mine, theirs = (_client(app, login, e) for e in editors)
    seen = _find(_page(mine, p["code"], lang), "parcel-seen")["props"]["data"]
    saved = _save_status(theirs, p["code"], p["version"], "low_efficiency", lang, seen)
    assert saved["parcel-refresh"]["data"] == 1
    answer = _save_status(mine, p["code"], p["version"], "in_disposal", lang, seen)
    message = json.dumps(answer["parcel-status-msg"]["children"], ensure_ascii=False)
    table = _find(answer["parcel-status-msg"]["children"], "parcel-status-conflict")
    rows = [[cell["props"]["children"] for cell in row["props"]["children"]] for row in table["props"]["children"]]
    assert [t("field.status", lang), label("status", "low_efficiency", lang)] in rows
    assert [t("field.status_since", lang), TODAY] in rows
    shown = {r[0] for r in rows}
    assert shown <= {t("field.status", lang), t("field.status_since", lang)}  # only what differs
    for internal in ("is_synthetic", "area_m2", "zone_id", "enterprise_id", "source_crs", "updated_at", "True"):
        assert internal not in message
    assert not ISO_TIME.search(message)
    assert editors[1].username in message  # who changed it, in the sentence
    link = _find(answer["parcel-status-msg"]["children"], "parcel-status-reload")
    assert link["props"]["href"] == f"/parcel/{p['code']}?lang={lang}"
    assert link["props"]["children"] == t("edit.conflict.reload", lang)
