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
	# The layer leaves out what layers/dependencies/excluded.txt names (the runtime's
	# boto3 and its dependencies, unused packages).
	$(UV) export --locked --no-dev --no-hashes --no-emit-project --no-header --quiet \
		$$(awk '!/^#/ && NF {printf " --no-emit-package %s", $$1}' \
			layers/dependencies/excluded.txt) \
		--output-file layers/dependencies/requirements.txt

.PHONY: openapi
openapi: sync client-packages ## rewrite docs/openapi.json (and the README API table) from the code
	$(RUN) python -m tools.openapi
	npm run --prefix clients/typescript --silent generate

.PHONY: lint
lint: sync ## ruff format check and lint
	$(RUN) ruff format --check .
	$(RUN) ruff check .

.PHONY: typecheck
typecheck: sync ## mypy --strict over shared/, functions/, local/ and tools/
	$(RUN) mypy shared/sniper
	@for fn in functions/*/app.py; do \
		$(RUN) mypy "$$fn" || exit 1; \
	done
	$(RUN) mypy local
	$(RUN) mypy tools

.PHONY: template
template: sync sam ## cfn-lint and sam validate --lint
	$(RUN) cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

# Swagger UI at the local stack's /docs, pinned in local/docs_ui/package-lock.json
# (no CDN: /docs works offline). Reinstalled when the lock is newer than node_modules.
DOCS_UI := local/docs_ui
DOCS_UI_STAMP := $(DOCS_UI)/node_modules/.package-lock.json

.PHONY: docs-ui
docs-ui: $(DOCS_UI_STAMP) ## install Swagger UI for the local stack (/docs)

$(DOCS_UI_STAMP): $(DOCS_UI)/package.json $(DOCS_UI)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: /docs will answer 503" \
		"until Node.js is installed and make docs-ui is run" >&2; exit 0; }; \
	npm ci --prefix $(DOCS_UI) --no-audit --no-fund --ignore-scripts --loglevel=error \
		&& touch $@

CHROMIUM ?= /usr/bin/chromium

.PHONY: browser
browser: ## install Debian's chromium for the Swagger UI test
	@if [ -x "$(CHROMIUM)" ] || [ "$$SNIPER_SKIP_BROWSER" = 1 ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "no $(CHROMIUM) and no apt-get: install Chromium and pass" \
			"CHROMIUM=/path, or set SNIPER_SKIP_BROWSER=1" >&2; exit 1; fi; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium

# The TypeScript client: packages pinned in its package-lock.json, reinstalled when
# the lock is newer than node_modules; tsc checks it against the generated schema.
CLIENT := clients/typescript
CLIENT_STAMP := $(CLIENT)/node_modules/.package-lock.json

.PHONY: client client-packages
client: client-packages ## install the TypeScript client's packages and type-check it
	npm run --prefix $(CLIENT) --silent typecheck

client-packages: $(CLIENT_STAMP)

$(CLIENT_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+" >&2; exit 1; }
	npm ci --prefix $(CLIENT) --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

.PHONY: pytest
PYTEST_WORKERS ?= 2
pytest: export SNIPER_CHROMIUM := $(CHROMIUM)
pytest: sync sam docs-ui browser client ## the test suite (unit, integration, emulator, packaging, e2e)
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

# Snipe precision and cost at N = 50, 200, 500 (docs/benchmarks.md); narrow it with
# BENCH_SNIPE_N=50 (or 50,200), for this target and for make bench alike.
.PHONY: bench-snipe
bench-snipe: sync ## the snipe precision benchmark alone (BENCH_SNIPE_N=50 for one N)
	$(RUN) pytest bench/test_snipe_precision.py -m benchmark -s -p no:cacheprovider

# The fault campaign at N = 1,000 and 10,000: about 15 minutes and 2 h 10 min on two
# quiet cores (25 executors busy at once; BENCH_FAULTS_CONCURRENCY=50 halves it
# where four cores can carry it). BENCH_FAULTS_N=1000 for one, BENCH_FAULTS_SEED.
# make test runs it small (tests/e2e/test_fault_campaign.py, 50 snipes).
.PHONY: bench-faults
bench-faults: sync ## the fault campaign alone (BENCH_FAULTS_N=1000 for one N)
	$(RUN) pytest bench/test_fault_campaign.py -m benchmark -s -p no:cacheprovider

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

# The snipe's timing every function reads (shared/sniper/snipe/timing.py;
# docs/local-stack.md). make dev is a developer's stack with a punctual Scheduler, so
# by default a snipe takes seconds (a 10 s margin, outcome waits in seconds): a 60 s
# auction can be sniped, as make demo does. The margin absorbs the executor's cold
# start (3.4 s seen on a loaded machine). TIMING=production keeps the template's
# timing (a 90 s margin, a 60 s outcome wait) to watch a snipe as AWS runs it.
# DEV_ARGS come after: they win. docs/decisions.md, 2026-12-01.
TIMING ?= fast
FAST_ENV = --env SNIPE_MARGIN_SECONDS=10 --env BID_CUTOFF_SECONDS=1 \
	--env OUTCOME_WAIT_SECONDS=10 --env OUTCOME_RECHECK_SECONDS=5
TIMING_ENV = $(if $(filter production,$(TIMING)),,$(FAST_ENV))
TIMING_NOTE = $(if $(filter production,$(TIMING)),production (the template's: a \
	90 s margin),fast (a 10 s margin; make dev TIMING=production for the template's))

.PHONY: dev
dev: sync docs-ui ## the whole backend on localhost:3000, a snipe in seconds (Ctrl-C stops it)
	@case "$(TIMING)" in fast|production) ;; *) echo "TIMING is fast (the default)" \
		"or production, not '$(TIMING)'" >&2; exit 2;; esac
	@echo "snipe timing: $(TIMING_NOTE)"
	$(RUN) python -m local.stack --template template.yaml --stage $(STAGE) \
		--host 127.0.0.1 --api-port $(API_PORT) --aws-port $(AWS_PORT) \
		--lambda-port $(LAMBDA_PORT) --ebay-port $(EBAY_PORT) \
		--outbox-port $(OUTBOX_PORT) \
		--parameter CorsOrigins=$(CORS_ORIGINS) \
		$(if $(PERSIST),--persist $(PERSIST)) $(TIMING_ENV) $(DEV_ARGS)

.PHONY: dev-fast
dev-fast: override TIMING := fast
dev-fast: dev ## make dev TIMING=fast (make dev's default now; kept for old habits)

.PHONY: token
token: uv ## print a sign-in token: make token USER=alice EMAIL=a@b.c VERIFIED=false
	@$(RUN) python -m local.stack.token --api-url http://127.0.0.1:$(API_PORT) \
		--username "$(TOKEN_USER)" --email "$(TOKEN_EMAIL)" \
		--email-verified "$(VERIFIED)"

# The demo's user: USER on the command line, else demo (as for make token).
DEMO_USER := $(if $(filter command line,$(origin USER)),$(USER),demo)
DEMO_ARGS ?=

.PHONY: demo
demo: sync ## a scripted tour against a running make dev (link eBay, snipe a 60 s auction, the outcome and email)
	@$(RUN) python -m local.demo --api-url http://127.0.0.1:$(API_PORT) \
		--ebay-url http://127.0.0.1:$(EBAY_PORT) \
		--outbox-url http://127.0.0.1:$(OUTBOX_PORT) --user "$(DEMO_USER)" $(DEMO_ARGS)
