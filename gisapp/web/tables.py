"""Dashboard tables for people: columns in the UI language, codes replaced by their labels.

The same frame feeds the on-screen grid and the CSV / Excel exports, so what is exported is
what is shown.

Example:
    >>> import pandas as pd
    >>> localized_frame("per_mu", pd.DataFrame({"outcome": ["class_d"], "parcels": [3]}), "en").columns.tolist()
    ['Outcome', 'Parcels']
"""

from __future__ import annotations

import pandas as pd

from gisapp.i18n import LANGUAGES, TEXTS, t

# code columns shown through a translation prefix (outcome "class_d" -> t("outcome.class_d"))
CODE_LABELS = {"outcome": "outcome", "rule": "rule", "stage": "stage"}


def _label(prefix: str, value: object, lang: str) -> object:
    key = f"{prefix}.{value}"
    return t(key, lang) if key in TEXTS else value


def localized_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Keep one language of paired ``*_zh`` / ``*_en`` columns (named without the suffix, taking the
    place of a same-named code column) and translate the code columns; names stay internal."""
    out = frame.copy()
    for col in list(out.columns):
        for suffix_lang in LANGUAGES:
            suffix = f"_{suffix_lang}"
            if not col.endswith(suffix):
                continue
            if suffix_lang != lang:
                out = out.drop(columns=col)
            else:
                base = col[: -len(suffix)]
                if base in out.columns:
                    out = out.drop(columns=base)
                out = out.rename(columns={col: base})
    for col, prefix in CODE_LABELS.items():
        if col in out.columns:
            out[col] = out[col].map(lambda v, p=prefix: _label(p, v, lang) if v is not None else v)
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map(lambda v: t("common.yes" if v else "common.no", lang))
    return out


def header(column: str, lang: str) -> str:
    key = f"col.{column}"
    return t(key, lang) if key in TEXTS else column


def localized_frame(name: str, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` (dashboard dataset ``name``) with translated values and column headers."""
    out = localized_columns(frame, lang)
    return out.rename(columns={c: header(c, lang) for c in out.columns})
