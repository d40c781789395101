"""Remake the pictures in docs/: the map, the dashboard, a parcel page and the printed map, on the
synthetic demo data, in headless Chromium.

    .venv/bin/python docs/screenshots.py [--db gisapp_screenshot] [--only map,dashboard,parcel,print]

- docs/map.png: the map's default view (all of Shanghai: districts with their names, the zones'
  parcel summaries) with a suspected idle parcel's detail panel open;
- docs/dashboard.png: the dashboard for all zones (key figures and the first charts and tables);
- docs/parcel.png: that parcel's page, with its findings;
- docs/map_print.png: what the map page's "PNG" print link gives for the default view
  (``/map/print.png``, drawn on the server).

Uses a database of its own (created with the demo data and one assessment as of the demo date
when missing; the changes the load queued are then re-assessed, as `gisapp demo`'s worker does), serves the app in this process, signs in through the sign-in form with a
throwaway viewer account it creates. Each picture is checked before it is written (the page it
shows, what is drawn), so a sign-in page or an empty map fails the run instead of replacing a
good picture.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SHOTS = {"map": "map.png", "dashboard": "dashboard.png", "parcel": "parcel.png", "print": "map_print.png"}
USER = ("screenshot.viewer", "screenshot-password", "bureau_viewer")
WAIT_SECONDS = 60
# the parcel a screenshot shows: a suspected idle parcel of Waigaoqiao (findings to show)
PARCEL_SQL = """
    SELECT l.code FROM layers.idle_land l
    WHERE l.zone_code = 'waigaoqiao_ftz' AND l.idle_class <> 'confirmed' ORDER BY l.id LIMIT 1"""


def prepare_database(db: str):
    """The database ``db`` with the demo data, its findings as of the demo date and the account
    the screenshots sign in with (each made only when missing); returns the owner's engine."""
    os.environ["GISAPP_DB_NAME"] = db
    import sqlalchemy as sa

    from gisapp.db.cluster import LocalCluster
    from gisapp.db.engine import assessor_engine, owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo import DEMO_AS_OF
    from gisapp.demo.load import demo_loaded, load_demo
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account
    from gisapp.rules.assess import run_assessment
    from gisapp.rules.worker import run_once
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    cluster = LocalCluster(settings)
    cluster.up()
    cluster.create_database(db)  # when missing
    engine = owner_engine()
    migrate(engine, settings.sql_dir)
    if not demo_loaded(engine):
        load_demo(engine)
    with engine.connect() as conn:
        assessed = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM rules.current_findings)")).scalar()
    if not assessed:
        run_assessment(assessor_engine(), DEMO_AS_OF)
    # what `gisapp demo`'s worker does: re-assess what the load queued, so that the pages show
    # findings as of the assessment, not "re-assessment pending"
    while run_once(assessor_engine()) is not None:
        pass
    name, password, role = USER
    try:
        find_account(engine, name)
    except NotFoundError:
        add_user(engine, name, password, role, display_name="演示用户")
    return engine


def wait(driver, condition, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT_SECONDS).until(condition)
    except TimeoutException:
        raise SystemExit(f"gave up after {WAIT_SECONDS} s waiting for {what} (at {driver.current_url})") from None


def js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def settle(seconds: float = 1.5) -> None:
    """Let the last requests land and the browser paint (tiles, labels, Plotly's transitions)."""
    time.sleep(seconds)


def print_link(driver) -> str | None:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "map-print-png").get_attribute("href") or None


def link_bbox(link: str) -> list[float]:
    from urllib.parse import parse_qs, urlsplit

    return [float(v) for v in parse_qs(urlsplit(link).query)["bbox"][0].split(",")]


