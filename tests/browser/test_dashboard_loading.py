"""How the dashboard loads in real headless Chromium: plotly.js is fetched with the request for the
sections, not after their answer, and exactly once, even when the charts mount before it has run
(gisapp/web/assets/dashboard.js, preload); each chart is drawn once, in margins that already
fit its labels (gisapp/web/chart_margins.py)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from gisapp.queries.dashboard import DATASETS
from tests.browser.conftest import WAIT_SECONDS, login

pytestmark = pytest.mark.browser

#: every chart has drawn its traces and every table its rows (what bench/page_timings.py waits for)
EVERYTHING_DRAWN = """
    const content = document.getElementById('dash-content');
    if (!content || content.querySelectorAll('.dash-section').length < arguments[0]) return false;
    const graphs = content.querySelectorAll('[id^="dash-graph-"]');
    const grids = content.querySelectorAll('[id^="dash-grid-"]');
    return graphs.length > 0 && grids.length > 0
        && [...graphs].every(g => g.querySelector('.main-svg .trace'))
        && [...grids].every(g => g.querySelector('.ag-row'));"""
PLOTLY = "/_dash-component-suites/plotly/package_data/plotly."
CHUNKS = ("/_dash-component-suites/dash/dcc/async-graph", "/_dash-component-suites/dash_ag_grid/async-community")
#: the resources loaded from addresses that contain arguments[0]
REQUESTS_TO = """
    return performance.getEntriesByType('resource').filter(e => e.name.includes(arguments[0]))
        .map(e => ({name: e.name, start: e.startTime, end: e.responseEnd}));"""
#: the slowest Dash callback request (the sections' answer): when it was sent and answered
SECTIONS_REQUEST = """
    const calls = performance.getEntriesByType('resource').filter(e => e.name.includes('/_dash-update-component'));
    const slowest = calls.reduce((a, e) => (!a || e.duration > a.duration ? e : a), null);
    return slowest && {start: slowest.startTime, end: slowest.responseEnd};"""
#: before the page's scripts: the plotly.js script element is held back until the page calls
#: window.__releasePlotly(), as if the network were slow, so that the charts mount before it runs
HOLD_PLOTLY = """
    (function () {
        const append = Node.prototype.appendChild, held = [];
        window.__plotlyScripts = 0;
        window.__releasePlotly = function () { held.splice(0).forEach(([p, n]) => append.call(p, n)); };
        Node.prototype.appendChild = function (node) {
            if (node && node.tagName === 'SCRIPT' && String(node.src).includes('PLOTLY')) {
                window.__plotlyScripts += 1;
                held.push([this, node]);
                return node;
            }
            return append.call(this, node);
        };
    })();""".replace("PLOTLY", PLOTLY)


#: per chart: the margins it was given (plotly.js's "base" push, or the legend's room where wider:
#: the legend is placed before the chart is drawn) and what each axis's automargin asked for on
#: the figure's edges (val 0: left / bottom, val 1: right / top)
AXIS_PUSHES = """
    return [...document.querySelectorAll('[id^="dash-graph-"] .js-plotly-plot')].map(gd => {
        const pushes = gd._fullLayout._pushmargin, asked = {l: 0, r: 0, t: 0, b: 0};
        for (const [key, push] of Object.entries(pushes)) {
            if (!key.endsWith('.automargin')) continue;
            for (const side of ['l', 'r', 't', 'b']) {
                const edge = side === 'l' || side === 'b' ? 0 : 1;
                if (push[side] && push[side].val === edge) asked[side] = Math.max(asked[side], push[side].size);
            }
        }
        const base = {}, given = {};
        for (const side of ['l', 'r', 't', 'b']) {
            const legend = pushes.legend && pushes.legend[side];
            const onEdge = legend && (side === 'l' || side === 'b' ? legend.val <= 0 : legend.val >= 1);
            base[side] = pushes.base[side].size;
            given[side] = Math.max(base[side], onEdge ? legend.size : 0);
        }
        return {id: gd.parentElement.id, base: base, given: given, asked: asked};
    });"""
#: px a margin may be wider than the labels ask for (the estimates are at the wide end of the fonts)
SLACK = 32


def _wait(driver, condition):
    return WebDriverWait(driver, WAIT_SECONDS).until(condition)


def test_plotly_and_the_charts_code_are_fetched_with_the_sections_request(signed_in_browser, live_server):
    driver = signed_in_browser
    driver.get("about:blank")
    driver.get(f"{live_server}/dashboard?zone=all&lang=zh")
    _wait(driver, lambda d: d.execute_script(EVERYTHING_DRAWN, len(DATASETS)))
    plotly = driver.execute_script(REQUESTS_TO, PLOTLY)
    sections = driver.execute_script(SECTIONS_REQUEST)
    assert len(plotly) == 1, plotly
    # asked for before the sections' answer came back (dcc.Graph alone asks only after it)
    assert plotly[0]["start"] < sections["end"], (plotly, sections)
    # at its versioned address, which the browser keeps for a year: not asked for again
    assert PLOTLY + "v" in plotly[0]["name"], plotly
    cache = driver.execute_async_script(
        "fetch(arguments[0]).then(r => arguments[1](r.headers.get('Cache-Control')))", plotly[0]["name"])
    assert "max-age=31536000" in cache
    assert driver.execute_script("return typeof window.Plotly.newPlot") == "function"
    # the code of the graph and the grid (webpack chunks), at their versioned addresses too; once
    # there before the grid and the graph mounted, they were not loaded again from the plain ones
    for chunk in CHUNKS:
        loads = driver.execute_script(REQUESTS_TO, chunk)
        versioned = [e for e in loads if chunk + ".v" in e["name"]]
        assert len(versioned) == 1, loads
        if versioned[0]["end"] < sections["end"]:
            assert len(loads) == 1, loads


@pytest.fixture()
def held_plotly_browser(chromium, live_server, browser_account):
    """The module's own Chromium, signed in, its pages' plotly.js script held back until released."""
    if browser_account is not None:
        login(chromium, live_server, *browser_account)
    script = chromium.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD_PLOTLY})
    yield chromium
    chromium.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def test_charts_mounted_before_plotly_has_run_wait_for_the_one_copy(held_plotly_browser, live_server):
    driver = held_plotly_browser
    driver.get(f"{live_server}/dashboard?zone=all&lang=en")
    # the sections are there (tables drawn) while plotly.js is still held back
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#dash-grid-status_breakdown .ag-row"))
    _wait(driver, lambda d: d.find_elements(By.ID, "dash-graph-status_breakdown"))
    assert not driver.find_elements(By.CSS_SELECTOR, "#dash-graph-status_breakdown .main-svg .trace")
    assert driver.execute_script("return window.__plotlyScripts") == 1  # dcc.Graph added no copy
    driver.execute_script("window.__releasePlotly()")
    _wait(driver, lambda d: d.execute_script(EVERYTHING_DRAWN, len(DATASETS)))
    assert driver.execute_script("return window.__plotlyScripts") == 1
    assert len(driver.execute_script(REQUESTS_TO, PLOTLY)) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("zone", ["all", "yangshan"])
def test_every_chart_is_drawn_in_margins_that_fit_its_labels(signed_in_browser, live_server, lang, zone):
    """No axis asks plotly.js for more room than the chart was given (it would draw the chart a
    second time), and the margins are not much wider than the labels need (the charts look as
    plotly.js would lay them out)."""
    driver = signed_in_browser
    driver.get(f"{live_server}/dashboard?zone={zone}&lang={lang}")
    _wait(driver, lambda d: d.execute_script(EVERYTHING_DRAWN, len(DATASETS)))
    charts = driver.execute_script(AXIS_PUSHES)
    assert charts
    for chart in charts:
        base, given, asked = chart["base"], chart["given"], chart["asked"]
        assert all(round(asked[side]) <= given[side] for side in "lrtb"), chart
        for side in "lb":  # widened for the labels, by not much more than they take
            assert base[side] <= max(asked[side], 40) + SLACK, chart
