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
	@echo "make env-up / env-down - the local staging and production hosts (docs/deploy.md)"
	@echo "make deploy ENV=staging|production [BUNDLE=...] / make rollback ENV=... [REASON=...]"
	@echo "make deploy-test - zero-downtime deploy, failed deploy, rollback, lost host, under load"
	@echo "make monitoring-test - Prometheus, alerts, log shipping, backups and the restore drill, live"
	@echo "make monitoring / backup / restore-drill - those playbooks alone (INVENTORY=...)"
	@echo "make package - the release bundle of HEAD in dist/ (docs/deploy.md, Release bundle)"
	@echo "make package-verify BUNDLE=dist/....tar.gz - check a bundle against its manifest"
	@echo "make image  - the container image, built from the bundle of HEAD (buildah)"
	@echo "make image-test - build the image on a local Debian base and run migrate, web, worker"

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

test-postgres: install checkov-venv ansible-venv
	@mkdir -p var
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_DATABASE_NAME= $(BIN)/pytest -m "not image and not localenv" $(PYTEST_ARGS)

# Checks of files alone (marker "static") ran with the PostgreSQL pass already; tests of
# PostgreSQL-only behaviour (marker "postgres") have no SQLite counterpart to run.
test-sqlite: install
	@mkdir -p var
	DATABASE_URL=sqlite:///var/test-$(TEST_ID).sqlite3 \
	TEST_DATABASE_NAME=$(CURDIR)/var/test-$(TEST_ID)-run.sqlite3 \
	$(BIN)/pytest -m "not static and not postgres and not image and not localenv" $(PYTEST_ARGS)

lint: install ansible-venv
	$(BIN)/ruff check src tests bench deploy/terraform deploy/package deploy/container deploy/env deploy/ansible deploy/monitoring
	$(BIN)/ruff format --check src tests bench deploy/terraform deploy/package deploy/container deploy/env deploy/ansible deploy/monitoring
	$(BIN)/djlint --lint src/bookdesk/templates
	npx --no-install eslint src/bookdesk/static/js
	npx --no-install stylelint "src/bookdesk/static/css/**/*.css"
	cd deploy/ansible && ANSIBLE_CONFIG=ansible.cfg ../../$(ANSIBLE_VENV)/bin/ansible-lint --profile production --strict

# The calendar's browser build is committed (the wheel and the image have no node_modules);
# after changing the fullcalendar version in package.json, refresh the copy with this.
vendor-js: node_modules/.installed
	cp node_modules/fullcalendar/index.global.min.js node_modules/fullcalendar/LICENSE.md \
	  src/bookdesk/static/vendor/fullcalendar/

format: install
	$(BIN)/ruff check --fix src tests bench deploy/terraform deploy/package deploy/container deploy/env deploy/ansible deploy/monitoring
	$(BIN)/ruff format src tests bench deploy/terraform deploy/package deploy/container deploy/env deploy/ansible deploy/monitoring

lock:
	uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -o requirements/app.lock
	uv pip compile requirements/build.in --universal --generate-hashes --python-version 3.11 -o requirements/build.lock
	uv pip compile pyproject.toml --universal --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock
	uv pip compile requirements/checkov.in --universal --generate-hashes --python-version 3.11 -o requirements/checkov.lock
	uv pip compile requirements/ansible.in --universal --generate-hashes --python-version 3.11 -o requirements/ansible.lock

clean:
	rm -rf $(VENV) .venv-checkov $(ANSIBLE_VENV) node_modules var/test-*.sqlite3*

# Booking benchmarks (never part of `make test`): the data set once, then the measurements.
.PHONY: bench-bookings-data bench-bookings
bench-bookings-data: install
	$(BIN)/python bench/generate_bookings.py --resources 1000 --bookings 1000000

bench-bookings: install
	$(BIN)/python bench/bench_bookings.py

# --- Ansible, the local environment, deploys (docs/deploy.md) -------------------------------
# Ansible and ansible-lint have their own venv (requirements/ansible.in says why).
ANSIBLE_VENV := .venv-ansible
ENV ?= staging
# local: the hosts of `make env-up`; staging / production: real hosts (aws_ec2 inventory).
INVENTORY ?= local
REASON ?=
# Extra ansible-playbook arguments for make deploy, e.g.
#   DEPLOY_ARGS="-e 'bookdesk_post_deploy_command=make post-deploy ENV=production'"
DEPLOY_ARGS ?=
LOCALENV := $(ANSIBLE_VENV)/bin/python deploy/env/localenv.py
ifeq ($(INVENTORY),local)
PLAYBOOK := $(LOCALENV) playbook
else
PLAYBOOK := ANSIBLE_CONFIG=deploy/ansible/ansible.cfg $(ANSIBLE_VENV)/bin/ansible-playbook -i deploy/ansible/inventories/$(INVENTORY)
endif

.PHONY: ansible-venv env-up env-down env-status provision deploy rollback deploy-test

