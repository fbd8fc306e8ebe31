#!/usr/bin/env bash
# `make audit` (and CI): check the locked dependencies against a vulnerability database with
# pip-audit. The database is OSV (api.osv.dev); where it cannot be reached (a machine without
# general internet access) the audit is skipped with a clear message instead of failing.
# PIP_AUDIT_SERVICE=pypi uses PyPI's advisory data instead.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-.venv/bin/python}"
service="${PIP_AUDIT_SERVICE:-osv}"
case "$service" in
  osv) host="api.osv.dev" ;;
  pypi) host="pypi.org" ;;
  *) echo "PIP_AUDIT_SERVICE must be osv or pypi" >&2; exit 2 ;;
esac

if ! "$py" - "$host" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], 443), timeout=5).close()
except OSError:
    sys.exit(1)
PY
then
  echo "pip-audit: SKIPPED — the vulnerability database ($host) is not reachable from this machine;"
  echo "           run 'make audit' where it is (the locked dependencies were not checked)."
  exit 0
fi

for lock in requirements.lock requirements-dev.lock; do
  echo "pip-audit ($service): $lock"
  "$py" -m pip_audit --vulnerability-service "$service" --require-hashes --disable-pip \
    --progress-spinner off -r "$lock"
done
