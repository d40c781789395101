"""Column-wise explanation text and evidence JSON (gisapp.rules.columnar) against the per-row way.

Every text helper must give exactly the characters of a per-row f-string / ``str.format`` /
``orjson.dumps``; those per-row computations are the references here. The evidence column
(:class:`EvidenceArray`) must behave as a pandas column of dicts while keeping its JSON text.
"""

import datetime as dt
import json
import math

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gisapp.rules.columnar import (
    EvidenceArray,
    EvidenceDtype,
    choose,
    dates,
    each_distinct,
    fixed,
    id_texts,
    j_bool,
    j_const,
    j_date,
    j_float,
    j_int,
    j_lookup,
    j_str,
    json_objects,
    json_texts,
    percents,
    replace_rows,
    same_column_types,
    sentence,
    text_column,
)

NAN = float("nan")
EXAMPLES = settings(max_examples=200, deadline=None)
JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

# values on (or next to) a rounding tie, where the float's exact decimal decides
TIES = [0.125, 2.5, 0.05, 1.005, 0.5, 1.5, -2.5, 0.285, 0.045, 1.115, 2.675, 214748.36475, -0.0]
HAND = TIES + [0.0, -0.01, 1 / 3, 2 / 3, 999.9999, 0.1585, 1e12, -1e12, 2**31 / 10, 2.0**31, NAN]
HOSTILE = ['a "quoted" word', "back\\slash", "".join(chr(i) for i in range(32)), "line\nbreak\ttab",
           "沪〔合成〕绿地率", "\x7f\u2028\u2029", "", 'x"},{"y":1}\\', None]

numbers = st.one_of(st.floats(-1e12, 1e12), st.sampled_from(TIES), st.just(NAN))
finite_below_1e14 = st.floats(-1e14, 1e14, exclude_min=True, exclude_max=True)
digits = st.integers(0, 4)


def py_fixed(values, n, missing="—"):
    return [missing if v != v else f"{v:.{n}f}" for v in values]


def py_json(values):
    return [orjson.dumps(v).decode() for v in values]


def py_round(v, n):
    return None if math.isnan(v) else float(np.round(v, n))


# --- numbers as people read them ----------------------------------------------------------------

@EXAMPLES
@given(st.lists(numbers, max_size=30), digits)
def test_fixed_equals_the_f_string(values, n):
    assert fixed(values, n).to_pylist() == py_fixed(values, n)


@pytest.mark.parametrize("n", range(5))
def test_fixed_equals_the_f_string_on_ties_and_edges(n):
    assert fixed(HAND, n).to_pylist() == py_fixed(HAND, n)


def test_fixed_writes_the_given_missing_text_for_nan():
    assert fixed([NAN, 1.25], 1, missing="n/a").to_pylist() == py_fixed([NAN, 1.25], 1, missing="n/a")


@EXAMPLES
@given(st.lists(numbers, max_size=30), digits)
def test_percents_equals_the_f_string(values, n):
    expected = ["—" if v != v else f"{v * 100:.{n}f}%" for v in values]
    assert percents(values, n).to_pylist() == expected


# --- JSON literals -------------------------------------------------------------------------------

@EXAMPLES
@given(st.lists(st.one_of(finite_below_1e14, st.sampled_from(TIES), st.just(NAN)), max_size=30), digits)
def test_j_float_equals_orjson_of_the_rounded_value(values, n):
    assert j_float(values, n).to_pylist() == py_json([py_round(v, n) for v in values])


@pytest.mark.parametrize("v", [1e14, -1e14, 5e14, 123456789012345.0, 999999999999999.9, 1e15, 1.5e15,
                               -2e16, 1.2345e20, 1e300])
def test_j_float_of_huge_values_reads_back_as_the_rounded_value(v):
    for n in range(5):
        assert json.loads(j_float([v], n)[0].as_py()) == np.round(v, n)


def test_j_float_without_rounding_writes_small_values_as_orjson_does():
    values = [1e-4, 1e-5, 1e-6, 1.25e-6, 1e-7, 3e-9]
    assert j_float(values, None).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30))
def test_j_int_of_an_int_array_equals_orjson(values):
    assert j_int(np.array(values, dtype="int64")).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.one_of(st.integers(-(2**53), 2**53), st.none()), max_size=30))
def test_j_int_of_floats_with_nan_writes_null_for_missing(values):
    floats = np.array([NAN if v is None else v for v in values], dtype="float64")
    assert j_int(floats).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()), max_size=30))
