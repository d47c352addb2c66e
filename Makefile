# Two commands: `make run` (set up .venv, run the benchmark on the embedded synthetic default) and
# `make test` (set up .venv, lint, run the test suite; CI runs exactly this through .ci/run).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run lint test test-all bench figures clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) evaluate.py --out results/default

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest -n 2 -m "not slow" -q

test-all: lint
	$(PY) -m pytest -n 2 -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

# Every measured number of the README (training included: hours on 2 cores; `benchmarks/figures.py --list` estimates each section).
figures: $(STAMP)
	$(PY) benchmarks/figures.py

# Removes the virtual environment and caches only: runs/ (your trained models) and results/ stay.
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info
