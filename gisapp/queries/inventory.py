"""The land inventories as parcel lists: approved but not supplied (批而未供) and supplied but not
built (供而未用), from the current findings of the rule ``land_inventory`` (gisapp.rules.idle_land;
rules.current_findings, never recomputed here).

Each list runs as the request role with the signed-in user's verified context
(:func:`gisapp.db.context.acting_as`), and a zone editor's list holds the zones of that context
only: the database reads the zones from the verified context, not from anything the request
says. Areas are the register's (m² on the ellipsoid), shown in hectares and 亩 (1 ha = 15 亩);
``days`` counts from ``since`` to the assessment's as-of day.

Example:
    >>> frame = inventory(engine, actor, "supplied_unbuilt", zone="yangshan")  # doctest: +SKIP
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.db.context import Actor, acting_as
from gisapp.errors import NotFoundError
from gisapp.units import MU_PER_M2

RULE = "land_inventory"
#: the rule's outcomes that are lists here, in the order the page shows them
KINDS = ("approved_unsupplied", "supplied_unbuilt")
#: the columns of a list and of its exports: column -> (Chinese, English) label
COLUMNS: dict[str, tuple[str, str]] = {
    "code": ("地块编号", "Parcel code"),
    "zone_code": ("园区代码", "Zone code"),
    "zone_name": ("所在园区", "Zone"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "area_mu": ("面积（亩）", "Area (mu)"),
    "since": ("起始日期", "Since"),
    "days": ("持续天数", "Days"),
    "as_of": ("评估基准日", "Assessed as of"),
    "land_use_code": ("用地性质代码", "Land-use code"),
    "land_use": ("用地性质", "Land use"),
}

# A zone editor sees the zones of the verified context only (auth.app_zone_ids()); everyone
# else signed in sees every zone, as on the map.
_VISIBLE = "(auth.app_role() IS DISTINCT FROM 'zone_editor' OR z.id = ANY (auth.app_zone_ids()))"

_LIST_SQL = f"""
    SELECT p.code, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en,
           round((p.area_m2 / 1e4)::numeric, 2)::float8 AS area_ha,
           round((p.area_m2 * {MU_PER_M2})::numeric, 1)::float8 AS area_mu,
           s.since, f.as_of, f.as_of - s.since AS days,
           p.land_use_code, lu.name_zh AS land_use_zh, lu.name_en AS land_use_en{{geom}}
    FROM rules.current_findings f
    JOIN land.zones z ON z.id = f.zone_key
    JOIN land.parcels p ON p.id = f.parcel_id
    LEFT JOIN land.land_use_codes lu ON lu.code = p.land_use_code
    CROSS JOIN LATERAL (SELECT CAST(f.evidence ->> 'since' AS date) AS since) s
    WHERE f.rule = '{RULE}' AND f.outcome = :outcome
      AND (CAST(:zone AS text) IS NULL OR z.code = :zone)
      AND {_VISIBLE}
    ORDER BY z.id, p.code
"""

_ZONES_SQL = f"""
    SELECT z.code, z.name_zh, z.name_en FROM land.zones z
    WHERE {_VISIBLE}
    ORDER BY z.kind = 'benchmark', z.id
"""


def check_kind(kind: str) -> None:
    """NotFoundError for anything but one of :data:`KINDS`."""
    if kind not in KINDS:
        raise NotFoundError(f"unknown inventory {kind[:40]!r}; known: {', '.join(KINDS)}")


def visible_zones(engine: Engine, actor: Actor) -> pd.DataFrame:
    """The zones ``actor`` may list (code, name_zh, name_en): a zone editor's own, else all."""
    with acting_as(engine, actor) as conn:
        return pd.read_sql(sa.text(_ZONES_SQL), conn)


def inventory(engine: Engine, actor: Actor, kind: str, zone: str | None = None, lang: str = "zh",
              geometry: bool = False) -> pd.DataFrame | gpd.GeoDataFrame:
    """The parcels of one inventory (``kind``: one of :data:`KINDS`) that ``actor`` may see, of
    ``zone`` (a zone code) or of all of them; with names in ``lang`` and, with ``geometry``, as a
    GeoDataFrame in EPSG:4490. Columns: :data:`COLUMNS`."""
    check_kind(kind)
    sql = _LIST_SQL.replace("{geom}", ", p.geom" if geometry else "")
    params = {"outcome": kind, "zone": zone}
    with acting_as(engine, actor) as conn:
        if geometry:
            frame = gpd.read_postgis(sa.text(sql), conn, params=params, geom_col="geom", crs=4490)
        else:
            frame = pd.read_sql(sa.text(sql), conn, params=params)
    name = "name_zh" if lang == "zh" else "name_en"
    frame["zone_name"] = frame[f"zone_{name}"]
    frame["land_use"] = frame[f"land_use_{name[5:]}"]
    for col in ("since", "as_of"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    frame["days"] = frame["days"].astype("Int64")
    return frame[list(COLUMNS) + (["geom"] if geometry else [])]
