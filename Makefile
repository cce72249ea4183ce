# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint sysdeps venv bench clean migration

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the suite needs (PostgreSQL server, ...); installs only what is missing.
sysdeps:
	bash scripts/install-sysdeps.sh

demo: sysdeps $(STAMP)
	$(BIN)/netwarden demo

test: sysdeps $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info

# Write the next schema migration from the table definitions: make migration MSG="what changes".
migration: $(STAMP)
	$(BIN)/python scripts/new_migration.py $(MSG)
