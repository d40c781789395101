"""No page shows a raw code of the vocabulary: a bureau administrator visits every page in both
languages and the rendered text (``document.body.innerText``) holds no status, outcome, rule,
stage, category, resource, unit... code that is not a word of the page's language.

In Chinese every code is foreign; in English a code that is an English word ("exempt",
"industrial") may be a legitimate word of a sentence, so there only the codes no English text
would hold are looked for: those with an underscore or a digit, and the change log's actions.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from gisapp.i18n import TEXTS, t
from tests.browser.conftest import WAIT_SECONDS, login

pytestmark = pytest.mark.browser

#: the vocabularies whose codes must never show (the label key's prefix)
VOCABULARIES = ("status", "outcome", "rule", "stage", "category", "resource", "quota_request", "method",
                "exempt_reason", "supply", "grading", "finding", "role", "audit.action", "audit.table", "field",
                "stock_kind", "case_stage", "case_kind", "case_pathway", "case_step", "case_result", "case_outcome",
                "case_document", "case_money", "case_payer", "case_via")
#: units that are codes in Chinese (the pages say 吨/年)
UNIT_CODES = {"t/yr"}
TOKEN = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z]+)?")


def vocabulary_codes() -> set[str]:
    codes = set(UNIT_CODES)
    for key in TEXTS:
        for prefix in VOCABULARIES:
            if key.startswith(prefix + ".") and "." not in key[len(prefix) + 1:]:
                codes.add(key[len(prefix) + 1:])
    return codes


def raw_codes(text: str, lang: str, codes: set[str]) -> set[str]:
    """The codes that ``text`` holds as words (tokens), not counting legitimate words of ``lang``."""
    found = {tok for tok in TOKEN.findall(text) if tok in codes}
    if lang == "en":
        found = {c for c in found if "_" in c or re.search(r"\d", c) or c.isupper()}
    return found


def test_the_scan_finds_raw_codes():
    codes = vocabulary_codes()
    assert raw_codes("规则 assessment_coverage 结论 covered，单位 t/yr", "zh", codes) == {
        "assessment_coverage", "covered", "t/yr"}
    assert raw_codes("parcels UPDATE status: granted_unbuilt → idle; exempt land", "en", codes) == {
        "UPDATE", "granted_unbuilt"}
    assert raw_codes("闲置（已认定） EPSG:4490 WGQ-00001 OpenStreetMap", "zh", codes) == set()


@pytest.fixture(scope="module")
def admin_browser(browser, live_server, make_user):
    user = make_user("bureau_admin")
    browser.delete_all_cookies()
    login(browser, live_server, user.username, user.password)
    yield browser
    browser.delete_all_cookies()  # the session's other tests sign in as their own account


@pytest.fixture(scope="module")
def parcel_codes(engine, findings_source) -> list[str]:
    """Parcels with the most to show: many findings, a grant review, a suspected idle finding."""
    with engine.connect() as conn:
        busy = conn.execute(sa.text(
            "SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'grant_review' AND f.outcome = 'passed' "
            "ORDER BY (SELECT count(*) FROM land.mixed_use_components c WHERE c.parcel_id = p.id) DESC, p.id "
            "LIMIT 1")).scalar()
        idle = conn.execute(sa.text(
            "SELECT p.code FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome = 'idle_stalled' ORDER BY p.id LIMIT 1")).scalar()
    return [busy, idle]


@pytest.fixture(scope="module")
def case_codes(engine) -> list[str]:
    """The demo's cases with the most recorded (steps, money, documents), one of each kind."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT DISTINCT ON (c.kind) c.code FROM land.cases c ORDER BY c.kind, "
            "(SELECT count(*) FROM land.case_steps s WHERE s.case_id = c.id) DESC, c.id")).scalars())


def _text_of(driver, base_url: str, path: str, ready: str) -> str:
    driver.get(base_url + path)
    WebDriverWait(driver, WAIT_SECONDS * 2).until(EC.presence_of_element_located((By.CSS_SELECTOR, ready)))
    # the callbacks that fill the page have answered when the loading markers are gone
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"))
    return driver.execute_script("return document.body.innerText")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_shows_a_raw_code(admin_browser, live_server, parcel_codes, case_codes, lang):
    codes = vocabulary_codes()
    busy, idle = parcel_codes
    pages = [
        (f"/?lang={lang}", "#map-hint"),
        (f"/?lang={lang}&parcel={busy}", "#map-detail-title"),
        (f"/?lang={lang}&parcel={idle}", "#map-detail-title"),
        (f"/dashboard?lang={lang}", "#dash-graph-zone_evaluation .main-svg"),
        (f"/dashboard?lang={lang}&zone=yangshan", "#dash-graph-status_breakdown .main-svg"),
        (f"/parcel/{busy}?lang={lang}", "#parcel-findings tbody tr"),
        (f"/parcel/{idle}?lang={lang}", "#parcel-findings tbody tr"),
        (f"/admin/import?lang={lang}", "#import-form"),
        (f"/revitalization?lang={lang}", "#rev-section-rectification"),
        (f"/cases?lang={lang}&state=all", "#cases-filter"),
        *[(f"/cases/{code}?lang={lang}", "#case-steps") for code in case_codes],
        (f"/cases/new?lang={lang}", "#case-form-new"),
    ]
    shown = {}
    for path, ready in pages:
        text = _text_of(admin_browser, live_server, path, ready)
        assert t("app.title", lang) in text, path
        if "parcel" in path:
            assert t("rule.idle_land", lang) in text, path  # the findings (and their rules) are shown
        found = raw_codes(text, lang, codes)
        if found:
            shown[path] = sorted(found)
    assert shown == {}, f"raw codes on the pages: {shown}"
