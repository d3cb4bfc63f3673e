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

.PHONY: help install checkov-venv tools-venv run test test-postgres test-sqlite lint format lock bench clean vendor-js

help:
	@echo "make run    - run Bookdesk on http://127.0.0.1:$(PORT) with demo data (SQLite, dev mailbox)"
	@echo "make test   - the whole test suite, on PostgreSQL and on SQLite (in parallel), with coverage"
	@echo "make lint   - ruff, the import layers (lint-imports), mypy, djlint, eslint, stylelint,"
	@echo "              yamllint, shellcheck, actionlint, ansible-lint, checkov, bandit, secret scan"
	@echo "make pipeline [APPROVE=yes] [PIPELINE_STAGES=pr] - the CI/CD stages in order (docs/pipeline.md)"
	@echo "  stages: build lint migrations test security package deploy-staging verify-staging"
	@echo "          approve deploy-production post-deploy"
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

# The pipeline's stand-alone checkers (yamllint, shellcheck, actionlint, ansible-lint, bandit,
# detect-secrets, pip-audit): their own venv too, so ansible-core's pins stay out of the app's.
.venv-tools/.installed: requirements/tools.lock
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet --require-hashes --no-deps -r requirements/tools.lock
	touch $@

tools-venv: .venv-tools/.installed

run: $(VENV)/.app-installed
	@mkdir -p var
	$(BIN)/bookdesk migrate --noinput
	$(BIN)/bookdesk demo_data
	$(BIN)/bookdesk devserver --port $(PORT)

# The two passes run side by side (TEST_JOBS=1: one after the other). Each pass's output is
# printed whole when it ends (--output-sync), so the two never interleave; the coverage of
# both is combined at the end (var/coverage/), and the last line adds up both passes
# (var/test-results/, JUnit).
TEST_JOBS ?= $(if $(filter 1,$(shell nproc 2>/dev/null || echo 1)),1,2)
COVERAGE_DIR := var/coverage
RESULTS_DIR := var/test-results
test: install checkov-venv tools-venv
	@mkdir -p $(COVERAGE_DIR) $(RESULTS_DIR)
	@rm -f $(COVERAGE_DIR)/.coverage.$(TEST_ID).* $(RESULTS_DIR)/$(TEST_ID)-*.xml
	@# Made once here: two passes starting at once must not both write the development key.
	@$(BIN)/python -c "import bookdesk.settings" >/dev/null
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-postgres test-sqlite \
	  PYTEST_ARGS="--cov --cov-report= $(PYTEST_ARGS)" TEST_RESULTS=1
	@$(BIN)/coverage combine --quiet --data-file=$(COVERAGE_DIR)/.coverage.$(TEST_ID) \
	  $(COVERAGE_DIR)/.coverage.$(TEST_ID).*
	@$(BIN)/coverage report --data-file=$(COVERAGE_DIR)/.coverage.$(TEST_ID) --format=total \
	  | sed 's/^/coverage (both passes, lines): /; s/$$/%/'
	@$(BIN)/coverage xml --quiet --data-file=$(COVERAGE_DIR)/.coverage.$(TEST_ID) \
	  -o $(COVERAGE_DIR)/coverage-$(TEST_ID).xml
	@$(BIN)/python deploy/pipeline/test_totals.py $(RESULTS_DIR)/$(TEST_ID)-*.xml

test-postgres: install checkov-venv tools-venv ansible-venv
	@mkdir -p var $(COVERAGE_DIR)
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_DATABASE_NAME= \
	COVERAGE_FILE=$(COVERAGE_DIR)/.coverage.$(TEST_ID).postgres \
	$(BIN)/pytest -m "not image and not localenv" $(PYTEST_ARGS) $(if $(TEST_RESULTS),--junitxml=$(RESULTS_DIR)/$(TEST_ID)-postgres.xml)

