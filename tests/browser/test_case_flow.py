"""One idle-land case from finding to closure in real headless Chromium (issue #20): a zone
editor confirms a finding on the parcel page and the case opens; the zone office records its
steps (in Chinese) and the bureau admin its decisions (in English): determination, the fee
decided, the payment recorded, the case closed. The documents each step issued are downloaded
with the browser's session and their text read back (python-docx); a refusal of the database
comes back as a message on the page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa

from gisapp.casework.documents.formats import cn_date, wan_to_yuan, yuan_upper
from gisapp.casework.documents.render import text_of
from gisapp.i18n import label
from gisapp.queries.edit_form import today
from tests.browser.conftest import SESSION_COOKIE, own_driver
from tests.browser.test_review_moves_status import _review

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 30
ZONE = "waigaoqiao_ftz"


@pytest.fixture(scope="module")
def assessed(isolated_engine):
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.assess import run_assessment

    run_assessment(assessor_engine())
    return isolated_engine


def _wait(driver, condition, timeout: float = WAIT):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a form's answer is a new page: what was found on the old one goes stale meanwhile
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(condition)


def _by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.ID, element_id))


def _idle_finding(eng) -> dict:
    """An open idle finding of the zone that the fee pathway will take (no recovery yet), on a
    parcel with a grant price and no case."""
    with eng.connect() as conn:
        return dict(conn.execute(sa.text("""
            SELECT f.id AS fid, p.id, p.code FROM rules.current_findings f
            JOIN land.parcels p ON p.id = f.parcel_id JOIN land.zones z ON z.id = p.zone_id
            JOIN land.land_grants g ON g.id = CAST(f.evidence::jsonb ->> 'grant_id' AS integer)
            WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' AND f.review_status = 'open'
              AND coalesce(f.evidence::jsonb ->> 'recovery_candidate', 'false') = 'false'
              AND g.price_wan IS NOT NULL AND z.code = :z
              AND NOT EXISTS (SELECT 1 FROM land.cases c WHERE c.parcel_id = p.id)
            ORDER BY p.id LIMIT 1"""), {"z": ZONE}).mappings().one())


def _record(driver, form: str, **fields) -> None:
    """Fill a form of the case page (selects by value, text boxes by text) and submit it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for name, value in fields.items():
        box = _by_id(driver, f"case-{form}-{name}")
        if box.tag_name == "select":
            Select(box).select_by_value(value)
        else:
            box.clear()
            box.send_keys(value)
    driver.find_element(By.ID, f"case-{form}-submit").click()


def _step_state(driver, step: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'#case-steps tr[data-step="{step}"] .case-step-state').text


def _download(driver, base_url: str) -> dict[str, str]:
    """The text of every document file linked from the case page, by document kind, fetched with
    the browser's own session."""
    from selenium.webdriver.common.by import By

    session = requests.Session()
    # the session is bound to the client that signed in: the same cookie and the same user agent
    session.headers["User-Agent"] = driver.execute_script("return navigator.userAgent")
    session.cookies.set(SESSION_COOKIE, driver.get_cookie(SESSION_COOKIE)["value"])
    out = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#case-documents tr.case-document"):
        link = row.find_elements(By.CSS_SELECTOR, "a.case-document-link")
        assert link, f"{row.get_attribute('data-kind')} has no file"
        resp = session.get(link[0].get_attribute("href"), timeout=30)
        assert resp.status_code == 200 and resp.content[:2] == b"PK"
        out[row.get_attribute("data-kind")] = text_of(io.BytesIO(resp.content).getvalue())
    return out


