"""Explanations and evidence of a million findings built column by column in Arrow, not row by row.

A rule states each sentence once, as a template, and fills it with whole columns of formatted
numbers and dates; its evidence is stated once as a mapping of key to column. The text comes out
as the same characters a per-row f-string and ``orjson.dumps`` of a dict would give (tests hold
the two equal). What it saves is mostly the evidence: a dict per row and its serialization cost
~3 µs per finding at city scale. Arrow's string kernels cost 20-100 ns per row each, so a
sentence comes out only ~1.5x faster than a list comprehension; rare wordings stay per row
(:func:`replace_rows`). Measured in docs/benchmark-runs.md (session 8).

The evidence column of a findings frame is an :class:`EvidenceArray`: JSON text inside, a dict
for whoever reads an element (notebooks, tests), and handed to the writer as it is.

Example:
    >>> ratio, surplus = np.array([0.1585]), np.array([25.0])
    >>> sentence("绿地率 {r}，盈余 {s} m²", r=percents(ratio), s=fixed(surplus, 1)).to_pylist()
    ['绿地率 15.8%，盈余 25.0 m²']
    >>> json_objects({"green_ratio": j_float(ratio, 4), "note": j_str(["a \\"b\\""])}).to_pylist()
    ['{"green_ratio":0.1585,"note":"a \\\\"b\\\\""}']
"""

from __future__ import annotations

import string
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype

__all__ = [
    "EvidenceArray", "EvidenceDtype", "choose", "dates", "each_distinct", "evidence_column", "fixed",
    "id_texts", "j_bool", "j_const", "j_date", "j_float", "j_int", "j_lookup", "j_str", "json_objects",
    "json_texts", "lookup", "percents", "replace_rows", "same_column_types", "sentence", "text_column", "texts",
]

_ORJSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


# --- text ---------------------------------------------------------------------------------------

