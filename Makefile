# Two commands from a fresh clone: `make run` (the whole system) and `make test` (the suite).
# Both create .venv on first use and reinstall when pyproject.toml or requirements.lock change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; make compares its age with the files it depends on.
STAMP := $(VENV)/.installed
HOME_DIR := $(or $(ORDERFLOW_HOME),.orderflow)

.PHONY: run test lint format e2e lock clean install

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/orderflow run

# Lint first so CI enforces formatting, then every test (the end-to-end one included).
test: lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services workflows app

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Only the end-to-end test: the whole stack as `make run` starts it.
e2e: $(STAMP)
	$(BIN)/pytest -q -m e2e

# Pin what the venv holds now (after changing dependencies in pyproject.toml).
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(HOME_DIR)
