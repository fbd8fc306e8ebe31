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


def test_one_round_trip_counter_lets_exactly_the_limit_through_threads(redis_namespace):
    """The Redis path of `SharedRateThrottle._count` (SET NX EX + INCR + GET in one
    MULTI/EXEC), hit by 40 threads at once: exactly LIMIT pass, the counter expires, and
    Django's cache reads the counter back as the same integer."""
    import threading
    from types import SimpleNamespace

    from django.core.cache.backends.redis import RedisCache

    from strathwell.api.throttling import AuthRateThrottle

    cache = RedisCache(redis_namespace.url, {"KEY_PREFIX": redis_namespace.name})

    class Throttle(AuthRateThrottle):
        def get_rate(self):
            return f"{LIMIT}/hour"

    Throttle.cache = cache
    request = SimpleNamespace(META={"REMOTE_ADDR": "203.0.113.9"}, user=None)
    barrier, allowed = threading.Barrier(40), []

    def attempt():
        barrier.wait()
        allowed.append(Throttle().allow_request(request, None))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == LIMIT and len(allowed) == 40
    throttle = Throttle()
    window = int(throttle.timer() // throttle.duration)
    key = f"{throttle.get_cache_key(request, None)}:{window}"
    assert cache.get(key) == LIMIT  # refused requests took their increment back
    with redis_namespace.client() as client:
        ttl = client.ttl(cache.make_and_validate_key(key))
    assert 0 < ttl <= 2 * 3600 + 1


def test_the_default_cache_proxy_takes_the_redis_path(redis_namespace, settings):
    """With CACHES on Redis (as in every deployment) the throttles' default cache, Django's
    `cache` proxy, resolves to the one-round-trip path: one MULTI/EXEC per decision in Redis'
    command statistics, and the limit still holds."""
    from types import SimpleNamespace

    from django.core.cache import caches

    from strathwell.api import throttling

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_namespace.url,
            "KEY_PREFIX": redis_namespace.name,
        }
    }
    settings.THROTTLE_USER_RATE = "5/min"
    calls = []
    original = throttling.SharedRateThrottle._count

    def spy(self, current_key, previous_key):
        calls.append(isinstance(caches["default"], throttling.RedisCache))
        return original(self, current_key, previous_key)

    request = SimpleNamespace(META={"REMOTE_ADDR": "203.0.113.10"}, user=None)
    with redis_namespace.client() as client:
        before = int(client.info("commandstats").get("cmdstat_multi", {}).get("calls", 0))
        throttling.SharedRateThrottle._count = spy
        try:
            results = [throttling.UserRateThrottle().allow_request(request, None) for _ in range(7)]
        finally:
            throttling.SharedRateThrottle._count = original
        after = int(client.info("commandstats").get("cmdstat_multi", {}).get("calls", 0))
    assert results == [True] * 5 + [False] * 2
    assert calls == [True] * 7
    assert after - before >= 7  # one MULTI/EXEC per decision
