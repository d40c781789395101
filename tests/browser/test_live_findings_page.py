"""Live findings in the browser (#19): a zone office records that construction started, and the
parcel page's idle-land finding changes without a reload, pending until the worker is done."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from gisapp.demo import DEMO_AS_OF
from gisapp.i18n import label

pytestmark = [pytest.mark.browser, pytest.mark.db]

WAIT = 45


@pytest.fixture(scope="module")
def worker(isolated_engine):
    """The isolated database assessed once, and `gisapp worker` following it in a thread."""
    from gisapp.db.engine import assessor_engine
    from gisapp.rules.assess import run_assessment
    from gisapp.rules.worker import run_forever

    run_assessment(assessor_engine())
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(assessor_engine(), stop), kwargs={"poll_seconds": 1},
                              daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)


def _sign_out(driver) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_element(By.ID, "app-logout")).click()
    _wait(driver, lambda d: "/login" in d.current_url)


def _wait(driver, condition, timeout: float = WAIT):
    """Until ``condition`` holds; an element redrawn while it was read (the findings follow the
    worker by themselves) is read again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(condition)


def test_a_pending_change_is_shown_as_pending_never_as_current(chromium, isolated_server, isolated_engine,
                                                               make_user, login):
    """While a change to the zone waits for the worker (none runs yet in this module), the page
    says so; when it is done, the page says as of when, by itself."""
    from selenium.webdriver.common.by import By

    with isolated_engine.begin() as conn:
        code, zone_id = conn.execute(sa.text("SELECT code, zone_id FROM land.parcels ORDER BY id LIMIT 1")).one()
        conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (:z, 'test')"),
                     {"z": zone_id})
    viewer = make_user("bureau_viewer")
    login(chromium, viewer.username, viewer.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{code}")
    _wait(chromium, lambda d: "正在重新评估" in d.find_element(By.ID, "parcel-findings-status").text)
    chromium.execute_script("window.__same_page = true")
    with isolated_engine.begin() as conn:  # what the worker does when it is done
        conn.execute(sa.text("DELETE FROM rules.reassess_queue"))
    _wait(chromium, lambda d: "规则发现截至" in d.find_element(By.ID, "parcel-findings-status").text)
    assert chromium.execute_script("return window.__same_page === true")
    _sign_out(chromium)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_recording_a_start_clears_the_idle_finding_without_a_reload(
    chromium, isolated_server, isolated_engine, worker, make_user, login, lang
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with isolated_engine.connect() as conn:
        parcel = conn.execute(sa.text(
            "SELECT p.code, z.code AS zone FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "JOIN land.zones z ON z.id = p.zone_id WHERE f.rule = 'idle_land' AND f.outcome = 'idle_not_started' "
            "ORDER BY p.id OFFSET :o LIMIT 1"), {"o": 0 if lang == "zh" else 1}).one()
    idle = label("outcome", "idle_not_started", lang)
    editor = make_user("zone_editor", [parcel.zone])
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{parcel.code}?lang={lang}")
    _wait(chromium, lambda d: idle in d.find_element(By.ID, "parcel-findings").text)
    assert ("Findings as of" if lang == "en" else "规则发现截至") in chromium.find_element(
        By.ID, "parcel-findings-status").text
    chromium.execute_script("window.__same_page = true")

    started = (DEMO_AS_OF - dt.timedelta(days=20)).isoformat()
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-progress-open")).click()
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-progress-save").is_displayed())
    for field, value in (("reported_on", DEMO_AS_OF.isoformat()), ("started_on", started),
                         ("should_develop_area_m2", "1000"), ("developed_area_m2", "500")):
        box = chromium.find_element(By.ID, f"parcel-progress-{field}")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(value)
    chromium.find_element(By.ID, "parcel-progress-save").click()

    # the worker takes the change; the page follows it by itself
    _wait(chromium, lambda d: idle not in d.find_element(By.ID, "parcel-findings").text)
    _wait(chromium, lambda d: idle not in d.find_element(By.ID, "parcel-findings").text)
    _wait(chromium, lambda d: ("Findings as of" if lang == "en" else "规则发现截至")
          in d.find_element(By.ID, "parcel-findings-status").text)
    assert chromium.execute_script("return window.__same_page === true"), "the page was reloaded"
    with isolated_engine.connect() as conn:
        outcome = conn.execute(sa.text(
            "SELECT f.outcome FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND p.code = :c"), {"c": parcel.code}).scalar_one()
        queued = conn.execute(sa.text("SELECT count(*) FROM rules.reassess_queue")).scalar_one()
    assert outcome != "idle_not_started" and queued == 0
    _sign_out(chromium)


def test_the_map_detail_panel_says_as_of_when(chromium, isolated_server, isolated_engine, make_user, login):
    """The map's parcel panel carries the findings' freshness too (both languages)."""
    from selenium.webdriver.common.by import By

    with isolated_engine.connect() as conn:
        code = conn.execute(sa.text("SELECT code FROM land.parcels ORDER BY id LIMIT 1")).scalar_one()
    viewer = make_user("bureau_viewer")
    login(chromium, viewer.username, viewer.password, base_url=isolated_server)
    for lang, words in (("zh", "规则发现截至"), ("en", "Findings as of")):
        chromium.get(f"{isolated_server}/?parcel={code}&lang={lang}")
        _wait(chromium, lambda d, words=words: words in d.find_element(By.ID, "map-detail-findings-status").text)
    _sign_out(chromium)


def test_the_map_detail_panel_follows_a_pending_change(chromium, isolated_server, isolated_engine, make_user,
                                                        login):
    """A parcel shown on the map while its zone's change waits: the panel says pending, then, when
    the worker is done, as of when, by itself (no click, no reload)."""
    from selenium.webdriver.common.by import By

    with isolated_engine.begin() as conn:
        code, zone_id = conn.execute(sa.text("SELECT code, zone_id FROM land.parcels ORDER BY id OFFSET 5 LIMIT 1")).one()
        job = conn.execute(sa.text("INSERT INTO rules.reassess_queue (zone_id, source) VALUES (:z, 'test') "
                                   "RETURNING id"), {"z": zone_id}).scalar_one()
    # The module's worker thread may still be running (an earlier test started it): holding the
    # job's row lock is what a worker busy with it does, and keeps the others (SKIP LOCKED) off it.
    holder = isolated_engine.connect()
    busy = holder.begin()
    holder.execute(sa.text("SELECT id FROM rules.reassess_queue WHERE id = :j FOR UPDATE"), {"j": job})
    try:
        viewer = make_user("bureau_viewer")
        login(chromium, viewer.username, viewer.password, base_url=isolated_server)
        chromium.get(f"{isolated_server}/?parcel={code}&lang=en")
        _wait(chromium, lambda d: "pending" in d.find_element(By.ID, "map-detail-findings-status").text)
        chromium.execute_script("window.__same_page = true")
        # what the worker does when it is done
        holder.execute(sa.text("DELETE FROM rules.reassess_queue WHERE id = :j"), {"j": job})
        busy.commit()
    finally:
        if busy.is_active:
            busy.rollback()
        holder.close()
    _wait(chromium, lambda d: "Findings as of" in d.find_element(By.ID, "map-detail-findings-status").text)
    assert chromium.execute_script("return window.__same_page === true")
    _sign_out(chromium)
