"""A zone office confirms a finding on the parcel page, in real headless Chromium, and sees the
parcel's status change (issue #18 item 5): in Chinese, and in English with the confirmation then
withdrawn, which puts the status back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.ID, element_id))


def _open_idle_finding(eng) -> dict:
    with eng.connect() as conn:
        return dict(conn.execute(sa.text("""
            SELECT f.id AS fid, p.id, p.code FROM rules.current_findings f
            JOIN land.parcels p ON p.id = f.parcel_id JOIN land.zones z ON z.id = p.zone_id
            WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' AND f.review_status = 'open'
              AND p.status = 'granted_unbuilt' AND z.code = :z
            ORDER BY p.id LIMIT 1"""), {"z": ZONE}).mappings().one())


def _review(driver, finding_id: int, decision: str, reason: str) -> None:
    """Open the review form, pick the finding and the decision, give the reason, save."""
    from selenium.webdriver.common.by import By

    details = _by_id(driver, "parcel-review-details")
    if details.get_attribute("open") is None:
        _by_id(driver, "parcel-review-open").click()
    _by_id(driver, "parcel-review-finding_id").click()
    option = _wait(driver, lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']")
                                           if o.text.startswith(f"#{finding_id} ")), None))
    option.click()
    driver.find_element(By.CSS_SELECTOR, f'#parcel-review-decision input[value="{decision}"]').click()
    reason_box = driver.find_element(By.ID, "parcel-review-reason")
    reason_box.clear()
    reason_box.send_keys(reason)
    driver.find_element(By.ID, "parcel-review-save").click()


def _status(eng, parcel_id: int) -> str:
    with eng.connect() as conn:
        return conn.execute(sa.text("SELECT status FROM land.parcels WHERE id = :i"), {"i": parcel_id}).scalar()


def test_confirming_idle_land_on_the_parcel_page_marks_the_parcel_idle(chromium, isolated_server, assessed,
                                                                        make_user, login):
    from selenium.webdriver.common.by import By

    f = _open_idle_finding(assessed)
    editor = make_user("zone_editor", [ZONE])
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{f['code']}")
    assert _by_id(chromium, "parcel-status-value").text == "供而未用"
    _review(chromium, f["fid"], "confirmed", "现场核实：满一年未动工")

    _wait(chromium, lambda d: "地块状态已由“供而未用”变更为“闲置（已认定）”" in d.find_element(By.ID, "parcel-flash-msg").text)
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-status-value").text == "闲置（已认定）")
    newest = chromium.find_element(By.CSS_SELECTOR, "#parcel-history tbody tr").text
    assert "现场核实：满一年未动工" in newest and f"确认核查结论 #{f['fid']}" in newest and editor.username in newest
    assert "已确认" in chromium.find_element(By.ID, "parcel-findings").text
    assert _status(assessed, f["id"]) == "idle"


def test_in_english_a_confirmation_and_its_withdrawal_on_the_parcel_page(chromium, isolated_server, assessed,
                                                                          make_user, login):
    from selenium.webdriver.common.by import By

    f = _open_idle_finding(assessed)
    editor = make_user("zone_editor", [ZONE])
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{f['code']}?lang=en")
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-status-value").text == "Supplied, not built")
    _review(chromium, f["fid"], "confirmed", "Checked on site")
    _wait(chromium, lambda d: "The parcel's status changed from “Supplied, not built” to “Idle (confirmed)”"
          in d.find_element(By.ID, "parcel-flash-msg").text)
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-status-value").text == "Idle (confirmed)")
    assert f"Finding #{f['fid']} confirmed" in chromium.find_element(By.CSS_SELECTOR, "#parcel-history tbody tr").text

    # withdrawn: dismissed, and nobody changed the status since, so it goes back
    _review(chromium, f["fid"], "dismissed", "Construction started last month")
    _wait(chromium, lambda d: "back to “Supplied, not built”" in d.find_element(By.ID, "parcel-flash-msg").text)
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-status-value").text == "Supplied, not built")
    newest = chromium.find_element(By.CSS_SELECTOR, "#parcel-history tbody tr").text
    assert f"Confirmation of finding #{f['fid']}" in newest and "Construction started last month" in newest
    assert _status(assessed, f["id"]) == "granted_unbuilt"
