# The two commands of the README. Both set everything up first (scripts/bootstrap.sh).
.PHONY: demo test bootstrap lint bench lock

bootstrap:
	@bash scripts/bootstrap.sh

## Serve the web map on synthetic demo data at http://127.0.0.1:8050
demo: bootstrap
	.venv/bin/gisapp demo

## Run the whole test suite (database tests on the project's own PostGIS, browser tests in Chromium)
test: bootstrap
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint: bootstrap
	.venv/bin/python -m ruff check gisapp tests bench

## Pin every Python package anew from pyproject.toml (then run make test, and commit the lock)
lock: bootstrap
	.venv/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 -q --no-annotate --custom-compile-command "make lock" -o requirements.lock
