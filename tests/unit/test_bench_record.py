"""bench/record.py: a run's row lands in the History table of docs/benchmarks.md and its report in
the run log; the five benchmark scripts that record import it without running."""

from __future__ import annotations

import datetime as dt
import runpy
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
RECORDING_SCRIPTS = ("assess_1m", "assess_rules_part2", "edit_load", "import_export_1m", "viewport_bench")


@pytest.fixture
def record_module(monkeypatch):
    # as `.venv/bin/python bench/<script>.py` runs them: bench/ first on sys.path
    monkeypatch.syspath_prepend(str(BENCH))
    import record

    return record


@pytest.fixture
def docs(tmp_path):
    doc, runs = tmp_path / "benchmarks.md", tmp_path / "benchmark-runs.md"
    shutil.copy(ROOT / "docs" / "benchmarks.md", doc)
    shutil.copy(ROOT / "docs" / "benchmark-runs.md", runs)
    return doc, runs


def table_rows_under(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line.startswith("|")]


def test_the_row_lands_at_the_end_of_the_history_table_and_nowhere_else(record_module, docs):
    doc, runs = docs
    before = doc.read_text(encoding="utf-8")
    history_before = table_rows_under(before, "## History")
    record_module.record(
        "edit_load", "0 lost of 4435 saved, 73.6 edits/s", "1.27x | direct", "load avg 0.9",
        ".venv/bin/python bench/edit_load.py", "- editors: 20", when=dt.date(2031, 2, 3), doc=doc, runs=runs,
    )
    after = doc.read_text(encoding="utf-8")
    history = table_rows_under(after, "## History")
    row = "| 2031-02-03 | edit_load | 0 lost of 4435 saved, 73.6 edits/s | 1.27x \\| direct | load avg 0.9 |"
    assert history == [*history_before, row]  # after the last row, a pipe in a cell escaped
    assert after.count("2031-02-03") == 1
    # everything else unchanged: the current figures above, nothing below the table
    assert after.replace(row + "\n", "", 1) == before
    assert "2031-02-03" not in "\n".join(table_rows_under(after, "## Current figures (one row per goal)"))


def test_the_details_go_to_the_end_of_the_run_log_under_a_dated_heading(record_module, docs):
    doc, runs = docs
    before = runs.read_text(encoding="utf-8")
    details = "| viewport | ratio |\n|---|---|\n| z16 random | 1.43x |\n\n- first parcels painted: 1.17 s"
    record_module.record("viewport_bench", "29 ms", "1.05x", "quiet", ".venv/bin/python bench/viewport_bench.py",
                         details, when=dt.date(2031, 2, 3), doc=doc, runs=runs)
    after = runs.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # appended: the old text stays as it was
    entry = after[len(before.rstrip("\n")):]
    assert entry == (
        "\n\n## viewport_bench, 2031-02-03\n\n"
        "Command: `.venv/bin/python bench/viewport_bench.py`\n\n" + details + "\n"
    )
    assert "2031-02-03" not in doc.read_text(encoding="utf-8").split("## History")[0]


def test_two_runs_keep_their_order(record_module, docs):
    doc, runs = docs
    for n in (1, 2):
        record_module.record("assess_1m", f"{n} s", "-", "-", "x", f"run {n}", when=dt.date(2031, 2, n),
                             doc=doc, runs=runs)
    rows = table_rows_under(doc.read_text(encoding="utf-8"), "## History")
    assert [r.split(" | ")[0] for r in rows[-2:]] == ["| 2031-02-01", "| 2031-02-02"]
    log = runs.read_text(encoding="utf-8")
    assert log.index("## assess_1m, 2031-02-01") < log.index("## assess_1m, 2031-02-02")


def test_missing_history_section_and_run_log_are_made(record_module, tmp_path):
    doc, runs = tmp_path / "benchmarks.md", tmp_path / "benchmark-runs.md"
    doc.write_text("# Benchmarks\n\n## Current figures\n\n| goal |\n|---|\n| a |\n", encoding="utf-8")
    record_module.record("edit_load", "f", "r", "n", "c", "d", when=dt.date(2031, 2, 3), doc=doc, runs=runs)
    text = doc.read_text(encoding="utf-8")
    assert table_rows_under(text, "## History")[-1] == "| 2031-02-03 | edit_load | f | r | n |"
    assert table_rows_under(text, "## Current figures") == ["| goal |", "|---|", "| a |"]
    assert runs.read_text(encoding="utf-8").startswith("# Benchmark run log\n")


def test_the_real_docs_have_the_history_table_and_the_run_log():
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    header = table_rows_under(text, "## History")[0]
    assert header == "| date | benchmark | figure | ratio to its reference | machine load / note |"
    assert "figures of record are in" in (ROOT / "docs" / "benchmark-runs.md").read_text(encoding="utf-8")


def test_command_line_drops_the_recording_flag(record_module):
    assert record_module.command_line("edit_load.py", ["--no-record", "--editors", "5"], drop=["--no-record"]) == (
        ".venv/bin/python bench/edit_load.py --editors 5"
    )
    assert record_module.command_line("assess_1m.py", ["--note", "tests ran"], env="GISAPP_DB_NAME=x") == (
        "GISAPP_DB_NAME=x .venv/bin/python bench/assess_1m.py --note 'tests ran'"
    )


@pytest.mark.parametrize("script", RECORDING_SCRIPTS)
def test_each_script_imports_without_running_and_records_through_record_py(record_module, script):
    source = (BENCH / f"{script}.py").read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":' in source
    assert "write_text" not in source and ".open(" not in source  # the docs are written by record.py only
    namespace = runpy.run_path(str(BENCH / f"{script}.py"), run_name="bench_import_check")
    assert namespace["record"] is record_module.record
