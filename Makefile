# One entry point for people and CI. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help venv test lint typecheck tf-check pytest schemas bench demo up publish beam-venv

help:
	@echo "make demo      install what is missing, run the whole pipeline locally on a sample, print what landed"
	@echo "make up        start the local pipeline and keep it running (Ctrl-C stops it)"
	@echo "make publish FILE=access.log   publish your own log lines to the pipeline started by make up"
	@echo "make test      install what is missing, then lint, type-check, check Terraform and run every test"
	@echo "make schemas   regenerate terraform/schemas/*.json, terraform/sql/*.sql and the Grafana dashboard from functions/schema.py, views.py and report/panels.py"
	@echo "make bench     run the benchmarks in bench/"
	@echo "make beam-venv install the Beam replay pipeline's own venv in .tools/beam (beam/requirements-beam.txt)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-report.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test: venv lint typecheck tf-check pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy .

tf-check:
	terraform fmt -check -recursive terraform
	test -x .tools/checkov/bin/checkov || ($(PYTHON) -m venv .tools/checkov && .tools/checkov/bin/pip install --quiet --disable-pip-version-check checkov==3.3.30)
	BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false .tools/checkov/bin/checkov -d terraform --quiet --compact --framework terraform --skip-download

pytest: venv
	$(BIN)/pytest

schemas: venv
	$(BIN)/python -m functions schemas
	$(BIN)/python -m report.grafana

bench: venv
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/drain_cpu.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/sinks.py
	$(BIN)/python bench/micro_batching.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/forward.py
	$(BIN)/python bench/user_agent.py
	$(BIN)/python bench/logs.py

beam-venv: venv
	$(BIN)/python -m local.beam_env

demo: venv
	$(BIN)/python -m local.demo

up: venv
	$(BIN)/python -m local.pipeline

publish: venv
	@test -n "$(FILE)" || (echo "usage: make publish FILE=path/to/access.log" && exit 2)
	$(BIN)/python -m local.publish "$(FILE)"