def test_an_idle_land_case_from_finding_to_closure(chromium, isolated_server, assessed, make_user, login):
    from selenium.webdriver.common.by import By

    f = _idle_finding(assessed)
    editor = make_user("zone_editor", [ZONE])
    admin = make_user("bureau_admin")
    day = today()

    # the zone office confirms the finding: the database opens the case, the parcel page links it
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{f['code']}")
    _review(chromium, f["fid"], "confirmed", "现场核实：满一年未动工")
    link = _wait(chromium, lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-cases a.parcel-case-link"))
    assert "闲置土地处置" in link.text and "征缴土地闲置费" in link.text
    _wait(chromium, lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-findings a.parcel-finding-case"))
    with assessed.connect() as conn:
        code = conn.execute(sa.text("SELECT code FROM land.cases WHERE parcel_id = :p AND closed_on IS NULL"),
                            {"p": f["id"]}).scalar_one()
    # the map's panel of the parcel names its open case and links it
    chromium.get(f"{isolated_server}/?parcel={f['code']}")
    panel_case = _wait(chromium, lambda d: d.find_element(By.CSS_SELECTOR, "#map-detail-case a"))
    assert code in panel_case.text and label("case_kind", "idle_land_disposal", "zh") in panel_case.text
    chromium.get(f"{isolated_server}/parcel/{f['code']}")
    _wait(chromium, lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-cases a.parcel-case-link")).click()
    _wait(chromium, lambda d: d.find_element(By.ID, "case-code").text == code)
    assert chromium.find_element(By.ID, "case-parcel").text == f["code"]
    assert label("case_via", "finding", "zh") in chromium.find_element(By.ID, "case-facts").text
    assert _step_state(chromium, "investigation_notice").startswith("待办")
    # a bureau decision is not offered to the zone office
    from selenium.webdriver.support.ui import Select
    offered = [o.get_attribute("value") for o in Select(_by_id(chromium, "case-step-step")).options]
    assert offered == ["investigation_notice"]

    # the zone office's steps, in Chinese (dates: today, the day the case opened)
    _record(chromium, "step", step="investigation_notice")
    _wait(chromium, lambda d: "步骤已记录" in d.find_element(By.ID, "case-done").text)
    assert _step_state(chromium, "investigation_notice") == "已完成"
    _record(chromium, "step", step="user_reply", result="received")
    _wait(chromium, lambda d: _step_state(d, "user_reply") == "已完成")

    # the bureau admin decides, in English
    with own_driver() as bureau:
        login(bureau, admin.username, admin.password, base_url=isolated_server)
        bureau.get(f"{isolated_server}/cases/{code}?lang=en")
        assert [o.get_attribute("value") for o in Select(_by_id(bureau, "case-step-step")).options] == [
            "determination"]
        _record(bureau, "step", step="determination")
        _wait(bureau, lambda d: "Step recorded" in d.find_element(By.ID, "case-done").text)

        # back to the zone office: publication, the hearing notice, the hearing waived
        chromium.get(f"{isolated_server}/cases/{code}")
        for step, extra in (("publication", {}), ("hearing_notice", {}), ("hearing", {"result": "waived"})):
            _record(chromium, "step", step=step, **extra)
            _wait(chromium, lambda d, s=step: _step_state(d, s) == "已完成")

        # the fee, decided by the bureau on the grant price and the rate in force
        bureau.get(f"{isolated_server}/cases/{code}?lang=en")
        _record(bureau, "fee")
        _wait(bureau, lambda d: "Fee decision recorded" in d.find_element(By.ID, "case-done").text)
        with assessed.connect() as conn:
            amount, due = conn.execute(sa.text(
                "SELECT m.amount_wan, m.due_on FROM land.case_money m JOIN land.cases c ON c.id = m.case_id "
                "WHERE c.code = :c AND m.purpose = 'idle_fee'"), {"c": code}).one()
        money = bureau.find_element(By.ID, "case-money").text
        assert f"{amount:,.2f}" in money and due.isoformat() in money and "Idle-land fee" in money

        # the zone office records the payment: too much is refused by the database, then in full
        chromium.get(f"{isolated_server}/cases/{code}")
        _record(chromium, "payment", paid_wan=str(amount + Decimal("1")))
        error = _by_id(chromium, "case-error").text
        assert "未保存" in error or "请修改" in error, error
        chromium.get(f"{isolated_server}/cases/{code}")
        _record(chromium, "payment", paid_wan=str(amount))
        _wait(chromium, lambda d: "缴款已记录" in d.find_element(By.ID, "case-done").text)
        assert _step_state(chromium, "fee_paid") == "已完成"   # settled by the payment in full

        # the documents, downloaded and read back
        texts = _download(chromium, isolated_server)
        assert set(texts) == {"investigation_notice", "idle_determination", "hearing_notice", "fee_decision"}
        for kind, text in texts.items():
            assert f["code"] in text and "合成演示数据" in text, kind
            assert cn_date(day) in text, kind                       # issued today, 2026年12月5日 style
        assert f"（至{cn_date(_due(assessed, code, 'user_reply'))}）" in texts["investigation_notice"]
        fee = texts["fee_decision"]
        assert f"征缴土地闲置费{amount:,.2f}万元（{yuan_upper(wan_to_yuan(amount))}）" in fee
        assert f"（至{cn_date(due)}）" in fee
        assert "你单位于" in fee and "放弃听证" in fee
        assert "沪规资闲费〔" in fee

        # closed by the bureau with the outcome its steps allow
        bureau.get(f"{isolated_server}/cases/{code}?lang=en")
        _record(bureau, "close", outcome="fee_collected")
        _wait(bureau, lambda d: "Case closed" in d.find_element(By.ID, "case-done").text)
        assert bureau.find_element(By.ID, "case-outcome").text == "Fee collected"
        audit = bureau.find_element(By.ID, "case-audit").text
        assert "Closed: Fee collected" in audit and admin.username in audit and editor.username in audit
        assert not bureau.find_elements(By.ID, "case-form-step")   # nothing more to record

    # the parcel page says the case is closed; the list finds it among the closed ones
    chromium.get(f"{isolated_server}/parcel/{f['code']}?lang=en")
    _wait(chromium, lambda d: "Fee collected" in d.find_element(By.ID, "parcel-cases").text)
    chromium.get(f"{isolated_server}/cases?lang=en&state=closed")
    assert code in _by_id(chromium, "cases-table").text


def _due(eng, code: str, step: str):
    with eng.connect() as conn:
        return conn.execute(sa.text("SELECT s.due_on FROM land.case_steps s JOIN land.cases c ON c.id = s.case_id "
                                    "WHERE c.code = :c AND s.step = :s"), {"c": code, "s": step}).scalar_one()
