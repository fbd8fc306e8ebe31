"""Rate limits hold in total across processes: two gunicorn servers sharing Redis (the cache
of REDIS_URL) let the limit through once between them. The control run, without Redis, shows
what the test catches: each process would allow its own budget."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from strathwell.testing.fixtures import database_url_for_subprocesses
from strathwell.testing.workers import RedisNamespace, process_env, start_gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIMIT = 10
ATTEMPTS = 30


def hammer(urls: list[str]) -> Counter:
    """ATTEMPTS failed logins from one client IP, spread over the servers, 10 at a time."""
    session = requests.Session()
    session.trust_env = False  # loopback only

    def login(i: int) -> int:
        url = urls[i % len(urls)] + "/api/v1/auth/login"
        body = {"email": f"nobody{i}@example.com", "password": "wrong-password"}
        return session.post(url, json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        return Counter(pool.map(login, range(ATTEMPTS)))


def servers(env: dict[str, str], count: int = 2):
    started = []
    try:
        for _ in range(count):
            started.append(start_gunicorn(env))
        return started
    except Exception:
        for server in started:
            server.stop()
        raise


def test_the_login_limit_holds_in_total_across_two_processes(redis_namespace):
    namespace = RedisNamespace(url=redis_namespace.url)  # fresh counters for this test
    env = process_env(
        namespace,
        database_url=database_url_for_subprocesses(),
        THROTTLE_AUTH_RATE=f"{LIMIT}/hour",
    )
    shared = servers(env)
    try:
        statuses = hammer([server.url for server in shared])
    finally:
        for server in shared:
            server.stop()
        namespace.cleanup()
    assert statuses == Counter({401: LIMIT, 429: ATTEMPTS - LIMIT}), statuses


def test_without_redis_each_process_counts_alone(redis_namespace):
    env = process_env(
        RedisNamespace(url=redis_namespace.url),
        database_url=database_url_for_subprocesses(),
        THROTTLE_AUTH_RATE=f"{LIMIT}/hour",
    )
    env.pop("REDIS_URL")  # LocMem: a cache per process
    alone = servers(env)
    try:
        statuses = hammer([server.url for server in alone])
    finally:
        for server in alone:
            server.stop()
    assert statuses[401] == 2 * LIMIT, statuses
