SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VENV := .venv
PY := $(VENV)/bin/python
WHEELHOUSE := $(CURDIR)/.wheelhouse
# The oldest versions pyproject.toml declares, installed for tests/test_compat.py.
COMPAT := $(CURDIR)/.compat
# checkov in a virtualenv of its own: its dependencies clash with the repository's pins.
CHECKOV := $(CURDIR)/.tools/checkov

# jsii prints a Node end-of-life banner on Node 20; both variables are read by different jsii releases.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
# Function packages install their wheels from here, so synth and tests download nothing.
export LAMBDA_PATTERNS_WHEELHOUSE := $(WHEELHOUSE)
# tests/synth_helpers.py runs this checkov on synthesized templates.
export LAMBDA_PATTERNS_CHECKOV := $(CHECKOV)/bin/checkov
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# One line per set-up step with its time, so a first run on a new machine never sits silent for minutes.
step = @start=$$(date +%s); echo "[lambda-patterns] $(1) ..."; $(2); echo "[lambda-patterns] $(1): done in $$(( $$(date +%s) - start )) s"

.PHONY: install compat-env synth test lint bench clean local demo

install: $(VENV)/.installed node_modules/.installed $(WHEELHOUSE)/.installed $(CHECKOV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(call step,virtualenv $(VENV),python3 -m venv $(VENV))
	$(call step,Python packages (requirements.txt and requirements-dev.txt),$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	$(call step,npm packages (the CDK CLI),npm ci --no-audit --no-fund --loglevel=error)
	touch $@

$(WHEELHOUSE)/.installed: $(VENV)/.installed $(wildcard lambda_src/*/requirements.txt)
	$(call step,wheels for the functions' requirements,$(PY) -m lambda_patterns.wheelhouse --source lambda_src --dest $(WHEELHOUSE))
	touch $@

$(CHECKOV)/.installed: requirements-checkov.txt
	rm -rf $(CHECKOV)
	$(call step,checkov (requirements-checkov.txt) into $(CHECKOV),python3 -m venv $(CHECKOV) && $(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt)
	touch $@

compat-env: $(COMPAT)/oldest/.installed

$(COMPAT)/oldest/.installed: pyproject.toml tests/compat/floors.py | $(VENV)/.installed
	rm -rf $(COMPAT)/oldest
	python3 -m venv $(COMPAT)/oldest
	$(call step,oldest declared versions into $(COMPAT)/oldest,$(COMPAT)/oldest/bin/pip install --quiet --disable-pip-version-check $$($(PY) tests/compat/floors.py local))
	touch $@

synth: install
	$(call step,cdk synth of app.py into cdk.out,npx cdk synth --quiet --no-notices --output cdk.out)
	@for t in cdk.out/*.template.json; do echo "[lambda-patterns]   $$(basename $$t .template.json): $$($(PY) -c "import json,sys; print(len(json.load(open(sys.argv[1]))['Resources']))" $$t) resources"; done

test: install compat-env
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) tests/compat/typecheck.py

bench: install
	$(PY) -m benchmarks

# The synthesized app on this machine: moto's server on 127.0.0.1, handlers in local worker processes,
# each AWS call checked against the function's synthesized role (least-privilege report at stop).
local: synth
	$(PY) -m lambda_patterns.local --assembly cdk.out --iam-report local-out/iam-report.json --watch

# Runs the local app, sends it sample work and prints where the results are (thumbnails in local-out/).
demo: synth
	$(PY) -m lambda_patterns.local.demo --assembly cdk.out --iam-report local-out/iam-report.json

clean:
	rm -rf $(VENV) node_modules cdk.out $(WHEELHOUSE) $(COMPAT) .tools .pytest_cache
