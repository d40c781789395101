"""Findings for the map and dashboard tests: the real assessment, run once per database.

The rules live in gisapp.rules only; tests never write findings of their own, so the map's
layers show exactly what ``gisapp assess`` decides.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from gisapp.demo import DEMO_AS_OF

_DONE: set[str] = set()


def ensure_findings(engine: Engine) -> str:
    """Run ``run_assessment`` as of the demo date once per database and test process."""
    from gisapp.rules.assess import run_assessment

    key = engine.url.render_as_string(hide_password=True)
    if key not in _DONE:
        run_assessment(engine, DEMO_AS_OF)
        _DONE.add(key)
    return "rules"
