"""The bureau's parameter values: checked against the rule, listed with what is in force, set
with a source and a date (audited), their history; an override nobody uses is reported."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gisapp.cli import main
from gisapp.errors import InputError
from gisapp.rules.overrides import check_value, list_params, param_history, set_param, unknown_overrides

pytestmark = pytest.mark.db


@pytest.mark.parametrize("rule, name, value, message", [
    ("idle_lands", "idle_years", "2", "there is no rule 'idle_lands'"),
    ("idle_land", "idle_year", "2", "rule idle_land has no parameter 'idle_year'; its parameters: idle_years"),
    ("idle_land", "idle_years", '"two"', "idle_land.idle_years takes a whole number (default 1), not \"two\""),
    ("idle_land", "idle_years", "1.5", "takes a whole number"),
    ("idle_land", "idle_years", "true", "takes a whole number"),
    ("idle_land", "fee_rate", "twenty", "is not a value"),
    ("idle_land", "fee_rate", "NaN", "must be a finite number"),
    ("idle_land", "fee_rate", "1e999", "must be a finite number"),
    ("per_mu", "class_cuts", '"0.25"', "takes a list"),
])
def test_a_value_that_does_not_fit_the_parameter_is_refused(rule, name, value, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_value(rule, name, value)


def test_a_value_of_the_parameters_kind_is_taken_as_it():
    assert check_value("idle_land", "idle_years", "2") == 2
    assert check_value("idle_land", "fee_rate", "1") == 1.0 and isinstance(check_value("idle_land", "fee_rate", 1), float)


def test_set_list_and_history_of_a_zone_value(isolated_engine):
    set_param(isolated_engine, "idle_land", "idle_years", "2", source="区政府 2026 年文件 第 3 条",
              effective_from=dt.date(2026, 1, 1), zone="yangshan")
    in_yangshan = {(p.rule, p.name): p for p in list_params(isolated_engine, "idle_land", zone="yangshan")}
    elsewhere = {(p.rule, p.name): p for p in list_params(isolated_engine, "idle_land", zone="jiading")}
    assert in_yangshan["idle_land", "idle_years"].value == 2 and in_yangshan["idle_land", "idle_years"].overridden
    assert elsewhere["idle_land", "idle_years"].value == 1 and not elsewhere["idle_land", "idle_years"].overridden
    # the same rule, zone and date again replaces the value; the history keeps both
    set_param(isolated_engine, "idle_land", "idle_years", "3", source="更正", effective_from=dt.date(2026, 1, 1),
              zone="yangshan")
    history = param_history(isolated_engine, "idle_land", "idle_years")
    assert list(history["action"]) == ["DEFAULT", "INSERT", "UPDATE"]
    assert list(history["value"]) == [1, 2, 3] and history["changed_by"].iloc[-1] == "gisapp-cli"


def test_the_cli_sets_and_lists_and_refuses_with_a_sentence(isolated_engine):
    runner = CliRunner()
    done = runner.invoke(main, ["params", "set", "idle_land", "fee_rate", "0.25", "--source", "test source",
                                "--from", "2025-07-01"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(main, ["params", "list", "--rule", "idle_land"])
    assert "* idle_land.fee_rate = 0.25  [test source; from 2025-07-01]" in listed.output
    refused = runner.invoke(main, ["params", "set", "idle_land", "fee_rate", "lots", "--source", "x",
                                   "--from", "2025-07-01"])
    assert refused.exit_code != 0 and "is not a value" in refused.output and "Traceback" not in refused.output
    far = runner.invoke(main, ["params", "set", "idle_land", "fee_rate", "0.2", "--source", "x",
                               "--from", "2025-07-01", "--year", "99999"])
    assert far.exit_code != 0 and "the year 99999" in far.output and "Traceback" not in far.output


def test_an_override_no_rule_uses_is_reported(isolated_engine):
    with isolated_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO rules.parameter_overrides (rule, name, value, source, effective_from) "
                             "VALUES ('idle_land', 'idle_yeras', CAST(:v AS jsonb), 'typo', current_date)"),
                     {"v": json.dumps(2)})
    assert any("idle_land.idle_yeras, which no rule has" in p for p in unknown_overrides(isolated_engine))
