"""docs/gis_clients.md: every URL of its table answers a client with Basic credentials as it says
(issue #21: the docs are checked by the tests)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "gis_clients.md"
HOST = "http://127.0.0.1:8050"


def table_urls() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## The URLs"):text.index("## QGIS")]
    return re.findall(r"`" + re.escape(HOST) + r"(/[^`]*)`", table)


def test_the_doc_lists_the_client_urls():
    urls = table_urls()
    assert {"/tiles/parcels.json", "/styles/map.json", "/styles/parcels.qml"} <= set(urls)


@pytest.mark.parametrize("path", table_urls())
def test_every_url_of_the_doc_answers(app, make_user, path):
    user = make_user("analyst")
    client = app.server.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(f"{user.username}:{user.password}".encode()).decode()}
    if "{z}" in path:  # the tile template: a tile of the layer's summary zoom
        path = path.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
    answer = client.get(path, headers=auth)
    assert answer.status_code in (200, 204), (path, answer.status_code)
    assert client.get(path).status_code == 401
