# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= hotspots.duckdb
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint pytest demo bench browser clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests; Playwright drives it, it never downloads a browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

$(DB): | $(STAMP)
	$(BIN)/geo-service --db $(DB) demo

demo: $(STAMP)
	$(BIN)/geo-service --db $(DB) demo

run: $(STAMP) $(DB)
	@echo "Service: http://$(HOST):$(PORT)/kaart  (API docs: http://$(HOST):$(PORT)/docs)"
	$(BIN)/geo-service --db $(DB) serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check geo_service spatial layers tests benchmarks
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -q

test: lint pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/hotspots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
