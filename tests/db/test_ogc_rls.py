"""OGC API – Features reads run as the requesting user: a layer whose rows row-level security
gives per zone answers each user with the rows of their zones, and nobody without a context."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gisapp.catalog.schema import Layer
from gisapp.db.context import Actor
from gisapp.queries.ogc_crs import parse_crs
from gisapp.queries.ogc_items import ItemsRequest, items_page, one_item

PROBE = Layer.model_validate({
    "id": "ogc_rls_probe", "title": {"zh": "行级安全探针", "en": "RLS probe"}, "source": "ogc_rls_probe.things_layer",
    "fields": [{"name": "zone_id", "label": {"zh": "园区", "en": "Zone"}}],
})


@pytest.fixture(scope="module")
def probe(engine):
    """A layer of six squares in zones 1, 1, 1, 2, 2, 3 whose rows a zone editor reads for its
    zones only (the policy of the casework tables), through a security-invoker view."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            DROP SCHEMA IF EXISTS ogc_rls_probe CASCADE;
            CREATE SCHEMA ogc_rls_probe;
            CREATE TABLE ogc_rls_probe.things (id integer PRIMARY KEY, zone_id integer NOT NULL,
                                               geom geometry(MultiPolygon, 4490) NOT NULL);
            INSERT INTO ogc_rls_probe.things
            SELECT i, z, ST_Multi(ST_MakeEnvelope(121.5 + i * 0.01, 31.2, 121.505 + i * 0.01, 31.205, 4490))
            FROM unnest(ARRAY[1, 2, 3, 4, 5, 6], ARRAY[1, 1, 1, 2, 2, 3]) AS t(i, z);
            ALTER TABLE ogc_rls_probe.things ENABLE ROW LEVEL SECURITY;
            CREATE POLICY zone_read ON ogc_rls_probe.things FOR SELECT USING (
                auth.signed_in() AND (auth.app_role() <> 'zone_editor' OR zone_id = ANY (auth.app_zone_ids())));
            CREATE VIEW ogc_rls_probe.things_layer WITH (security_invoker = true) AS
                SELECT id, zone_id, geom FROM ogc_rls_probe.things;
            GRANT USAGE ON SCHEMA ogc_rls_probe TO gisapp_web, gisapp_app;
            GRANT SELECT ON ogc_rls_probe.things, ogc_rls_probe.things_layer TO gisapp_web, gisapp_app;
        """))
    yield PROBE
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA ogc_rls_probe CASCADE"))


def zones_read(actor: Actor) -> list[int]:
    from gisapp.db.engine import get_engine

    page = items_page(get_engine(), actor, PROBE, ItemsRequest(crs=parse_crs(None), limit=100))
    features = json.loads(f"[{page.features}]")
    assert page.matched == page.returned == len(features)
    return sorted(f["properties"]["zone_id"] for f in features)


def test_each_user_reads_what_row_level_security_gives_them(probe):
    assert zones_read(Actor("ogc.viewer", "bureau_viewer")) == [1, 1, 1, 2, 2, 3]
    assert zones_read(Actor("ogc.editor1", "zone_editor", (1,))) == [1, 1, 1]
    assert zones_read(Actor("ogc.editor23", "zone_editor", (2, 3))) == [2, 2, 3]


def test_a_single_item_outside_the_users_zones_is_not_found(probe):
    from gisapp.db.engine import get_engine

    editor = Actor("ogc.editor1", "zone_editor", (1,))
    assert one_item(get_engine(), editor, PROBE, "1", parse_crs(None)) is not None
    assert one_item(get_engine(), editor, PROBE, "6", parse_crs(None)) is None


def test_the_app_login_without_a_users_context_reads_nothing(probe):
    from gisapp.db.engine import get_engine

    with get_engine().connect() as conn:  # the login role, as a read that skipped acting_as would run
        assert conn.execute(sa.text("SELECT count(*) FROM ogc_rls_probe.things_layer")).scalar_one() == 0
