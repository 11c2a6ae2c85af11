# The project's commands. `make run` and `make test` are the two a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` serves the demo (simulated PBX, demo users); DEMO=0 serves the configured PBX.
DEMO ?= 1
# The second test pass runs on the production backends.
PG_URL ?= postgres://cti:cti@127.0.0.1:5432/cti
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install install-dev run worker migrate check lint types imports test test-fast test-pg test-faults test-browser test-js services chromium messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

## One process: daphne + the AMI worker (+ the simulated PBX with DEMO=1), SQLite and the
## in-memory channel layer unless DATABASE_URL / REDIS_URL say otherwise.
run: migrate
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	DEMO=$(DEMO) $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

## The AMI worker alone (production: next to separate daphne processes, see README).
worker: migrate
	$(BIN)/python manage.py ami_worker

services:
	bash scripts/services.sh redis postgres chromium nodejs

chromium:
	bash scripts/services.sh chromium

## The browser tests alone (Playwright + Debian's Chromium), about 30 s.
test-browser: install-dev chromium
	$(BIN)/pytest -q -m browser tests/e2e

## Re-extract the translatable strings (needs gettext); the compiled .mo files are committed.
messages: install-dev
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=staticfiles --ignore=bench --ignore=tests
	$(BIN)/python manage.py makemessages -d djangojs -l ru --ignore=.venv --ignore=staticfiles --ignore=bench --ignore=tests
	$(BIN)/python manage.py compilemessages -l ru --ignore=.venv

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install-dev
	$(BIN)/mypy .

imports: install-dev
	$(BIN)/lint-imports

## The panel's pure JS modules (sequence gaps, PBX links) under Node's test runner, seconds.
test-js:
	bash scripts/services.sh nodejs
	node --test tests/js/*.test.mjs

## Unit tests only: no services, seconds.
test-fast: install-dev
	$(BIN)/pytest -q -m "not slow" tests/unit

## Pass 1: SQLite + in-memory layer (Redis-layer tests use TEST_REDIS_URL).
## Pass 2: PostgreSQL + Redis for everything that touches the database or a layer, then the
## fault-injection suite (tests/faults: its own redis-server and proxies, about 5 minutes).
test-pg: install-dev services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(TEST_REDIS_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q tests/integration tests/faults

## The fault-injection suite alone, on PostgreSQL (README "Production").
test-faults: install-dev services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(TEST_REDIS_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q tests/faults

check: install-dev services lint types imports
	node --test tests/js/*.test.mjs
	DATABASE_URL= REDIS_URL= TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -q --ignore=tests/faults
	$(MAKE) --no-print-directory test-pg

## Everything CI runs: services, lint, types, import contracts, both test passes.
test: check

## Benchmarks print JSON lines and never assert; bench/fanout.py (sockets) runs on its own.
bench: install-dev services
	$(BIN)/python bench/ami_parse.py
	$(BIN)/python bench/callmodel.py
	$(BIN)/python bench/worker.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache staticfiles
