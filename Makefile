# Lapor: `make run` starts the local stack with a demo; `make test` runs the whole suite.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run down status demo test ops-test triage-model triage-eval bench-triage fuzz chaos chromium lighthouse lighthouse-tools bench bench-quick bench-geo geo lint typecheck schemas rules promtool k8s-tools k8s fmt asyncapi clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv>=0.9,<0.14"

# Installs every workspace package and the dev tools from the committed lock files (uv.lock;
# the portal's browser libraries from services/portal/package-lock.json, served by the portal).
setup: $(UV) services/portal/node_modules/.package-lock.json
	$(UV) sync --all-packages --frozen --quiet

services/portal/node_modules/.package-lock.json: services/portal/package-lock.json
	cd services/portal && npm ci --no-audit --no-fund --silent

# Starts Tansu, SecantusDB, the SMTP sink and the four services in the background
# (idempotent), submits sample reports and prints where everything is.
run: setup
	$(BIN)/lapor-stack up --demo

down:
	@if [ -x $(BIN)/lapor-stack ]; then $(BIN)/lapor-stack down; else echo "nothing to stop"; fi

status: setup
	$(BIN)/lapor-stack status

demo: setup
	$(BIN)/lapor-stack demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

schemas: setup
	$(BIN)/lapor-schemas check

# promtool and prometheus (make ops-test) come with Debian's prometheus package (installed here
# when missing).
promtool:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
	  echo "installing Debian's prometheus package for promtool"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends prometheus >/dev/null \
	  || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends prometheus >/dev/null; }; }

# The portal's browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null \
	  || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }; }

# Prometheus recording and alerting rules: syntax, then their unit tests.
# The alerts on a real Prometheus (Debian's, as promtool) against the e2e stack: a quiet stack
# raises nothing, each failure made for real raises its own alert (also part of make test).
ops-test: setup promtool
	$(BIN)/pytest tests/e2e/test_ops.py -v

# The category suggester (intake: POST /api/v1/complaints/suggest). Its model is trained at
# start from the committed labelled set; triage-model refreshes the committed Sastrawi stems
# after the set changes (a unit test fails until it is run).
triage-model: setup
	$(BIN)/python -m lapor_intake.triage stems services/intake/src/lapor_intake/triage/stems.json

triage-eval: setup
	$(BIN)/python -m lapor_intake.triage eval

bench-triage: setup
	$(BIN)/python -m lapor_intake.triage bench

rules: promtool
	promtool check rules deploy/prometheus/rules/*.yml
	promtool check config deploy/prometheus/prometheus.local.yml >/dev/null
	promtool test rules deploy/prometheus/tests/*.yml

# The tests start their own broker, store and SMTP sink on free ports and stop them.
test: setup lint typecheck schemas rules chromium k8s-tools lighthouse-tools
	$(BIN)/pytest

# The Kubernetes manifests' checks (tests/unit/test_k8s.py) need kubectl (Debian's
# kubernetes-client when missing) and checkov, in a tool environment of its own from the
# hash-pinned deploy/k8s/tools/checkov/requirements.txt (its dependencies would clash with
# the workspace's lock).
K8S_TOOLS := .tools/k8s/bin/checkov
k8s-tools: $(UV) $(K8S_TOOLS)
	@command -v kubectl >/dev/null || { \
	  echo "installing Debian's kubernetes-client for kubectl"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends kubernetes-client >/dev/null \
	  || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends kubernetes-client >/dev/null; }; }

$(K8S_TOOLS): deploy/k8s/tools/checkov/requirements.txt
	$(UV) venv -q --allow-existing --python 3.11 .tools/k8s
	VIRTUAL_ENV=.tools/k8s $(UV) pip install -q --require-hashes -r deploy/k8s/tools/checkov/requirements.txt
	@touch $@

# Regenerates the manifests that have one source (topics, users, rules, dashboards), then
# renders both overlays.
k8s: setup k8s-tools
	$(BIN)/python deploy/k8s/tools/generate.py
	kubectl kustomize deploy/k8s/overlays/staging >/dev/null
	kubectl kustomize deploy/k8s/overlays/production >/dev/null

# Schemathesis against the four services on their own local stack: no server error for any
# generated request (make test runs the same with a few examples per operation).
FUZZ_EXAMPLES ?= 100
fuzz: setup
	LAPOR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -s tests/e2e/test_fuzz.py

# Kill -9 each service in turn, freeze the store and the broker 10 s each, under a steady load;
# every accepted report dispatched, nothing delivered twice, 503 (never 500 or a hang) while
# the store is frozen; figures printed (make test runs it at 2 reports/s).
CHAOS_RATE ?= 8
CHAOS_PAUSE ?= 5
chaos: setup
	LAPOR_CHAOS_RATE=$(CHAOS_RATE) LAPOR_CHAOS_PAUSE=$(CHAOS_PAUSE) $(BIN)/pytest -s tests/e2e/test_chaos.py

# Lighthouse (npm lighthouse@12.2.3 from tools/lighthouse's lock, Debian's Chromium), mobile
# preset, on every public page of the running stack (make run). make test runs it on the
# form and the statistics (tests/e2e/test_lighthouse.py).
LIGHTHOUSE := tools/lighthouse/node_modules/.bin/lighthouse
lighthouse-tools: $(LIGHTHOUSE)
$(LIGHTHOUSE): tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --no-audit --no-fund --silent
	@touch $@

lighthouse: chromium lighthouse-tools
	bash tools/lighthouse/run.sh

# Benchmarks on a separate local stack (not part of the tests): figures, JSON in
# var/bench/results.json, and last the ratios. BENCH_ARGS="--complaints 2000 --backlog 0"
bench: setup
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The same figures and last line in about 10 minutes here: fewer complaints, a 5,000 backlog
# (about 8,500 open reports in all) for drain_flatness, two workers per service on the same run.
BENCH_QUICK_ARGS ?= --complaints 600 --backlog 5000 --drain 1000 --workers 2 --light-seconds 15
bench-quick: setup
	$(BIN)/python -m bench.run $(BENCH_QUICK_ARGS)

# The boundary lookup (lapor_schemas.geo) against the nearest-seat lookup it replaced, same
# points, same run: p50/p99 and the ratio (goal: p99 <= 1 ms).
bench-geo: setup
	$(BIN)/python -m bench.geo

# The browser's simplified boundaries from the full ones (committed; make test checks them).
geo: setup
	$(BIN)/python tools/geo/simplify.py

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# AsyncAPI documents of the four services, written to docs/asyncapi/.
asyncapi: setup
	@mkdir -p docs/asyncapi
	@for s in intake routing notify metrics; do \
	  $(BIN)/faststream docs gen --factory lapor_$$s.asyncapi:app --out docs/asyncapi/$$s.json >/dev/null && \
	  echo "docs/asyncapi/$$s.json"; \
	done

clean: down
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
