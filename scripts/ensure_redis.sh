#!/usr/bin/env bash
# Make sure the Redis the tests use answers on 127.0.0.1:6379 (the Celery broker and the shared
# cache of the worker/throttle tests). Starts a local one when it is down (installing Debian's
# redis-server first when missing and we may: root with apt); otherwise says how.
set -euo pipefail
host=127.0.0.1
port=6379
py="${PYTHON:-.venv/bin/python}"
probe() { "$py" - "$host" "$port" <<'PY'
import sys, redis
try:
    redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), socket_connect_timeout=2).ping()
except Exception as exc:
    print(f"  {exc}", file=sys.stderr); sys.exit(1)
PY
}
if probe 2>/dev/null; then exit 0; fi
echo "Redis on $host:$port is not answering; starting a local one..." >&2
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
fi
if command -v redis-server >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  dir=/var/lib/redis; log=/var/log/redis/ci.log
  if [ ! -w "$dir" ] || [ ! -w "$(dirname "$log")" ]; then  # not root: a private directory
    dir="${TMPDIR:-/tmp}/strathwell-redis"; mkdir -p "$dir"; log="$dir/redis.log"
  fi
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" \
    --appendonly no --dir "$dir" --logfile "$log" || true
  for _ in $(seq 1 20); do probe 2>/dev/null && exit 0; sleep 0.25; done
fi
probe || true
cat >&2 <<MSG
The worker, email and throttle tests need Redis on $host:$port. Install and start it, e.g.
  apt-get install redis-server && redis-server --daemonize yes --bind 127.0.0.1 --port $port
MSG
exit 1
