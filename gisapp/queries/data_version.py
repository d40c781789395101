"""The data version the vector tiles' ETags are keyed on: a count that every committed write to a
table the layers read moves (gisapp_meta.data_versions, bumped by statement triggers,
sql/security/0935_data_versions.sql), plus the day in Shanghai (views that read today's date
change at midnight without an edit).

Read before the tile itself: a commit in between then gives the new data under the old version,
which costs the client one more full answer later, never a stale 304.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.queries.features import run_read

SHANGHAI = ZoneInfo("Asia/Shanghai")
_VERSION = sa.text("SELECT gisapp_meta.data_version()")


def data_version(engine: Engine) -> str:
    """``"<count>@<YYYY-MM-DD>"``: changes with every committed edit and every day."""
    count = run_read(engine, lambda conn: conn.execute(_VERSION).scalar_one())
    return f"{count}@{dt.datetime.now(SHANGHAI).date().isoformat()}"
