"""Run the registered rules and store their findings (what `gisapp assess` does).

Inputs are read once (one consistent snapshot), every registered rule runs on the frames, and
the findings are written in ONE transaction: the run row, the previous current findings of the
same rules and zones marked ``is_current = false``, the new findings copied in with ``COPY``.
A review (confirmed / dismissed, with reason, by whom and when) of a previous current finding is
carried over to the new finding of the same rule, subject and outcome, so that rerunning does not
undo the zone offices' work; a changed outcome reopens the finding.

Example:
    >>> summary = run_assessment(get_engine(), dt.date(2026, 6, 30), ["yangshan"])  # doctest: +SKIP
    >>> summary.counts.head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gisapp.errors import GisappError, InputError
from gisapp.queries.rule_inputs import load_inputs, zone_ids_for
from gisapp.rules import registry
from gisapp.rules.base import FINDING_COLUMNS

REVIEW_COLUMNS = ["review_status", "review_reason", "reviewed_by", "reviewed_at"]
# rows of rules.findings as copied in (the rest take their defaults)
COPY_COLUMNS = ["run_id", *FINDING_COLUMNS, *REVIEW_COLUMNS, "is_current", "updated_by"]
ACTOR = "gisapp assess"
# what superseding a finding changes (the row trigger is skipped for it: sql/security/0100_*)
_SUPERSEDE = (
    "is_current = false, version = version + 1, updated_at = now(), updated_by = gisapp_meta.current_actor()"
)
# one assessment at a time: two concurrent runs of a zone would both leave "current" findings
_LOCK_KEY = 7_310_001


@dataclass
class RunSummary:
    """What a run did: its id, the counts per rule and outcome, and where the time went."""

    run_id: int
    as_of: dt.date
    zone_codes: list[str] | None
    rule_names: list[str]
    counts: pd.DataFrame
    finding_count: int
    carried_reviews: int
    superseded: int
    seconds: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """The counts as a plain-text table (rule, outcome, findings, positives)."""
        if self.counts.empty:
            return "(no findings)"
        return self.counts.to_string(index=False)


def evaluate_rules(
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None = None,
    seconds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Findings of the registered rules on already loaded frames (no database needed).

    This is the notebook face of the rules: give it frames (e.g. from :func:`load_inputs`, or
    built by hand) and get the findings frame. ``seconds`` receives the time of each module.
    """
    parts = [
        _evaluate_module(m, inputs, as_of, rule_names, seconds) for m in registry.modules_for(rule_names)
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _evaluate_module(
    module,
    inputs: dict[str, pd.DataFrame],
    as_of: dt.date,
    rule_names: Sequence[str] | None,
    seconds: dict[str, float] | None,
) -> pd.DataFrame:
    missing = [n for n in module.INPUTS if n not in inputs]
    if missing:
        raise InputError(f"rule module {module.__name__} needs input frame(s) {', '.join(missing)}")
    start = time.perf_counter()
    found = module.evaluate(inputs, as_of, inputs.get("parameter_overrides"))
    if seconds is not None:
        seconds[module.__name__.rsplit(".", 1)[-1]] = time.perf_counter() - start
    if rule_names:
        found = found[found["rule"].isin(rule_names)]
    _check(module.__name__, found)
    return found


def _check(module: str, found: pd.DataFrame) -> None:
    """A rule's output must be a findings frame with one row per rule and subject."""
    if list(found.columns) != FINDING_COLUMNS:
        raise GisappError(
            f"rule module {module} returned columns {list(found.columns)}, expected {FINDING_COLUMNS}"
        )
    for col in (
        "rule",
        "rule_version",
        "subject_type",
        "subject_id",
        "outcome",
        "explanation_zh",
        "explanation_en",
        "is_positive",
    ):
        if found[col].isna().any():
            raise GisappError(
                f"rule module {module} left {col} empty in {int(found[col].isna().sum())} finding(s)"
            )
    dup = found.duplicated(["rule", "subject_type", "subject_id"])
    if dup.any():
        first = found[dup].iloc[0]
        raise GisappError(
            f"rule module {module} returned {int(dup.sum())} duplicate finding(s), e.g. "
            f"{first['rule']} {first['subject_type']} {first['subject_id']}"
        )


def run_assessment(
    engine: Engine,
    as_of: dt.date | None = None,
    zone_codes: Sequence[str] | None = None,
    rule_names: Sequence[str] | None = None,
) -> RunSummary:
    """Assess ``zone_codes`` (all when None) with ``rule_names`` (all registered when None) as of
    ``as_of`` (today when None) and store the findings; returns a :class:`RunSummary`.

    Everything is written in one transaction: the findings of each rule module are copied in as
    soon as the module has run (so that a city-scale run never holds all findings in memory), and
    an error in any module rolls the whole run back, leaving the previous findings current.
    """
    as_of = as_of or dt.date.today()
    zone_codes = list(zone_codes) if zone_codes else None
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    modules = registry.modules_for(rule_names)
    names = [*registry.inputs_for(modules), "parameter_overrides"]
    inputs = load_inputs(engine, names, zone_codes=zone_codes, as_of=as_of)
    seconds["load_inputs"] = time.perf_counter() - t0
    ran = list(rule_names) if rule_names else [s.name for m in modules for s in m.SPECS]
    counts, total, carried = [], 0, 0

    with engine.begin() as conn:
        t1 = time.perf_counter()
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        # The findings' foreign keys lock zones and parcels row-share during the COPY. Take those
        # locks first, in the order a migration takes its table locks (land before rules), so that
        # a concurrent `gisapp migrate` makes one wait for the other instead of a deadlock.
        conn.execute(sa.text("LOCK TABLE land.zones, land.parcels IN ROW SHARE MODE"))
        conn.execute(
            sa.text("SELECT set_config('gisapp.user', :u, true), set_config('gisapp.reason', :r, true)"),
            {"u": ACTOR, "r": f"assessment as of {as_of.isoformat()}"},
        )
        zone_ids = zone_ids_for(conn, zone_codes)
        run_id = conn.execute(
            sa.text(
                "INSERT INTO rules.assessment_runs (as_of, zone_codes, rule_names, started_by) "
                "VALUES (:as_of, :zones, :rules, :by) RETURNING id"
            ),
            {"as_of": as_of, "zones": zone_codes, "rules": ran, "by": ACTOR},
        ).scalar_one()
        scope = (
            "rule = ANY(:rules) AND is_current AND (CAST(:zones AS integer[]) IS NULL "
            "OR zone_id = ANY(CAST(:zones AS integer[])))"
        )
        params = {"rules": ran, "zones": zone_ids}
        reviews = pd.DataFrame(
            conn.execute(
                sa.text(
                    f"SELECT rule, subject_type, subject_id, outcome, {', '.join(REVIEW_COLUMNS)} "
                    f"FROM rules.findings WHERE {scope} AND review_status <> 'open'"
                ),
                params,
            )
            .mappings()
            .all(),
            columns=["rule", "subject_type", "subject_id", "outcome", *REVIEW_COLUMNS],
        )
        superseded = conn.execute(
            sa.text(f"UPDATE rules.findings SET {_SUPERSEDE} WHERE {scope}"), params
        ).rowcount
        seconds["supersede"] = time.perf_counter() - t1
        for module in modules:
            key = module.__name__.rsplit(".", 1)[-1]
            rule_seconds: dict[str, float] = {}
            found = _evaluate_module(module, inputs, as_of, rule_names, rule_seconds)
            seconds[f"rule:{key}"] = rule_seconds[key]
            t2 = time.perf_counter()
            if zone_ids is not None and found["zone_id"].isna().any():
                superseded += _supersede_zoneless(conn, found)
            table, n_carried = _with_reviews(found, reviews)
            _copy_findings(conn, run_id, table)
            seconds[f"write:{key}"] = time.perf_counter() - t2
            counts.append(count_table(found))
            total += len(found)
            carried += n_carried
            del found, table
        conn.execute(
            sa.text(
                "UPDATE rules.assessment_runs SET finished_at = clock_timestamp(), finding_count = :n "
                "WHERE id = :id"
            ),
            {"n": total, "id": run_id},
        )
        t3 = time.perf_counter()
    seconds["commit"] = time.perf_counter() - t3
    seconds["total"] = time.perf_counter() - t0
    counts = [c for c in counts if not c.empty]
    return RunSummary(
        run_id=run_id,
        as_of=as_of,
        zone_codes=zone_codes,
        rule_names=ran,
        counts=pd.concat(counts, ignore_index=True) if counts else count_table(pd.DataFrame()),
        finding_count=total,
        carried_reviews=carried,
        superseded=superseded,
        seconds=seconds,
    )


def _supersede_zoneless(conn, found: pd.DataFrame) -> int:
    """Zone-less findings (e.g. of a district account) of a zone-restricted run replace the
    current finding of their own subject only."""
    loose = found[found["zone_id"].isna()][["rule", "subject_type", "subject_id"]]
    return conn.execute(
        sa.text(
            f"UPDATE rules.findings f SET {_SUPERSEDE} FROM "
            "unnest(CAST(:r AS text[]), CAST(:t AS text[]), CAST(:s AS text[])) AS x(rule, subject_type, "
            "subject_id) "
            "WHERE f.is_current AND f.zone_id IS NULL AND f.rule = x.rule AND f.subject_type = "
            "x.subject_type "
            "AND f.subject_id = x.subject_id"
        ),
        {
            "r": loose["rule"].tolist(),
            "t": loose["subject_type"].tolist(),
            "s": loose["subject_id"].astype(str).tolist(),
        },
    ).rowcount


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


def _with_reviews(findings: pd.DataFrame, reviews: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The findings with review columns: carried from the previous current finding of the same
    rule, subject and outcome when it was reviewed, else open."""
    table = findings.copy()
    table["subject_id"] = table["subject_id"].astype(str)
    for col in REVIEW_COLUMNS:
        table[col] = None
    table["review_status"] = "open"
    if reviews.empty or table.empty:
        return table, 0
    key = ["rule", "subject_type", "subject_id", "outcome"]
    reviews = reviews.drop_duplicates(key, keep="last")
    merged = table[key].merge(reviews, on=key, how="left")
    hit = merged["review_status"].notna().to_numpy()
    for col in REVIEW_COLUMNS:
        table.loc[hit, col] = merged.loc[hit, col].to_numpy()
    return table, int(hit.sum())


def _copy_text(value: str) -> str:
    """A text value escaped for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _json_column(values: pd.Series) -> list[str]:
    """COPY-ready JSON text of each dict (or already-JSON string); a dict object shared by many
    rows (the parameters of a zone) is serialized once."""
    cache: dict[int, str] = {}
    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    out: list[str] = []
    append = out.append
    for v in values.tolist():
        if v is None:
            append("{}")
            continue
        if isinstance(v, str):
            append(_copy_text(v))
            continue
        key = id(v)
        text = cache.get(key)
        if text is None:
            text = _copy_text(orjson.dumps(v, option=opts, default=str).decode())
            if len(cache) < 100_000:
                cache[key] = text
        append(text)
    return out


def _text_column(values: pd.Series) -> list[str]:
    r"""COPY-ready text (``\N`` for NULL)."""
    nat = pd.NaT
    return [
        "\\N" if v is None or v is nat or (isinstance(v, float) and math.isnan(v)) else _copy_text(str(v))
        for v in values.tolist()
    ]


def _int_column(values: pd.Series) -> list[str]:
    arr = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    out = np.char.mod("%d", np.nan_to_num(arr)).astype(object)
    out[np.isnan(arr)] = "\\N"
    return out.tolist()


def _copy_findings(conn, run_id: int, table: pd.DataFrame, chunk_rows: int = 50_000) -> None:
    """COPY the rows into rules.findings (inside the caller's transaction), as text in chunks."""
    if table.empty:
        return
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY rules.findings ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
        for start in range(0, len(table), chunk_rows):
            part = table.iloc[start : start + chunk_rows]
            n = len(part)
            as_of = [d.isoformat() if hasattr(d, "isoformat") else str(d) for d in part["as_of"].tolist()]
            cols = [
                [str(run_id)] * n,
                _text_column(part["rule"]),
                _text_column(part["rule_version"]),
                as_of,
                _int_column(part["zone_id"]),
                _int_column(part["parcel_id"]),
                _text_column(part["subject_type"]),
                _text_column(part["subject_id"]),
                _text_column(part["outcome"]),
                ["t" if v else "f" for v in part["is_positive"].tolist()],
                _json_column(part["parameters"]),
                _json_column(part["evidence"]),
                _text_column(part["explanation_zh"]),
                _text_column(part["explanation_en"]),
                _text_column(part["review_status"]),
                _text_column(part["review_reason"]),
                _text_column(part["reviewed_by"]),
                _text_column(part["reviewed_at"]),
                ["t"] * n,
                [ACTOR] * n,
            ]
            copy.write(("\n".join("\t".join(row) for row in zip(*cols)) + "\n").encode())
