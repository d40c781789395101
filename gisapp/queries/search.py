"""Search the declared layers by their ``search`` fields (parcel code, zone name, enterprise),
answering where each hit is so the map can zoom to it.

Each field is searched on its own (substring, case-insensitive; trigram indexes make this fast
at city scale, migration 0200), exact and prefix matches first.

Example:
    >>> escape_like("50%_a")
    '50\\\\%\\\\_a'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.catalog.registry import all_layers
from gisapp.catalog.schema import Layer
from gisapp.errors import InputError
from gisapp.queries.features import _q, source_sql

MIN_LENGTH = 2
MAX_LENGTH = 60


@dataclass(frozen=True)
class SearchHit:
    layer: str
    id: str
    code: str | None
    field: str
    value: str
    bbox: tuple[float, float, float, float]  # minx, miny, maxx, maxy

    def to_dict(self) -> dict:
        return asdict(self)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clean_query(text: str | None) -> str:
    """The search text, trimmed, or an InputError saying why it cannot be searched."""
    value = (text or "").strip()
    if len(value) < MIN_LENGTH:
        raise InputError(f"search text must have at least {MIN_LENGTH} characters")
    if len(value) > MAX_LENGTH:
        raise InputError(f"search text must have at most {MAX_LENGTH} characters")
    return value


def _field_query(layer: Layer, field: str) -> sa.TextClause:
    geom = _q(layer.geometry)
    code = "CAST(s.code AS text)" if "code" in layer.field_names else "NULL"
    f = f"CAST(s.{_q(field)} AS text)"
    return sa.text(f"""
        SELECT CAST(s.{_q(layer.id_field)} AS text) AS id, {code} AS code, {f} AS value,
               ST_XMin(s.{geom}), ST_YMin(s.{geom}), ST_XMax(s.{geom}), ST_YMax(s.{geom})
        FROM {source_sql(layer)} s
        WHERE s.{_q(field)} ILIKE :pattern
        ORDER BY ({f} ILIKE :exact) DESC, ({f} ILIKE :prefix) DESC, length({f}), {f}
        LIMIT :limit""")


def search(engine: Engine, text: str | None, *, limit: int = 10, layers: list[Layer] | None = None) -> list[SearchHit]:
    """Features whose declared search fields contain ``text``, best matches first.

    Zones come before parcels (layer order), exact matches before prefixes before substrings.
    """
    value = clean_query(text)
    esc = escape_like(value)
    params = {"pattern": f"%{esc}%", "exact": esc, "prefix": f"{esc}%", "limit": limit}
    hits: list[SearchHit] = []
    seen: set[tuple[str, str]] = set()
    with engine.connect() as conn:
        for layer in layers or all_layers():
            for field in layer.search:
                for row in conn.execute(_field_query(layer, field), params):
                    key = (layer.id, row.id)
                    if key in seen:
                        continue
                    seen.add(key)
                    hits.append(SearchHit(layer.id, row.id, row.code, field, row.value,
                                          (row[3], row[4], row[5], row[6])))
    return _rank(hits, value)[:limit]


def _rank(hits: list[SearchHit], text: str) -> list[SearchHit]:
    low = text.lower()
    layer_rank = {layer_id: k for k, layer_id in enumerate(dict.fromkeys(h.layer for h in hits))}

    def score(hit: SearchHit) -> tuple[int, int, int]:
        v = hit.value.lower()
        return (0 if v == low else 1 if v.startswith(low) else 2, layer_rank[hit.layer], len(v))

    return sorted(hits, key=score)
