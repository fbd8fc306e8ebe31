"""gunicorn settings of the image: `gunicorn -c gunicorn.conf.py strathwell.wsgi:application`.

Each value can be tuned through the environment (documented in .env.example). gunicorn reads
this file itself, before Django exists, hence `os.environ` here rather than Django settings.
"""

import json
import os

from gunicorn import util


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = f"0.0.0.0:{_int('PORT', 8000)}"
# Chosen by measurement (`make bench`, 2 CPUs, PostgreSQL and Redis on the same machine; wrk 2
# threads × 16 connections; benchmarks/RESULTS.md). Requests spend part of their time waiting
# on PostgreSQL and Redis, which threads overlap; the rest is Python, which only processes run
# in parallel. With workers recycled rarely (below), req/s of /health, /templates, /bookings,
# webhook ingest: gthread 4 × 2 = 1632, 1011, 202, 526; 3 × 4 = 1299, 762, 182, 469;
# 2 × 4 = 1479, 691, 151, 410. (sync 3 × 1 served half of 3 × 4 in an earlier round.)
workers = _int("WEB_CONCURRENCY", 4)
threads = _int("GUNICORN_THREADS", 2)
# A worker silent for this long is killed and replaced. It is well above the Stripe call
# budget (STRIPE_CALL_BUDGET_SECONDS, 9 s), so a slow Stripe answers 502 before it fires.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle each worker after about this many requests (a slow leak cannot grow for ever); the
# jitter keeps the workers from all restarting at once. Measured: at 1000 ± 100 a busy worker
# restarted every second or two (a Django start-up each time) and every path served half the
# requests of 20000 ± 2000 (3 × 4: /health 646 vs 1299 req/s, p99 1.4 s vs 0.28 s). At 1,600
# req/s this still recycles each worker every minute or so.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)
# Request line and headers: gunicorn's defaults, answered 414/431 in the error envelope below.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# The heartbeat files live in memory: the image's filesystem is not the app's to write.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Only the proxy in front of the container may set X-Forwarded-* (comma-separated IPs).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# What gunicorn refuses before Django sees the request (a request line over 8190 bytes: 414, too
# many or too large headers: 431, a malformed request: 400) gets the API's error envelope too,
# instead of gunicorn's HTML page.
ERROR_CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "server_error",
    501: "not_implemented",
}


def error_envelope_response(status_int: int, reason: str) -> bytes:
    """The raw HTTP response gunicorn sends for a request it refused, in the envelope. The
    client's input is not echoed back."""
    code = ERROR_CODES.get(status_int, "bad_request" if status_int < 500 else "server_error")
    body = json.dumps(
        {"error": {"code": code, "message": f"{reason}.", "details": {}}},
        separators=(",", ":"),
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_error(sock, status_int, reason, mesg):
    util.write_nonblock(sock, error_envelope_response(status_int, reason))


# gunicorn's workers call `util.write_error` for these refusals; it has no hook of its own.
util.write_error = _write_error
