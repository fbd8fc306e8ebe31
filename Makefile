# Two commands do all the set-up: `make run` and `make test`. See README.md.
PYTHON_BIN ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= $(if $(DATABASE_URL),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/strathwell)
PYTEST_ARGS ?=

.PHONY: install lock audit run worker beat periodic test fuzz image lint format migrate check-migrations schema bench bench-inprocess profile clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)

# Installs the hash-pinned lock (every transitive dependency, with hashes), after checking
# that it was generated from the current requirements*.txt.
$(VENV)/.installed: $(VENV)/bin/python requirements.txt requirements-dev.txt requirements.lock requirements-dev.lock
	$(PY) scripts/check_lock.py
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# After editing requirements.txt / requirements-dev.txt: regenerate the lock files (pip-tools,
# from PyPI) and commit them with the change.
lock: $(VENV)/bin/python
	$(PIP) install --quiet pip-tools==7.6.2
	PYTHON=$(PY) scripts/lock.sh

# Known vulnerabilities in the locked dependencies (pip-audit, OSV database); skipped with a
# message when the database is not reachable.
audit: install
	PYTHON=$(PY) scripts/audit_deps.sh

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
# The load benchmark (benchmarks/load.py): gunicorn + PostgreSQL + Redis driven by wrk (Debian's
# `wrk`, installed when run as root, else the command is printed); writes benchmarks/RESULTS.md
# and benchmarks/throughput.png. Not part of `make test` or CI. BENCH_DURATION=<s> per path.
bench: install
	@PYTHON=$(PY) DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure_postgres.sh
	@PYTHON=$(PY) scripts/ensure_redis.sh
	$(PIP) install --quiet -r benchmarks/requirements.txt
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) benchmarks/load.py

# Where one path's time goes (pyinstrument, in process, on the data set `make bench` seeded):
# `make profile P=/api/v1/bookings` (as the benchmark's organizer; ANON=1 without a login).
P ?= /api/v1/bookings
profile: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) benchmarks/profile.py $(P)

# The older in-process micro-benchmarks (Django's test client; trust screening).
bench-inprocess: install
	DATABASE_URL=$(patsubst %/strathwell,%/strathwell_bench,$(TEST_DATABASE_URL)) $(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_screening.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
