"""The map's detail panel of a parcel (issue #18) in real headless Chromium, in Chinese and
English: a parcel of an approved mixed-use pilot is shown as such, with the badge the parcel page
has (approval reference and date, floor-area shares); another parcel has none."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from gisapp.i18n import t
from tests.browser.test_map_page import open_page, wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pilot(engine) -> dict:
    """A pilot parcel with its approval and shares, and a parcel in no pilot."""
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
    return {"code": code, "ref": ref, "approved": approved, "shares": shares, "other": other}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_pilot_parcel_is_shown_as_a_pilot_in_the_map_panel(signed_in_browser, live_server, pilot, lang):
    driver = signed_in_browser
    open_page(driver, live_server, f"/?lang={lang}&parcel={pilot['code']}")
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), pilot["code"]))
    badge = wait(driver, EC.visibility_of_element_located((By.ID, "map-detail-pilot-badge")))
    assert t("pilot.badge", lang) in badge.text
    assert driver.find_element(By.ID, "map-detail-pilot-ref").text == t(
        "pilot.approval", lang, ref=pilot["ref"], on=pilot["approved"].isoformat())
    shown = driver.find_element(By.ID, "map-detail-pilot-shares").text
    assert shown.startswith(t("pilot.shares", lang, shares="").strip())
    for use, share in pilot["shares"]:
        assert f"{use} " in shown and f"{float(share):g}%" in shown
    # above the attributes, as at the top of the parcel's page
    assert badge.location["y"] < driver.find_element(By.ID, "map-detail-table").location["y"]

    open_page(driver, live_server, f"/?lang={lang}&parcel={pilot['other']}")
    wait(driver, EC.text_to_be_present_in_element((By.ID, "map-detail-title"), pilot["other"]))
    assert not driver.find_elements(By.ID, "map-detail-pilot-badge")
