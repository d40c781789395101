"""Column parsers: turn what a file holds into clean values, and say which rows could not be read.

Each parser takes a column (any dtype: GDAL strings, Excel numbers and datetimes, CSV text) and
returns ``(values, bad)`` where ``bad`` maps row positions to a reason. Vectorised: a million rows
cost a few passes, not a Python loop.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gisapp.io.fields import CODE_PATTERN, ZONE_CODE_PATTERN, FieldSpec

# Hostile text: control characters, markup, spreadsheet formulas (CSV/Excel injection).
# RE2 syntax (no look-arounds): matched by Arrow's vectorised regex engine over a million rows.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_MARKUP = r"<\s*[A-Za-z/!?]|(?i:javascript)\s*:|&#"
_FORMULA = r"^\s*(?:[=+@]|-[^\d.])"
_HOSTILE_ANY = f"{_CONTROL}|{_MARKUP}|{_FORMULA}"
_TRUE = {"true", "t", "1", "yes", "y", "是", "√", "1.0"}
_FALSE = {"false", "f", "0", "no", "n", "否", "0.0"}
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _as_text(col: pd.Series) -> pd.Series:
    """Arrow-backed strings (stripped) with <NA> for empty cells; integral floats without '.0'."""
    if col.dtype.kind in "fi":
        num = col.astype(float)
        integral = np.isfinite(num) & (np.floor(num) == num)
        out = pd.Series(pd.NA, index=col.index, dtype="string[pyarrow]")
        out[integral] = num[integral].astype(np.int64).astype(str)
        out[~integral & num.notna()] = num[~integral & num.notna()].astype(str)
        return out
    if col.dtype == object:
        def conv(v):
            if v is None or (isinstance(v, float) and (np.isnan(v))):
                return None
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            if isinstance(v, (dt.datetime, pd.Timestamp)):
                return None if pd.isna(v) else v.date().isoformat()
            return str(v)
        col = col.map(conv)
    s = col.astype("string[pyarrow]").str.strip()
    return s.mask(s == "")


def matches(s, pattern: str) -> np.ndarray:
    """Rows where the RE2 ``pattern`` matches somewhere (False for missing values).

    ``s`` is a Series or an Arrow array (pass the array when matching one column several times).
    """
    arr = s if isinstance(s, (pa.Array, pa.ChunkedArray)) else pa.array(s.astype("string[pyarrow]").array)
    return pc.match_substring_regex(arr, pattern).fill_null(False).to_numpy(zero_copy_only=False)


def parse_text(col: pd.Series, spec: FieldSpec) -> tuple[pd.Series, dict[int, str]]:
    s = _as_text(col)
    arr = pa.array(s.array)
    # A leading apostrophe is how spreadsheets (and our exports) keep a formula-like text as text.
    quoted = matches(arr, r"^'[=+\-@]")
    if quoted.any():
        s[quoted] = s[quoted].str.slice(1)
        arr = pa.array(s.array)
    bad: dict[int, str] = {}
    if not s.notna().any():
        return s, bad
    n = len(s)
    if spec.pattern is not None:
        # a strict pattern already refuses control characters, markup and formulas: one pass
        ok = matches(arr, f"^(?:{spec.pattern.pattern.strip('^$')})$") | s.isna().to_numpy()
        too_long = ~ok & (s.str.len() > spec.max_len).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(too_long):
            bad[int(i)] = f"longer than {spec.max_len} characters ({len(s.iat[i])})"
        allowed = {CODE_PATTERN: "letters, digits, Chinese characters, - _ . / only",
                   ZONE_CODE_PATTERN: "lower-case letters, digits and _ only"}.get(spec.pattern,
                                                                                  "letters, digits, - _ . / only")
        for i in np.flatnonzero(~ok & ~too_long):
            bad[int(i)] = f"{_show(s.iat[i])} is not a valid code ({allowed})"
        return s, bad
    hostile = matches(arr, _HOSTILE_ANY if spec.multiline else f"{_HOSTILE_ANY}|[\r\n\t]") if n else np.zeros(0, bool)
    for i in np.flatnonzero(hostile):
        v = s.iat[i]
        if re.search(_CONTROL, v) or (not spec.multiline and re.search(r"[\r\n\t]", v)):
            why = "contains a control character or line break"
        elif re.search(_MARKUP.replace("(?i:javascript)", "javascript"), v, re.IGNORECASE):
            why = "contains markup or script (<...>, javascript:), which is not accepted"
        else:
            why = "starts like a spreadsheet formula (=, +, -, @), which is not accepted"
        bad[int(i)] = f"{why}: {_show(v)}"
    too_long = pc.greater(pc.utf8_length(arr), spec.max_len).fill_null(False).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(too_long & ~hostile):
        bad[int(i)] = f"longer than {spec.max_len} characters ({len(s.iat[i])})"
    return s, bad


def parse_number(col: pd.Series, spec: FieldSpec) -> tuple[pd.Series, dict[int, str]]:
    if col.dtype.kind in "fiu" or col.dtype.kind == "b":
        num = col.astype(float)
        raw = None
    else:
        raw = _as_text(col)
        cleaned = raw.str.replace(r"[,\s，]", "", regex=True)
        num = pd.to_numeric(cleaned, errors="coerce").astype(float)
    bad: dict[int, str] = {}
    if raw is not None:
        for i in np.flatnonzero((raw.notna() & num.isna()).to_numpy()):
            bad[int(i)] = f"{_show(raw.iat[i])} is not a number"
    arr = num.to_numpy()
    inf = np.isinf(arr)
    for i in np.flatnonzero(inf):
        bad[int(i)] = "is not a finite number"
    finite = np.isfinite(arr)
    if spec.kind == "int":
        for i in np.flatnonzero(finite & (np.floor(arr) != arr)):
            bad[int(i)] = f"{arr[i]:g} is not a whole number"
    if spec.min is not None:
        for i in np.flatnonzero(finite & (arr < spec.min)):
            bad.setdefault(int(i), f"{arr[i]:g} is below the allowed minimum {spec.min:g}")
    if spec.max is not None:
        for i in np.flatnonzero(finite & (arr > spec.max)):
            bad.setdefault(int(i), f"{arr[i]:g} is above the allowed maximum {spec.max:g}")
    num = pd.Series(np.where(inf, np.nan, arr), index=col.index)
    return num, bad


def parse_date(col: pd.Series, spec: FieldSpec) -> tuple[pd.Series, dict[int, str]]:
    bad: dict[int, str] = {}
    if pd.api.types.is_datetime64_any_dtype(col) or (
            col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in ("date", "datetime", "empty")):
        # already dates (GeoPackage, Excel): no text round trip
        parsed = pd.to_datetime(col, errors="coerce")
        raw = None
    else:
        raw = _as_text(col)
        text = (raw.str.replace("年", "-", regex=False).str.replace("月", "-", regex=False)
                .str.replace("日", "", regex=False).str.replace("/", "-", regex=False).str.replace(".", "-", regex=False))
        text = text.str.replace(r"[T ]00:00:00(\.0+)?$", "", regex=True)
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        retry = (raw.notna() & parsed.isna()).to_numpy()
        if retry.any():
            parsed[retry] = pd.to_datetime(text[retry], format="%Y%m%d", errors="coerce")
            still = (raw.notna() & parsed.isna()).to_numpy()
            for i in np.flatnonzero(still):
                bad[int(i)] = f"{_show(raw.iat[i])} is not a date (use YYYY-MM-DD)"
    dates = pd.Series([None] * len(col), index=col.index, dtype=object)
    ok = parsed.notna().to_numpy()
    if ok.any():
        dates[ok] = parsed[ok].dt.date.to_numpy()
        arr = dates.to_numpy()
        for i in np.flatnonzero(ok):
            if not (DATE_MIN <= arr[i] <= DATE_MAX):
                bad[int(i)] = f"{arr[i].isoformat()} is out of the plausible range {DATE_MIN.year}-{DATE_MAX.year}"
    return dates, bad


def parse_bool(col: pd.Series, spec: FieldSpec) -> tuple[pd.Series, dict[int, str]]:
    if col.dtype.kind == "b":
        return col.astype(object), {}
    raw = _as_text(col)
    low = raw.str.lower()
    out = pd.Series([None] * len(col), index=col.index, dtype=object)
    is_true = low.isin(_TRUE).fillna(False).to_numpy()
    is_false = low.isin(_FALSE).fillna(False).to_numpy()
    out[is_true] = True
    out[is_false] = False
    bad = {int(i): f"{_show(raw.iat[i])} is not yes/no (true/false, 1/0, 是/否)"
           for i in np.flatnonzero(raw.notna().to_numpy() & ~is_true & ~is_false)}
    return out, bad


PARSERS = {"text": parse_text, "code": parse_text, "float": parse_number, "int": parse_number,
           "date": parse_date, "bool": parse_bool}


#: columns of at least this many rows whose values repeat are parsed once per distinct value
DISTINCT_MIN_ROWS = 50_000
_SAMPLE = 10_000


def parse_column(col: pd.Series, spec: FieldSpec) -> tuple[pd.Series, dict[int, str]]:
    """Parse ``col`` as ``spec`` says: ``(values, bad)``, ``bad`` mapping row positions to a reason.

    Every parser judges each value on its own, so a large column whose values repeat (a status,
    a land-use code, a date: a few hundred distinct values in a million rows) is parsed once per
    distinct value and the results spread back to the rows: the same values and the same reasons
    for the same rows, several times faster.
    """
    parser = PARSERS[spec.kind]
    n = len(col)
    if n < DISTINCT_MIN_ROWS or col.iloc[:_SAMPLE].nunique(dropna=False) > _SAMPLE // 4:
        return parser(col, spec)
    if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
        return parser(col, spec)  # mixed Python values: 1, 1.0 and True are one key to a hash
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if len(uniques) == 0 or len(uniques) * 4 > n:
        return parser(col, spec)
    parsed, bad_unique = parser(pd.Series(uniques), spec)
    missing = codes < 0
    if isinstance(parsed.array, pd.api.extensions.ExtensionArray) and not isinstance(parsed.dtype, np.dtype):
        values = parsed.array.take(codes, allow_fill=True)
    else:
        arr = parsed.to_numpy()
        values = arr[np.where(missing, 0, codes)]
        if missing.any():
            values = values.astype(object) if values.dtype.kind not in "fO" else values.copy()
            values[missing] = np.nan if values.dtype.kind == "f" else None
    bad: dict[int, str] = {}
    if bad_unique:
        which = np.fromiter(bad_unique, dtype=np.int64, count=len(bad_unique))
        for pos in np.flatnonzero(np.isin(codes, which)):
            bad[int(pos)] = bad_unique[int(codes[pos])]
    return pd.Series(values, index=col.index), bad


def _show(value: str, limit: int = 40) -> str:
    """A value quoted for a message: cut, with control characters made visible."""
    v = value if len(value) <= limit else value[:limit] + "…"
    return repr(v)
