# One quality gate: the same commands locally and in CI.
#   make demo   synthesize every environment with governance on, then write the reports
#   make test   lint and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENVS := dev staging production
OUT := build
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install demo synth test lint format rules-doc bench clean

help:
	@echo "make demo   - synthesize dev, staging, production with governance on; reports into build/reports/"
	@echo "make test   - lint and run the test suite"
	@echo "make bench  - run the benchmarks in bench/"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import aws_cdk, cdk_nag, governance" 
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

synth: install
	@mkdir -p $(OUT)
	@for env in $(ENVS); do \
		echo "==> synthesizing $$env (governance on)"; \
		npx --no-install cdk synth -q -c env=$$env -o $(OUT)/cdk.out.$$env > $(OUT)/synth-$$env.log 2>&1 \
			|| { cat $(OUT)/synth-$$env.log; echo "synthesis of $$env failed (log: $(OUT)/synth-$$env.log)"; exit 1; }; \
		echo "    $(OUT)/cdk.out.$$env"; \
	done

demo: synth
	@mkdir -p $(OUT)/reports
	@for env in $(ENVS); do \
		$(VENV)/bin/govern check $(OUT)/cdk.out.$$env --env $$env --format json -o $(OUT)/reports/findings-$$env.json \
			&& echo "==> governance findings for $$env: $(OUT)/reports/findings-$$env.json"; \
	done
	@echo "Cloud assemblies: $(OUT)/cdk.out.{dev,staging,production}; reports: $(OUT)/reports/"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install lint
	$(VENV)/bin/pytest -q

rules-doc: install
	$(VENV)/bin/govern rules --format markdown > RULES.md

bench: install
	$(PY) bench/bench_check.py

clean:
	rm -rf $(OUT) cdk.out .pytest_cache
