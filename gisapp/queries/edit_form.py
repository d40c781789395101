"""Reading the values a person typed into an edit form: one problem per field, nothing written."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from gisapp.errors import Term
from gisapp.queries.edit_errors import FieldProblem, ValidationFailed

MAX_REASON = 500
MAX_NOTE = 2000
SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """Today as Shanghai counts days: the database's "not in the future" (the CHECK constraints of
    migration 1300, a confirmation's status date), so a server on UTC neither refuses nor offers
    a day the database would not."""
    return dt.datetime.now(SHANGHAI).date()


#: A number a form takes is smaller than this in size. The largest real values are far below it
#: (a year's electricity of a big plant in kWh, amounts in 万元, areas in m²), the numeric columns
#: hold at most 16 digits, and a float8 column keeps whole units only up to 2**53 (about 9e15):
#: anything larger is a slip of the keyboard or a probe, refused with a sentence, not by the database.
MAX_NUMBER = Decimal("1e15")
#: the integer columns the forms write are PostgreSQL ``integer`` (int4)
MAX_INT4 = 2**31 - 1
#: PostgreSQL texts cannot hold NUL, and UTF-8 cannot encode a lone surrogate
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def shown(value: Any) -> str:
    """``value`` as a message may quote it: short, and nothing a reply or a page cannot carry."""
    if isinstance(value, Mapping):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, int) and abs(value) >= 10**40:
        return "…"  # (and Python refuses to write out an int of more than 4300 digits)
    return UNSTORABLE.sub("\ufffd", str(value)[:40])


def _kind(value: Any) -> Term:
    """What a value of the wrong type is, in both languages (for a message)."""
    key = (
        "list" if isinstance(value, list | tuple)
        else "object" if isinstance(value, Mapping)
        else "boolean" if isinstance(value, bool)
        else "number" if isinstance(value, int | float | Decimal)
        else "other"
    )
    return Term(f"error.type.{key}")


def _invisible(text: str) -> bool:
    # strip() leaves zero-width spaces, joiners and the byte-order mark (Unicode category Cf):
    # a reason made of them alone says nothing either
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


class Form:
    """Reads values a person typed, collecting one problem per field (nothing is written)."""

    def __init__(self, data: Mapping[str, Any] | None):
        self.data = dict(data or {})
        self.problems: dict[str, FieldProblem] = {}

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
            if _invisible(value):
                return None
        return None if value is None or (isinstance(value, str) and value == "") else value

    def fail(self, name: str, key: str, **values: Any) -> None:
        self.problems.setdefault(name, FieldProblem(f"edit.err.{key}", values))

    def _single(self, name: str, value: Any, key: str) -> bool:
        """False (and ``name`` refused with ``key``) for a list or an object where one value belongs."""
        if isinstance(value, list | tuple | Mapping):
            self.fail(name, key, value=shown(value), type=_kind(value))
            return False
        return True

    def text(self, name: str, required: bool = False, max_len: int = MAX_REASON) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            self.fail(name, "not_text", type=_kind(value))
            return None
        if isinstance(value, int) and abs(value) >= 10**max_len:
            self.fail(name, "too_long", max=max_len)
            return None
        value = str(value)
        bad = UNSTORABLE.search(value)
        if bad:
            self.fail(name, "bad_char", char=f"U+{ord(bad.group()):04X}")
            return None
        if len(value) > max_len:
            self.fail(name, "too_long", max=max_len)
        return value

    def number(
        self,
        name: str,
        required: bool = False,
        minimum: float | None = 0.0,
        exclusive: bool = False,
        maximum: float | None = None,
    ) -> Decimal | None:
        """A finite decimal smaller than MAX_NUMBER in size; by default areas, amounts and
        counts may not be negative."""
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not self._single(name, value, "not_number"):
            self.fail(name, "not_number", value=shown(value))
            return None
        try:
            number = Decimal(value) if isinstance(value, int) else Decimal(str(value).replace(",", ""))
        except InvalidOperation:
            number = None
            try:  # an exponent beyond even Decimal's range is still a number, and too large
                if math.isinf(float(str(value).replace(",", ""))):
                    number = Decimal("Infinity")
            except ValueError:
                pass
            if number is None:
                self.fail(name, "not_number", value=shown(value))
                return None
        if number.is_nan():
            self.fail(name, "not_number", value=shown(value))
            return None
        if number.is_infinite() or abs(number) >= MAX_NUMBER:
            self.fail(name, "too_large", max=f"{MAX_NUMBER:,f}")
            return None
        if minimum is not None:
            if exclusive and number <= minimum:
                self.fail(name, "min_exclusive", min=plain(minimum))
            elif not exclusive and number < minimum:
                self.fail(name, "negative" if minimum == 0 else "min", min=plain(minimum))
        if maximum is not None and number > maximum:
            self.fail(name, "max", max=plain(maximum))
        return number

    def integer(
        self, name: str, required: bool = False, minimum: int | None = 0, maximum: int | None = None
    ) -> int | None:
        """A whole number that fits an ``integer`` column (MAX_INT4)."""
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, bool) or not self._single(name, value, "not_integer"):
            self.fail(name, "not_integer", value=shown(value))
            return None
        try:
            # Decimal reads "1e3" and any count of digits (int() stops at 4300 of them)
            number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
        except InvalidOperation:
            self.fail(name, "not_integer", value=shown(value))
            return None
        if number.is_nan() or (number.is_finite() and number != number.to_integral_value()):
            self.fail(name, "not_integer", value=shown(value))
            return None
        if minimum is not None and number < minimum:
            self.fail(name, "negative" if minimum == 0 else "min", min=minimum)
            return None
        if maximum is not None and number > maximum:
            self.fail(name, "max", max=maximum)
            return None
        if number.is_infinite() or abs(number) > MAX_INT4:
            self.fail(name, "too_large", max=f"{MAX_INT4 + 1:,}")
            return None
        return int(number)

    def date(self, name: str, required: bool = False, not_future: bool = True) -> dt.date | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if isinstance(value, dt.date):
            day = value
        else:
            if not self._single(name, value, "not_date"):
                return None
            # YYYY-MM-DD, or a date picker's YYYY-MM-DDT00:00:00
            text = str(value)
            try:
                if len(text) > 10 and text[10] not in "T ":
                    raise ValueError(text)
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                self.fail(name, "not_date", value=shown(text))
                return None
        if not_future and day > today():
            self.fail(name, "future", today=today().isoformat())
        return day

    def choice(self, name: str, allowed, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if not self._single(name, value, "unknown_code") or str(value) not in allowed:
            self.fail(name, "unknown_code", value=shown(value))
            return None
        return str(value)

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        return value in (True, 1, "1", "true", "on", "yes")

    def order(self, earlier: str, later: str, values: Mapping[str, Any]) -> None:
        """``later`` may not be before ``earlier`` (both dates, when both are given)."""
        first, second = values.get(earlier), values.get(later)
        if first is not None and second is not None and second < first:
            label = f"field.{earlier}"
            self.fail(
                later,
                "date_order",
                other=Term(label),
                other_value=first.isoformat(),
            )

    def check(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


def plain(number: float | Decimal) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def parse_components(
    text: str | list | None, form: Form, name: str = "components"
) -> list[tuple[str, Decimal]]:
    """Mixed-use shares from lines ``<land-use code> <share>`` (or a list of pairs / dicts)."""
    items: list = []
    if isinstance(text, list | tuple):
        for n, d in enumerate(text, start=1):
            if isinstance(d, Mapping):
                items.append((d.get("land_use_code"), d.get("floor_share_pct")))
            elif isinstance(d, list | tuple) and len(d) == 2:
                items.append(tuple(d))
            else:  # a bare number, a text or a triple where a pair belongs
                form.fail(name, "share_line", line=n, value=shown(d))
                return []
    elif isinstance(text, str):
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.strip().replace("%", " ").replace("，", " ").replace(",", " ")
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                form.fail(name, "share_line", line=n, value=shown(line))
                return []
            items.append((parts[0], parts[1]))
    elif text is not None:
        form.fail(name, "share_line", line=1, value=shown(text))
        return []
    out = []
    for n, (code, share) in enumerate(items, start=1):
        if isinstance(code, bool) or not isinstance(code, str | int) or UNSTORABLE.search(str(code)):
            form.fail(name, "share_line", line=n, value=shown(code))
            return []
        sub = Form({"share": share})
        value = sub.number("share", required=True, minimum=0, exclusive=True, maximum=100)
        if sub.problems:
            problem = sub.problems["share"]
            form.problems.setdefault(name, problem)
            return []
        out.append((str(code).strip(), value))
    return out


#: lists in GeoJSON coordinates: a MultiPolygon's polygons, their rings, positions, numbers
MAX_GEOM_DEPTH = 4


def nesting(value: Any, limit: int) -> int:
    """How deeply lists nest in ``value``, counted level by level (not by recursion, which a
    hostile value nested a thousand deep would exhaust), up to ``limit + 1``."""
    depth, level = 0, [value]
    while True:
        lists = [v for v in level if isinstance(v, list | tuple)]
        if not lists:
            return depth
        depth += 1
        if depth > limit:
            return depth
        level = [item for v in lists for item in v]


def flatten(coords) -> Iterator[float]:
    if isinstance(coords, list | tuple):
        for c in coords:
            yield from flatten(c)
    else:
        yield coords
