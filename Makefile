# Jedel — every command a newcomer needs. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := .venv/bin
export JEDEL_BROKER_PORT ?= 19092

.PHONY: help setup migrate seed demo down test test-unit test-integration test-e2e lint format typecheck bench-env bench check faults

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

setup: ## install and start PostgreSQL+PostGIS, Redis, Python deps and the broker
	@infra/local/setup.sh jedel
	@infra/local/broker.sh start

migrate: setup ## apply database migrations
	@$(RUN)/jedel migrate

seed: migrate ## load Kazakhstan reference data and 100,000 synthetic volunteers (COUNT=…)
	@$(RUN)/jedel seed reference
	@$(RUN)/jedel seed volunteers --count $${COUNT:-100000}

demo: seed ## start the services and show sample alerts becoming incidents
	@$(RUN)/jedel up --simulate
	@$(RUN)/jedel demo --linger $${LINGER:-0}

down: ## stop the services and the broker the demo started
	@-$(RUN)/jedel down 2>/dev/null
	@infra/local/broker.sh stop

test: ## run every test (unit, integration, end-to-end) against real PostGIS, Redis and broker
	@JEDEL_SETUP_COMPOSE=1 JEDEL_SETUP_BROWSER=1 infra/local/setup.sh jedel_test
	@$(RUN)/pytest -q

test-unit: ## the pure tests only (seconds, no services)
	@$(RUN)/pytest -q tests/unit

faults: ## the fault suite: 1,000 incidents while brokers, services, PostgreSQL and Redis are killed (~10 min)
	@JEDEL_SETUP_FRESH_DATABASES=1 infra/local/setup.sh jedel_faults
	@$(RUN)/python -m tests.faults.suite

lint: ## ruff and mypy
	@$(RUN)/ruff check .
	@$(RUN)/ruff format --check .
	@$(RUN)/mypy shared services bench tests

format: ## fix formatting and safe lint findings
	@$(RUN)/ruff format .
	@$(RUN)/ruff check --fix .

check: lint test ## what CI runs

bench-env: setup ## prepare what the benchmarks need (database, broker)
	@infra/local/setup.sh jedel_bench
	@$(RUN)/jedel migrate --database jedel_bench

bench: bench-env ## run the benchmarks (matching seeds 1,000,000 volunteers once, ~2.5 min)
	@$(RUN)/python -m bench.intake
	@$(RUN)/python -m bench.hostile
	@$(RUN)/python -m bench.matching
	@$(RUN)/python -m bench.tracking
	@$(RUN)/python -m bench.notifier
