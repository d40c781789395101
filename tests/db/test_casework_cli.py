"""`gisapp cases`: list, show, open, step, pay, close as a named account; refusals are sentences,
never tracebacks."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gisapp.cli import main

pytestmark = pytest.mark.db


def cases(*args: str):
    return CliRunner().invoke(main, ["cases", *args])


@pytest.fixture(scope="module")
def accounts(isolated_engine, make_user):
    return make_user("bureau_admin"), make_user("zone_editor", ("waigaoqiao_ftz",))


def test_a_case_from_opening_to_closing_on_the_command_line(isolated_engine, accounts):
    admin, editor = accounts
    opened = cases("open", "zone_rectification", "--zone", "waigaoqiao_ftz", "--on", "2026-01-05",
                   "--as", admin.username)
    assert opened.exit_code == 0, opened.output
    code = opened.output.split()[1]
    assert code.startswith("ZG-2026-")
    refused = cases("step", code, "evaluation_notified", "--on", "2026-01-06", "--as", editor.username)
    assert refused.exit_code == 1 and "decision of the bureau" in refused.output
    assert "Traceback" not in refused.output
    for who, step, on in ((admin, "evaluation_notified", "2026-01-06"), (editor, "explanation_submitted", "2026-02-01"),
                          (editor, "plan_reported", "2026-03-01")):
        done = cases("step", code, step, "--on", on, "--as", who.username)
        assert done.exit_code == 0, done.output
    early = cases("close", code, "rectified", "--on", "2026-03-02", "--as", admin.username)
    assert early.exit_code == 1 and "Before closing, do: Rectification reviewed" in early.output
    shown = cases("show", code, "--as", editor.username, "--as-of", "2026-03-02")
    assert shown.exit_code == 0
    assert "Rectification plan reported" in shown.output and "due 2028-01-06" in shown.output
    listed = cases("list", "--as", editor.username, "--zone", "waigaoqiao_ftz", "--lang", "zh")
    assert code in listed.output and "园区整改" in listed.output


def test_an_unknown_account_or_case_is_a_sentence(isolated_engine, accounts):
    admin, _ = accounts
    nobody = cases("list", "--as", "no.such.user")
    assert nobody.exit_code == 1 and "there is no user named" in nobody.output
    missing = cases("show", "XZ-1999-99999", "--as", admin.username)
    assert missing.exit_code == 1 and "there is no case XZ-1999-99999" in missing.output