def test_j_int_of_a_nullable_series_writes_null_for_missing(values):
    assert j_int(pd.Series(values, dtype="Int64")).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.booleans(), max_size=30))
def test_j_bool_equals_orjson(values):
    assert j_bool(np.array(values, dtype=bool)).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.one_of(st.dates(), st.none()), max_size=30))
def test_j_date_of_day_values_with_nat_equals_orjson_of_the_date(values):
    days = np.array([np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in values],
                    dtype="datetime64[D]")
    assert j_date(days).to_pylist() == py_json(values)


@EXAMPLES
@given(st.lists(st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)), max_size=30))
def test_j_date_of_timestamps_writes_their_day(values):
    stamps = np.array(values, dtype="datetime64[ns]")
    assert j_date(stamps).to_pylist() == py_json([d.date() for d in values])


def test_j_date_of_a_series_with_nat_equals_orjson_of_the_date():
    values = [dt.date(2024, 2, 29), None, dt.date(1969, 12, 31)]
    series = pd.Series(pd.to_datetime([pd.NaT if d is None else d for d in values]))
    assert j_date(series).to_pylist() == py_json(values)


def test_j_str_of_hostile_strings_equals_orjson():
    assert j_str(HOSTILE).to_pylist() == py_json(HOSTILE)


@EXAMPLES
@given(st.lists(st.one_of(st.text(), st.none()), max_size=30))
def test_j_str_equals_orjson(values):
    assert j_str(values).to_pylist() == py_json(values)


# --- JSON objects --------------------------------------------------------------------------------

rows_strategy = st.lists(
    st.tuples(st.integers(-(2**53), 2**53), st.one_of(st.floats(-1e6, 1e6), st.just(NAN)), st.booleans(),
              st.one_of(st.text(), st.none()), st.one_of(st.dates(), st.none())),
    min_size=1, max_size=20)


@EXAMPLES
@given(rows_strategy)
def test_json_objects_equals_orjson_of_each_rows_dict_in_key_order(rows):
    ids, ratios, flags, notes, days = (list(c) for c in zip(*rows))
    day_values = np.array([np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in days],
                          dtype="datetime64[D]")
    got = json_objects({"id": j_int(np.array(ids)), 'ratio "r"': j_float(ratios, 4), "ok": j_bool(flags),
                        "说明": j_str(notes), "on": j_date(day_values)})
    expected = [{"id": i, 'ratio "r"': py_round(r, 4), "ok": f, "说明": s, "on": d} for i, r, f, s, d in rows]
    assert got.to_pylist() == py_json(expected)


def test_json_objects_nest():
    inner = json_objects({"k": j_int(np.array([1, 2]))})
    got = json_objects({"outer": inner, "n": j_bool([True, False])})
    assert got.to_pylist() == py_json([{"outer": {"k": 1}, "n": True}, {"outer": {"k": 2}, "n": False}])


def test_j_const_gives_every_row_the_same_value():
    const = ["超 \"限\"", 1, None, {"x": 1.5}]
    got = json_objects({"a": j_int(np.array([1, 2])), "flags": j_const(const), "none": j_const(None)})
    assert got.to_pylist() == py_json([{"a": a, "flags": const, "none": None} for a in (1, 2)])


def test_j_lookup_gives_each_row_the_json_of_its_code():
    kinds = [["too_green", "no_date"], 'label "x"', None, {"n": 3}]
    codes = np.array([3, 0, 0, 2, 1, 3])
    assert j_lookup(codes, kinds).to_pylist() == py_json([kinds[c] for c in codes])


def test_json_objects_needs_a_key_and_a_column():
    with pytest.raises(ValueError):
        json_objects({})
    with pytest.raises(ValueError):
        json_objects({"a": j_const(1)})


# --- sentences -----------------------------------------------------------------------------------

template_pieces = st.lists(st.one_of(st.text(max_size=8).map(lambda s: s.replace("{", "{{").replace("}", "}}")),
                                     st.sampled_from(["{a}", "{b}", "{c}"])), min_size=1, max_size=8)


@EXAMPLES
@given(template_pieces.filter(lambda ps: any(p in ("{a}", "{b}", "{c}") for p in ps)), st.data())
def test_sentence_equals_str_format_per_row(pieces, data):
    template = "".join(pieces)
    n = data.draw(st.integers(1, 6))
    columns = {k: data.draw(st.lists(st.text(max_size=6), min_size=n, max_size=n)) for k in "abc"}
    expected = [template.format(**{k: v[i] for k, v in columns.items()}) for i in range(n)]
    assert sentence(template, **columns).to_pylist() == expected


