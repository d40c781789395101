"""Issue #18 in real headless Chromium: the green-balance what-if form answers with the rule's
numbers and refuses a bad value by its field; a parcel in a mixed-use pilot shows its badge with
the approval reference and the shares; the dashboard's green section links the what-if."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 30
ZONE = "yangshan"


def _wait(driver, condition):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the form posts and the page is drawn anew: an element found a moment ago may be gone
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def test_the_what_if_form_answers_and_refuses_bad_values(signed_in_browser, live_server, engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from gisapp.queries.green_what_if import FRAMES
    from gisapp.queries.rule_inputs import load_inputs
    from gisapp.rules.green_balance import what_if_new_project

    driver = signed_in_browser
    driver.get(f"{live_server}/dashboard?lang=zh")
    link = _wait(driver, lambda d: d.find_elements(By.ID, "app-nav-green-what-if"))[0]
    assert link.text == t("nav.green_what_if", "zh")
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "gwi-form"))
    Select(driver.find_element(By.ID, "gwi-zone")).select_by_value(ZONE)
    driver.find_element(By.ID, "gwi-area").send_keys("40000")
    driver.find_element(By.ID, "gwi-ratio").send_keys("abc")
    driver.find_element(By.ID, "gwi-submit").click()
    error = _wait(driver, lambda d: [e for e in d.find_elements(By.ID, "gwi-ratio-error") if e.text])[0]
    assert error.text == "“abc”不是数字"
    assert not driver.find_elements(By.ID, "gwi-result")

    ratio = driver.find_element(By.ID, "gwi-ratio")
    ratio.clear()
    ratio.send_keys("8")
    driver.find_element(By.ID, "gwi-submit").click()
    result = _wait(driver, lambda d: d.find_elements(By.ID, "gwi-result"))[0]
    frames = load_inputs(engine, FRAMES, zone_codes=[ZONE])
    rule = what_if_new_project(frames["parcels"], frames["green_areas"], int(frames["parcels"]["zone_id"].iloc[0]),
                               40_000.0, 0.08, as_of=dt.date.today(), overrides=frames["parameter_overrides"])
    shown = driver.find_element(By.ID, "gwi-margin-after")
    assert float(shown.get_attribute("data-value")) == pytest.approx(rule.margin_after_m2)
    assert shown.text == f"{rule.margin_after_m2:,.1f} m²"
    assert driver.find_element(By.ID, "gwi-explanation").text == rule.explanation_zh
    assert result.get_attribute("data-fits") == ("true" if rule.fits else "false")

    # the same question in English, by the language switch (the form's values travel with it)
    driver.find_element(By.ID, "app-lang-switch").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "gwi-result") and "lang=en" in d.current_url)
    assert driver.find_element(By.ID, "gwi-explanation").text == rule.explanation_en


def test_the_dashboard_green_section_links_the_what_if(signed_in_browser, live_server):
    from selenium.webdriver.common.by import By

    driver = signed_in_browser
    driver.get(f"{live_server}/dashboard?lang=en&zone={ZONE}")
    link = _wait(driver, lambda d: d.find_elements(By.ID, "dash-green-what-if"))[0]
    assert link.text == t("gwi.link", "en")
    assert link.get_attribute("href").endswith(f"/green-what-if?lang=en&zone={ZONE}")


def test_a_pilot_parcel_shows_its_badge_and_another_does_not(signed_in_browser, live_server, engine):
    from selenium.webdriver.common.by import By

    with engine.connect() as conn:
        code, ref, approved = conn.execute(sa.text("""
            SELECT p.code, mp.pilot_ref, mp.approved_on FROM land.mixed_use_pilots mp
            JOIN land.parcels p ON p.id = mp.parcel_id ORDER BY p.code LIMIT 1""")).one()
        shares = conn.execute(sa.text("""
            SELECT c.land_use_code, c.floor_share_pct FROM land.mixed_use_components c
            JOIN land.parcels p ON p.id = c.parcel_id WHERE p.code = :c
            ORDER BY c.floor_share_pct DESC, c.land_use_code"""), {"c": code}).all()
        other = conn.execute(sa.text("""
            SELECT p.code FROM land.parcels p WHERE NOT EXISTS
            (SELECT 1 FROM land.mixed_use_pilots mp WHERE mp.parcel_id = p.id) ORDER BY p.code LIMIT 1""")).scalar()
    assert shares, "a demo pilot should have its floor-area shares"
    driver = signed_in_browser
    driver.get(f"{live_server}/parcel/{code}?lang=zh")
    badge = _wait(driver, lambda d: d.find_elements(By.ID, "parcel-pilot-badge"))[0]
    assert t("pilot.badge", "zh") in badge.text
    assert driver.find_element(By.ID, "parcel-pilot-ref").text == t("pilot.approval", "zh", ref=ref,
                                                                      on=approved.isoformat())
    shown = driver.find_element(By.ID, "parcel-pilot-shares").text
    for use, share in shares:
        assert f"{use} " in shown and f"{float(share):g}%" in shown

    driver.get(f"{live_server}/parcel/{code}?lang=en")
    badge = _wait(driver, lambda d: d.find_elements(By.ID, "parcel-pilot-badge"))[0]
    assert "Mixed-use pilot" in badge.text and "Floor-area shares:" in badge.text

    driver.get(f"{live_server}/parcel/{other}?lang=zh")
    _wait(driver, lambda d: d.find_elements(By.ID, "parcel-title"))
    assert not driver.find_elements(By.ID, "parcel-pilot-badge")
