"""pyproject.toml and environment.yml list the same dependencies with the same ranges."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONDA_ONLY = {"python", "postgresql", "postgis"}


def _norm(spec: str) -> tuple[str, str]:
    spec = spec.replace(" ", "")
    match = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?(.*)$", spec)
    name, _, ranges = match.groups()
    return name.lower().replace("_", "-"), ",".join(sorted(ranges.split(","))) if ranges else ""


def test_pyproject_and_environment_yml_agree():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_norm(d) for d in pyproject["dependencies"] + pyproject["optional-dependencies"]["test"])
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    from_pip = [d for entry in conda if isinstance(entry, dict) for d in entry.get("pip", [])]
    conda_deps = dict(_norm(d) for d in conda + from_pip if isinstance(d, str))
    conda_deps = {k: v for k, v in conda_deps.items() if k not in CONDA_ONLY | {"pip"}}
    assert conda_deps == pip_deps


def test_readme_opens_with_the_two_commands_and_ci_calls_the_test_one():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert blocks, "README has no command block"
    first = blocks[0].strip().splitlines()
    commands = [line for line in first if line and not line.startswith("#")]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_lock_pins_every_dependency_inside_its_range():
    """requirements.lock (what bootstrap installs) holds each dependency of pyproject.toml at one
    version its range allows: a change of range without `make lock` is caught here."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[canonicalize_name(name)] = version.strip()
    for spec in pyproject["dependencies"] + pyproject["optional-dependencies"]["test"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pinned[name]}, outside {req.specifier}: run make lock")