def test_sentence_takes_one_str_for_every_row():
    rows = {"r": fixed([0.1585, 0.2], 1), "day": "2024-02-29"}
    template = "绿地率 {r}，截至 {day}"
    expected = [template.format(r=r, day=rows["day"]) for r in rows["r"].to_pylist()]
    assert sentence(template, **rows).to_pylist() == expected


def test_sentence_null_field_makes_a_null_sentence():
    assert sentence("x {a} y", a=["1", None]).to_pylist() == ["x 1 y", None]


@pytest.mark.parametrize("template", ["{a:.1f}", "{a!r}"])
def test_sentence_refuses_a_format_spec_or_conversion(template):
    with pytest.raises(ValueError, match="format it first"):
        sentence(template, a=["1"])


def test_sentence_missing_field_is_a_key_error():
    with pytest.raises(KeyError, match="b"):
        sentence("{a} {b}", a=["1"])


@EXAMPLES
@given(st.lists(st.tuples(st.booleans(), st.text(max_size=5), st.text(max_size=5)), max_size=20))
def test_choose_picks_per_row(rows):
    cond, yes, no = ([r[k] for r in rows] for k in range(3))
    assert choose(cond, yes, no).to_pylist() == [y if c else n for c, y, n in rows]
    assert choose(cond, "yes", no).to_pylist() == ["yes" if c else n for c, _, n in rows]


@EXAMPLES
@given(st.lists(st.text(max_size=5), min_size=1, max_size=20), st.data())
def test_replace_rows_puts_each_value_at_its_row_given_out_of_order(column, data):
    rows = data.draw(st.permutations(range(len(column))))[: data.draw(st.integers(0, len(column)))]
    values = data.draw(st.lists(st.text(max_size=5), min_size=len(rows), max_size=len(rows)))
    expected = list(column)
    for row, value in zip(rows, values):
        expected[row] = value
    got = replace_rows(pa.array(column, pa.string()), np.array(rows, dtype="int64"), values)
    assert got.to_pylist() == expected


@EXAMPLES
@given(st.lists(st.one_of(st.sampled_from([0.25, 0.3, 0.35]), st.just(NAN)), max_size=30))
def test_each_distinct_formats_each_distinct_value_once(values):
    calls = []

    def fmt(v):
        calls.append(v)
        return f"{v:.1%}"

    got = each_distinct(np.array(values, dtype="float64"), fmt).to_pylist()
    assert got == [f"{v:.1%}" for v in values]
    assert len(calls) == len({"nan" if v != v else v for v in values})


def test_dates_of_day_values_write_missing_for_nat():
    values = [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1969, 12, 31)]
    days = np.array([np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d in values],
                    dtype="datetime64[D]")
    expected = ["—" if d is None else d.isoformat() for d in values]
    assert dates(days, missing="—").to_pylist() == expected
    assert dates(days).to_pylist() == [None if d is None else d.isoformat() for d in values]


def test_dates_of_a_series_and_a_list_of_dates():
    values = [dt.date(2024, 2, 29), dt.date(2000, 1, 1)]
    expected = [d.isoformat() for d in values]
    assert dates(values).to_pylist() == expected
    assert dates(pd.Series(pd.to_datetime(values + [None])), missing="—").to_pylist() == expected + ["—"]


# --- json_texts ----------------------------------------------------------------------------------

json_scalars = st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(), st.booleans(), st.none())
json_dicts = st.dictionaries(st.text(max_size=8), st.one_of(json_scalars, st.lists(json_scalars, max_size=3)),
                             max_size=5)


@EXAMPLES
@given(st.lists(json_dicts, max_size=20))
def test_json_texts_of_dicts_equals_orjson(values):
    got = json_texts(values)
    assert got.type == pa.large_string()
    assert got.to_pylist() == [orjson.dumps(v, option=JSON_OPTS).decode() for v in values]


@EXAMPLES
@given(st.lists(json_dicts, max_size=20))
def test_json_texts_keeps_json_strings_as_given(values):
    given_texts = [json.dumps(v, ensure_ascii=False, indent=1) for v in values]
    assert json_texts(given_texts).to_pylist() == given_texts


