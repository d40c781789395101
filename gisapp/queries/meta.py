"""What the database holds (gisapp_meta.dataset), e.g. that it is synthetic demo data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def dataset_info(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT key, value FROM gisapp_meta.dataset")).all())


def is_synthetic(engine: Engine) -> bool:
    return dataset_info(engine).get("synthetic") == "true"
