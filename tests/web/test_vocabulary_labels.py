"""One vocabulary: every code the database allows in a coded column, every rule and every outcome
the rules emit has its Chinese and English label in gisapp.i18n (the UI shows labels, never
raw codes)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gisapp.i18n import TEXTS
from gisapp.rules.registry import all_specs

pytestmark = pytest.mark.db

#: coded columns (their CHECK lists are the codes) and the label prefix each one's codes take
CODED_COLUMNS = {
    ("land", "land_grants", "supply_method"): "supply",
    ("land", "grant_requirements", "review_stage"): "stage",
    ("land", "enterprise_metrics", "grading_category"): "grading",
    ("auth", "users", "role"): "role",
    ("rules", "findings", "review_status"): "finding",
    ("land", "land_use_codes", "category"): "category",
    ("land", "quota_requests", "status"): "quota_request",
}
#: reference tables whose codes the pages show, and the label prefix of each
REFERENCE_TABLES = {"land.parcel_statuses": "status", "land.quota_resources": "resource",
                    "land.performance_methods": "method"}


def _labelled(key: str) -> bool:
    return key in TEXTS and all(TEXTS[key].get(lang, "").strip() for lang in ("zh", "en"))


def _check_codes(conn, schema: str, table: str, column: str) -> set[str]:
    definitions = conn.execute(sa.text(
        "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
        "AND a.attnum = ANY (k.conkey) WHERE k.contype = 'c' AND n.nspname = :s AND c.relname = :t "
        "AND a.attname = :c"), {"s": schema, "t": table, "c": column}).scalars().all()
    return {code for d in definitions for code in re.findall(r"'([a-z_]+)'::text", d)}


def test_every_code_a_coded_column_allows_has_its_label(engine):
    missing = []
    with engine.connect() as conn:
        for (schema, table, column), prefix in CODED_COLUMNS.items():
            codes = _check_codes(conn, schema, table, column)
            assert codes, f"{schema}.{table}.{column}: no CHECK list found"
            missing += [f"{prefix}.{code}" for code in sorted(codes) if not _labelled(f"{prefix}.{code}")]
    assert missing == []


def test_every_rule_and_every_outcome_it_emits_has_its_label(engine, findings_source):
    rules = [spec.name for spec in all_specs()]
    assert [r for r in rules if not _labelled(f"rule.{r}")] == []
    with engine.connect() as conn:
        outcomes = set(conn.execute(sa.text("SELECT DISTINCT outcome FROM rules.findings")).scalars())
    assert len(outcomes) > 10, "the demo's assessment should emit many outcomes"
    assert sorted(o for o in outcomes if not _labelled(f"outcome.{o}")) == []


def test_every_reference_code_has_one_name_the_database_and_the_labels_share(engine):
    """The database's names of statuses, resources and methods are the labels' (one name each)."""
    with engine.connect() as conn:
        for table, prefix in REFERENCE_TABLES.items():
            rows = conn.execute(sa.text(f"SELECT code, name_zh, name_en FROM {table}")).all()
            assert rows, table
            for code, zh, en in rows:
                assert _labelled(f"{prefix}.{code}"), f"{prefix}.{code}"
                assert (TEXTS[f"{prefix}.{code}"]["zh"], TEXTS[f"{prefix}.{code}"]["en"]) == (zh, en), code
        units = conn.execute(sa.text("SELECT DISTINCT unit FROM land.quota_resources UNION "
                                     "SELECT DISTINCT unit FROM land.performance_indicators WHERE unit <> ''")).scalars()
        assert sorted(u for u in units if not _labelled(f"unit.{u}")) == []


def test_the_map_legend_names_each_status_as_the_labels_do():
    from gisapp.catalog.registry import get_layer

    for category in get_layer("parcels").style.categories:
        for lang in ("zh", "en"):
            assert category.label.get(lang) == TEXTS[f"status.{category.value}"][lang], category.value
