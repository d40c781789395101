"""A rule module's findings as rows of ``rules.findings``: typed Arrow columns for the binary
COPY, the parameter sets stored once per distinct content, and the counts a run reports.

Column-wise on purpose: a city-scale run writes ~4M findings, and building them row by row in
Python cost more than the rules themselves (docs/benchmark-runs.md).
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.errors import GisappError
from gisapp.rules import columnar

#: who wrote the findings (``updated_by``) and the audit's actor for making a run current
ACTOR = "gisapp assess"


def count_table(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings and positives per rule and outcome."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "outcome", "findings", "positives"])
    counts = (
        findings.assign(positive=findings["is_positive"].astype(bool))
        .groupby(["rule", "outcome"], sort=False)
        .agg(findings=("positive", "size"), positives=("positive", "sum"))
        .reset_index()
    )
    return counts


def parameter_set_ids(engine: Engine, values: pd.Series) -> np.ndarray:
    """The id of each finding's parameter set, stored once per distinct content.

    Its own short transaction: two worker processes storing the same set must not wait for each
    other's COPY to finish. A dict shared by many rows (the parameters of a zone) is serialized
    once.
    """
    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    objects = values.tolist()
    # rows share a few dict objects (a zone's parameters): find them by identity, in C
    keys = np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    _, first, row_object = np.unique(keys, return_index=True, return_inverse=True)
    object_texts = [o if isinstance(o, str) else orjson.dumps(o or {}, option=opts, default=str).decode()
                    for o in (objects[i] for i in first.tolist())]
    distinct = list(dict.fromkeys(object_texts))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO rules.parameter_sets (digest, parameters) "
                "SELECT md5(CAST(j AS jsonb)::text), CAST(j AS jsonb) FROM unnest(CAST(:t AS text[])) AS j "
                "ON CONFLICT (digest) DO NOTHING"
            ),
            {"t": distinct},
        )
        found = conn.execute(
            sa.text(
                "SELECT s.id FROM unnest(CAST(:t AS text[])) WITH ORDINALITY AS x(j, n) "
                "JOIN rules.parameter_sets s ON s.digest = md5(CAST(x.j AS jsonb)::text) ORDER BY x.n"
            ),
            {"t": distinct},
        ).scalars()
        ids = dict(zip(distinct, found))
    return np.asarray([ids[t] for t in object_texts], dtype="int64")[np.asarray(row_object).ravel()]


def findings_table(run_id: int, found: pd.DataFrame, set_ids: np.ndarray) -> pa.Table | None:
    """The findings as rows of rules.findings (Arrow, typed for the binary COPY), None if none.

    The rows are in the order of the findings index (rule, zone, parcel): each insertion then
    lands next to the previous one in the index, which cost the server ~20% less than the rules'
    own order (docs/benchmark-runs.md).
    """
    if found.empty:
        return None
    n = len(found)
    order = np.lexsort((
        pd.to_numeric(found["parcel_id"], errors="coerce").fillna(-1).to_numpy(dtype="int64"),
        pd.to_numeric(found["zone_id"], errors="coerce").fillna(-1).to_numpy(dtype="int64"),  # zone_key 0 first
        pd.factorize(found["rule"], sort=True)[0],
    ))
    table = found.take(order)
    return pa.table(
        {
            "run_id": pa.array(np.full(n, run_id, dtype="int64")),
            "rule": _arrow_repeated_text(table["rule"]),
            "rule_version": _arrow_repeated_text(table["rule_version"]),
            "as_of": pa.array(pd.to_datetime(table["as_of"]).to_numpy(dtype="datetime64[D]")).cast(pa.date32()),
            "zone_id": _arrow_int(table["zone_id"]).cast(pa.int32()),
            "zone_key": pa.array(zone_keys(table).to_numpy(dtype="int32")),
            "parcel_id": _arrow_int(table["parcel_id"]),
            "subject_type": _arrow_repeated_text(table["subject_type"]),
            "subject_id": _arrow_text(table["subject_id"] if isinstance(table["subject_id"].array, pd.arrays.ArrowExtensionArray)
                                      else table["subject_id"].astype(str)),
            "outcome": _arrow_repeated_text(table["outcome"]),
            "is_positive": pa.array(table["is_positive"].to_numpy(dtype=bool)),
            "parameter_set_id": pa.array(np.asarray(set_ids, dtype="int64")[order]),
            "evidence": json_array(table["evidence"]),
            "explanation_zh": _arrow_text(table["explanation_zh"]),
            "explanation_en": _arrow_text(table["explanation_en"]),
            "updated_by": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                                         pa.array([ACTOR], pa.string())).cast(pa.string()),
        }
    )


def zone_keys(found: pd.DataFrame) -> pd.Series:
    """Each finding's ``zone_key``: its zone, 0 without one (the CHECK of migration 1100)."""
    return pd.to_numeric(found["zone_id"], errors="coerce").fillna(0).astype("int64")


def _arrow_text(values: pd.Series) -> pa.Array:
    if isinstance(values.array, pd.arrays.ArrowExtensionArray):  # built in Arrow (gisapp.rules.columnar)
        return columnar.texts(values.array)
    return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _arrow_repeated_text(values: pd.Series) -> pa.Array:
    """A text column of a few distinct values (rule, outcome, ...): each distinct string encoded
    once, then expanded in Arrow (4x faster than encoding a million Python strings)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    dictionary = pa.array(np.asarray(uniques, dtype=object), pa.string())
    indices = pa.array(codes, pa.int32(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _arrow_int(values: pd.Series) -> pa.Array:
    if values.dtype.kind in "iu":  # no missing values: as it is
        return pa.array(values.to_numpy(dtype="int64"))
    return pa.array(pd.to_numeric(values, errors="coerce").astype("Int64"), type=pa.int64(), from_pandas=True)


def json_array(values: pd.Series) -> pa.Array:
    """The JSON text of each dict (or already-JSON string, checked; or an evidence column's text) as
    an Arrow string array; ``{}`` for a finding without evidence (the column is NOT NULL: a NULL
    would fail the whole COPY)."""
    if isinstance(values.array, columnar.EvidenceArray):  # JSON text already (gisapp.rules.columnar)
        return values.array.json_text().fill_null("{}").cast(pa.large_string())
    try:
        text = columnar.json_texts(values.tolist())
    except ValueError as e:
        raise GisappError(f"a finding's {e}") from None
    return text.fill_null("{}") if text.null_count else text
