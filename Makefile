# Everyday commands. `make run` is the main job, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.DEFAULT_GOAL := help
.PHONY: help setup run test lint pytest unit build docs bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# uv installs the lock file (every package pinned) into the venv: the same packages as pip would,
# downloaded in parallel and not compiled to bytecode up front (Python compiles what it imports).
UV_VERSION := 0.13.9
UV_PIP := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(BIN)/shoplog: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_PIP) -r requirements.lock
	$(UV_PIP) --no-deps -e .
	@touch $@

profiles.yml: profiles.yml.example
	cp profiles.yml.example profiles.yml

setup: $(BIN)/shoplog profiles.yml ## create .venv from the lock file, profiles.yml, the pseudonym key
	@mkdir -p data
	@$(BIN)/python -m shoplog.keys

run: setup ## main job: sample log (if none), load, dbt build, dbt docs, summary
	$(BIN)/shoplog run

# The linters run beside pytest (two make jobs; each one's output printed whole when it ends):
# they fill the cores that pytest's start and its last tests leave idle.
test: setup ## every check: ruff, mypy, sqlfluff, pytest (generator, loader, dbt end to end, dbt unit tests, GX)
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint pytest

lint: setup ## ruff, mypy and sqlfluff
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy
	SHOPLOG_DB=$(CURDIR)/data/lint.duckdb SHOPLOG_PSEUDONYM_KEY=lint-only \
		$(BIN)/sqlfluff lint --processes 2 models tests/singular snapshots

# Two workers (the machine's cores); tests that read one built fixture share a worker
# (`xdist_group` marks), and each worker has its own dbt target and log paths (conftest.py).
# The work units go out in conftest's order (the dbt-building ones first), not xdist's.
pytest: setup ## the pytest suite
	$(BIN)/pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=15

unit: setup ## only the dbt unit tests (`unit_tests:` in the models' yml), on empty parent tables
	$(BIN)/pytest tests/python/test_unit_tests.py

build: setup ## dbt build on the loaded log (after `shoplog load`), without the unit tests
	$(BIN)/shoplog build

docs: setup ## dbt docs generate (target/index.html and target/static_index.html)
	$(BIN)/dbt docs generate --static

bench: setup ## time load and builds of a 1M-event log against its floor (docs/performance.md)
	$(BIN)/shoplog bench --events 1000000 --keep-log

clean: ## remove build outputs and local data (not the venv)
	rm -rf target logs data/*.duckdb data/*.duckdb.journal.jsonl data/landing data/serving
