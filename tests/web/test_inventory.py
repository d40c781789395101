"""The land inventories as parcel lists (issue #18): the lists hold the current findings of the
rule land_inventory, by zone; the Excel and GeoPackage downloads hold the same rows; a zone
editor lists its own zones only."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import sqlalchemy as sa

from gisapp.db.context import Actor
from gisapp.db.engine import get_engine
from gisapp.queries.inventory import KINDS, inventory
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db

ROW = re.compile(r'<tr class="inventory-row" data-code="([^"]+)"')


@pytest.fixture(scope="module")
def expected(engine, findings_source) -> dict[tuple[str, str], set[str]]:
    """The current findings of land_inventory: (outcome, zone code) -> parcel codes."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT f.outcome, z.code, p.code FROM rules.current_findings f JOIN land.zones z ON z.id = f.zone_key "
            "JOIN land.parcels p ON p.id = f.parcel_id WHERE f.rule = 'land_inventory'")).all()
    found: dict[tuple[str, str], set[str]] = {}
    for outcome, zone, code in rows:
        found.setdefault((outcome, zone), set()).add(code)
    return found


def _all(expected, kind: str) -> set[str]:
    return set().union(*(codes for (outcome, _z), codes in expected.items() if outcome == kind))


def _busiest_zone(expected) -> str:
    """A zone with parcels on both lists (the most in all)."""
    zones = {z for (_o, z) in expected}
    both = [z for z in zones if all((k, z) in expected for k in KINDS)]
    assert both, "the demo data should hold both inventories in some zone"
    return max(both, key=lambda z: sum(len(expected[(k, z)]) for k in KINDS))


def _gpkg(data: bytes) -> gpd.GeoDataFrame:
    """A downloaded GeoPackage, read from a file of its own kind (GDAL checks the suffix)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "download.gpkg"
        path.write_bytes(data)
        return gpd.read_file(path)


def _codes(resp) -> list[str]:
    return ROW.findall(resp.get_data(as_text=True))


def test_the_demo_holds_both_inventories(expected):
    assert _all(expected, "approved_unsupplied") and _all(expected, "supplied_unbuilt")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang, words", [("zh", {"approved_unsupplied": "批而未供", "supplied_unbuilt": "供而未用"}),
                                         ("en", {"approved_unsupplied": "Approved, not supplied",
                                                 "supplied_unbuilt": "Supplied, not built"})])
def test_each_list_holds_the_current_findings(viewer, expected, kind, lang, words):
    resp = viewer.get(f"/inventory/{kind}?lang={lang}")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert words[kind] in text and 'id="app-nav-inventory"' in text
    codes = _codes(resp)
    assert len(codes) == len(set(codes)) and set(codes) == _all(expected, kind)
    assert f"{len(codes)} " in re.search(r'id="inventory-summary">([^<]*)<', text).group(1)


def test_the_zone_in_the_url_filters_the_list(viewer, expected):
    zone = _busiest_zone(expected)
    for kind in KINDS:
        assert set(_codes(viewer.get(f"/inventory/{kind}?zone={zone}"))) == expected[(kind, zone)]
    assert viewer.get("/inventory/supplied_unbuilt?zone=no_such_zone&lang=en").status_code == 404


def test_inventory_without_a_kind_goes_to_the_first_list_keeping_the_zone(viewer):
    resp = viewer.get("/inventory?zone=yangshan&lang=en")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/inventory/approved_unsupplied?lang=en&zone=yangshan")
    assert viewer.get("/inventory/not_a_list").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_the_downloads_hold_the_same_rows_as_the_page(viewer, expected, kind):
    zone = _busiest_zone(expected)
    for query, codes in ((f"?zone={zone}", expected[(kind, zone)]), ("", _all(expected, kind))):
        page = set(_codes(viewer.get(f"/inventory/{kind}{query}")))
        assert page == codes

        xlsx = viewer.get(f"/inventory/{kind}.xlsx{query}")
        assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
        sheet = list(book[kind].values)
        header, body = sheet[0], sheet[1:]
        assert {"code", "zone_code", "area_ha", "area_mu", "since", "days", "land_use", "wkt"} <= set(header)
        assert {row[header.index("code")] for row in body} == codes and len(body) == len(codes)
        assert "说明 About" in book.sheetnames

        gpkg = viewer.get(f"/inventory/{kind}.gpkg{query}")
        assert gpkg.status_code == 200
        frame = _gpkg(gpkg.data)
        assert set(frame["code"]) == codes and len(frame) == len(codes)
        assert frame.crs.to_epsg() == 4490 and frame.geometry.notna().all()
        if query:
            assert set(frame["zone_code"]) == {zone}


def test_a_zone_editor_lists_only_its_zone(app, engine, expected, make_user):
    zone = _busiest_zone(expected)
    other = next(z for (_k, z) in expected if z != zone)
    editor = make_user("zone_editor", (zone,))
    client = app.server.test_client()
    sign_in(client, engine, (editor.username, editor.password, "zone_editor"))
    for kind in KINDS:
        assert set(_codes(client.get(f"/inventory/{kind}"))) == expected[(kind, zone)]
        refused = client.get(f"/inventory/{kind}?zone={other}&lang=en")
        assert refused.status_code == 403 and "not one of yours" in refused.get_data(as_text=True)
        assert _codes(refused) == []
        frame = _gpkg(client.get(f"/inventory/{kind}.gpkg").data)
        assert set(frame["zone_code"]) <= {zone} and set(frame["code"]) == expected[(kind, zone)]
        assert len(_gpkg(client.get(f"/inventory/{kind}.gpkg?zone={other}").data)) == 0


def test_the_database_keys_a_zone_editors_list_on_the_verified_context(engine, expected):
    zone = _busiest_zone(expected)
    with engine.connect() as conn:
        zone_id = conn.execute(sa.text("SELECT id FROM land.zones WHERE code = :c"), {"c": zone}).scalar()
    frame = inventory(get_engine(), Actor("ctx.editor", "zone_editor", (zone_id,)), "supplied_unbuilt")
    assert set(frame["zone_code"]) == {zone} and set(frame["code"]) == expected[("supplied_unbuilt", zone)]
    everyone = inventory(get_engine(), Actor("ctx.analyst", "analyst"), "supplied_unbuilt")
    assert set(everyone["code"]) == _all(expected, "supplied_unbuilt")