def shoot_map(driver, base: str, code: str, out: Path) -> str:
    """The default view with ``code``'s detail panel open; returns the print link of that view."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/")
    wait(driver, lambda d: d.find_elements(By.ID, "map-map"), "the map page")
    drawn = "return window.gisapp && gisapp.drawnCount ? gisapp.drawnCount(arguments[0], arguments[1]) : 0"
    wait(driver, lambda d: js(d, drawn, "parcels", True) >= 5, "the zones' parcel summaries")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".feature-label-districts")) >= 16,
         "the 16 district names")
    link = wait(driver, print_link, "the print link of the default view")
    # open the parcel as ?parcel= does (the page's own callback: panel and highlight; it flies
    # there), then frame the view the page opened with again: the panel stays, the map shows
    # the whole city
    js(driver, "dash_clientside.set_props('map-initial-parcel', {data: arguments[0]})", code)
    wait(driver, lambda d: code in d.find_element(By.ID, "map-detail").text, f"the detail panel of {code}")
    wait(driver, lambda d: d.find_elements(By.ID, "map-detail-findings"), "the parcel's findings in the panel")
    wait(driver, lambda d: print_link(d) != link, "the fly to the parcel")
    settle(2)
    west, south, east, north = link_bbox(link)
    js(driver, "dash_clientside.set_props('map-map', {viewport: {bounds: arguments[0], transition: 'fitBounds'}})",
       [[south, west], [north, east]])
    wait(driver, lambda d: all(abs(a - b) < 1e-4 for a, b in zip(link_bbox(print_link(d)), link_bbox(link))),
         "the default view again")
    wait(driver, lambda d: js(d, drawn, "parcels", True) >= 5
         and len(d.find_elements(By.CSS_SELECTOR, ".feature-label-districts")) >= 16, "the default view drawn")
    settle(2)
    assert code in driver.find_element(By.ID, "map-detail").text
    driver.save_screenshot(str(out))
    return link


def shoot_dashboard(driver, base: str, out: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/dashboard?zone=all")
    wait(driver, lambda d: d.find_elements(By.ID, "dash-kpis"), "the dashboard's key figures")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#dash-graph-approved_vs_used .main-svg .bars")
         and d.find_elements(By.CSS_SELECTOR, "#dash-grid-approved_vs_used .ag-row"),
         "the first chart and table")
    settle(2)
    driver.save_screenshot(str(out))


def shoot_parcel(driver, base: str, code: str, out: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/parcel/{code}")
    wait(driver, lambda d: code in (d.find_elements(By.ID, "parcel-title") or [None])[0].text
         if d.find_elements(By.ID, "parcel-title") else False, "the parcel page")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#parcel-findings li, #parcel-findings tr"),
         "the parcel's findings")
    settle(2)
    driver.save_screenshot(str(out))


def fetch_print(driver, link: str, out: Path) -> None:
    """The print link's PNG, fetched by the browser (its session) from the map page."""
    import base64

    driver.set_script_timeout(180)
    status, kind, body = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async r => {
            const bytes = new Uint8Array(await r.arrayBuffer());
            let text = "";
            for (let i = 0; i < bytes.length; i += 0x8000) {
                text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
            }
            done([r.status, r.headers.get("Content-Type"), btoa(text)]);
        }).catch(e => done([0, String(e), ""]));""", link)
    if status != 200 or kind != "image/png":
        raise SystemExit(f"{link} answered {status} {kind}")
    out.write_bytes(base64.b64decode(body))


def serve():
    """The app on Werkzeug's threaded server in this process; returns (base URL, server)."""
    import logging

    from werkzeug.serving import make_server

    from gisapp.web.app import create_app
    from tests.servers import free_port

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", free_port(), create_app().server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_screenshot")
    parser.add_argument("--only", default=",".join(SHOTS),
                        help=f"comma-separated, of {', '.join(SHOTS)} (print needs map: its link)")
    parser.add_argument("--out", default=str(DOCS), help="directory the PNGs are written to")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SHOTS)
    if unknown:
        parser.error(f"unknown picture(s): {', '.join(sorted(unknown))}")
    if "print" in only and "map" not in only:
        only.insert(0, "map")
    out = Path(args.out)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from tests.browser.conftest import make_driver
    from tests.signin import sign_in

    engine = prepare_database(args.db)
    with engine.connect() as conn:
        code = conn.execute(sa.text(PARCEL_SQL)).scalar_one()
    base, server = serve()
    written = []
    try:
        for name in only:
            if name == "print":
                continue
            height = {"dashboard": 1700, "parcel": 1300}.get(name, 900)
            driver = make_driver(1400, height)
            try:
                sign_in(driver, USER[0], USER[1], base)
                target = out / SHOTS[name]
                if name == "map":
                    link = shoot_map(driver, base, code, target)
                    written.append(target)
                    if "print" in only:
                        fetch_print(driver, link, out / SHOTS["print"])
                        written.append(out / SHOTS["print"])
                elif name == "dashboard":
                    shoot_dashboard(driver, base, target)
                    written.append(target)
                else:
                    shoot_parcel(driver, base, code, target)
                    written.append(target)
            finally:
                driver.quit()
    finally:
        server.shutdown()
    for path in written:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
