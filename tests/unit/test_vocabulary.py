"""One name per code: gisapp.i18n defines each label once, and the rules name things with it."""

import ast
from pathlib import Path

import gisapp.i18n
from gisapp.i18n import TEXTS
from gisapp.rules import grants


def _keys_written(module) -> list[str]:
    """Every label key written in the module's dict literals, as often as it is written."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return [k.value for node in ast.walk(tree) if isinstance(node, ast.Dict)
            for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str) and "." in k.value]


def test_no_label_is_defined_twice():
    keys = _keys_written(gisapp.i18n)
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert twice == [], f"defined twice (the later one silently wins): {twice}"


def test_the_grant_rule_names_review_stages_as_the_app_does():
    assert grants.STAGE_ZH == {s: TEXTS[f"stage.{s}"]["zh"] for s in ("acceptance", "production", "periodic")}
    assert len(set(grants.STAGE_ZH.values())) == 3


def test_every_rule_module_declares_its_own_facts():
    """What the scheduler and the scale-out need to know about a rule is declared on the rule."""
    from gisapp.rules.registry import rule_modules

    for module in rule_modules():
        assert isinstance(module.ZONE_LOCAL, bool), module.__name__
        assert module.TYPICAL_SECONDS > 0, module.__name__
