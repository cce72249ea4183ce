# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The exact versions the suite is tested with (docs/operations.md); `make lock` refreshes it.
LOCK := constraints.txt

.PHONY: demo test test-fast test-latest lock drift lint sysdeps venv bench clean migration docs

# Every extra (dev = web, stream, spark, eval, bench, test) at the locked versions.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c $(LOCK) -e '.[dev]'
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

# Re-pin constraints.txt to the newest versions pyproject.toml allows (a fresh venv, a few minutes);
# then `make test` and commit constraints.txt. `bash scripts/lock.sh VENV` pins what VENV has.
lock:
	PY=$(PY) bash scripts/lock.sh

# The suite on the newest versions instead of the lock, in .venv-latest: drift is seen early.
test-latest: sysdeps
	PY=$(PY) bash scripts/test-latest.sh

# Which pins have a newer version today (a dry-run resolution; installs nothing).
drift: $(STAMP)
	$(BIN)/python scripts/drift.py $(LOCK) --newest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# The generated command reference, and the event schema and docs/events.md's tables from the event
# model (tests fail when any is out of date).
docs: $(STAMP)
	$(BIN)/python -m netwarden.cli.reference > docs/cli.md
	$(BIN)/python -m netwarden.ingest.generated
	$(BIN)/python -m netwarden.config

clean:
	rm -rf $(VENV) .venv-latest build dist *.egg-info

# Write the next schema migration from the table definitions: make migration MSG="what changes".
migration: $(STAMP)
	$(BIN)/python scripts/new_migration.py $(MSG)
