"""The evidence column as the COPY sends it: one JSON text per finding, in order."""

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd

from gisapp.rules.findings_store import json_array as _json_array


def test_each_finding_gets_its_own_json_text_in_order():
    hostile = 'x"},{"y":1}\\\n沪〔合成〕\u2028'
    values = pd.Series(
        [
            {"contract_no": hostile, "on": dt.date(2024, 2, 29), "n": np.int64(3), "share": np.float64(1 / 3)},
            None,
            float("nan"),
            '{"already": "json"}',
            {},
            {"price": Decimal("12.30"), "nested": {"ids": [1, 2]}},
        ],
        dtype=object,
    )
    texts = _json_array(values).to_pylist()
    assert len(texts) == 6
    assert json.loads(texts[0]) == {"contract_no": hostile, "on": "2024-02-29", "n": 3, "share": 1 / 3}
    assert texts[1] == texts[2] == "{}"  # the column is NOT NULL: a missing evidence is an empty object
    assert texts[3] == '{"already": "json"}'
    assert texts[4] == "{}"
    assert json.loads(texts[5]) == {"price": "12.30", "nested": {"ids": [1, 2]}}


def test_only_dicts_take_the_fast_path_and_give_the_same_text():
    rows = [{"grant_id": i, "contract_no": f"沪{i}号", "fee_wan": i / 7} for i in range(1000)]
    texts = _json_array(pd.Series(rows, dtype=object)).to_pylist()
    assert [json.loads(t) for t in texts] == rows
    assert _json_array(pd.Series([], dtype=object)).to_pylist() == []


def test_pandas_missing_values_become_empty_objects_not_a_crash():
    texts = _json_array(pd.Series([pd.NA, pd.NaT, np.nan, {"a": 1}], dtype=object)).to_pylist()
    assert texts == ["{}", "{}", "{}", '{"a":1}']


def test_evidence_given_as_text_must_be_json():
    import pytest

    from gisapp.errors import GisappError

    with pytest.raises(GisappError, match="not JSON.*'year: 2025'"):
        _json_array(pd.Series([{"ok": 1}, "year: 2025"], dtype=object))
