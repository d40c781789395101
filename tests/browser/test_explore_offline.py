"""Notebook maps (gisapp.api.explore) draw without internet: the saved HTML links no script or
stylesheet from the web, and headless Chromium with its network switched off draws every feature
of the layer from the file."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.conftest import own_driver

#: a <script src=...> or <link href=...> that leaves this machine
REMOTE_ASSET = re.compile(r"<(?:script[^>]*\bsrc|link[^>]*\bhref)\s*=\s*[\"']?(?:https?:)?//", re.I)
WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def saved_map(engine, tmp_path_factory):
    from gisapp import api

    path = tmp_path_factory.mktemp("explore") / "zones.html"
    api.explore("zones", lang="en").save(str(path))
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM layers.zones")).scalar_one()
    return path, count


def test_the_saved_map_links_no_remote_script_or_stylesheet(saved_map):
    path, _ = saved_map
    html = path.read_text(encoding="utf-8")
    assert REMOTE_ASSET.search(html) is None, REMOTE_ASSET.search(html).group(0)
    assert "L.map(" in html.replace(" ", "") or "L.map" in html


def test_chromium_offline_draws_every_feature_from_the_file(saved_map):
    from selenium.webdriver.support.ui import WebDriverWait

    path, count = saved_map
    with own_driver() as driver:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                               {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        driver.get(path.as_uri())
        drawn = WebDriverWait(driver, WAIT_SECONDS).until(lambda d: d.execute_script("""
            if (typeof L === 'undefined') return null;
            const layers = Object.keys(window).filter(k => k.startsWith('geo_json_'))
                .map(k => window[k]).filter(v => v && v.getLayers);
            if (!layers.length) return null;
            const features = layers.reduce((n, l) => n + l.getLayers().length, 0);
            // the features are painted on the map's canvas (prefer_canvas): count the inked pixels
            const canvas = document.querySelector('.leaflet-overlay-pane canvas');
            if (!canvas) return null;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
            return inked ? [features, inked] : null;
        """))
        features, inked = drawn
        assert features == count
        assert inked > 1000, "the zones should cover more than a few pixels"
        legend = driver.find_elements("css selector", "#gisapp-legend, .gisapp-legend")
        assert legend, "the legend is on the map"
