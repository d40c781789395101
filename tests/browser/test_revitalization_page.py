"""The revitalization page (issue #20) in real headless Chromium, in both languages: the stock by
quarter against the target, cases by stage, overdue steps, unpaid money and the zones' published
national results with their flags, every code shown as its label; a zone editor sees its own
zone's cases only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.demo import DEMO_AS_OF
from gisapp.i18n import label, t
from tests.browser.test_no_raw_codes import raw_codes, vocabulary_codes

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 40


@pytest.fixture(scope="module")
def record(isolated_engine):
    """The isolated demo database assessed, with the demo's snapshot history and targets."""
    from gisapp.demo.revitalization import load_demo_history
    from gisapp.rules.assess import run_assessment

    run_assessment(isolated_engine, DEMO_AS_OF)
    load_demo_history(isolated_engine)
    return isolated_engine


@pytest.fixture(scope="module")
def server(record, isolated_server):
    return isolated_server


def _open(driver, url: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "rev-section-rectification"))
    WebDriverWait(driver, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"))
    return driver.execute_script("return document.body.innerText")


def _rows(driver, table_id: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.text for r in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_the_record_in_the_readers_language(chromium, server, make_user, record, lang):
    from selenium.webdriver.common.by import By

    from tests.browser.conftest import login

    admin = make_user("bureau_admin")
    chromium.delete_all_cookies()
    login(chromium, server, admin.username, admin.password)
    text = _open(chromium, f"{server}/revitalization?lang={lang}&zone=caohejing")
    for key in ("rev.title", "rev.trend", "rev.targets", "rev.cases_by_stage", "rev.overdue", "rev.unpaid",
                "rev.rectification", "rev.target_line"):
        assert t(key, lang) in text, key
    # eight quarters of four kinds, the oldest synthetic and said to be
    assert len(_rows(chromium, "rev-table-trend")) == 8 * 4
    assert chromium.find_element(By.ID, "rev-synthetic").text.count("Q") == 7
    assert chromium.find_elements(By.CSS_SELECTOR, "#rev-graph-trend .main-svg")
    targets = _rows(chromium, "rev-table-targets")
    assert len(targets) == 2 and any("2026" in r for r in targets)
    # caohejing: three years below the eastern average -> rectification and interview
    flags = _rows(chromium, "rev-table-rectification")
    assert len(flags) == 1 and label("rect_flag", "interview", lang) in flags[0]

    text = _open(chromium, f"{server}/revitalization?lang={lang}")
    flags = " ".join(_rows(chromium, "rev-table-rectification"))
    assert label("rect_flag", "exit_due", lang) in flags  # songjiang
    assert label("case_stage", "opened", lang) in " ".join(_rows(chromium, "rev-table-stages"))
    assert _rows(chromium, "rev-table-overdue"), "the demo has overdue steps"
    assert _rows(chromium, "rev-table-unpaid"), "the demo has an unpaid fee"
    # the page's own text (the header holds the test account's name, e.g. t1.bureau-admin)
    page = chromium.find_element(By.CSS_SELECTOR, ".dash-page").text
    found = raw_codes(page, lang, vocabulary_codes() | {"zr_rectification", "zr_exit", "idle_fee"})
    assert found == set(), f"raw codes on the page: {sorted(found)}"


def test_a_zone_editor_sees_its_own_zones_cases_only(chromium, server, make_user, record):
    with record.connect() as conn:
        zone_id, zone = conn.execute(sa.text(
            "SELECT z.id, z.code FROM land.cases c JOIN land.zones z ON z.id = c.zone_id "
            "WHERE c.closed_on IS NULL AND c.parcel_id IS NOT NULL GROUP BY z.id, z.code "
            "ORDER BY count(*) DESC LIMIT 1")).one()
        theirs = set(conn.execute(sa.text("SELECT code FROM land.cases WHERE zone_id <> :z"), {"z": zone_id}).scalars())
        open_mine = conn.execute(sa.text("SELECT count(*) FROM land.cases WHERE zone_id = :z AND closed_on IS NULL"),
                                 {"z": zone_id}).scalar()
    from tests.browser.conftest import login

    editor = make_user("zone_editor", zones=(zone,))
    chromium.delete_all_cookies()
    login(chromium, server, editor.username, editor.password)
    text = _open(chromium, f"{server}/revitalization?lang=zh")
    assert not {c for c in theirs if c in text}, "another zone's case on the page"
    counted = sum(int(row.split()[-1]) for row in _rows(chromium, "rev-table-stages"))
    assert counted == open_mine > 0
