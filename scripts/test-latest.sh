#!/usr/bin/env bash
# Run the suite on the newest versions of every dependency pyproject.toml allows (not the pins of
# constraints.txt), in a fresh virtual environment .venv-latest, so drift is seen before it bites.
# Prints which versions differ from constraints.txt first. Extra arguments go to pytest
# (e.g. scripts/test-latest.sh -m "not slow"). After a green run, `scripts/lock.sh .venv-latest`
# pins those versions. Run weekly (.ci/latest) or before raising a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=${VENV_LATEST:-.venv-latest}
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev]'
"$VENV/bin/pip" freeze --disable-pip-version-check --exclude netwarden > "$VENV/versions.txt"
"$VENV/bin/python" scripts/drift.py constraints.txt "$VENV/versions.txt" || true
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/python" -m pytest -q "$@"
