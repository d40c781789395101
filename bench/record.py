"""Record a benchmark run: one row in the History table of docs/benchmarks.md, and the run's full
report under a dated heading in docs/benchmark-runs.md.

Every script in bench/ records through :func:`record`, so the two documents keep one shape.
The scripts are run as ``.venv/bin/python bench/<script>.py``, which puts bench/ first on
``sys.path``: ``from record import record`` finds this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RUNS = ROOT / "docs" / "benchmark-runs.md"
HISTORY_HEADING = "## History"
HISTORY_HEADER = (
    "| date | benchmark | figure | ratio to its reference | machine load / note |\n"
    "|---|---|---|---|---|"
)
RUNS_TITLE = (
    "# Benchmark run log\n\n"
    "Run log: the detailed output of each run, oldest first; the figures of record are in "
    "docs/benchmarks.md.\n"
)


def cell(text: str) -> str:
    """Text fit for one cell of a Markdown table: one line, no bare column separator."""
    return " ".join(str(text).split()).replace("|", "\\|") or "-"


def command_line(script: str, args: Sequence[str], *, drop: Sequence[str] = (), env: str = "") -> str:
    """The command that made a run, as it can be typed again: ``env .venv/bin/python bench/<script> args``,
    without the flags in ``drop`` (e.g. the one that asks for recording)."""
    kept = [a for a in args if a not in drop]
    return " ".join(p for p in (env, ".venv/bin/python", f"bench/{script}", shlex.join(kept)) if p)


def fenced(text: str) -> str:
    """Printed output as a Markdown code block (aligned columns stay aligned)."""
    return "```text\n" + text.rstrip("\n") + "\n```"


class _Tee(io.TextIOBase):
    """Writes to the terminal's stream and to a copy; asks the terminal's stream the rest."""

    def __init__(self, *streams):
        self.streams = streams

    @property
    def encoding(self):
        return getattr(self.streams[0], "encoding", "utf-8")

    def fileno(self) -> int:
        return self.streams[0].fileno()

    def isatty(self) -> bool:
        return self.streams[0].isatty()

    def write(self, s: str) -> int:
        for stream in self.streams:
            stream.write(s)
        return len(s)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """Print as usual and keep a copy of everything printed to stdout: the report to record."""
    copy = io.StringIO()
    out = sys.stdout
    sys.stdout = _Tee(out, copy)
    try:
        yield copy
    finally:
        sys.stdout = out


def _insert_history_row(text: str, row: str) -> str:
    """``text`` with ``row`` after the last row of the table under the History heading (the
    section and its table are added at the end when missing)."""
    lines = text.splitlines()
    head = next((i for i, line in enumerate(lines) if line.strip() == HISTORY_HEADING), None)
    if head is None:
        return text.rstrip("\n") + f"\n\n{HISTORY_HEADING}\n\n{HISTORY_HEADER}\n{row}\n"
    end = next((i for i in range(head + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    first = next((i for i in range(head + 1, end) if lines[i].startswith("|")), None)
    if first is None:  # the heading without its table
        lines[head + 1:head + 1] = ["", *HISTORY_HEADER.splitlines(), row]
    else:
        last = first
        while last + 1 < end and lines[last + 1].startswith("|"):
            last += 1
        lines.insert(last + 1, row)
    return "\n".join(lines) + "\n"


def record(bench: str, figure: str, ratio: str, note: str, command: str, details: str, *,
           when: dt.date | None = None, doc: Path = DOC, runs: Path = RUNS) -> None:
    """Record one run of ``bench`` (the script's name without ``.py``, e.g. ``edit_load``).

    ``figure``, ``ratio`` (to the reference measured in the same run) and ``note`` (machine load,
    what else ran) make the run's row of the History table in ``doc``; ``details`` (the full report
    the script printed, Markdown) goes with ``command`` under ``## <bench>, <date>`` at the end of
    the run log ``runs``."""
    day = (when or dt.date.today()).isoformat()
    row = f"| {day} | {cell(bench)} | {cell(figure)} | {cell(ratio)} | {cell(note)} |"
    doc.write_text(_insert_history_row(doc.read_text(encoding="utf-8"), row), encoding="utf-8")
    log = runs.read_text(encoding="utf-8") if runs.exists() else RUNS_TITLE
    entry = f"## {bench}, {day}\n\nCommand: `{command}`\n\n{details.strip(chr(10))}\n"
    runs.write_text(log.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    print(f"recorded in {_shown(doc)} (History) and {_shown(runs)}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)
