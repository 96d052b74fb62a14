# Three commands: `make run` (the whole system with demo data), `make test` (the whole suite)
# and `make serve` (production). Without DATABASE_URL, run and test use the project's
# embedded PostgreSQL (data under var/).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Production is the settings' default; development says DEBUG=true.
RUN_ENV := DEBUG=true
# `make serve` is production whatever the shell has exported.
SERVE_ENV := DEBUG=false

.PHONY: run serve worker test lint format migrate seed clean

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
	@echo "Serving http://$(HOST):$(PORT)/admin/ and delivering webhooks  (Ctrl-C stops both)"
	@$(RUN_ENV) $(BIN)/python manage.py procrastinate worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production: the environment's settings (README "Production"); refuses to start without
# SECRET_KEY, ALLOWED_HOSTS or DATABASE_URL. Collects the static files (hashed and compressed
# for whitenoise), applies migrations, then gunicorn replaces the recipe's shell (gunicorn.conf.py).
serve: $(VENV)/.runtime-installed
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(SERVE_ENV) $(BIN)/python manage.py migrate --noinput
	exec env $(SERVE_ENV) HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py

# The webhook worker (README "Events"): delivers the events the services write, with the
# environment's settings like `make serve`; production runs it beside `make serve`, as many
# as needed (on any machine). Readiness: `manage.py worker_ready`.
worker: $(VENV)/.runtime-installed
	exec env $(SERVE_ENV) $(BIN)/python manage.py procrastinate worker

test: $(VENV)/.dev-installed
	$(RUN_ENV) $(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(VENV)/.runtime-installed
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

seed: $(VENV)/.runtime-installed
	$(RUN_ENV) $(BIN)/python manage.py seed_demo

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
