"""Loads ``layers/*.yml`` once; an unknown layer id is a NotFoundError (a 404 on the web)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from gisapp.catalog.schema import Layer
from gisapp.errors import InputError, NotFoundError
from gisapp.settings import get_settings


def load_layers(layers_dir: Path) -> dict[str, Layer]:
    """Read and validate every declaration; the file stem must equal the layer id."""
    layers: dict[str, Layer] = {}
    for path in sorted(Path(layers_dir).glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            layer = Layer.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            raise InputError(f"layer declaration {path.name} is invalid: {exc}") from exc
        if layer.id != path.stem:
            raise InputError(f"layer declaration {path.name} has id {layer.id!r}; the id must equal the file name")
        layers[layer.id] = layer
    for layer in layers.values():
        agg = layer.aggregate
        if agg and (agg.into not in layers or agg.target_key not in layers[agg.into].field_names):
            raise InputError(f"layer declaration {layer.id}.yml: aggregate.into {agg.into!r} must name a declared "
                             f"layer with a field {agg.target_key!r}")
    return dict(sorted(layers.items(), key=lambda kv: kv[1].order))


@lru_cache(maxsize=1)
def _registry() -> dict[str, Layer]:
    return load_layers(get_settings().layers_dir)


def layer_ids() -> list[str]:
    return list(_registry())


def get_layer(layer_id: str) -> Layer:
    """The declaration of ``layer_id``.

    Example:
        >>> get_layer("parcels").source
        'layers.parcels'
    """
    try:
        return _registry()[layer_id]
    except KeyError:
        raise NotFoundError(f"unknown layer {layer_id!r}; known layers: {', '.join(_registry())}") from None


def all_layers() -> list[Layer]:
    return list(_registry().values())
