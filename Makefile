# Two commands from a fresh clone: `make run` (the whole system) and `make test` (the suite).
# Both create .venv on first use and reinstall when pyproject.toml or requirements.lock change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; make compares its age with the files it depends on.
STAMP := $(VENV)/.installed
HOME_DIR := $(or $(ORDERFLOW_HOME),.orderflow)

.PHONY: run test lint format e2e lock clean install assets bench

install: $(STAMP)

# The desk's and /docs' front-end assets: npm packages pinned by package-lock.json, copied into
# app/desk/static/vendor (served by the gateway; nothing loads from a CDN at run time).
VENDOR := app/desk/static/vendor
ASSETS := $(VENDOR)/.copied

assets: $(ASSETS)

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for the desk's assets (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		node_modules/swagger-ui-dist/favicon-32x32.png $(VENDOR)/
	touch $@

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[dev]'
	touch $@

run: $(STAMP) $(ASSETS)
	$(BIN)/orderflow run

# Lint first so CI enforces formatting, then every test (the end-to-end one included).
test: lint
	$(BIN)/pytest -q

lint: $(STAMP) $(ASSETS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services workflows app

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Only the end-to-end test: the whole stack as `make run` starts it.
e2e: $(STAMP) $(ASSETS)
	$(BIN)/pytest -q -m e2e

# The benchmarks (speed targets live here, printed against the engine's floor, not in tests).
bench: $(STAMP) $(ASSETS)
	$(BIN)/python bench/bench_review.py
	$(BIN)/python bench/bench_sqlite_sync.py
	$(BIN)/python bench/bench_desk.py

# Pin what the venv holds now (after changing dependencies in pyproject.toml).
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(HOME_DIR)