# Checks of files alone (marker "static") ran with the PostgreSQL pass already; tests of
# PostgreSQL-only behaviour (marker "postgres") have no SQLite counterpart to run.
test-sqlite: install
	@mkdir -p var $(COVERAGE_DIR)
	DATABASE_URL=sqlite:///var/test-$(TEST_ID).sqlite3 \
	TEST_DATABASE_NAME=$(CURDIR)/var/test-$(TEST_ID)-run.sqlite3 \
	COVERAGE_FILE=$(COVERAGE_DIR)/.coverage.$(TEST_ID).sqlite \
	$(BIN)/pytest -m "not static and not postgres and not image and not localenv" $(PYTEST_ARGS) \
	  $(if $(TEST_RESULTS),--junitxml=$(RESULTS_DIR)/$(TEST_ID)-sqlite.xml)

lint: install checkov-venv tools-venv ansible-venv
	$(BIN)/ruff check src tests bench deploy/terraform deploy/package deploy/container deploy/pipeline deploy/env deploy/ansible deploy/monitoring
	$(BIN)/ruff format --check src tests bench deploy/terraform deploy/package deploy/container deploy/pipeline deploy/env deploy/ansible deploy/monitoring
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/djlint --lint src/bookdesk/templates
	npx --no-install eslint src/bookdesk/static/js
	npx --no-install stylelint "src/bookdesk/static/css/**/*.css"
	@$(MAKE) --no-print-directory lint-yaml lint-shell lint-workflows lint-ansible lint-iac \
	  lint-security

# The calendar's browser build is committed (the wheel and the image have no node_modules);
# after changing the fullcalendar version in package.json, refresh the copy with this.
vendor-js: node_modules/.installed
	cp node_modules/fullcalendar/index.global.min.js node_modules/fullcalendar/LICENSE.md \
	  src/bookdesk/static/vendor/fullcalendar/

format: install
	$(BIN)/ruff check --fix src tests bench deploy/terraform deploy/package deploy/container deploy/pipeline deploy/env deploy/ansible deploy/monitoring
	$(BIN)/ruff format src tests bench deploy/terraform deploy/package deploy/container deploy/pipeline deploy/env deploy/ansible deploy/monitoring

lock:
	uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -o requirements/app.lock
	uv pip compile requirements/build.in --universal --generate-hashes --python-version 3.11 -o requirements/build.lock
	uv pip compile pyproject.toml --universal --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock
	uv pip compile requirements/checkov.in --universal --generate-hashes --python-version 3.11 -o requirements/checkov.lock
	uv pip compile requirements/tools.in --universal --generate-hashes --python-version 3.11 -o requirements/tools.lock
	uv pip compile requirements/ansible.in --universal --generate-hashes --python-version 3.11 -o requirements/ansible.lock

clean:
	rm -rf $(VENV) .venv-checkov .venv-tools $(ANSIBLE_VENV) node_modules var/test-*.sqlite3* var/coverage

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
# --- the pipeline's stages (docs/pipeline.md) ----------------------------------------------
# One target per stage. The GitHub workflows, .ci/run and `make pipeline` call these and only
# these, so a stage is the same wherever it runs. PR stages: build lint migrations test
# security. Main adds: package deploy-staging verify-staging approve deploy-production
# post-deploy (the deploy ones wait for issue 10's `make deploy`; see the hooks below).
.PHONY: build migrations security pipeline lint-yaml lint-shell lint-workflows lint-ansible \
        lint-iac lint-security check-deploy audit deploy-staging verify-staging approve \
        deploy-production post-deploy secrets-baseline
TOOLS := .venv-tools/bin
# The branch a change will merge into: the migrations stage judges what is new since then.
MIGRATIONS_BASE ?= main
ANSIBLE_DIR ?= deploy/ansible

build: install checkov-venv tools-venv
	$(BIN)/bookdesk check --fail-level WARNING

migrations: install
	$(BIN)/python deploy/pipeline/migrations_check.py --postgres $(TEST_DATABASE_URL) \
	  --scratch-name bookdesk_migrations_$(TEST_ID) --base $(MIGRATIONS_BASE)

# bandit and the secret scan run with `make lint` (where developers look first) and again
# in the security stage, which stands alone on GitHub.
security: install tools-venv lint-security check-deploy audit

