"""The case pages over HTTP (issue #20): the list and a case's page in both languages, a zone
editor seeing its zones' cases only (row-level security; another zone's case is not found), the
forms refused by the database with a message in the user's language, a document rendered on
recording and downloaded, and a case opened by hand by a bureau admin only."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.casework.documents import text_of
from gisapp.db.context import Actor
from gisapp.i18n import label, t
from tests.signin import form_token

pytestmark = pytest.mark.db

ADMIN = Actor("pages.admin", "bureau_admin", ())


def _text(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


@pytest.fixture(scope="module")
def world(isolated_engine, demo_frames, make_user):
    """Two idle-land cases in two zones, and who works on them."""
    ids = demo_frames["parcels"].query("scenario == 'unbuilt_idle'")["id"].tolist()
    with isolated_engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT DISTINCT ON (z.id) p.code, z.id, z.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "JOIN land.land_grants g ON g.parcel_id = p.id WHERE p.id = ANY (:ids) AND g.price_wan IS NOT NULL "
            "AND g.agreed_start_on < DATE '2024-06-01' "
            "AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id) ORDER BY z.id, p.id LIMIT 2"),
            {"ids": ids}).all()
    assert len(rows) == 2, "two zones with a long-idle demo parcel"
    cases = [q.open_case(isolated_engine, ADMIN, {"kind": "idle_land_disposal", "parcel": code,
                                                  "opened_on": "2026-01-05"}).case_code for code, _z, _c in rows]
    editor = make_user("zone_editor", (rows[0][2],))
    admin = make_user("bureau_admin")
    return {"cases": cases, "parcels": [r[0] for r in rows], "zones": [r[2] for r in rows], "editor": editor,
            "admin": admin}


@pytest.fixture(scope="module")
def app(isolated_engine):
    from gisapp.web.app import create_app

    return create_app()


def _client(app, login, user):
    client = app.server.test_client()
    login(client, user.username, user.password)
    return client


@pytest.fixture(scope="module")
def editor(app, login, world):
    return _client(app, login, world["editor"])


@pytest.fixture(scope="module")
def admin(app, login, world):
    return _client(app, login, world["admin"])


def _post(client, code: str, lang: str = "zh", **data):
    page = client.get(f"/cases/{code}?lang={lang}").get_data(as_text=True)
    return client.post(f"/cases/{code}?lang={lang}", data={"csrf": form_token(page), **data})


def test_a_zone_editor_lists_and_opens_only_its_zones_cases(editor, admin, world):
    mine, other = world["cases"]
    listed = _text(editor.get("/cases?lang=zh"))
    assert mine in listed and other not in listed
    assert other in _text(admin.get("/cases?lang=zh"))
    resp = editor.get(f"/cases/{other}?lang=zh")
    assert resp.status_code == 404 and t("case.err.unknown_case", "zh", code=other) in _text(resp)
    resp = editor.get(f"/cases/{other}?lang=en")
    assert resp.status_code == 404 and t("case.err.unknown_case", "en", code=other) in _text(resp)
    # asking for the other zone by the filter: refused, and nothing of it listed
    resp = editor.get(f"/cases?lang=en&zone={world['zones'][1]}")
    assert resp.status_code == 403 and other not in _text(resp)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_speak_the_users_language(admin, world, lang):
    mine = world["cases"][0]
    page = _text(admin.get(f"/cases/{mine}?lang={lang}"))
    for word in ("facts", "steps", "money", "documents", "audit"):
        assert t(f"case.page.{word}", lang) in page
    assert label("case_step", "investigation_notice", lang) in page
    assert label("case_pathway", "idle_fee", lang) in page
    assert "investigation_notice" not in page and "idle_fee" not in page
    listing = _text(admin.get(f"/cases?lang={lang}&kind=idle_land_disposal"))
    assert t("case.page.list_title", lang) in listing and mine in listing


def test_the_list_filters_by_kind_stage_overdue_and_unpaid(admin, world):
    mine = world["cases"][0]
    assert mine not in _text(admin.get("/cases?lang=zh&kind=low_efficiency_exit"))
    assert mine in _text(admin.get("/cases?lang=zh&stage=opened"))
    assert mine not in _text(admin.get("/cases?lang=zh&stage=execution"))
    assert mine not in _text(admin.get("/cases?lang=zh&unpaid=1"))     # nothing decided yet
    # opened on 5 Jan 2026: the investigation notice was due 30 days later, long past
    assert mine in _text(admin.get("/cases?lang=zh&overdue=1"))
    resp = admin.get("/cases?lang=en&stage=nonsense")
    assert resp.status_code == 400 and t("case.page.unknown_filter", "en", value="nonsense") in _text(resp)


def test_a_bureau_decision_posted_by_a_zone_editor_is_refused_in_the_users_language(editor, world):
    mine = world["cases"][0]
    ok = _post(editor, mine, action="step", step="investigation_notice", done_on="2026-01-09")
    assert ok.status_code == 303 and "done=step" in ok.headers["Location"]
    resp = _post(editor, mine, "zh", action="step", step="publication", done_on="2026-02-20")
    # publication waits for the determination: the database says which step comes first
    assert resp.status_code == 422
    assert t("case.err.step_order", "zh", missing=label("case_step", "determination", "zh")) in _text(resp)
    assert _post(editor, mine, action="step", step="user_reply", done_on="2026-02-06",
                 result="received").status_code == 303
    for lang in ("zh", "en"):
        resp = _post(editor, mine, lang, action="step", step="determination", done_on="2026-02-20")
        assert resp.status_code == 403, lang
        assert t("case.page.refused", lang, action=t("case.page.form_step", lang),
                 role=label("role", "zone_editor", lang)) in _text(resp)
    resp = _post(editor, mine, "en", action="step", step="publication", done_on="2099-01-01")
    assert resp.status_code == 422 and "The date cannot be after today" in _text(resp)


def test_a_recorded_notice_is_rendered_numbered_and_downloadable(editor, admin, world):
    mine = world["cases"][0]
    page = editor.get(f"/cases/{mine}?lang=zh").get_data(as_text=True)
    links = re.findall(rf'href="(/cases/{mine}/documents/\d+\.docx\?lang=zh)"', page)
    assert links, "the investigation notice recorded in an earlier test has its file"
    resp = editor.get(links[0])
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    text = text_of(resp.get_data())
    assert "闲置土地调查通知书" in text and world["parcels"][0] in text and "沪规资闲调〔2026〕" in text
    other = world["cases"][1]
    assert editor.get(links[0].replace(mine, other)).status_code == 404
    assert admin.get(links[0]).status_code == 200
    assert io.BytesIO(resp.get_data()).read(2) == b"PK"


def test_only_a_bureau_admin_opens_a_case_by_hand(editor, admin, world, isolated_engine):
    resp = editor.get("/cases/new?lang=zh")
    assert resp.status_code == 403 and t("case.page.new_forbidden", "zh") in _text(resp)
    with isolated_engine.connect() as conn:
        parcel = conn.execute(sa.text("SELECT p.code FROM land.parcels p WHERE NOT EXISTS (SELECT 1 FROM land.cases c "
                                      "WHERE c.parcel_id = p.id) AND p.status = 'low_efficiency' ORDER BY p.id LIMIT 1"
                                      )).scalar()
    page = admin.get(f"/cases/new?lang=en&parcel={parcel}").get_data(as_text=True)
    assert f'value="{parcel}"' in page
    resp = admin.post("/cases/new?lang=en", data={"csrf": form_token(page), "kind": "low_efficiency_exit",
                                                  "pathway": "le_voluntary_exit", "parcel": parcel})
    assert resp.status_code == 303
    opened = _text(admin.get(resp.headers["Location"]))
    assert t("case.page.done.opened", "en") in opened and parcel in opened
    assert label("case_pathway", "le_voluntary_exit", "en") in opened
    bad = admin.post("/cases/new?lang=zh", data={"csrf": form_token(page), "kind": "idle_land_disposal",
                                                 "parcel": "NO-SUCH-PARCEL"})
    assert bad.status_code == 422
