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

# The benchmark suite (issue 10; JSON + Markdown in $(BENCH_OUT)): per-gradient time
# (gradient.py), bayescount vs hand-written PyMC vs bambi sampling the same data side by
# side, each in its own subprocess under a $(BENCH_LIMIT) s limit (bench_fit.py), the fixed
# costs of one fit stage by stage (fixed_costs.py) and the growth plot $(BENCH_PLOT)
# (growth_plot.py). Hours at the defaults on 2 cores. All sizes:
#   make bench BENCH_SIZES=S,M,L GRADIENT_SIZES=S,M,L,S4k
# Smoke test (minutes):
#   make bench BENCH_SIZES=XS GRADIENT_SIZES=XS FIXED_SIZE=XS BENCH_DRAWS=100 BENCH_TUNE=100 \
#     BENCH_LIMIT=120 BENCH_OUT=/tmp/bench BENCH_PLOT=/tmp/bench/scaling.png
BENCH_SIZES ?= S,M
GRADIENT_SIZES ?= S,M,S4k
BENCH_CONTENDERS ?= bayescount,handwritten,bambi,bambi_noseason
FIXED_SIZE ?= S
BENCH_DRAWS ?= 1000
BENCH_TUNE ?= 1000
BENCH_LIMIT ?= 900
BENCH_OUT ?= benchmarks/results
BENCH_PLOT ?= docs/img/scaling.png
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/gradient.py --sizes $(GRADIENT_SIZES) --out $(BENCH_OUT)
	$(BIN)/python benchmarks/bench_fit.py --sizes $(BENCH_SIZES) --draws $(BENCH_DRAWS) \
		--tune $(BENCH_TUNE) --limit $(BENCH_LIMIT) --contenders $(BENCH_CONTENDERS) \
		--out $(BENCH_OUT)
	$(BIN)/python benchmarks/fixed_costs.py --size $(FIXED_SIZE) --draws $(BENCH_DRAWS) \
		--tune $(BENCH_TUNE) --out $(BENCH_OUT)
	$(BIN)/python benchmarks/growth_plot.py --gradient $(BENCH_OUT)/gradient.json \
		--fit $(BENCH_OUT)/bench_fit.json --out $(BENCH_PLOT)

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
