# Two commands from a fresh clone: `make run` (the whole system) and `make test` (the suite).
# Both create .venv on first use and reinstall when pyproject.toml or requirements.lock change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; make compares its age with the files it depends on.
STAMP := $(VENV)/.installed
HOME_DIR := $(or $(ORDERFLOW_HOME),.orderflow)

.PHONY: run test lint format e2e lock clean install assets browser bench

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

# The browser the desk's tests drive: Debian's Chromium, run by Playwright through its
# executable_path (nothing downloads a browser), with a Chinese font for the Chinese pages.
# Installed with apt-get when missing: as root (a fresh CI machine), else with sudo.
CHROMIUM := /usr/bin/chromium
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

browser: $(CHROMIUM)

$(CHROMIUM):
	@echo "make: $(CHROMIUM) is missing; installing $(BROWSER_PACKAGES) with apt-get (the desk's browser tests)"
	@command -v apt-get >/dev/null || { echo "make: no apt-get here: install Chromium at $(CHROMIUM) for the desk's browser tests" >&2; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "make: installing Chromium needs root: run 'apt-get install -y $(BROWSER_PACKAGES)' as root, then make test again" >&2; exit 1; fi; \
	$$sudo apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[dev]'
	touch $@

run: $(STAMP) $(ASSETS)
	$(BIN)/orderflow run

# Lint first so CI enforces formatting, then every test (the end-to-end one and the desk's
# browser tests included), in two pytest processes side by side on the machine's two cores:
# the tests that mostly wait on the processes they start (the whole stack, the fault drills,
# the browser, the runner) beside the rest. Each process has its own PostgreSQL and temporary
# directory; the waiting group's output follows the other's, and either failing fails the run.
WAITING_TESTS := tests/e2e tests/faults tests/desk/browser tests/test_runner_lifecycle.py

test: lint $(CHROMIUM)
	@log=$$(mktemp); \
	$(BIN)/pytest -q -p no:cacheprovider --basetemp=$$(mktemp -d) $(WAITING_TESTS) >$$log 2>&1 & \
	waiting=$$!; \
	$(BIN)/pytest -q -p no:cacheprovider --basetemp=$$(mktemp -d) \
		$(addprefix --ignore=,$(WAITING_TESTS)); rest=$$?; \
	wait $$waiting; waited=$$?; \
	echo "--- $(WAITING_TESTS)"; cat $$log; rm -f $$log; \
	test $$rest -eq 0 && test $$waited -eq 0

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

# The benchmarks at full size, one table of figures against the engine's floor (speed targets
# live here, not in tests; bench/README.md). Exits non-zero only when a benchmark crashes.
bench: $(STAMP) $(ASSETS)
	$(BIN)/python bench/run.py --size full

# Pin what the venv holds now (after changing dependencies in pyproject.toml).
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(HOME_DIR)