def texts(values: Any) -> pa.Array:
    """An Arrow string array of ``values`` (Arrow, pandas, numpy or a list; None stays null)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    if isinstance(values, pd.Series):
        values = values.array
    if hasattr(values, "__arrow_array__"):
        return texts(values.__arrow_array__())
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


def _part(value: Any) -> pa.Array | pa.Scalar:
    if isinstance(value, str):
        return pa.scalar(value, pa.string())
    return texts(value)


def sentence(template: str, **fields: Any) -> pa.Array:
    """``template.format(**fields)`` for every row: each field a column of text (or one str for all).

    Only plain ``{name}`` fields: numbers and dates are formatted by :func:`fixed`,
    :func:`percents` and :func:`dates` first. A null field makes the row's sentence null.
    """
    parts: list[pa.Array | pa.Scalar] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal, pa.string()))
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"sentence field {{{name}}}: format it first, the template takes text only")
        if name not in fields:
            raise KeyError(f"sentence field {{{name}}} has no column")
        parts.append(_part(fields[name]))
    arrays = [p for p in parts if isinstance(p, pa.Array)]
    if not arrays:
        raise ValueError("a sentence needs at least one column field")
    if len(parts) == 1:
        return arrays[0]
    return pc.binary_join_element_wise(*parts, pa.scalar("", pa.string()))


def choose(condition: Any, if_true: Any, if_false: Any) -> pa.Array:
    """Per row, ``if_true`` where ``condition`` holds, else ``if_false`` (columns or one str each)."""
    cond = pa.array(np.asarray(condition, dtype=bool))
    return pc.if_else(cond, _part(if_true), _part(if_false))


def replace_rows(column: pa.Array, rows: np.ndarray, values: Sequence[str] | pa.Array) -> pa.Array:
    """``column`` with the text of ``rows`` (positions) replaced by ``values`` (the few rows a
    rule words one by one, e.g. what cannot be evaluated; or a part built on its own)."""
    if len(rows) == 0:
        return column
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    order = np.argsort(rows, kind="stable")  # replace_with_mask fills the masked rows in order
    if isinstance(values, pa.Array):
        replacement = values.take(pa.array(order))
    else:
        replacement = pa.array([values[k] for k in order.tolist()], pa.string())
    if replacement.type != column.type:
        column, replacement = column.cast(pa.large_string()), replacement.cast(pa.large_string())
    return pc.replace_with_mask(column, pa.array(mask), replacement)


def id_texts(ids: Any) -> pd.api.extensions.ExtensionArray:
    """Whole-number ids as a text column (a finding's ``subject_id``): "123" for 123, written in
    C (numpy's ``astype(str)`` and the Python strings after it cost ~0.5 s per million)."""
    return text_column(pc.cast(pa.array(np.asarray(ids, dtype="int64")), pa.string()))


def text_column(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow text column for a findings frame (pandas does not copy it into Python strings)."""
    return pd.arrays.ArrowExtensionArray(texts(values))


# --- numbers and dates as people read them ------------------------------------------------------

def fixed(values: Any, digits: int = 1, missing: str = "—") -> pa.Array:
    """Each number as ``f"{v:.{digits}f}"`` would write it (no thousands separators); ``missing``
    for NaN.

    Rounded on the scaled value; the few values that sit on a rounding tie (where the float's
    exact decimal decides), and magnitudes beyond 2^31 once scaled, are formatted by Python itself.
    """
    x = np.asarray(values, dtype="float64")
    scaled = x * (10.0 ** digits)
    rounded = np.floor(np.abs(scaled) + 0.5)
    frac = np.abs(scaled) - np.floor(np.abs(scaled))
    nan = np.isnan(x)
    python = ~nan & ((np.abs(frac - 0.5) < 1e-6) | (np.abs(scaled) >= 2.0 ** 31))
    digits_text = pc.cast(pa.array(np.where(nan | python, 0, rounded).astype("int64")), pa.string())
    negative = np.signbit(x)
    sign = pc.if_else(pa.array(negative), "-", "") if negative.any() else pa.scalar("", pa.string())
    if digits > 0:
        padded = pc.utf8_lpad(digits_text, digits + 1, "0")
        out = pc.binary_join_element_wise(sign, pc.utf8_slice_codeunits(padded, 0, -digits), ".",
                                          pc.utf8_slice_codeunits(padded, -digits), "")
    else:
        out = pc.binary_join_element_wise(sign, digits_text, "")
    if nan.any():
        out = pc.if_else(pa.array(nan), pa.scalar(missing, pa.string()), out)
    if python.any():
        spec = f".{digits}f"
        where = np.flatnonzero(python)
        out = pc.replace_with_mask(out, pa.array(python), pa.array([format(v, spec) for v in x[where].tolist()],
                                                                  pa.string()))
    return out


def lookup(codes: Any, texts_of_codes: Sequence[str]) -> pa.Array:
    """Per row, ``texts_of_codes[code]`` (each distinct text stored once, then expanded in C)."""
    indices = pa.array(np.asarray(codes, dtype="int32"))
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(texts_of_codes), pa.string())).cast(pa.string())


def each_distinct(values: Any, fmt) -> pa.Array:
    """``fmt(v)`` of each row's value, called once per distinct value (thresholds, labels)."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values)), use_na_sentinel=False)
    return lookup(codes, [fmt(v) for v in uniques.tolist()])


def percents(values: Any, digits: int = 1, missing: str = "—") -> pa.Array:
    """Ratios as ``f"{v * 100:.{digits}f}%"`` ('15.8%' for 0.1585); ``missing`` for NaN."""
    x = np.asarray(values, dtype="float64")
    text = fixed(x * 100, digits, missing)
    nan = np.isnan(x)
    with_sign = pc.binary_join_element_wise(text, "%", "")
    return pc.if_else(pa.array(nan), pa.scalar(missing, pa.string()), with_sign) if nan.any() else with_sign


def _days(values: Any) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        return arr.cast(pa.date32())
    days = np.asarray(pd.to_datetime(pd.Series(values)) if not isinstance(values, np.ndarray)
                      or values.dtype.kind != "M" else values, dtype="datetime64[D]")
    return pa.array(days.view("int64"), type=pa.int64(), mask=np.isnat(days)).cast(pa.int32()).cast(pa.date32())


def dates(values: Any, missing: str | None = None) -> pa.Array:
    """``YYYY-MM-DD`` of each date (NaT: ``missing``, or null when None)."""
    out = pc.cast(_days(values), pa.string())
    return out.fill_null(missing) if missing is not None and out.null_count else out


# --- JSON ---------------------------------------------------------------------------------------
# Each j_* gives the JSON literal of every row as text; json_objects joins them under their keys.

_NULL = pa.scalar("null", pa.string())


def j_float(values: Any, digits: int | None = 3) -> pa.Array:
    """Numbers rounded to ``digits`` (as ``np.round``) written as orjson writes a float (it is
    orjson, on the whole column at once: twice as fast as Arrow's cast, and the same text at every
    magnitude); NaN and infinities as null."""
    x = np.asarray(values, dtype="float64")
    if digits is not None:
        x = np.round(x, digits)
    return _json_list_items(orjson.dumps(x.tolist()))


def _json_list_items(data: bytes) -> pa.Array:
    """The items of a JSON list of numbers and nulls (no item holds a comma), one text each."""
    if data == b"[]":
        return pa.array([], pa.string())
    body = pa.array([data[1:-1]], pa.large_binary()).cast(pa.large_string())
    return pc.split_pattern(body, ",").flatten().cast(pa.string())


def j_int(values: Any) -> pa.Array:
    """Whole numbers (an int column, or floats with NaN for missing) as JSON; missing as null."""
    if isinstance(values, pd.Series):
        missing = values.isna().to_numpy()
        ints = values.fillna(0).to_numpy(dtype="int64") if missing.any() else values.to_numpy(dtype="int64")
    else:
        arr = np.asarray(values)
        missing = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
        ints = np.where(missing, 0, arr).astype("int64")
    text = pc.cast(pa.array(ints), pa.string())
    return pc.if_else(pa.array(missing), _NULL, text) if missing.any() else text


def j_bool(values: Any) -> pa.Array:
    """true / false of each row."""
    return pc.if_else(pa.array(np.asarray(values, dtype=bool)), "true", "false")


_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def _has_special_bytes(arr: pa.Array) -> bool:
    """Whether any text holds a byte JSON must escape (a quote, a backslash, a control character),
    looked for in the data buffer at once: most columns hold none, and a regex per row costs more."""
    data = arr.buffers()[2]
    if data is None:
        return False
    b = np.frombuffer(data, dtype=np.uint8)
    return bool(((b < 0x20) | (b == 0x22) | (b == 0x5C)).any())


def j_str(values: Any) -> pa.Array:
    """Each text as a JSON string (escaped as orjson escapes it); null as null."""
    arr = texts(values)
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    if _has_special_bytes(arr):
        special = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_ESCAPE), False)
        rows = np.flatnonzero(special.to_numpy(zero_copy_only=False))
        escaped = [orjson.dumps(arr[i].as_py()).decode() for i in rows.tolist()]
        quoted = pc.replace_with_mask(quoted, special, pa.array(escaped, pa.string()))
    return pc.fill_null(quoted, _NULL) if arr.null_count else quoted


def j_date(values: Any) -> pa.Array:
    """Each date as a JSON string ``"YYYY-MM-DD"``; NaT as null."""
    quoted = pc.binary_join_element_wise('"', dates(values), '"', "")  # a date needs no escaping
    return pc.fill_null(quoted, _NULL) if quoted.null_count else quoted


def j_const(value: Any) -> pa.Scalar:
    """One JSON value for every row (a constant key: a list, a flag, null)."""
    return pa.scalar(orjson.dumps(value, option=_ORJSON_OPTS).decode(), pa.string())


def j_lookup(codes: Any, values: Sequence[Any]) -> pa.Array:
    """Per row, the JSON of ``values[code]``: a value of a few kinds (a list of violations, a
    label) serialized once per kind."""
    return lookup(codes, [orjson.dumps(v, option=_ORJSON_OPTS).decode() for v in values])


def json_objects(fields: Mapping[str, pa.Array | pa.Scalar]) -> pa.Array:
    """Per row, the JSON object of ``fields`` (key -> that row's JSON literal from a j_* helper,
    or a nested object from json_objects), keys in the given order, as orjson writes a dict."""
    if not fields:
        raise ValueError("an evidence object needs at least one key")
    parts: list[pa.Array | pa.Scalar] = []
    for k, (key, value) in enumerate(fields.items()):
        parts.append(pa.scalar(("{" if k == 0 else ",") + orjson.dumps(key).decode() + ":", pa.string()))
        parts.append(value)
    parts.append(pa.scalar("}", pa.string()))
    if not any(isinstance(p, pa.Array) for p in parts):
        raise ValueError("an evidence object needs at least one column")
    return pc.binary_join_element_wise(*parts, pa.scalar("", pa.string()))


# --- the evidence column ------------------------------------------------------------------------

@register_extension_dtype
class EvidenceDtype(ExtensionDtype):
    """The dtype of a findings frame's evidence: JSON text, read as a dict."""

    name = "evidence"
    type = dict
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls) -> type[EvidenceArray]:
        return EvidenceArray

    def _get_common_dtype(self, dtypes):
        # only evidence with evidence: a row of a frame (pandas interleaves all its columns) and
        # a stack with dict columns are plain objects (see same_column_types)
        return self if all(isinstance(d, EvidenceDtype) for d in dtypes) else None


