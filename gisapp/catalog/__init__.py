"""Layer declarations (``layers/*.yml``): schema, loader, registry."""

from gisapp.catalog.registry import get_layer, layer_ids, load_layers
from gisapp.catalog.schema import Layer

__all__ = ["Layer", "get_layer", "layer_ids", "load_layers"]
