"""Regional assessments that run out soon (issue #18): every zone assessment whose validity ends
within ``days`` of the reading date (today), for the /coverage list."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.errors import InputError

MAX_DAYS = 3650

_EXPIRING_SQL = """
    SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en, a.kind,
           k.name_zh AS kind_zh, k.name_en AS kind_en, a.document_ref, a.valid_from, a.valid_to,
           (a.valid_to - gisapp_meta.as_of())::integer AS days_left, z.is_synthetic
    FROM land.zone_assessments a
    JOIN land.zones z ON z.id = a.zone_id
    JOIN land.assessment_kinds k ON k.code = a.kind
    WHERE a.valid_to >= gisapp_meta.as_of() AND a.valid_to <= gisapp_meta.as_of() + CAST(:days AS integer)
      AND a.valid_from <= gisapp_meta.as_of()
    ORDER BY a.valid_to, z.id, a.kind"""


def parse_days(text: str | None, default: int = 90) -> int:
    """The number of days from the URL: a whole number from 0 to 3650."""
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and int(text) <= MAX_DAYS):
        raise InputError(f"days {text[:10]!r} must be a whole number from 0 to {MAX_DAYS}")
    return int(text)


def expiring_assessments(engine: Engine, days: int) -> pd.DataFrame:
    """The assessments valid today whose validity ends within ``days`` days, soonest first."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text(_EXPIRING_SQL), conn, params={"days": int(days)})
