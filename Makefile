# One entry point for humans and CI. Each target creates .venv with Python 3.12 if needed.
PYTHON ?= $(shell command -v python3.12 || command -v python3.13)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench docs docs-build notebooks clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or 3.13 is required (python3.12 not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Fits the example fleet, checks it, forecasts with it; writes out/report.html and the fit.
demo: $(STAMP)
	$(BIN)/bayescount demo --out out

PROMETHEUS := .cache/prometheus/usr/bin/prometheus

# Debian's prometheus package, unpacked (not installed) for the tests' own servers.
$(PROMETHEUS):
	tools/fetch-prometheus

test: $(STAMP) $(PROMETHEUS)
	$(BIN)/ruff check bayescount tests benchmarks data
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not fit"

lint: $(STAMP)
	$(BIN)/ruff check .

# Per-gradient time (S, M; add L with --sizes S,M,L) then the side-by-side S fits;
# results in benchmarks/results/ (JSON + Markdown).
bench: $(STAMP)
	$(BIN)/python benchmarks/gradient.py --sizes S,M --out benchmarks/results
	$(BIN)/python benchmarks/bench_fit.py

# The documentation site (MkDocs Material + mkdocstrings): served with live reload on
# http://127.0.0.1:8000, or built with every warning an error (broken links, references,
# docstrings) into site/.
docs: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

docs-build: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# Re-execute every notebook in place, outputs and figures included (BAYESCOUNT_NOTEBOOK_SIZE=full
# by default; notebooks/_build.py rewrites their sources).
notebooks: $(STAMP)
	$(BIN)/python notebooks/_execute.py

clean:
	rm -rf $(VENV) out site .pytest_cache
