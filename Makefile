# Both targets work alone on a fresh clone: each creates .venv when missing and installs into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast demo lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Two workers (CI has two cores): the whole suite in about 11 minutes instead of 19.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# Everything but the tests marked slow (real processes, the HAProxy topology, long trainings).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

demo: $(STAMP)
	$(BIN)/verdict demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/uncertainty.py
	$(BIN)/python bench/logistic.py

clean:
	rm -rf $(VENV) .venv-clients .verdict build src/*.egg-info .pytest_cache .ruff_cache
