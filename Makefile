# Two commands do all the set-up: `make run` and `make test`. See README.md.
PYTHON_BIN ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/strathwell)
PYTEST_ARGS ?=

.PHONY: install run worker beat periodic test lint format migrate check-migrations schema bench clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python requirements.txt requirements-dev.txt
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Local run: SQLite by default, demo data, a local Stripe stand-in, the dev server, and the work
# outside requests: a Celery worker + beat when REDIS_URL is set, else `run_periodic --loop`.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) scripts/run_local.py --host $(HOST) --port $(PORT)

# The Celery worker and scheduler on their own (broker: REDIS_URL), e.g. on another machine.
worker: install
	$(VENV)/bin/celery -A strathwell worker --loglevel=INFO

beat: install
	@mkdir -p var
	$(VENV)/bin/celery -A strathwell beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Every periodic job once, in this process (the same code beat schedules).
periodic: install
	$(PY) manage.py run_periodic

test: install
	@PYTHON=$(PY) DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure_postgres.sh
	@PYTHON=$(PY) scripts/ensure_redis.sh
	@scripts/ensure_browser.sh
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest --create-db $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file /tmp/strathwell-openapi.yaml

# Throughput of the hot paths on PostgreSQL (numbers, not assertions).
bench: install
	@PYTHON=$(PY) DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure_postgres.sh
	DATABASE_URL=$(patsubst %/strathwell,%/strathwell_bench,$(TEST_DATABASE_URL)) $(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
