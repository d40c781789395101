"""Rules of the data that stored rows still break (``gisapp db check``).

A CHECK added by a migration to a table whose old rows break it is enforced for every change at
once but left NOT VALID over the old rows (gisapp_meta.validate_or_warn): this lists such rules
with the count of rows to correct, so that they are not forgotten.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_UNVALIDATED = sa.text("""
    SELECT n.nspname AS schema_name, c.relname AS table_name, k.conname, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'c' AND NOT k.convalidated AND n.nspname IN ('land', 'rules', 'audit', 'auth')
    ORDER BY 1, 2, 3""")


def broken_rules(engine: Engine) -> list[str]:
    """One sentence per rule that stored rows break (empty when every rule holds for every row)."""
    problems = []
    with engine.connect() as conn:
        for row in conn.execute(_UNVALIDATED).mappings():
            condition = row["definition"].removeprefix("CHECK ").removesuffix(" NOT VALID")
            # identifiers and the condition come from the catalogue
            n = conn.execute(sa.text(f'SELECT count(*) FROM "{row["schema_name"]}"."{row["table_name"]}" '
                                     f"WHERE NOT {condition}")).scalar()
            if n:
                problems.append(f"{n} row(s) of {row['schema_name']}.{row['table_name']} break the rule "
                                f"{row['conname']} {condition}: correct them (new changes already obey it)")
    return problems
