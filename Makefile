# Two commands set everything up on a fresh machine with only Python 3.11:
#   make dev    the whole backend on localhost (local stack)
#   make test   every check CI runs
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
export PATH := $(HOME)/.local/bin:$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export UV_PYTHON := $(PYTHON)

UV := uv
SAM_VERSION := 1.170.0
SAM := sam
RUN := $(UV) run --locked

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: uv
uv: ## install uv if missing
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --user --quiet uv
	@command -v $(UV) >/dev/null 2>&1 || { echo "uv is not on PATH after install" >&2; exit 1; }

.PHONY: sync
sync: uv ## create .venv from uv.lock (fails if the lock is stale)
	$(UV) sync --locked --quiet

.PHONY: sam
sam: uv ## install the SAM CLI as a separate uv tool (its pins clash with ours)
	@$(SAM) --version 2>/dev/null | grep -q "$(SAM_VERSION)" || \
		$(UV) tool install --quiet --force "aws-sam-cli==$(SAM_VERSION)"

.PHONY: requirements
requirements: sync ## rewrite requirements.txt files from uv.lock
	$(UV) export --locked --no-dev --no-hashes --no-emit-project --no-header --quiet \
		--output-file requirements.txt
	cp requirements.txt layers/dependencies/requirements.txt

.PHONY: lint
lint: sync ## ruff format check and lint
	$(RUN) ruff format --check .
	$(RUN) ruff check .

.PHONY: typecheck
typecheck: sync ## mypy --strict over shared/, functions/ and local/
	$(RUN) mypy shared/sniper
	@for fn in functions/*/app.py; do \
		$(RUN) mypy "$$fn" || exit 1; \
	done
	$(RUN) mypy local

.PHONY: template
template: sync sam ## cfn-lint and sam validate --lint
	$(RUN) cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

.PHONY: pytest
PYTEST_WORKERS ?= 2
pytest: sync sam ## the test suite (unit, integration, emulator, packaging, e2e)
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: test
test: lint typecheck template pytest ## everything CI checks

.PHONY: format
format: sync ## apply ruff's formatting and safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: build
build: sam ## sam build into .aws-sam/
	$(SAM) build --template template.yaml

.PHONY: bench
bench: sync ## benchmarks under bench/ (slow, not part of make test)
	$(RUN) pytest bench -m benchmark -s -p no:cacheprovider

# ---------------------------------------------------------------- local stack
API_PORT ?= 3000
AWS_PORT ?= 3200
LAMBDA_PORT ?= 3201
EBAY_PORT ?= 3100
OUTBOX_PORT ?= 3300
STAGE ?= local
PERSIST ?= .local-state
CORS_ORIGINS ?= http://localhost:3001
DEV_ARGS ?=
# USER and EMAIL count only when given on the command line: the environment's USER is
# the login name (and EMAIL, if set, a real address). The default user is alice.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),alice)
TOKEN_EMAIL := $(if $(filter command line,$(origin EMAIL)),$(EMAIL),$(TOKEN_USER)@example.com)
VERIFIED ?= true

.PHONY: dev
dev: sync ## the whole backend on localhost:3000 (Ctrl-C stops it)
	$(RUN) python -m local.stack --template template.yaml --stage $(STAGE) \
		--host 127.0.0.1 --api-port $(API_PORT) --aws-port $(AWS_PORT) \
		--lambda-port $(LAMBDA_PORT) --ebay-port $(EBAY_PORT) \
		--outbox-port $(OUTBOX_PORT) \
		--parameter CorsOrigins=$(CORS_ORIGINS) \
		$(if $(PERSIST),--persist $(PERSIST)) $(DEV_ARGS)

# A snipe in seconds, not minutes: the timing every function reads
# (shared/sniper/snipe/timing.py; docs/local-stack.md). DEV_ARGS come after: they win.
FAST_ENV = --env SNIPE_MARGIN_SECONDS=5 --env BID_CUTOFF_SECONDS=1 \
	--env OUTCOME_WAIT_SECONDS=10 --env OUTCOME_RECHECK_SECONDS=5

.PHONY: dev-fast
dev-fast: override DEV_ARGS := $(FAST_ENV) $(DEV_ARGS)
dev-fast: dev ## make dev with a snipe's margin and outcome waits in seconds

.PHONY: token
token: uv ## print a sign-in token: make token USER=alice EMAIL=a@b.c VERIFIED=false
	@$(RUN) python -m local.stack.token --api-url http://127.0.0.1:$(API_PORT) \
		--username "$(TOKEN_USER)" --email "$(TOKEN_EMAIL)" \
		--email-verified "$(VERIFIED)"
