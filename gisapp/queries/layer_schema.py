"""The SQL types of a layer's fields, read from its source view (the one place they are defined),
and what they become in a vector tile and in a TileJSON document.

``ST_AsMVT`` writes a ``numeric`` column as a string ("1234.50"): the tile query casts such
columns to ``float8`` (:func:`numeric_fields`), so clients read numbers as numbers.

Example:
    >>> mvt_type("numeric"), mvt_type("boolean"), mvt_type("date")
    ('Number', 'Boolean', 'String')
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.schema import Layer
from gisapp.queries.features import source_sql

NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", "real", "double precision", "numeric"})
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})

_lock = threading.Lock()
_kept: dict[tuple[str, str], dict[str, str]] = {}


def _base(sql_type: str) -> str:
    return sql_type.split("(", 1)[0].strip()


def mvt_type(sql_type: str) -> str:
    """The TileJSON ``vector_layers`` field type of a column of ``sql_type``."""
    base = _base(sql_type)
    if base in NUMBER_TYPES:
        return "Number"
    if base == "boolean":
        return "Boolean"
    return "String"


def column_types(engine: Engine, layer: Layer) -> dict[str, str]:
    """``{column: SQL type}`` of the layer's source view, read once per database and source."""
    key = (engine.url.render_as_string(hide_password=True), layer.source)
    kept = _kept.get(key)
    if kept is not None:
        return kept
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = CAST(:rel AS regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"),
            {"rel": source_sql(layer)}).all()
    types = {name: sql_type for name, sql_type in rows}
    with _lock:
        _kept[key] = types
    return types


def numeric_fields(engine: Engine, layer: Layer) -> frozenset[str]:
    """The layer's fields of type ``numeric``: cast to float8 in tiles."""
    types = column_types(engine, layer)
    return frozenset(f for f in layer.field_names if _base(types.get(f, "")) == "numeric")


def id_is_integer(engine: Engine, layer: Layer) -> bool:
    """Whether the layer's id can be a vector tile feature id (an integer column)."""
    return _base(column_types(engine, layer).get(layer.id_field, "")) in INTEGER_TYPES


def field_types(engine: Engine, layer: Layer) -> dict[str, str]:
    """``{field: "Number" | "String" | "Boolean"}`` of what a detail tile of ``layer`` carries:
    its id and its declared fields, in the declaration's order."""
    types = column_types(engine, layer)
    names = dict.fromkeys([layer.id_field, *layer.field_names])
    return {name: mvt_type(types.get(name, "text")) for name in names}
