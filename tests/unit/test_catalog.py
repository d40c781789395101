"""Layer declarations: every file valid, ids equal file names, bad declarations named."""

import pytest

from gisapp.catalog.registry import get_layer, load_layers
from gisapp.errors import InputError, NotFoundError
from gisapp.settings import get_settings


def test_every_declared_layer_loads_with_id_equal_to_file_name():
    layers = load_layers(get_settings().layers_dir)
    assert {"zones", "parcels"} <= set(layers)
    for layer_id, layer in layers.items():
        assert layer.id == layer_id
        assert layer.source.startswith("layers.")


def test_unknown_layer_is_not_found():
    with pytest.raises(NotFoundError, match="unknown layer 'nope'"):
        get_layer("nope")


def test_invalid_declaration_names_the_file_and_the_problem(tmp_path):
    (tmp_path / "broken.yml").write_text(
        "id: broken\ntitle: {zh: 坏, en: Broken}\nsource: layers.x\nfields: []\npopup: [code]\n")
    with pytest.raises(InputError, match=r"(?s)broken\.yml.*popup names fields not declared"):
        load_layers(tmp_path)


def test_declaration_id_must_match_file_name(tmp_path):
    (tmp_path / "one.yml").write_text("id: two\ntitle: {zh: 一, en: One}\nsource: layers.x\nfields: []\n")
    with pytest.raises(InputError, match="must equal the file name"):
        load_layers(tmp_path)


def test_source_must_be_a_plain_schema_qualified_name(tmp_path):
    (tmp_path / "evil.yml").write_text(
        'id: evil\ntitle: {zh: 坏, en: Evil}\nsource: "layers.x; DROP TABLE land.parcels"\nfields: []\n')
    with pytest.raises(InputError, match="must be schema.view"):
        load_layers(tmp_path)


def test_labels_must_name_declared_fields(tmp_path):
    (tmp_path / "named.yml").write_text(
        "id: named\ntitle: {zh: 名, en: Named}\nsource: layers.x\nfields: [{name: name_zh, label: {zh: 名, en: N}}]\n"
        "labels: {zh: name_zh, en: name_en}\n")
    with pytest.raises(InputError, match=r"labels name fields not declared in 'fields': \['name_en'\]"):
        load_layers(tmp_path)


def test_a_declaration_without_labels_or_base_keeps_its_old_meaning():
    """labels and base are optional: the layers declared before them draw as they did."""
    from gisapp.queries.features import map_fields
    from gisapp.render.style import hideout

    parcels = get_layer("parcels")
    assert parcels.labels is None and parcels.base is False
    assert map_fields(parcels) == ["id", "status"]
    h = hideout(parcels, "{count}")
    assert h["labelField"] is None and h["base"] is False and h["countLabel"] == "{count}"


def test_the_offline_base_is_drawn_by_default_with_district_labels_in_the_ui_language():
    from gisapp.queries.features import map_fields
    from gisapp.render.style import hideout

    districts, outline = get_layer("districts"), get_layer("base_outline")
    assert districts.visible and districts.base and outline.visible and outline.base
    assert outline.order < districts.order < get_layer("zones").order  # the coast below the districts below zones
    assert hideout(districts, None, "zh")["labelField"] == "name_zh"
    assert hideout(districts, None, "en")["labelField"] == "name_en"
    assert {"name_zh", "name_en"} <= set(map_fields(districts))  # the map's compact fetch carries the names
    assert hideout(get_layer("zones"), None, "en")["labelField"] == "name_en"


def test_a_quota_layer_needs_a_year_field_and_plain_resource_codes(tmp_path):
    head = "id: q\ntitle: {zh: 配额, en: Quota}\nsource: layers.q\n"
    (tmp_path / "q.yml").write_text(head + "fields: [{name: code, label: {zh: 码, en: Code}}]\n"
                                    "quota: {resources: [energy]}\n")
    with pytest.raises(InputError, match="needs a 'year' field"):
        load_layers(tmp_path)
    (tmp_path / "q.yml").write_text(head + "fields: [{name: year, label: {zh: 年, en: Year}}]\n"
                                    "quota: {resources: [\"energy; DROP\"]}\n")
    with pytest.raises(InputError, match="not plain identifiers"):
        load_layers(tmp_path)


def test_the_three_quota_layers_are_read_by_year_and_no_other():
    yearly = {layer.id for layer in load_layers(get_settings().layers_dir).values() if layer.quota}
    assert yearly == {"quota_energy", "quota_pollutants", "quota_land"}
    assert get_layer("quota_land").quota.resources == ["construction_land"]
