#!/usr/bin/env bash
# Make sure the PostgreSQL the tests use is reachable: DATABASE_URL if set, else the local
# server on 127.0.0.1:5432 as user postgres. Tries to start a local cluster once, else explains.
set -euo pipefail
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/strathwell}"
py="${PYTHON:-.venv/bin/python}"
probe() { "$py" - "$url" <<'PY'
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
try:
    psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                    password=u.password or None, dbname="postgres", connect_timeout=3).close()
except Exception as exc:
    print(f"  {exc}".strip(), file=sys.stderr); sys.exit(1)
PY
}
if probe 2>/dev/null; then exit 0; fi
echo "PostgreSQL at $url is not reachable; trying to start the local cluster..." >&2
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 20); do probe 2>/dev/null && exit 0; sleep 0.5; done
fi
probe || true
cat >&2 <<MSG
The tests need PostgreSQL. Start it, e.g.
  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
or point DATABASE_URL at a server you can reach (postgres://user:pass@host:5432/dbname).
MSG
exit 1
