# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= hotspots.duckdb
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint pytest pytest-dated demo bench browser clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it, it never downloads a browser),
# Debian's faketime, which moves the clock of a whole process (Python, DuckDB, Chromium), and
# Debian's PostgreSQL, whose initdb/pg_ctl the store tests run in a temporary folder
# (tests/postgres.py; no system service is used).
browser:
	@{ command -v chromium && command -v faketime && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium, faketime and postgresql for the tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core faketime postgresql >/dev/null; }

demo: $(STAMP)
	$(BIN)/geo-service --db $(DB) demo

# A demo store of an earlier month is rebuilt (only a store that holds nothing but the demo),
# so `make run` shows the recent months a planner wants.
run: $(STAMP)
	$(BIN)/geo-service --db $(DB) demo --refresh
	@echo "Service: http://$(HOST):$(PORT)/kaart  (API docs: http://$(HOST):$(PORT)/docs)"
	$(BIN)/geo-service --db $(DB) serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check geo_service spatial layers tests benchmarks tools
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory pytest-dated

# The tests that depend on the demo's clock (marker `clock`) once more on a 1 January and on a
# 29 February, with the whole process's clock moved by libfaketime; the run above is today.
DATED := "2027-01-01 00:30:00" "2028-02-29 12:00:00"
pytest-dated: $(STAMP) browser
	@for d in $(DATED); do \
	  echo "== clock at $$d"; \
	  faketime "$$d" $(BIN)/python -m pytest -q -m clock -p no:cacheprovider || exit 1; \
	done

test: lint pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/hotspots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
