# One quality gate: the same commands locally and in CI.
#   make demo   synthesize every environment with governance on, then write the reports
#   make test   lint and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .checkov-venv
CHROMIUM := /usr/bin/chromium
PY := $(VENV)/bin/python
ENVS := dev staging production
OUT := build
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install demo synth synth-legacy test lint format rules-doc bench clean chromium

help:
	@echo "make demo   - synthesize dev, staging, production with governance on; reports into build/reports/"
	@echo "make test   - lint and run the test suite"
	@echo "make bench  - run the benchmarks in bench/"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import aws_cdk, cdk_nag, governance" 
	@# pip compiles what it installs but not an editable install; PYTHONDONTWRITEBYTECODE would
	@# then make every govern process compile its sources again (docs/benchmarks.md).
	$(PY) -m compileall -q governance rules reports > /dev/null
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins old boto3/packaging: it gets its own virtual environment and is run as a program.
$(CHECKOV_VENV)/.installed:
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov 2>&1 | grep -v "^WARNING: Location" || true
	$(CHECKOV_VENV)/bin/checkov --version
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
		else echo "$(CHROMIUM) is missing: run 'sudo apt-get install chromium'"; exit 1; fi; \
	fi

install: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

synth: install
	@mkdir -p $(OUT)
	@for env in $(ENVS); do \
		echo "==> synthesizing $$env (governance on)"; \
		npx --no-install cdk synth -q -c env=$$env -o $(OUT)/cdk.out.$$env > $(OUT)/synth-$$env.log 2>&1 \
			|| { cat $(OUT)/synth-$$env.log; echo "synthesis of $$env failed (log: $(OUT)/synth-$$env.log)"; exit 1; }; \
		echo "    $(OUT)/cdk.out.$$env"; \
	done

# The cost report's baseline: every environment synthesized with the legacy profile.
synth-legacy: install
	@mkdir -p $(OUT)
	@for env in $(ENVS); do \
		echo "==> synthesizing $$env with -c profile=legacy (the cost report's before)"; \
		npx --no-install cdk synth -q -c env=$$env -c profile=legacy -o $(OUT)/cdk.out.$$env.legacy > $(OUT)/synth-$$env-legacy.log 2>&1 \
			|| { cat $(OUT)/synth-$$env-legacy.log; echo "legacy synthesis of $$env failed (log: $(OUT)/synth-$$env-legacy.log)"; exit 1; }; \
		echo "    $(OUT)/cdk.out.$$env.legacy"; \
	done

demo: synth synth-legacy
	@mkdir -p $(OUT)/reports
	@for env in $(ENVS); do \
		$(VENV)/bin/govern check $(OUT)/cdk.out.$$env --env $$env --format json -o $(OUT)/reports/findings-$$env.json \
			&& echo "==> governance findings for $$env: $(OUT)/reports/findings-$$env.json"; \
		$(VENV)/bin/govern report compliance $(OUT)/cdk.out.$$env --env $$env \
			-o $(OUT)/reports/compliance-$$env.html -o $(OUT)/reports/compliance-$$env.json \
			-o $(OUT)/reports/compliance-$$env.sarif || exit 1; \
		echo "==> compliance report for $$env: $(OUT)/reports/compliance-$$env.html"; \
	done
	$(VENV)/bin/govern report cost $(foreach env,$(ENVS),--pair env=$(env),before=$(OUT)/cdk.out.$(env).legacy,after=$(OUT)/cdk.out.$(env)) \
		--usage reports/cost/usage/payments.yaml -o $(OUT)/reports/cost.html -o $(OUT)/reports/cost.json
	@echo "==> cost report (legacy vs optimised, offline estimate): $(OUT)/reports/cost.html"
	@echo "Cloud assemblies: $(OUT)/cdk.out.{dev,staging,production}; reports: $(OUT)/reports/"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install chromium lint
	$(VENV)/bin/pytest -q

rules-doc: install
	$(VENV)/bin/govern rules --format markdown > RULES.md

bench: install
	$(PY) bench/bench_check.py
	$(PY) bench/bench_compliance.py
	$(PY) bench/bench_cost.py

clean:
	rm -rf $(OUT) cdk.out .pytest_cache