def json_texts(values: Iterable[Any]) -> pa.Array:
    """JSON text of each Python value (dicts, lists; a str is taken as JSON already and checked);
    None and NaN stay null.

    The serialized bytes go straight into one buffer: as Python strings they would cost the
    serialization again (a million non-ASCII strings re-encoded to UTF-8 by Arrow), and a million
    kept ``bytes`` objects five times (allocations).
    """
    dumps, opts = orjson.dumps, _ORJSON_OPTS
    buffer = bytearray()
    offsets = array("q", [0])
    valid = bytearray()
    add, end, ok = buffer.extend, offsets.append, valid.append
    for v in values:
        if type(v) is dict:  # the usual case first: `v != v` would compare a dict key by key
            add(dumps(v, str, opts))
            ok(1)
        elif isinstance(v, str):
            try:
                orjson.loads(v)
            except orjson.JSONDecodeError as e:
                raise ValueError(f"evidence is not JSON ({e}): {v[:80]!r}") from None
            add(v.encode())
            ok(1)
        elif v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):  # noqa: PLR0124
            ok(0)
        else:
            add(dumps(v, str, opts))
            ok(1)
        end(len(buffer))
    mask = np.frombuffer(bytes(valid), dtype=np.uint8).astype(bool)
    validity = None if mask.all() else pa.array(mask).buffers()[1]
    # 64-bit offsets: a module's evidence may pass 2 GB
    return pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(buffer),
                                            validity, int((~mask).sum()))


