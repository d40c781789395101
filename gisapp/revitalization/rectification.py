"""Zone rectification (the 2021 opinions 3.5): the national results a zone receives, the flags
they raise and the cases those open.

The class a zone receives is the **published national result** (``land.zone_national_results``),
recorded per zone and year with its source: imported from a CSV (:func:`import_results`) or
entered by a bureau admin (:func:`record_result`). The project's own ranking
(gisapp.rules.zone_performance) ranks only the zones of this database and is shown as an estimate;
nothing here reads it.

The flags (``land.zone_rectification_flags``, sql/views/0960_revitalization.sql; the parameters
from gisapp.revitalization.params), for each zone's latest evaluated year:

- **rectification**: evaluated below the average of its region (the eastern region for
  Shanghai's zones): an explanation and a rectification plan reported to the city leader in charge;
- **interview** (约谈): below it in each of the ``rectify_years`` + 1 years up to then, i.e. not
  rectified within the ``rectify_years`` (2) years after the first;
- **exit**: set up ``exit_min_years`` (5) full years by the day of the flags, and class C
  nationally and regionally, among the national bottom ``exit_bottom_n`` (5), in each of the last
  ``exit_years`` (2) evaluated years.

:func:`open_due_cases` opens a zone_rectification case (through the casework core's
:func:`gisapp.casework.queries.open_case`, as a bureau admin) for a flagged zone that has no open
one and none opened since the evaluated year ended: the rectification pathway for a zone below
the average, the exit procedure for a zone the exit flag names. An interview is a step of the open
rectification case (the flag says it is due).

Example:
    >>> flags(engine, as_of=dt.date(2026, 6, 30))[["zone_code", "year", "rectification"]]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.casework.queries import open_case
from gisapp.casework.queries.common import overrides as read_overrides
from gisapp.db.context import Actor
from gisapp.errors import InputError
from gisapp.queries.edit_errors import editing
from gisapp.revitalization.params import rectification_provenance

CLASSES = ("A", "B", "C")
#: the columns of an import file (the first five are required)
COLUMNS = ("zone", "year", "national_class", "below_region_average", "source", "regional_class", "national_rank",
           "national_count", "score", "region_average", "published_on", "note")
REQUIRED = COLUMNS[:5]
_TRUE = {"true", "t", "yes", "y", "1", "是", "低于"}
_FALSE = {"false", "f", "no", "n", "0", "否", "不低于"}


@dataclass(frozen=True)
class Opened:
    """A case opened for a flag: the zone, the flag's year, the pathway and the case's code."""

    zone_code: str
    year: int
    pathway: str
    case_code: str


def _live_as_of(conn) -> dt.date:
    return conn.execute(sa.text("SELECT rules.live_as_of()")).scalar_one()


def flags(engine: Engine, as_of: dt.date | None = None) -> pd.DataFrame:
    """One row per zone with a published result: its latest year up to ``as_of``'s year (default:
    the day findings are as of), that year's result, the runs of years below the average and of
    exit years, and the three flags; with the parameters used (``params``: value, source, date)."""
    with engine.connect() as conn:
        day = as_of or _live_as_of(conn)
        values, prov = rectification_provenance(read_overrides(conn), as_of=day)
        frame = pd.read_sql(sa.text(
            "SELECT f.*, z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en "
            "FROM land.zone_rectification_flags(:d, :ry, :my, :ey, :bn, :cls) f JOIN land.zones z ON z.id = f.zone_id "
            "ORDER BY z.kind = 'benchmark', z.id"), conn,
            params={"d": day, "ry": int(values["rectify_years"]), "my": int(values["exit_min_years"]),
                    "ey": int(values["exit_years"]), "bn": int(values["exit_bottom_n"]), "cls": values["exit_class"]})
    frame.attrs["as_of"] = day
    frame.attrs["params"] = prov
    return frame


def results(engine: Engine, zone: str | None = None) -> pd.DataFrame:
    """The published results recorded (of ``zone``, a code, or all), latest year first."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT z.code AS zone_code, z.name_zh AS zone_name_zh, z.name_en AS zone_name_en, r.year, "
            "r.national_class, r.regional_class, r.national_rank, r.national_count, r.below_region_average, "
            "r.score, r.region_average, r.source, r.published_on, r.note, r.updated_by, r.updated_at "
            "FROM land.zone_national_results r JOIN land.zones z ON z.id = r.zone_id "
            "WHERE CAST(:zone AS text) IS NULL OR z.code = :zone ORDER BY r.year DESC, z.id"),
            conn, params={"zone": zone})