lint-yaml: tools-venv
	$(TOOLS)/yamllint --strict .

# Terraform templates: their ${variables} are filled in by Terraform, not by the shell.
lint-shell: tools-venv
	$(TOOLS)/shellcheck $$(deploy/pipeline/shell-files | grep -v '\.tftpl$$')
	$(TOOLS)/shellcheck --exclude=SC2154,SC2269 $$(deploy/pipeline/shell-files | grep '\.tftpl$$')

# actionlint checks each workflow's `run:` scripts with the shellcheck it finds on PATH.
lint-workflows: tools-venv
	PATH="$(CURDIR)/$(TOOLS):$$PATH" $(TOOLS)/actionlint

lint-ansible: tools-venv
	deploy/pipeline/lint-ansible $(ANSIBLE_DIR)

# checkov over every kind of infrastructure code in one run; it knows Dockerfiles by name
# CKV2_ANSIBLE_3 wants a rescue on every block: the deploy's blocks group steps whose failure
# must fail the host (deploy.yml's own rescue returns it to the old release); a rescue that
# swallowed the error would turn a failed deploy into a green one.
# only, so the Containerfile is checked under that name from a scratch directory.
lint-iac: checkov-venv
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp deploy/container/Containerfile "$$tmp/Dockerfile" && \
	dirs="--directory deploy/terraform --directory .github/workflows --directory $$tmp" && \
	frameworks="terraform dockerfile github_actions" && \
	if [ -d $(ANSIBLE_DIR) ]; then dirs="$$dirs --directory $(ANSIBLE_DIR)"; \
	  frameworks="$$frameworks ansible"; fi && \
	echo "checkov: $$frameworks" && \
	.venv-checkov/bin/checkov $$dirs --framework $$frameworks --compact --quiet --skip-download \
	  --skip-check CKV2_ANSIBLE_3

lint-security: tools-venv
	$(TOOLS)/bandit --quiet --configfile .bandit.yml --recursive src deploy/pipeline
	$(TOOLS)/python deploy/pipeline/secret_scan.py

# Production settings with throwaway values: nothing here connects anywhere.
check-deploy: install
	BOOKDESK_ENV=production DEBUG= SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
	ALLOWED_HOSTS=bookdesk.example.org DATABASE_URL=postgres://bookdesk@127.0.0.1:5432/bookdesk \
	EMAIL_URL=smtp://relay.example.net:587 SITE_URL=https://bookdesk.example.org \
	$(BIN)/bookdesk check --deploy --fail-level WARNING

audit: tools-venv
	$(TOOLS)/python deploy/pipeline/dependency_audit.py requirements/app.lock requirements/build.lock

# Review new secret-scan findings: refresh the baseline (earlier verdicts are kept), then
# mark each new finding with `detect-secrets audit` and commit .secrets.baseline.
secrets-baseline: tools-venv
	$(TOOLS)/detect-secrets scan --baseline .secrets.baseline
	@echo "Now review what is new: $(TOOLS)/detect-secrets audit .secrets.baseline"

# --- the deploy stages: hooks onto issue 10's contract ---------------------------------------
# `make env-up` (URLs in var/env/urls.json), `make deploy ENV=staging|production [BUNDLE=]`
# and `make rollback ENV=` come from the deploy work (branch env); `make package` from branch
# package. The stages below call them by those names. Until those branches are merged, the
# stand-ins at the end answer for them with "not available".
URLS_FILE ?= var/env/urls.json
# Where a local environment keeps its smoke accounts' SMOKE_* values (written by env-up).
SMOKE_ENV_FILE = var/env/smoke-$(1).env
BASE_URL ?=
SINCE ?=
ALERTMANAGER_URL ?=
# More post-deploy arguments, e.g. --log-file '/var/log/bookdesk-central/*/*.log' --settle 30
POSTDEPLOY_ARGS ?=

