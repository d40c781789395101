"""Make docs/map.png: the map page on the synthetic demo data, in headless Chromium.

    .venv/bin/python docs/map_screenshot.py [--db gisapp_screenshot] [--out docs/map.png]

Uses a database of its own (created with the demo data and one assessment as of the demo date
when missing), serves the app in this process, signs in with a throwaway viewer account, opens
Waigaoqiao at zoom 15 with the idle-land layer on and a suspected idle parcel's detail open.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_screenshot")
    parser.add_argument("--out", default=str(ROOT / "docs" / "map.png"))
    args = parser.parse_args()
    os.environ["GISAPP_DB_NAME"] = args.db
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from werkzeug.serving import make_server

    from gisapp.db.cluster import LocalCluster
    from gisapp.db.engine import get_engine
    from gisapp.db.migrate import migrate
    from gisapp.demo import DEMO_AS_OF
    from gisapp.demo.load import demo_loaded, load_demo
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account
    from gisapp.rules.assess import run_assessment
    from gisapp.settings import get_settings
    from gisapp.web.app import create_app
    from tests.browser.conftest import free_port, login, make_driver

    settings = get_settings()
    cluster = LocalCluster(settings)
    cluster.up()
    cluster.create_database(args.db)  # when missing
    engine = get_engine()
    migrate(engine, settings.sql_dir)
    if not demo_loaded(engine):
        load_demo(engine)
        run_assessment(engine, DEMO_AS_OF)
    user, password = "screenshot.viewer", "screenshot-password"
    try:
        find_account(engine, user)
    except NotFoundError:
        add_user(engine, user, password, "bureau_viewer", display_name="演示用户")
    with engine.connect() as conn:
        lon, lat = conn.execute(sa.text("""
            SELECT ST_X(ST_PointOnSurface(l.geom)), ST_Y(ST_PointOnSurface(l.geom)) FROM layers.idle_land l
            WHERE l.zone_code = 'waigaoqiao_ftz' AND l.idle_class <> 'confirmed' ORDER BY l.id LIMIT 1""")).one()
    server = make_server("127.0.0.1", free_port(), create_app().server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    driver = make_driver(1400, 900)
    try:
        login(driver, base, user, password)
        driver.get(f"{base}/?lat={lat}&lon={lon}&zoom=15")
        time.sleep(4)
        labels = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
        next(label for label in labels if "闲置" in label.text).click()
        time.sleep(3)
        map_box = driver.find_element(By.ID, "map-map")
        ActionChains(driver).move_to_element(map_box).click().perform()  # the parcel at the centre
        time.sleep(3)
        driver.save_screenshot(args.out)
        print(f"wrote {args.out}")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