$(ANSIBLE_VENV)/.installed: requirements/ansible.lock
	$(PYTHON) -m venv $(ANSIBLE_VENV)
	$(ANSIBLE_VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements/ansible.lock
	touch $@

ansible-venv: $(ANSIBLE_VENV)/.installed

# Five systemd hosts in network namespaces (root needed), provisioned and deployed.
env-up: ansible-venv
	$(LOCALENV) up

# Removes every host, namespace, mount and the bridge; safe to run twice.
env-down:
	@if [ -x $(ANSIBLE_VENV)/bin/python ]; then $(LOCALENV) down; else python3 deploy/env/localenv.py down; fi

env-status: ansible-venv
	$(LOCALENV) status

provision: ansible-venv
	$(PLAYBOOK) deploy/ansible/site.yml

# The bundle: BUNDLE=..., else the newest in dist/ (make package builds one).
deploy: ansible-venv
	@bundle="$(BUNDLE)"; \
	if [ -z "$$bundle" ]; then bundle="$$(ls -t dist/bookdesk-*.tar.gz 2>/dev/null | head -n 1)"; fi; \
	if [ -z "$$bundle" ]; then echo "No bundle in dist/: run make package, or give BUNDLE=..." >&2; exit 1; fi; \
	echo "Deploying $$bundle to $(ENV) ($(INVENTORY) inventory)"; \
	$(PLAYBOOK) deploy/ansible/deploy.yml -e bookdesk_deploy_env=$(ENV) -e app_bundle="$$(realpath "$$bundle")" $(DEPLOY_ARGS)

rollback: ansible-venv
	$(PLAYBOOK) deploy/ansible/rollback.yml -e bookdesk_deploy_env=$(ENV) -e bookdesk_rollback_reason="$(REASON)"
# Release bundle (deploy/package/build_bundle.py): built from the commit, not the working
# tree; the dependency wheels are cached under var/cache/wheelhouse between builds.
.PHONY: package package-verify
package: $(VENV)/.app-installed
	$(BIN)/python deploy/package/build_bundle.py --out dist

package-verify:
	@test -n "$(BUNDLE)" || { echo "usage: make package-verify BUNDLE=dist/bookdesk-<version>-<commit>.tar.gz"; exit 1; }
	$(PYTHON) deploy/package/verify_bundle.py $(BUNDLE)

# Container image from the bundle of HEAD (deploy/container/build_image.py). LOCAL_BASE=1
# builds on a Debian base made here (no registry needed); IMAGE_BUILDER=docker uses Docker.
.PHONY: image image-test
image: $(VENV)/.app-installed
	$(BIN)/python deploy/container/build_image.py $(if $(LOCAL_BASE),--local-base)

# Builds the image on the local Debian base (cached in /var/cache/bookdesk/image-base) and
# runs migrate, web and worker from it. Minutes from nothing; needs root and buildah.
image-test: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -m image tests/deploy/test_image.py --durations=5 $(PYTEST_ARGS)

# The zero-downtime test (tests/deploy/test_zero_downtime.py) on an environment of its own
# (10.77.9.0/24, var/env-test), removed afterwards whatever happens. Builds the bundle of
# HEAD first. About 6 minutes on a warm cache (docs/deploy.md has the figures).
DEPLOY_TEST_ENV := BOOKDESK_ENV_ID=bkt BOOKDESK_ENV_NET=10.77.9 BOOKDESK_ENV_DIR=$(CURDIR)/var/env-test
deploy-test: install ansible-venv package
	@trap '$(DEPLOY_TEST_ENV) $(LOCALENV) down' EXIT; \
	$(BIN)/pytest -m localenv tests/deploy/test_zero_downtime.py -p no:randomly -v --timeout=1800 $(PYTEST_ARGS)

# Deploy figures (bench/deploy.py): deploy, cutover, rollback, throughput with two app hosts
# and one, on the environment of make env-up (brought up if needed). Results in bench/results/.
.PHONY: bench-deploy
bench-deploy: install ansible-venv
	$(BIN)/python bench/deploy.py

# --- Monitoring and backups (docs/deploy.md, "Monitoring", "Backups and the restore drill") ---
.PHONY: monitoring backup restore-drill monitoring-test
monitoring: ansible-venv
	$(PLAYBOOK) deploy/ansible/monitoring.yml

backup: ansible-venv
	$(PLAYBOOK) deploy/ansible/backup.yml

# BACKUP_FIRST=yes takes a fresh backup before the drill.
restore-drill: ansible-venv
	$(PLAYBOOK) deploy/ansible/restore-drill.yml $(if $(filter yes,$(BACKUP_FIRST)),-e drill_backup_first=true)

# Live, on an environment of its own (tests/deploy/test_live_monitoring.py): root, minutes.
MONITORING_TEST_ENV := BOOKDESK_ENV_ID=bkm BOOKDESK_ENV_NET=10.77.8 BOOKDESK_ENV_DIR=$(CURDIR)/var/env-monitoring-test
monitoring-test: install ansible-venv package
	@trap '$(MONITORING_TEST_ENV) $(LOCALENV) down' EXIT; \
	$(BIN)/pytest -m localenv tests/deploy/test_live_monitoring.py -p no:randomly -v --timeout=3600 $(PYTEST_ARGS)
