# Two commands: `make run` (the whole system with demo data) and `make test` (the whole suite).
# Without DATABASE_URL both use the project's embedded PostgreSQL (data under var/).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Development settings for `make run`; production is DEBUG=false with a real SECRET_KEY.
RUN_ENV := DEBUG=$${DEBUG:-true}

.PHONY: run test lint format migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo "Serving http://$(HOST):$(PORT)/admin/  (Ctrl-C to stop)"
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(VENV)/.runtime-installed
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

seed: $(VENV)/.runtime-installed
	$(RUN_ENV) $(BIN)/python manage.py seed_demo

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