# -- recording the published results -------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _int(value: Any, what: str) -> int | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise InputError(f"{what} must be a whole number, not {text[:20]!r}")
    return int(text)


def _number(value: Any, what: str) -> float | None:
    if _blank(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InputError(f"{what} must be a number, not {str(value)[:20]!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InputError(f"{what} must be a finite number")
    return number


def _class(value: Any, what: str, required: bool) -> str | None:
    if _blank(value):
        if required:
            raise InputError(f"{what} is required (A, B or C)")
        return None
    text = str(value).strip().upper().removesuffix("类").removesuffix("CLASS").strip()
    if text not in CLASSES:
        raise InputError(f"{what} must be A, B or C, not {str(value)[:20]!r}")
    return text


def _bool(value: Any, what: str) -> bool:
    text = "" if _blank(value) else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{what} must be true or false (是/否), not {str(value)[:20]!r}")


def _day(value: Any, what: str) -> dt.date | None:
    if _blank(value):
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{what} must be a date YYYY-MM-DD, not {str(value)[:20]!r}") from None


def parse_result(data: Mapping[str, Any], default_source: str | None = None) -> dict[str, Any]:
    """One result as the table takes it, from text values (a CSV row, command-line options);
    InputError naming the column that is wrong."""
    source = data.get("source")
    source = default_source if _blank(source) else str(source).strip()
    if not source:
        raise InputError("source is required: say where the result was published (document, date)")
    zone = "" if _blank(data.get("zone")) else str(data["zone"]).strip()
    if not zone:
        raise InputError("zone is required (the zone's code)")
    year = _int(data.get("year"), "year")
    if year is None:
        raise InputError("year is required (the year evaluated)")
    return {
        "zone": zone, "year": year,
        "national_class": _class(data.get("national_class"), "national_class", True),
        "regional_class": _class(data.get("regional_class"), "regional_class", False),
        "national_rank": _int(data.get("national_rank"), "national_rank"),
        "national_count": _int(data.get("national_count"), "national_count"),
        "below_region_average": _bool(data.get("below_region_average"), "below_region_average"),
        "score": _number(data.get("score"), "score"),
        "region_average": _number(data.get("region_average"), "region_average"),
        "source": source[:500], "published_on": _day(data.get("published_on"), "published_on"),
        "note": None if _blank(data.get("note")) else str(data["note"]).strip()[:2000],
    }


_UPSERT = sa.text("""
    INSERT INTO land.zone_national_results (zone_id, year, national_class, regional_class, national_rank, national_count,
                                            below_region_average, score, region_average, source, published_on, note)
    SELECT z.id, :year, :national_class, :regional_class, :national_rank, :national_count, :below_region_average,
           :score, :region_average, :source, :published_on, :note
    FROM land.zones z WHERE z.code = :zone
    ON CONFLICT (zone_id, year) DO UPDATE SET
        national_class = EXCLUDED.national_class, regional_class = EXCLUDED.regional_class,
        national_rank = EXCLUDED.national_rank, national_count = EXCLUDED.national_count,
        below_region_average = EXCLUDED.below_region_average, score = EXCLUDED.score,
        region_average = EXCLUDED.region_average, source = EXCLUDED.source, published_on = EXCLUDED.published_on,
        note = EXCLUDED.note
    RETURNING id""")


def write_results(engine: Engine, actor: Actor, rows: list[tuple[str, dict[str, Any]]], why: str) -> int:
    """Write parsed results as ``actor`` in one transaction (row-level security: a bureau admin);
    ``rows``: (where it came from, values)."""
    with editing(engine, actor, why, table_hint="zone_national_results") as conn:
        for where, row in rows:
            try:
                with conn.begin_nested():
                    written = conn.execute(_UPSERT, row).first()
            except sa.exc.IntegrityError as exc:
                raise InputError(f"{where}: {str(exc.orig).splitlines()[0]}") from None
            if written is None:
                raise InputError(f"{where}: there is no zone {row['zone']!r}")
    return len(rows)


def record_result(engine: Engine, actor: Actor, data: Mapping[str, Any]) -> int:
    """Enter (or correct) one zone's published result for a year, as a bureau admin; returns 1."""
    row = parse_result(data)
    return write_results(engine, actor, [(f"{row['zone']} {row['year']}", row)],
                  f"national evaluation result {row['year']} of {row['zone']} ({row['source'][:200]})")


def read_results_csv(text: str, default_source: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The rows of an import file (UTF-8 CSV with a header naming :data:`COLUMNS`), each parsed,
    or InputError naming the line and the column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header and not (c == "source" and default_source)]
    if missing:
        raise InputError(f"the file has no column {', '.join(missing)} (columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError(f"unknown column(s) {', '.join(unknown)} (columns: {', '.join(COLUMNS)})")
    rows = []
    for line, raw in enumerate(reader, start=2):
        values = {k.strip(): v for k, v in raw.items() if k}
        try:
            rows.append((f"line {line}", parse_result(values, default_source)))
        except InputError as exc:
            raise InputError(f"line {line}: {exc}") from None
    if not rows:
        raise InputError("the file holds no results")
    seen: dict[tuple[str, int], str] = {}
    for where, row in rows:
        key = (row["zone"], row["year"])
        if key in seen:
            raise InputError(f"{where}: {row['zone']} {row['year']} is also on {seen[key]}")
        seen[key] = where
    return rows


def import_results(engine: Engine, actor: Actor, path: str | Path, source: str | None = None) -> int:
    """Import a CSV of published results, all or nothing (``source``: for rows that give none)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    rows = read_results_csv(text, source)
    return write_results(engine, actor, [(f"{path.name} {where}", row) for where, row in rows],
                  f"national evaluation results imported from {path.name}")


# -- the cases the flags open ------------------------------------------------------------------------


def _answered(engine: Engine, zone_id: int, year: int) -> bool:
    """Whether a zone_rectification case of the zone is open, or was opened after ``year`` ended
    (the result of a year is published after it: such a case answers it)."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM land.cases WHERE kind = 'zone_rectification' AND zone_id = :z "
            "AND (closed_on IS NULL OR opened_on > make_date(:y, 12, 31)))"), {"z": zone_id, "y": year}).scalar())