def test_json_texts_writes_missing_values_as_null():
    day = {"on": dt.date(2024, 2, 29), "n": np.int64(3), 7: "int key"}
    values = [day, None, NAN, np.float64("nan"), pd.NA, pd.NaT, [1, "二"], '{"already": "json"}']
    got = json_texts(values)
    expected = [orjson.dumps(day, option=JSON_OPTS).decode(), None, None, None, None, None,
                orjson.dumps([1, "二"]).decode(), '{"already": "json"}']
    assert got.to_pylist() == expected
    assert got.null_count == 5


def test_json_texts_names_a_string_that_is_not_json():
    bad = 'not json {"a": 1'
    with pytest.raises(ValueError, match=f"evidence is not JSON.*{bad!r}"):
        json_texts([{"a": 1}, bad])


# --- the evidence column in pandas ---------------------------------------------------------------

ROWS = [
    {"id": 1, "ratio": 0.1585, "note": 'a "b"', "on": "2024-02-29", "nested": {"k": 1}},
    {"id": 2, "ratio": 0.2, "note": "沪〔合成〕\n第二行", "on": "1969-12-31", "nested": {"k": 2}},
    {"id": 3, "ratio": None, "note": None, "on": None, "nested": {"k": 3}},
    {"id": 4, "ratio": -0.0, "note": "\\\t\x00", "on": "2000-01-01", "nested": {"k": 4}},
]


def evidence_text(rows):
    days = np.array([r["on"] or "NaT" for r in rows], dtype="datetime64[D]")
    return json_objects({
        "id": j_int(np.array([r["id"] for r in rows])),
        "ratio": j_float([NAN if r["ratio"] is None else r["ratio"] for r in rows], 4),
        "note": j_str([r["note"] for r in rows]),
        "on": j_date(days),
        "nested": json_objects({"k": j_int(np.array([r["nested"]["k"] for r in rows]))}),
    })


@pytest.fixture
def frame():
    return pd.DataFrame({"rule": [f"r{k}" for k in range(len(ROWS))], "area": [10.0 * k for k in range(len(ROWS))],
                         "evidence": EvidenceArray(evidence_text(ROWS))})


def test_evidence_text_equals_orjson_of_the_rows():
    assert evidence_text(ROWS).to_pylist() == py_json(ROWS)


def test_a_frame_keeps_the_evidence_dtype(frame):
    assert isinstance(frame["evidence"].dtype, EvidenceDtype)
    assert len(frame["evidence"].array) == len(ROWS)


def test_an_element_reads_back_as_its_dict(frame):
    assert frame.iloc[1]["evidence"] == ROWS[1]
    assert type(frame.iloc[1]["evidence"]) is dict
    assert frame.at[3, "evidence"] == ROWS[3]


def test_tolist_gives_the_dicts(frame):
    assert frame["evidence"].tolist() == ROWS


def test_boolean_mask_selects_rows(frame):
    mask = np.array([True, False, True, True])
    got = frame.loc[mask]
    assert isinstance(got["evidence"].dtype, EvidenceDtype)
    assert got["evidence"].tolist() == [r for r, m in zip(ROWS, mask) if m]
    assert got["rule"].tolist() == ["r0", "r2", "r3"]


def test_take_selects_rows_in_the_given_order(frame):
    got = frame.take([2, 0, 2, -1])
    assert got["evidence"].tolist() == [ROWS[2], ROWS[0], ROWS[2], ROWS[-1]]
    assert got.index.tolist() == [2, 0, 2, 3]


def test_reversed_slice(frame):
    got = frame.iloc[::-1]
    assert got["evidence"].tolist() == ROWS[::-1]
    assert got["evidence"].array.json_text().to_pylist() == py_json(ROWS[::-1])


def test_to_dict_records_holds_the_dicts(frame):
    expected = [{"rule": f"r{k}", "area": 10.0 * k, "evidence": row} for k, row in enumerate(ROWS)]
    assert frame.to_dict("records") == expected


def test_concat_of_two_evidence_frames_stays_evidence(frame):
    got = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    assert isinstance(got["evidence"].dtype, EvidenceDtype)
    assert got["evidence"].tolist() == ROWS + ROWS[:2]


