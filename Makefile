# Two commands: `make run` (set up .venv, run the benchmark on the embedded synthetic default) and
# `make test` (set up .venv, lint, build the docs strictly, run the test suite; CI runs exactly this through .ci/run).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run lint docs-build docs test test-all bench figures clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,docs]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) evaluate.py --out results/default --overwrite

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The documentation site (docs/, mkdocs.yml): built with --strict (a broken link, anchor or docstring
# fails), served by `make docs` at http://127.0.0.1:8000. The variables silence MkDocs' release banners.
MKDOCS := NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs

docs-build: $(STAMP)
	$(MKDOCS) build --strict

docs: $(STAMP)
	$(MKDOCS) serve

test: lint docs-build
	$(PY) -m pytest -n 2 -m "not slow" -q

test-all: lint docs-build
	$(PY) -m pytest -n 2 -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

# Every measured table and plot of the docs and the README's headline table (docs/results/; training
# included: hours on 2 cores; `python benchmarks/figures.py --list` estimates each section).
figures: $(STAMP)
	$(PY) benchmarks/figures.py

# Removes the virtual environment and caches only: runs/ (your trained models) and results/ stay.
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info