def due_cases(frame: pd.DataFrame) -> Iterable[tuple[pd.Series, str]]:
    """(flag row, pathway) for each flagged zone: the exit procedure where the exit flag is set,
    else the rectification pathway where the zone is below the average."""
    for _, row in frame.iterrows():
        if row["exit_due"]:
            yield row, "zr_exit"
        elif row["rectification"]:
            yield row, "zr_rectification"


def open_due_cases(engine: Engine, actor: Actor, as_of: dt.date | None = None, *, opened_on: dt.date | None = None,
                   note: str | None = None) -> list[Opened]:
    """Open a zone_rectification case for each flagged zone that has none answering its latest
    result (see the module's docstring), as ``actor`` (a bureau admin), on ``opened_on`` (default
    today), with ``note`` before what the case was opened for; the cases opened."""
    frame = flags(engine, as_of)
    opened = []
    for row, pathway in due_cases(frame):
        if _answered(engine, int(row["zone_id"]), int(row["year"])):
            continue
        why = ("exit_due" if pathway == "zr_exit" else "interview" if row["interview"] else "rectification")
        text = (f"{note + '；' if note else ''}{row['year']} 年国家评估结果：全国 {row['national_class']} 类"
                f"{'，区域 ' + row['regional_class'] + ' 类' if row['regional_class'] else ''}"
                f"{'，低于东部地区平均水平' if row['below_region_average'] else ''}（{row['source']}）；"
                f"flag: {why}")
        result = open_case(engine, actor, {"kind": "zone_rectification", "pathway": pathway,
                                           "zone": row["zone_code"], "note": text[:2000],
                                           "opened_on": opened_on})
        opened.append(Opened(row["zone_code"], int(row["year"]), pathway, result.case_code))
    return opened