@pytest.mark.parametrize("evidence_first", [True, False])
def test_stacked_with_an_object_column_of_dicts_stays_evidence(frame, evidence_first):
    extra = [{"id": 9, "said": 'he "said"\n', "list": [1, 2.5]}, {"id": 10}]
    dicts = pd.DataFrame({"rule": ["x", "y"], "area": [1.0, 2.0], "evidence": pd.Series(extra, dtype=object)})
    parts = [frame, dicts] if evidence_first else [dicts, frame]
    got = pd.concat(same_column_types(parts), ignore_index=True)
    assert isinstance(got["evidence"].dtype, EvidenceDtype)
    expected = ROWS + extra if evidence_first else extra + ROWS
    assert got["evidence"].tolist() == expected
    assert [got["evidence"][k] for k in range(len(got))] == expected


def test_a_plain_concat_with_dicts_and_a_row_across_all_columns_are_plain_objects(frame):
    # pandas asks for one dtype of evidence + object both when it stacks and when it takes a row:
    # a row is not evidence, so the common type is object (dicts), never an error
    dicts = pd.DataFrame({"rule": ["x"], "area": [1.0], "evidence": pd.Series([{"id": 9}], dtype=object)})
    got = pd.concat([frame, dicts], ignore_index=True)
    assert got["evidence"].tolist() == [*ROWS, {"id": 9}]
    row = frame.astype({"rule": object, "area": object}).iloc[0]
    assert row["evidence"] == ROWS[0]


def test_stacking_keeps_arrow_text_columns_in_arrow():
    arrow = pd.DataFrame({"t": text_column(pa.array(["a", "b"]))})
    plain = pd.DataFrame({"t": pd.Series(["c"], dtype=object)})
    got = pd.concat(same_column_types([arrow, plain]), ignore_index=True)
    assert isinstance(got["t"].array, pd.arrays.ArrowExtensionArray)
    assert got["t"].tolist() == ["a", "b", "c"]


def test_a_series_of_dicts_can_be_given_the_evidence_dtype():
    series = pd.Series(ROWS, dtype="evidence")
    assert isinstance(series.dtype, EvidenceDtype)
    assert series.array.json_text().to_pylist() == py_json(ROWS)


def test_isna_marks_a_null_row():
    array = EvidenceArray(json_texts([ROWS[0], None, ROWS[1]]))
    series = pd.Series(array)
    assert series.isna().tolist() == [False, True, False]
    assert series.tolist() == [ROWS[0], None, ROWS[1]]


def test_take_with_allow_fill_gives_missing_for_minus_one(frame):
    array = frame["evidence"].array
    got = array.take([0, -1, 3], allow_fill=True)
    assert list(got) == [ROWS[0], None, ROWS[3]]
    assert got.isna().tolist() == [False, True, False]
    assert list(array.take([-1, 1], allow_fill=True, fill_value={"filled": True})) == [{"filled": True}, ROWS[1]]
    assert frame["evidence"].reindex([1, 99]).tolist() == [ROWS[1], None]


def test_take_with_allow_fill_from_an_empty_array():
    empty = EvidenceArray(pa.array([], pa.string()))
    assert list(empty.take([-1, -1], allow_fill=True)) == [None, None]


def test_take_out_of_bounds_is_an_index_error(frame):
    array = frame["evidence"].array
    with pytest.raises(IndexError):
        array.take([len(ROWS)])
    with pytest.raises(IndexError):
        array.take([-len(ROWS) - 1])
    with pytest.raises(IndexError):
        array.take([len(ROWS)], allow_fill=True)


def test_copy_has_the_same_evidence(frame):
    copied = frame.copy()
    assert isinstance(copied["evidence"].dtype, EvidenceDtype)
    assert copied["evidence"].tolist() == ROWS
    array = frame["evidence"].array.copy()
    assert len(array) == len(ROWS)
    assert array.json_text().to_pylist() == py_json(ROWS)


def test_the_writer_gets_the_json_text_unchanged(frame):
    text = evidence_text(ROWS)
    array = frame["evidence"].array
    assert array.__arrow_array__().to_pylist() == text.to_pylist()
    assert array.json_text().to_pylist() == text.to_pylist()
    assert pa.array(frame["evidence"]).to_pylist() == text.to_pylist()


def test_json_normalize_of_the_dicts(frame):
    pd.testing.assert_frame_equal(pd.json_normalize(frame["evidence"].tolist()), pd.json_normalize(ROWS))


def test_evidence_as_text_is_its_json(frame):
    assert frame["evidence"].astype("string").tolist() == py_json(ROWS)
    assert frame["evidence"].astype(str).tolist() == py_json(ROWS)


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=50))
def test_id_texts_are_the_ids_as_python_writes_them(ids):
    assert list(id_texts(np.array(ids, dtype="int64"))) == [str(i) for i in ids]
