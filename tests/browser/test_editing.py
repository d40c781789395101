"""What a zone office does, in real headless Chromium against the running app: sign in, change a
parcel's status on its page, see it in the history and on the map; another zone's editor finds
no edit tools; bad values get a message at the field; HTML typed into a reason stays text."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.catalog.registry import get_layer

pytestmark = [pytest.mark.browser, pytest.mark.db]


WAIT = 30
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
LOW_EFFICIENCY_COLOR = next(
    c.color for c in get_layer("parcels").style.categories if c.value == "low_efficiency"
)
# the fill colours of the parcels the map drew around its centre (on its canvas: gisapp.shown)
PARCEL_FILLS_AT_CENTRE = """
    const box = document.getElementById('map-map').getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    return (window.gisapp && gisapp.shown ? gisapp.shown('parcels') : []).filter(p =>
        !p.aggregate && p.left <= x && x <= p.right && p.top <= y && y <= p.bottom).map(p => p.fill);"""


@pytest.fixture(scope="module")
def parcel(isolated_engine) -> dict:
    with isolated_engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT p.id, p.code, p.version FROM land.parcels p JOIN land.zones z ON z.id = "
                    "p.zone_id "
                    "WHERE z.code = 'waigaoqiao_ftz' AND p.status = 'in_production' ORDER BY p.id DESC "
                    "LIMIT 1"
                )
            )
            .mappings()
            .one()
        )


def _wait(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _by_id(driver, element_id: str):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.ID, element_id))


def _sign_out(driver) -> None:
    from selenium.webdriver.common.by import By

    _by_id(driver, "app-logout").click()
    _wait(driver, lambda d: "/login" in d.current_url)
    assert d_find(driver, By.ID, "login-form")


def d_find(driver, by, value):
    return driver.find_elements(by, value)


def test_zone_editor_changes_a_status_and_sees_it_in_the_history_and_on_the_map(
    chromium, isolated_server, isolated_engine, make_user, login, parcel
):
    from selenium.webdriver.common.by import By

    editor = make_user("zone_editor", ["waigaoqiao_ftz"])
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{parcel['code']}")
    assert _by_id(chromium, "parcel-status-value").text == "已投产"
    _by_id(chromium, "parcel-status-save")
    chromium.find_element(By.CSS_SELECTOR, '#parcel-status-to_status input[value="low_efficiency"]').click()
    chromium.find_element(By.ID, "parcel-status-reason").send_keys(XSS)
    chromium.find_element(By.ID, "parcel-status-note").send_keys("亩均评价 D 类")
    chromium.find_element(By.ID, "parcel-status-save").click()

    _wait(chromium, lambda d: "已保存" in d.find_element(By.ID, "parcel-flash-msg").text)
    assert chromium.find_element(By.ID, "parcel-status-value").text == "低效（已认定）"
    newest = chromium.find_element(By.CSS_SELECTOR, "#parcel-history tbody tr").text
    assert "低效（已认定）" in newest and "已投产" in newest and editor.username in newest
    # the reason typed as HTML is shown as that text and nothing in it ran
    assert XSS in newest
    assert chromium.execute_script("return window.__xss === undefined")
    assert not chromium.find_elements(By.CSS_SELECTOR, "#parcel-history img, #parcel-history script")
    # the page's own map draws the parcel in the new status's colour
    _wait(chromium, lambda d: d.find_elements(By.CSS_SELECTOR, "#parcel-map path.leaflet-interactive"))
    assert (
        chromium.find_element(By.CSS_SELECTOR, "#parcel-map path.leaflet-interactive").get_attribute("fill")
        == LOW_EFFICIENCY_COLOR
    )

    # the map page shows the new status: in the detail panel and in the colour of the drawn parcel
    chromium.get(f"{isolated_server}/?parcel={parcel['code']}")
    _wait(chromium, lambda d: "低效（已认定）" in d.find_element(By.ID, "map-detail").text)
    # (the parcels drawn under the centre the map flew to; another layer may lie on top)
    _wait(chromium, lambda d: LOW_EFFICIENCY_COLOR in d.execute_script(PARCEL_FILLS_AT_CENTRE))

    with isolated_engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, version, updated_by FROM land.parcels WHERE id = :i"), {"i": parcel["id"]}
        ).one()
    assert tuple(row) == ("low_efficiency", parcel["version"] + 1, editor.username)
    _sign_out(chromium)


def test_another_zones_editor_finds_no_edit_tools(chromium, isolated_server, make_user, login, parcel):
    from selenium.webdriver.common.by import By

    other = make_user("zone_editor", ["waigaoqiao_port"])
    login(chromium, other.username, other.password, base_url=isolated_server)
    chromium.get(f"{isolated_server}/parcel/{parcel['code']}")
    _by_id(chromium, "parcel-status-value")
    assert _by_id(chromium, "parcel-read-only").is_displayed()
    assert chromium.find_elements(By.CSS_SELECTOR, ".edit-form, button.save, #parcel-status-save") == []
    assert chromium.find_elements(By.ID, "parcel-history")  # reading is fine
    # ... while a parcel of their own zone offers them
    with_own = _own_parcel_code("waigaoqiao_port")
    chromium.get(f"{isolated_server}/parcel/{with_own}")
    _by_id(chromium, "parcel-status-save")
    _sign_out(chromium)


def _own_parcel_code(zone: str) -> str:
    from gisapp.db.engine import get_engine

    with get_engine().connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT p.code FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
                "WHERE z.code = :z ORDER BY p.id LIMIT 1"
            ),
            {"z": zone},
        ).scalar()


def test_bad_values_get_a_message_at_the_field_and_nothing_is_written(
    chromium, isolated_server, isolated_engine, make_user, login
):
    from selenium.webdriver.common.by import By

    editor = make_user("zone_editor", ["jiading"])
    code = _own_parcel_code("jiading")
    login(chromium, editor.username, editor.password, base_url=isolated_server)
    with isolated_engine.connect() as conn:
        before = conn.execute(sa.text("SELECT max(id) FROM audit.change_log")).scalar()
    chromium.get(f"{isolated_server}/parcel/{code}")
    for form in ("green-areas", "mixed-use", "progress"):
        _by_id(chromium, f"parcel-{form}-open").click()
    _by_id(chromium, "parcel-green-areas-save")
    chromium.find_element(By.ID, "parcel-green-areas-green_area_m2").send_keys("-12")
    chromium.find_element(By.ID, "parcel-green-areas-save").click()
    _wait(chromium, lambda d: d.find_element(By.ID, "parcel-green-areas-green_area_m2-error").text == "不能为负数")

    area = chromium.find_element(By.ID, "parcel-mixed-use-components")
    area.clear()
    area.send_keys("100101 60\n0802 30")
    chromium.find_element(By.ID, "parcel-mixed-use-save").click()
    _wait(chromium, lambda d: "合计为 90%" in d.find_element(By.ID, "parcel-mixed-use-components-error").text)

    start = chromium.find_element(By.ID, "parcel-progress-started_on")
    start.send_keys("2026-05-01")
    chromium.find_element(By.ID, "parcel-progress-completed_on").send_keys("2026-04-01")
    chromium.find_element(By.ID, "parcel-progress-save").click()
    _wait(chromium, lambda d: "不能早于" in d.find_element(By.ID, "parcel-progress-completed_on-error").text)
    with isolated_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(id) FROM audit.change_log")).scalar() == before

    # a correct value then saves
    field = chromium.find_element(By.ID, "parcel-green-areas-green_area_m2")
    field.send_keys("\b\b\b120")
    chromium.find_element(By.ID, "parcel-green-areas-save").click()
    _wait(chromium, lambda d: "已保存" in d.find_element(By.ID, "parcel-flash-msg").text)
    assert dt.date.today().isoformat() in chromium.find_element(By.ID, "parcel-green").text
    _sign_out(chromium)
