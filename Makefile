# Two commands do all the set-up: `make run` and `make test`. See README.md.
PYTHON_BIN ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/strathwell)
PYTEST_ARGS ?=

.PHONY: install run test fuzz image lint format migrate check-migrations schema bench clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python requirements.txt requirements-dev.txt
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Local run: SQLite by default, demo data, a local Stripe stand-in, the dev server.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) scripts/run_local.py --host $(HOST) --port $(PORT)

test: install
	@PYTHON=$(PY) DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure_postgres.sh
	@scripts/ensure_browser.sh
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest --create-db $(PYTEST_ARGS)

# Schemathesis over the whole OpenAPI schema as an organizer, a vendor and an admin: no 5xx,
# responses conform to the schema, every error in the envelope (a few minutes; CI runs it).
fuzz: install
	@PYTHON=$(PY) DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure_postgres.sh
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -m fuzz strathwell/tests/test_schemathesis.py $(PYTEST_ARGS)

# Build the production image when a Docker engine (and the base image) is available.
image:
	@scripts/build_image.sh

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
