"""`gisapp users add | list | disable | passwd | zones` and the demo accounts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gisapp.cli import main
from gisapp.queries import users

pytestmark = pytest.mark.db


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_users_commands(engine):
    added = run(
        "users",
        "add",
        "cli.editor",
        "--role",
        "zone_editor",
        "--zone",
        "jinqiao",
        "--password",
        "pw-cli-12345",
    )
    assert added.exit_code == 0 and "cli.editor (zone_editor: jinqiao)" in added.output
    listed = run("users", "list")
    assert any(
        line.split("\t")[:4] == ["cli.editor", "zone_editor", "jinqiao", "active"]
        for line in listed.output.splitlines()
    )
    assert users.authenticate(engine, "cli.editor", "pw-cli-12345").zone_codes == ("jinqiao",)

    assert run("users", "passwd", "cli.editor", "--password", "pw-cli-67890").exit_code == 0
    with pytest.raises(users.SignInRefused):
        users.authenticate(engine, "cli.editor", "pw-cli-12345")
    assert run("users", "zones", "cli.editor", "--zone", "jinqiao", "--zone", "qingpu").exit_code == 0
    assert users.find_account(engine, "cli.editor").zone_codes == ("jinqiao", "qingpu")

    disabled = run("users", "disable", "cli.editor")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    with pytest.raises(users.SignInRefused):
        users.authenticate(engine, "cli.editor", "pw-cli-67890")
    assert run("users", "disable", "cli.editor", "--enable").exit_code == 0
    assert users.authenticate(engine, "cli.editor", "pw-cli-67890").username == "cli.editor"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["users", "add", "x.editor", "--role", "zone_editor", "--password", "long-enough-1"],
            "at least one zone",
        ),
        (
            [
                "users",
                "add",
                "x.editor",
                "--role",
                "zone_editor",
                "--zone",
                "atlantis",
                "--password",
                "long-enough-1",
            ],
            "unknown zone code(s): atlantis",
        ),
        (
            [
                "users",
                "add",
                "x.viewer",
                "--role",
                "bureau_viewer",
                "--zone",
                "jinqiao",
                "--password",
                "long-enough-1",
            ],
            "only a zone_editor",
        ),
        (
            ["users", "add", "X Bad!", "--role", "analyst", "--password", "long-enough-1"],
            "must be 3-40 characters",
        ),
        (["users", "add", "x.short", "--role", "analyst", "--password", "short"], "at least 8 characters"),
        (
            ["users", "passwd", "nobody.at.all", "--password", "long-enough-1"],
            "no user named 'nobody.at.all'",
        ),
    ],
)
def test_bad_user_commands_say_what_is_wrong(engine, args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and message in result.output


def test_demo_accounts_sign_in_and_survive_a_reload_of_zones(engine, tmp_path):
    lines = users.ensure_demo_accounts(engine, tmp_path / "demo_accounts.txt")
    assert [line.split()[0] for line in lines] == [name for name, _r, _z in users.DEMO_ACCOUNTS]
    name, password = lines[2].split()[:2]
    assert users.authenticate(engine, name, password).zone_codes == ("waigaoqiao_ftz",)
    assert (tmp_path / "demo_accounts.txt").stat().st_mode & 0o777 == 0o600
    users.set_user_zones(engine, name, ("jiading",))
    again = users.ensure_demo_accounts(engine, tmp_path / "demo_accounts.txt")
    assert again == lines and users.find_account(engine, name).zone_codes == ("waigaoqiao_ftz",)
