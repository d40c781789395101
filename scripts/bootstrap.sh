#!/usr/bin/env bash
# Set up everything gisapp needs on this machine; quick and a no-op when run again.
#   - as root on Debian: install the missing system packages (PostGIS, Chromium + driver)
#   - a virtualenv in .venv with the package and its test extras
# As a non-root user (or in the conda env of environment.yml) nothing is installed with apt:
# PostgreSQL + PostGIS must already be there, and `gisapp db up` says so if they are not.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR="${GISAPP_PG_MAJOR:-15}"
missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # fonts-wqy-zenhei: Chinese glyphs for headless Chromium (browser tests, screenshots);
    # gdal-bin: ogrinfo, the real GIS client the tests read the tiles and OGC API with
    for pkg in "postgresql-${PG_MAJOR}" "postgresql-${PG_MAJOR}-postgis-3" chromium chromium-driver fonts-wqy-zenhei \
               gdal-bin; do
        have_pkg "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    "$PYTHON" -m venv .venv
fi

# The exact versions of requirements.lock (made by `make lock` from pyproject.toml), installed with
# uv: a newcomer and CI get the same packages, whatever was released upstream since, in seconds.
# Reinstall only when the lock or the project's metadata changed.
UV_VERSION="0.13.9"
stamp=".venv/.gisapp-deps-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing the locked Python packages into .venv (uv)"
    # pipefail keeps pip's exit status; grep only drops notes about absent local package folders
    .venv/bin/python -m pip install -q "uv==${UV_VERSION}" 2>&1 | { grep -v "is ignored: it is neither" || true; }
    .venv/bin/uv pip sync --python .venv/bin/python -q requirements.lock
    .venv/bin/uv pip install --python .venv/bin/python -q --no-deps -e .
    rm -f .venv/.gisapp-deps-*
    touch "$stamp"
fi
