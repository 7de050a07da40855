# One entry point for humans and CI. Each target creates .venv with Python 3.12 if needed.
PYTHON ?= $(shell command -v python3.12 || command -v python3.13)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or 3.13 is required (python3.12 not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

DEMO_DATA := data/example_fleet

demo: $(STAMP)
	mkdir -p out
	$(BIN)/bayescount fit $(DEMO_DATA)/fleet.csv --counts errors --exposure requests \
		--exposure-unit requests --time timestamp --group region --group service --group node \
		--family negative_binomial --seasonality daily --seed 1 --out out/fleet_fit.nc
	$(BIN)/bayescount check out/fleet_fit.nc
	$(BIN)/bayescount predict out/fleet_fit.nc --data $(DEMO_DATA)/next_hour.csv \
		--quantiles 0.05,0.5,0.95 --out out/next_hour_forecast.csv
	@echo "Forecast of the next hour written to out/next_hour_forecast.csv"

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

clean:
	rm -rf $(VENV) out .pytest_cache
