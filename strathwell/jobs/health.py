"""Health of the work outside requests: the broker, and how long due work has been waiting."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from strathwell.jobs.periodic import load_jobs


def _display_url(url: str) -> str:
    """The broker URL without credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_broker() -> dict:
    """Redis answers a PING (short timeouts), or the eager mode when REDIS_URL is unset."""
    if not settings.REDIS_URL:
        return {
            "ok": True,
            "mode": "eager",
            "detail": "REDIS_URL is unset: tasks run in process; periodic jobs need "
            "`manage.py run_periodic --loop` (make run starts it).",
        }
    import redis  # only when a broker is configured

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
        client.close()
    except Exception as exc:  # any client error means "down", reported, not raised
        return {
            "ok": False,
            "mode": "celery",
            "url": _display_url(settings.REDIS_URL),
            "error": type(exc).__name__,
        }
    return {
        "ok": True,
        "mode": "celery",
        "url": _display_url(settings.REDIS_URL),
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def check_jobs(now: datetime | None = None) -> dict:
    """Per job with a backlog: how many rows are due and unprocessed and how long the oldest has
    waited; `oldest_due_seconds` is the worst of them. Not ok beyond JOBS_MAX_LAG_SECONDS (no
    worker or scheduler is keeping up)."""
    now = now or timezone.now()
    backlog = {}
    oldest = 0.0
    for name, job in load_jobs().items():
        if job.backlog is None:
            continue
        due, oldest_due_at = job.backlog(now)
        waited = max((now - oldest_due_at).total_seconds(), 0.0) if oldest_due_at else 0.0
        backlog[name] = {"due": due, "oldest_due_seconds": round(waited, 1)}
        oldest = max(oldest, waited)
    return {
        "ok": oldest <= settings.JOBS_MAX_LAG_SECONDS,
        "oldest_due_seconds": round(oldest, 1),
        "max_lag_seconds": settings.JOBS_MAX_LAG_SECONDS,
        "backlog": backlog,
    }
