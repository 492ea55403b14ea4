# The two commands users need are `make report` and `make test`; both create
# .venv from requirements.lock first when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
# pins installed without their dependencies (why: requirements-nodeps.in)
NODEPS := requirements-nodeps.lock
PIP_COMPILE_FLAGS := --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.DEFAULT_GOAL := help
.PHONY: help venv report test quick lab bench lock release clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Staleness is decided by content: the hash of the lock and pyproject.toml is
# recorded in the environment and compared on every run.
venv: ## create .venv from requirements.lock when missing or stale
	@want=$$(cat $(LOCK) $(NODEPS) pyproject.toml | sha256sum | cut -c1-64); \
	if [ "$$(cat $(VENV)/.lock-sha256 2>/dev/null)" != "$$want" ]; then \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	    { echo "error: $(PYTHON) is older than Python 3.11; set PYTHON=python3.11" >&2; exit 1; }; \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	    echo "warning: the lock was compiled for Python 3.11; $$($(PYTHON) --version) may give other bytes" >&2; \
	  echo "Creating $(VENV) from $(LOCK) (a few minutes the first time)..."; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK) && \
	  $(BIN)/python -m pip install --quiet --require-hashes --no-deps --no-build-isolation -r $(NODEPS) && \
	  $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . && \
	  echo "$$want" > $(VENV)/.lock-sha256 && echo "$(VENV) is ready."; \
	fi

report: venv ## run the pipeline and the notebooks; write reports/index.html
	@$(BIN)/analysis report

test: venv ## run the test suite, on every core
	@$(BIN)/python -m pytest -n auto --dist loadscope

quick: venv ## run the fast tests only (no notebooks, no releases): under 2 minutes
	@$(BIN)/python -m pytest -n auto --dist loadscope -m "not slow"

lab: venv ## open JupyterLab at the repository root, in notebooks/ (outputs go to scratch/)
	@$(BIN)/jupyter lab --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks

bench: venv ## benchmark the pipeline, the coder and the report on 100,000 generated articles, and peak memory on one 50 MB article (not a test)
	@$(BIN)/python benchmarks/bench_pipeline.py
	@$(BIN)/python benchmarks/bench_coding.py
	@$(BIN)/python benchmarks/bench_report.py
	@$(BIN)/python benchmarks/bench_memory.py

release: venv ## release this version: rebuild from scratch, manifest and archive in dist/, tag
	@$(BIN)/analysis release

lock: venv ## recompile requirements.lock from requirements.in; environment.yml; requirements-nodeps.lock
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(PIP_COMPILE_FLAGS) --output-file $(LOCK) requirements.in
	$(BIN)/python -m analysis.release.lockfile --nodeps

clean: ## delete derived outputs (data/processed, reports) but keep their READMEs
	find data/processed reports -mindepth 1 ! -name README.md -delete
