"""The OGC API – Features answers validate against the service's OpenAPI document (/ogc/api), which
openapi-core first checks against the OpenAPI 3.0 specification; its response schemas are the
standard's (gisapp.web.ogc.schemas). Error answers validate against the standard's exception schema,
the queryables and feature schemas are valid JSON Schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from gisapp.catalog.registry import all_layers
from gisapp.web.ogc.schemas import SCHEMAS

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.fixture(scope="module")
def api(viewer) -> OpenAPI:
    from openapi_core import Config

    resp = viewer.get("/ogc/api")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.oai.openapi+json"
    document = json.loads(resp.get_data(as_text=True))
    # GeoJSON and JSON Schema are JSON: read them as such (openapi-core knows application/json only)
    kinds = ("application/geo+json", "application/schema+json", "application/vnd.oai.openapi+json",
             "application/vnd.oai.openapi+json;version=3.0")
    # the media type's parameters (version=3.0) come along as keyword arguments
    config = Config(extra_media_type_deserializers=dict.fromkeys(kinds, lambda text, **params: json.loads(text)))
    return OpenAPI.from_dict(document, config=config)  # validates the document itself first


class FullTypeResponse(WerkzeugOpenAPIResponse):
    """The answer with its whole Content-Type (parameters too): the API document's media type is
    ``application/vnd.oai.openapi+json;version=3.0``, as the standard names it."""

    @property
    def content_type(self) -> str:
        return self.response.content_type


def check(api: OpenAPI, client, url: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    request = WerkzeugOpenAPIRequest(resp.request)
    api.validate_request(request)
    api.validate_response(request, FullTypeResponse(resp))


@pytest.mark.parametrize("url", ["/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/api",
                                 "/ogc/?f=html", "/ogc/collections?f=html&lang=en"])
def test_server_resources_validate(api, viewer, url):
    check(api, viewer, url)


def test_every_collection_and_its_items_validate(api, viewer):
    for layer in all_layers():
        base = f"/ogc/collections/{layer.id}"
        check(api, viewer, base)
        check(api, viewer, f"{base}/items?limit=3")
        check(api, viewer, f"{base}/items?limit=2&f=html")
        check(api, viewer, f"{base}/queryables")
        items = json.loads(viewer.get(f"{base}/items?limit=1").get_data(as_text=True))
        check(api, viewer, f"{base}/items/{items['features'][0]['id']}")


@pytest.mark.parametrize("query", [f"crs={EPSG}4549", f"crs={EPSG}4490&bbox=121.5,31.2,121.7,31.4",
                                   f"bbox=31.2,121.5,31.4,121.7&bbox-crs={EPSG}4326&limit=20&offset=5",
                                   "status=idle&limit=5", "datetime=2022-01-01&limit=5"])
def test_items_with_parameters_validate(api, viewer, query):
    check(api, viewer, f"/ogc/collections/parcels/items?{query}")


@pytest.mark.parametrize("url", ["/ogc/collections/nowhere/items", "/ogc/collections/parcels/items?limit=0",
                                 "/ogc/collections/parcels/items/0", "/ogc/nothing"])
def test_errors_validate_against_the_exception_schema(viewer, url):
    resp = viewer.get(url)
    assert resp.status_code in (400, 404)
    jsonschema.validate(json.loads(resp.get_data(as_text=True)), SCHEMAS["exception"])


def test_queryables_and_feature_schemas_are_json_schemas_features_follow(viewer):
    for layer in all_layers():
        queryables = json.loads(viewer.get(f"/ogc/collections/{layer.id}/queryables").get_data(as_text=True))
        jsonschema.Draft202012Validator.check_schema(queryables)
        assert list(queryables["properties"]) == layer.field_names
        schema = json.loads(viewer.get(f"/ogc/collections/{layer.id}/schema").get_data(as_text=True))
        jsonschema.Draft202012Validator.check_schema(schema)
        page = json.loads(viewer.get(f"/ogc/collections/{layer.id}/items?limit=50").get_data(as_text=True))
        for feature in page["features"]:
            # nulls aside (the schema names one type per field, as GDAL reads it), every value has its type
            present = {k: v for k, v in feature["properties"].items() if v is not None}
            jsonschema.validate({**feature, "properties": present}, schema, cls=jsonschema.Draft202012Validator)
            jsonschema.validate(present, queryables, cls=jsonschema.Draft202012Validator)
