"""Which declared layers the request's user may read: ``access.read`` of layers/*.yml, enforced on
every route that serves a layer (its features, tiles, TileJSON, styles, OGC API collections, the
printed map). The map reads layers as the app, not as the user, so a layer whose rows row-level
security would limit per zone (the open cases) is declared for the roles that may see every zone,
and this is where that declaration holds. A layer a user may not read is answered as unknown: its
name is not confirmed to exist.

Example:
    >>> [layer.id for layer in readable_layers()]  # doctest: +SKIP
    ['base_outline', 'districts', 'zones', 'parcels', ...]
"""

from __future__ import annotations

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.catalog.schema import Layer
from gisapp.errors import NotFoundError
from gisapp.web.auth import current_actor


def request_role() -> str:
    """The role of the request's user, ``anonymous`` when nobody is signed in."""
    actor = current_actor()
    return actor.role if actor else "anonymous"


def readable_layers() -> list[Layer]:
    """The declared layers the request's user may read, in declaration order."""
    role = request_role()
    return [layer for layer in all_layers() if role in layer.access.read]


def readable_layer(layer_id: str) -> Layer:
    """The declaration of ``layer_id`` if the request's user may read it; NotFoundError naming the
    layers they may read otherwise."""
    known = readable_layers()
    for layer in known:
        if layer.id == layer_id:
            return layer
    raise NotFoundError(f"unknown layer {layer_id[:60]!r}; known layers: {', '.join(layer.id for layer in known)}")


__all__ = ["get_layer", "readable_layer", "readable_layers", "request_role"]
