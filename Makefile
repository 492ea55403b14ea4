# The two commands users need are `make report` and `make test`; both create
# .venv from the locks first when it is missing or stale.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# what runs the report, for Linux, macOS and Windows (markers say which is whose)
LOCK := requirements.lock
# that, and the tools to test and to lock (`make test` and `make lock` add them)
DEV_LOCK := requirements-dev.lock
UV_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
# uv, when the machine has it, installs the same locks in seconds; pip otherwise
INSTALL = if command -v uv >/dev/null 2>&1; then uv pip install --quiet --python $(BIN)/python $(1); \
	  else $(BIN)/python -m pip install --quiet $(1); fi

.DEFAULT_GOAL := help
.PHONY: help venv venv-dev report test quick lab bench lock release clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Staleness is decided by content: the hash of the locks and pyproject.toml is
# recorded in the environment and compared on every run.
venv: ## create .venv from requirements.lock when missing or stale
	@want=$$(cat $(LOCK) pyproject.toml | sha256sum | cut -c1-64); \
	if [ "$$(cat $(VENV)/.lock-sha256 2>/dev/null)" != "$$want" ]; then \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	    { echo "error: $(PYTHON) is older than Python 3.11; set PYTHON=python3.11" >&2; exit 1; }; \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	    echo "warning: the lock was compiled for Python 3.11; $$($(PYTHON) --version) may give other bytes" >&2; \
	  echo "Creating $(VENV) from $(LOCK) (a few minutes the first time; seconds with uv)..."; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && \
	  { $(call INSTALL,--require-hashes --no-deps -r $(LOCK)); } && \
	  { $(call INSTALL,--no-deps --no-build-isolation -e .); } && \
	  echo "$$want" > $(VENV)/.lock-sha256 && echo "$(VENV) is ready."; \
	fi

# the test and lock tools, added to .venv when missing or stale
venv-dev: venv
	@want=$$(cat $(DEV_LOCK) $(VENV)/.lock-sha256 | sha256sum | cut -c1-64); \
	if [ "$$(cat $(VENV)/.dev-sha256 2>/dev/null)" != "$$want" ]; then \
	  echo "Adding the test and lock tools ($(DEV_LOCK)) to $(VENV)..."; \
	  { $(call INSTALL,--require-hashes --no-deps -r $(DEV_LOCK)); } && \
	  echo "$$want" > $(VENV)/.dev-sha256; \
	fi

report: venv ## run the pipeline and the notebooks; write reports/index.html
	@$(BIN)/analysis report

test: venv-dev ## run the test suite, on every core
	@$(BIN)/python -m pytest -n auto --dist loadscope

quick: venv-dev ## run the fast tests only (no notebooks, no releases): under 2 minutes
	@$(BIN)/python -m pytest -n auto --dist loadscope -m "not slow"

lab: venv ## open JupyterLab at the repository root, in notebooks/ (outputs go to scratch/)
	@$(BIN)/jupyter lab --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks

bench: venv ## benchmark every stage and the report on 100,000 generated articles (one table), then peak memory on one 50 MB article (not a test)
	@$(BIN)/python benchmarks/bench.py
	@$(BIN)/python benchmarks/bench_memory.py

release: venv ## release this version: rebuild from scratch, manifest and archive in dist/, tag
	@$(BIN)/analysis release

lock: venv-dev ## recompile the locks from pyproject.toml for Linux, macOS and Windows, and environment.yml
	$(BIN)/uv pip compile pyproject.toml requirements-build.in $(UV_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev -c $(LOCK) $(UV_FLAGS) -o $(DEV_LOCK)
	$(BIN)/python -m analysis.release.lockfile

clean: ## delete derived outputs (data/processed, reports) but keep their READMEs
	find data/processed reports -mindepth 1 ! -name README.md -delete