# Fails with "not available" while this Makefile has no explicit rule named $(1) (a target
# another branch brings), read from make's own database without running anything.
require_rule = $(MAKE) --no-print-directory -pRrq -f $(firstword $(MAKEFILE_LIST)) 2>/dev/null \
  | grep -q '^$(1):' || { echo "$@: not available: $(2)" >&2; exit 3; }

deploy-staging:
	@$(call require_rule,deploy,'make deploy' (issue 10, branch env) is not built yet: make env-up has not been built)
	$(MAKE) --no-print-directory deploy ENV=staging $(if $(BUNDLE),BUNDLE=$(BUNDLE)) $(if $(IMAGE),IMAGE=$(IMAGE))

deploy-production:
	@$(call require_rule,deploy,'make deploy' (issue 10, branch env) is not built yet: make env-up has not been built)
	$(MAKE) --no-print-directory deploy ENV=production $(if $(BUNDLE),BUNDLE=$(BUNDLE)) $(if $(IMAGE),IMAGE=$(IMAGE))

verify-staging: install
	@url="$(BASE_URL)"; if [ -z "$$url" ]; then \
	  url=$$($(BIN)/python deploy/pipeline/env_url.py --file $(URLS_FILE) staging) || exit 1; fi; \
	$(BIN)/bookdesk smoke --base-url "$$url" \
	  $(if $(wildcard $(call SMOKE_ENV_FILE,staging)),--env-file $(call SMOKE_ENV_FILE,staging))

# On GitHub the `production` environment's required reviewers are the approval; here it is
# APPROVE=yes, or a question on the terminal (`make pipeline` asks on its own).
approve:
	@if [ "$(APPROVE)" = yes ]; then echo "approve: approved (APPROVE=yes)"; \
	elif [ -t 0 ]; then read -r -p "Deploy $$(git rev-parse --short HEAD) to production? [y/N] " a; \
	  case "$$a" in y|Y|yes) echo "approve: approved";; *) echo "approve: declined" >&2; exit 1;; esac; \
	else echo "approve: not approved: no terminal to ask; run with APPROVE=yes" >&2; exit 1; fi

# The post-deploy checks of ENV (default production) since SINCE (when its deploy began;
# without it, the last 10 minutes: a deploy takes less). A failure exits non-zero: the
# caller rolls back (`make rollback ENV=...`, or the deploy's bookdesk_post_deploy_command).
post-deploy: install
	@env="$(or $(ENV),production)"; url="$(BASE_URL)"; since="$(SINCE)"; \
	if [ -z "$$since" ]; then since=$$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ); \
	  echo "post-deploy: no SINCE given: looking at what happened since $$since"; fi; \
	if [ -z "$$url" ]; then \
	  url=$$($(BIN)/python deploy/pipeline/env_url.py --file $(URLS_FILE) "$$env") || exit 1; fi; \
	am="$(ALERTMANAGER_URL)"; if [ -z "$$am" ]; then \
	  am=$$($(BIN)/python deploy/pipeline/env_url.py --file $(URLS_FILE) --optional "alertmanager.$$env"); fi; \
	smoke_env=var/env/smoke-$$env.env; \
	$(BIN)/bookdesk postdeploy --base-url "$$url" --environment "$$env" --since "$$since" \
	  $${am:+--alertmanager-url "$$am"} $$([ -f "$$smoke_env" ] && echo --smoke-env-file "$$smoke_env") \
	  $(POSTDEPLOY_ARGS)

# The whole pipeline here, stage by stage (deploy/pipeline/run.py; docs/pipeline.md).
# PIPELINE_STAGES=pr runs the pull-request stages only; APPROVE=yes answers the approval;
# PIPELINE_ECHO=1 prints every stage's whole output too (as .ci/run does).
pipeline:
	@$(PYTHON) deploy/pipeline/run.py $(if $(PIPELINE_STAGES),--stages $(PIPELINE_STAGES)) \
	  $(if $(filter yes,$(APPROVE)),--approve) $(if $(PIPELINE_ECHO),--echo) \
	  --var TEST_ID=$(TEST_ID) --var TEST_DATABASE_URL=$(TEST_DATABASE_URL)



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
