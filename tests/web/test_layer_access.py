"""A layer's declared readers (``access.read`` of layers/*.yml) hold on every route that serves
it: a zone editor, whom the map cannot limit to their zones' cases, is not served the open-cases
layer by the features, tiles, TileJSON, styles or OGC routes, and is told no such layer exists."""

from __future__ import annotations

import pytest

from gisapp.catalog.registry import get_layer
from tests.web.conftest import sign_in

pytestmark = pytest.mark.db

SHANGHAI = "120.8,30.6,122.2,31.9"


@pytest.fixture(scope="module")
def editor(app, engine):
    import sqlalchemy as sa

    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account

    with engine.connect() as conn:
        zone = conn.execute(sa.text("SELECT code FROM land.zones ORDER BY id LIMIT 1")).scalar_one()
    try:
        find_account(engine, "layer-access.editor")
    except NotFoundError:
        add_user(engine, "layer-access.editor", "layer-access-password", "zone_editor", (zone,))
    client = app.server.test_client()
    sign_in(client, engine, ("layer-access.editor", "layer-access-password", "zone_editor"))
    return client


ROUTES = [f"/api/layers/cases/features?bbox={SHANGHAI}&zoom=12", "/api/layers/cases/features/1",
          "/tiles/cases/10/857/418.pbf", "/tiles/cases.json", "/styles/cases.json", "/ogc/collections/cases",
          "/ogc/collections/cases/items"]


def test_the_cases_layer_is_declared_for_the_roles_that_see_every_zone():
    assert "zone_editor" not in get_layer("cases").access.read
    assert "bureau_viewer" in get_layer("cases").access.read


@pytest.mark.parametrize("url", ROUTES)
def test_a_zone_editor_is_not_served_a_layer_it_may_not_read(editor, url):
    answer = editor.get(url)
    assert answer.status_code == 404, (url, answer.status_code)
    assert "cases" not in answer.get_data(as_text=True).split("known layers:")[-1]


def test_a_zone_editor_does_not_see_the_layer_listed(editor):
    listed = {layer["id"] for layer in editor.get("/api/layers").get_json()}
    assert "cases" not in listed and "parcels" in listed
    collections = {c["id"] for c in editor.get("/ogc/collections?f=json").get_json()["collections"]}
    assert "cases" not in collections and "parcels" in collections


@pytest.mark.parametrize("url", ROUTES[:1] + ROUTES[3:6])
def test_a_bureau_viewer_is_served_it(viewer, url):
    assert viewer.get(url).status_code == 200, url
