# riskwatch — the only entry points README and CI use.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
HOME_DIR ?= ./riskwatch-data
CITY ?= $(HOME_DIR)/city
N ?= 20000
SEED ?= 7
AS_OF ?= 2025-06-30
PYTEST_ARGS ?=

.PHONY: setup demo test lint typecheck unit bench bench-full clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(UV) pip install --python $(BIN)/python -q -e '.[dev,spark]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/riskwatch synth --enterprises $(N) --as-of $(AS_OF) --seed $(SEED) --out $(CITY)
	$(BIN)/riskwatch ingest $(CITY) --report-json $(HOME_DIR)/last-load.json

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

unit: setup
	$(BIN)/pytest -m 'not slow and not spark and not browser' $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py --sizes 100000,1000000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
