# Thin entry points: the same stages locally and in CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bookdesk
# Several checkouts on one machine can test at once when each sets its own TEST_ID.
TEST_ID ?= main
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install checkov-venv run test test-postgres test-sqlite lint format lock bench clean vendor-js

help:
	@echo "make run    - run Bookdesk on http://127.0.0.1:$(PORT) with demo data (SQLite, dev mailbox)"
	@echo "make test   - the whole test suite, on PostgreSQL and on SQLite"
	@echo "make lint   - ruff (lint + format check), djlint, eslint and stylelint"
	@echo "make lock   - re-resolve requirements/*.lock from pyproject.toml"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not make a virtual environment with $(PYTHON) (on Debian: apt-get install python3-venv)"; \
	  exit 1; }

# What the app needs to run (make run): the locked runtime dependencies only.
$(VENV)/.app-installed: requirements/app.lock requirements/build.lock pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/build.lock -r requirements/app.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Plus what tests and linters need.
$(VENV)/.installed: requirements/dev.lock $(VENV)/.app-installed
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# checkov (tests/deploy) has its own venv: its dependency tree clashes with the app's.
.venv-checkov/.installed: requirements/checkov.lock
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --require-hashes --no-deps -r requirements/checkov.lock
	touch $@

checkov-venv: .venv-checkov/.installed

run: $(VENV)/.app-installed
	@mkdir -p var
	$(BIN)/bookdesk migrate --noinput
	$(BIN)/bookdesk demo_data
	$(BIN)/bookdesk devserver --port $(PORT)

test: test-postgres test-sqlite

test-postgres: install checkov-venv
	@mkdir -p var
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_DATABASE_NAME= $(BIN)/pytest $(PYTEST_ARGS)

# Checks of files alone (marker "static") ran with the PostgreSQL pass already; tests of
# PostgreSQL-only behaviour (marker "postgres") have no SQLite counterpart to run.
test-sqlite: install
	@mkdir -p var
	DATABASE_URL=sqlite:///var/test-$(TEST_ID).sqlite3 \
	TEST_DATABASE_NAME=$(CURDIR)/var/test-$(TEST_ID)-run.sqlite3 \
	$(BIN)/pytest -m "not static and not postgres" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench deploy/terraform deploy/monitoring
	$(BIN)/ruff format --check src tests bench deploy/terraform deploy/monitoring
	$(BIN)/djlint --lint src/bookdesk/templates
	npx --no-install eslint src/bookdesk/static/js
	npx --no-install stylelint "src/bookdesk/static/css/**/*.css"

# The calendar's browser build is committed (the wheel and the image have no node_modules);
# after changing the fullcalendar version in package.json, refresh the copy with this.
vendor-js: node_modules/.installed
	cp node_modules/fullcalendar/index.global.min.js node_modules/fullcalendar/LICENSE.md \
	  src/bookdesk/static/vendor/fullcalendar/

format: install
	$(BIN)/ruff check --fix src tests bench deploy/terraform deploy/monitoring
	$(BIN)/ruff format src tests bench deploy/terraform deploy/monitoring

lock:
	uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -o requirements/app.lock
	uv pip compile requirements/build.in --universal --generate-hashes --python-version 3.11 -o requirements/build.lock
	uv pip compile pyproject.toml --universal --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock
	uv pip compile requirements/checkov.in --universal --generate-hashes --python-version 3.11 -o requirements/checkov.lock

clean:
	rm -rf $(VENV) .venv-checkov node_modules var/test-*.sqlite3*

# Booking benchmarks (never part of `make test`): the data set once, then the measurements.
.PHONY: bench-bookings-data bench-bookings
bench-bookings-data: install
	$(BIN)/python bench/generate_bookings.py --resources 1000 --bookings 1000000

bench-bookings: install
	$(BIN)/python bench/bench_bookings.py
