"""The validation report: one line per (feature or row, field, problem), with its severity.

Problems are collected column-wise (a mask over a million rows costs one array), and labels such
as ``feature 17 (code WGQ-00017)`` are made only for the lines shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

ERROR, WARNING, INFO = "error", "warning", "info"
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
_ZH = {ERROR: "错误", WARNING: "警告", INFO: "提示"}


@dataclass
class Report:
    """Problems found in one file. ``ok`` when there is no error (warnings do not block)."""

    file: str
    kind: str
    id_kind: str = "feature"
    ids: np.ndarray | None = None
    codes: np.ndarray | None = None
    _parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, severity: str, field_name: str, problem, positions=None) -> None:
        """Record a problem for rows at ``positions`` (None: the whole file).

        ``problem`` is one sentence for all those rows, or an array with one per row.
        """
        if positions is None:
            pos = np.array([-1])
        else:
            pos = np.asarray(positions, dtype=np.int64).ravel()
            if pos.size == 0:
                return
        probs = problem if isinstance(problem, (list, np.ndarray, pd.Series)) else [problem] * pos.size
        self._parts.append(pd.DataFrame({"pos": pos, "severity": severity, "field": field_name,
                                         "problem": np.asarray(probs, dtype=object)}))

    def extend(self, other: Report) -> None:
        """Add the problems recorded in ``other`` (a report of the same file), after these."""
        self._parts.extend(other._parts)

    def fresh(self) -> Report:
        """An empty report of the same file and rows (for checks whose problems join this one later)."""
        return Report(self.file, self.kind, self.id_kind, self.ids, self.codes)

    def absorb(self, other: Report, offset: int) -> None:
        """Add the problems of ``other``, the report of a chunk of this file starting at position
        ``offset``: its rows' positions are shifted; a whole-file problem already recorded (each
        chunk finds the same missing CRS) is kept once."""
        seen = {(s, f, p) for part in self._parts for s, f, p in
                part.loc[part["pos"] < 0, ["severity", "field", "problem"]].itertuples(index=False)}
        for part in other._parts:
            whole = (part["pos"] < 0).to_numpy()
            if whole.any():
                keys = list(part.loc[whole, ["severity", "field", "problem"]].itertuples(index=False, name=None))
                fresh = np.array([k not in seen for k in keys])
                seen.update(keys)
                keep = ~whole
                keep[np.flatnonzero(whole)[fresh]] = True
                part = part[keep]
            if len(part):
                part = part.assign(pos=np.where(part["pos"].to_numpy() >= 0, part["pos"].to_numpy() + offset, -1))
                self._parts.append(part)

    def _all(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({"pos": pd.Series(dtype="int64"), "severity": pd.Series(dtype=object),
                                 "field": pd.Series(dtype=object), "problem": pd.Series(dtype=object)})
        frame = pd.concat(self._parts, ignore_index=True)
        frame["_s"] = frame["severity"].map(_SEVERITY_ORDER)
        return frame.sort_values(["_s", "pos"], kind="stable").drop(columns="_s").reset_index(drop=True)

    def count(self, severity: str) -> int:
        return int(sum((p["severity"] == severity).sum() for p in self._parts))

    @property
    def errors(self) -> int:
        return self.count(ERROR)

    @property
    def warnings(self) -> int:
        return self.count(WARNING)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def error_positions(self) -> np.ndarray:
        pos = [p.loc[p["severity"] == ERROR, "pos"].to_numpy() for p in self._parts]
        return np.unique(np.concatenate(pos)) if pos else np.array([], dtype=np.int64)

    def where(self, pos: int) -> str:
        """``feature 17 (code WGQ-00017)``, ``row 5``, or ``file`` for whole-file problems."""
        if pos < 0 or self.ids is None:
            return "file"
        label = f"{self.id_kind} {self.ids[pos]}"
        if self.codes is not None:
            code = self.codes[pos]
            if isinstance(code, str) and code:
                label += f" (code {code[:40]})"
        return label

    def table(self) -> pd.DataFrame:
        """All problems: file, where, field, problem, severity."""
        frame = self._all()
        return pd.DataFrame({"file": self.file, "where": [self.where(int(p)) for p in frame["pos"]],
                             "field": frame["field"], "problem": frame["problem"], "severity": frame["severity"]})

    def lines(self, limit: int | None = 50) -> list[str]:
        """Report lines, errors first: ``file: where: field: problem``."""
        frame = self._all()
        shown = frame if limit is None else frame.head(limit)
        out = [f"{self.file}: {self.where(int(r.pos))}: {r.field}: {r.problem}"
               + ("" if r.severity == ERROR else f" [{r.severity}]") for r in shown.itertuples()]
        if limit is not None and len(frame) > limit:
            out.append(f"... and {len(frame) - limit} more (write them all with --report FILE)")
        return out

    def summary(self, wrote: bool) -> str:
        head = (f"{self.file}: {self.errors} error(s), {self.warnings} warning(s) "
                f"({_ZH[ERROR]} {self.errors}，{_ZH[WARNING]} {self.warnings})")
        if self.errors:
            head += " - nothing was written (未写入任何数据)"
        elif not wrote:
            head += " - dry run, nothing written (试运行，未写入)"
        return head

    def text(self, wrote: bool = False, limit: int | None = 50) -> str:
        return "\n".join([self.summary(wrote), *self.lines(limit)])

    def to_csv(self, path: str | Path) -> None:
        self.table().to_csv(path, index=False, encoding="utf-8-sig")


# -- the report in a page's language, with a form's words --------------------------------------------

@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern, str]]:
    """``(pattern of the command line's sentence, i18n key)`` of every problem in gisapp.i18n."""
    from gisapp.i18n import TEXTS

    out = []
    for key, entry in TEXTS.items():
        if key.startswith("import.problem.") and "cli" in entry:
            parts = re.split(r"\{(\w+)\}", entry["cli"])
            regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
            out.append((re.compile(f"^{regex}$", re.DOTALL), key))
    return out


_FLAG = re.compile(r"--(?:repair|update-existing|crs|encoding|layer)\b")


def localise(problem: str, lang: str) -> str:
    """``problem`` (a sentence as the command line prints it) as a web page in ``lang`` shows it:
    translated where gisapp.i18n has it, the import form's words instead of command-line options.

    Example:
        >>> localise("invalid geometry: Self-intersection[1 2] (rerun with --repair to fix it)", "zh")
        '几何无效：Self-intersection[1 2]（勾选“自动修复无效几何”后重新提交可修复）'
    """
    from gisapp.i18n import TEXTS

    for pattern, key in _patterns():
        match = pattern.match(problem)
        if match is not None:
            values = {k: localise(v, lang) if k.startswith("problem") else v for k, v in match.groupdict().items()}
            entry = TEXTS[key]
            return (entry.get(lang) or entry["en"]).format(**values)
    return _FLAG.sub(lambda m: TEXTS[f"import.flag.{m.group(0)}"][lang], problem)


def localised_table(report: Report, lang: str, limit: int | None = 1000) -> tuple[list[dict], int]:
    """The report's lines for a web page in ``lang`` (at most ``limit``; a page of a million rows
    helps nobody) and how many were left out."""
    from gisapp.i18n import t

    frame = report._all()
    shown = frame if limit is None else frame.head(limit)
    rows = [{"where": report.where(int(r.pos)), "field": r.field, "problem": localise(str(r.problem), lang),
             "severity": r.severity, "severity_label": t(f"import.severity.{r.severity}", lang)}
            for r in shown.itertuples()]
    return rows, len(frame) - len(shown)


def localised_summary(report: Report, lang: str, wrote: bool) -> str:
    from gisapp.i18n import t

    head = t("import.summary", lang, file=report.file, errors=report.errors, warnings=report.warnings)
    if report.errors:
        head += " - " + t("import.summary.refused", lang)
    elif not wrote:
        head += " - " + t("import.summary.dry_run", lang)
    return head
