# The project's verbs. Each one installs what it needs first (uv, then the locked environment).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv must use this machine's Python, never download one.
export UV_PYTHON_DOWNLOADS := never
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --locked --no-sync

.PHONY: help install run up cluster compose dashboard report test test-fast test-integration test-e2e test-cluster lint format check clean chaos bench

help: ## Show the verbs
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into .tools/"
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: every connector, dbt and Airflow process imports large libraries; compiled
# once here, they start in seconds even where PYTHONDONTWRITEBYTECODE keeps Python from caching.
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --compile-bytecode
	@touch $@

install: .venv/.installed ## Install the locked environment (uv sync --locked)

run: install ## Run the whole pipeline end to end through Airflow, then print a summary
	$(RUN) pipeline run

up: install ## Serve the Airflow UI on 127.0.0.1:8080 (scheduler included) with the mock APIs, until Ctrl-C
	$(RUN) pipeline up

# The production topology without Docker: PostgreSQL (from the OS's packages: see README.md),
# Airflow's four components (LocalExecutor), a Spark master and two workers, the mock APIs.
cluster: install ## Run the production topology on this machine (PostgreSQL, Airflow, Spark cluster) until Ctrl-C
	$(RUN) pipeline cluster

compose: install ## Write docker-compose.yml from the topology make cluster runs (pipeline/topology.py)
	$(RUN) pipeline compose

# Needs Node.js 18+ with npm (only this verb does): the site is built by Observable Framework.
dashboard: install ## Build the dashboards from the latest run's snapshot and serve them on 127.0.0.1:3000
	@command -v npm >/dev/null || { echo "make dashboard needs Node.js 18+ with npm (https://nodejs.org): install it, or use make report"; exit 1; }
	$(RUN) pipeline dashboard

report: install ## Write the HTML report of the latest run (data/reports/)
	$(RUN) pipeline report

# The tiers are pytest markers given in tests/conftest.py. `make test` runs every tier on two
# workers (pytest-xdist, whole files per worker, in the order conftest.py sorts them: the longest
# first), so the end-to-end pipeline module runs on one while the other goes through the rest.
test: install lint ## Run every test tier, after ruff (about 20 minutes on 2 cores)
	$(RUN) pytest -n 2 --dist loadfile --no-loadscope-reorder

test-fast: install ## Only the fast tier: pure functions, mock endpoints, connectors (under 90 s)
	$(RUN) pytest -m fast

test-integration: install ## Only the integration tier: dbt, Spark, GX, syncs, the CLI, the DAG
	$(RUN) pytest -m integration

test-e2e: install ## Only the end-to-end tier: Airflow runs, the playbook, bench and chaos smoke
	$(RUN) pytest -m e2e

test-cluster: install ## Only the production topology's tests (make cluster: a run with two faults; needs PostgreSQL)
	$(RUN) pytest tests/test_cluster.py tests/test_cluster_runner.py tests/test_topology.py

lint: install ## ruff (lint and format check)
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install ## Format the code
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

check: install ## Data-quality checks against the existing warehouse
	$(RUN) pipeline check

chaos: install ## Reliability suite once per seed (SEEDS=a,b,c; default 5 random; JOBS=N at once)
	$(RUN) python -m testbench.chaos $(if $(SEEDS),--seeds $(SEEDS),--random-seeds 5) --jobs $(or $(JOBS),1)

# A variable's default, not $(or ...): make splits a function's arguments at commas.
SCALES ?= 10000,100000
bench: install ## Benchmark ingestion, dbt, Spark, checks vs their limit and peers (SCALES=10000,100000)
	$(RUN) python -m testbench.benchmark --scales $(SCALES)

clean: ## Remove generated data (warehouse, lake, Airflow DB, logs)
	rm -rf data
