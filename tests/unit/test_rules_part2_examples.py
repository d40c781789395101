"""The examples in the docstrings of the rule helpers and the zone-level rules run and give what they show."""

from __future__ import annotations

import doctest

import pytest

from gisapp.rules import (
    assessment_coverage,
    boundary_qa,
    common,
    green_balance,
    idle_clock,
    quotas,
    zone_performance,
)


@pytest.mark.parametrize("module", [common, green_balance, quotas, zone_performance, assessment_coverage,
                                    boundary_qa, idle_clock], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
