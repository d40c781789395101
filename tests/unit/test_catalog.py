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