class EvidenceArray(ExtensionArray):
    """A column of evidence objects kept as JSON text (one Arrow string array).

    An element read from it is a fresh dict (``orjson.loads``); the writer takes the text as it
    is. Build it with :func:`json_objects` (column by column) or from dicts.
    """

    def __init__(self, json_text: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(json_text, pa.ChunkedArray):
            json_text = json_text.combine_chunks()
        if json_text.type not in (pa.string(), pa.large_string()):
            json_text = json_text.cast(pa.large_string())
        self._data = json_text

    # construction
    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy: bool = False) -> EvidenceArray:
        if isinstance(scalars, EvidenceArray):
            return scalars
        return cls(json_texts(scalars))

    @classmethod
    def _from_factorized(cls, values, original) -> EvidenceArray:
        return cls(pa.array(list(values), pa.string()))

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[EvidenceArray]) -> EvidenceArray:
        parts = [a._data for a in to_concat]
        if len({p.type for p in parts}) > 1:
            parts = [p.cast(pa.large_string()) for p in parts]
        return cls(pa.concat_arrays(parts))

    # the array protocol
    @property
    def dtype(self) -> EvidenceDtype:
        return EvidenceDtype()

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            text = self._data[int(item)].as_py()
            return None if text is None else orjson.loads(text)
        if isinstance(item, slice):
            return EvidenceArray(self._data[item])
        item = pd.api.indexers.check_array_indexer(self, item)
        if item.dtype == bool:
            return EvidenceArray(self._data.filter(pa.array(item)))
        return self.take(item)

    def __iter__(self):
        loads = orjson.loads
        for text in self._data.to_pylist():
            yield None if text is None else loads(text)

    def __eq__(self, other):  # type: ignore[override]
        mine = list(self)
        theirs = list(other) if isinstance(other, (EvidenceArray, list, np.ndarray)) else [other] * len(mine)
        return np.array([a == b for a, b in zip(mine, theirs)], dtype=bool)

    def __arrow_array__(self, type=None):  # noqa: A002 - the protocol's name
        return self._data

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def isna(self) -> np.ndarray:
        return self._data.is_null().to_numpy(zero_copy_only=False)

    def take(self, indices, *, allow_fill: bool = False, fill_value=None) -> EvidenceArray:
        idx = np.asarray(indices, dtype="int64")
        n = len(self)
        if allow_fill:
            if (idx < -1).any():
                raise ValueError("take: only -1 may mark a missing value")
            if (idx >= n).any():
                raise IndexError("take: index out of bounds")
            taken = self._data.take(pa.array(idx, mask=idx == -1))
            if fill_value is not None and taken.null_count:
                taken = taken.fill_null(orjson.dumps(fill_value, default=str, option=_ORJSON_OPTS).decode())
            return EvidenceArray(taken)
        if ((idx >= n) | (idx < -n)).any():
            raise IndexError("take: index out of bounds")
        return EvidenceArray(self._data.take(pa.array(np.where(idx < 0, idx + n, idx))))

    def copy(self) -> EvidenceArray:
        return EvidenceArray(self._data)  # Arrow arrays are immutable: sharing is a copy

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.empty(len(self), dtype=object)
        out[:] = list(self)
        return out

    def astype(self, dtype, copy: bool = True):
        if isinstance(dtype, EvidenceDtype) or dtype == "evidence":
            return self
        if dtype is not None and pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            # as text, the evidence is its JSON (not the repr of a dict)
            return pd.array(self._data.to_pylist(), dtype=dtype)
        return np.asarray(self).astype(dtype) if dtype is not None else np.asarray(self)

    def _values_for_factorize(self):
        return np.asarray(self._data.to_pylist(), dtype=object), None

    def _formatter(self, boxed: bool = False):
        return repr

    def json_text(self) -> pa.Array:
        """The evidence as JSON text, one string per row (what the writer copies in)."""
        return self._data


def same_column_types(frames: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """``frames`` with each column in one form before they are stacked: where some frame holds a
    column in Arrow (text) or as an evidence column, the others' plain object columns are
    converted too (pandas would otherwise turn the whole column into Python objects)."""
    frames = list(frames)
    columns = {c for f in frames for c in f.columns}
    for c in sorted(columns):
        kinds = {type(f[c].array) for f in frames if c in f.columns}
        target = (EvidenceArray if EvidenceArray in kinds else
                  pd.arrays.ArrowExtensionArray if pd.arrays.ArrowExtensionArray in kinds else None)
        if target is None or len(kinds) == 1:
            continue
        for k, f in enumerate(frames):
            if c in f.columns and not isinstance(f[c].array, target):
                f = f.copy(deep=False)
                f[c] = (EvidenceArray._from_sequence(f[c].tolist()) if target is EvidenceArray
                        else text_column(texts(f[c].to_numpy(dtype=object))))
                frames[k] = f
    return frames


def evidence_column(json_text: pa.Array) -> EvidenceArray:
    """The evidence column of a findings frame from :func:`json_objects`' text."""
    return EvidenceArray(json_text)
