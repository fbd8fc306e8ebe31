"""Rate limits, read from settings at request time (THROTTLE_*_RATE) so operators and load tests
can tune them without code changes. Clients are told apart by `strathwell.api.client_ip` (the
one trusted-client-IP rule, `NUM_PROXIES`), never by a header the client writes itself.

The counters live in the cache: Redis (`REDIS_URL`) in any real deployment, so a limit holds
for every gunicorn worker and machine together; a per-process LocMem cache only without Redis.
DRF's own throttle keeps a list of timestamps that each request reads, appends to and writes
back — two processes doing that at once both pass. Here every decision is one atomic
`INCR` instead (a sliding-window counter, as API gateways use):

- the current fixed window of the rate's duration has a counter; a request increments it;
- the estimate of the last `duration` seconds is `previous × (1 − elapsed/duration) + current`;
- over the limit, the request is refused and its increment taken back (a refused request does
  not use up the client's budget).

Of N concurrent requests each gets a distinct count from `INCR`, so at most the limit pass per
window, however many processes serve them.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from strathwell.api.client_ip import client_ip


class ClientIPMixin:
    def get_ident(self, request):
        return client_ip(request) or "unknown"


class SharedRateThrottle(ClientIPMixin, SimpleRateThrottle):
    """A sliding-window counter kept in the shared cache (see the module docstring)."""

    cache = default_cache

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        elapsed = now - window * self.duration
        current_key = f"{self.key}:{window}"
        current, previous = self._count(current_key, f"{self.key}:{window - 1}")
        weight = 1 - elapsed / self.duration
        if previous * weight + current <= self.num_requests:
            return True
        self.cache.decr(current_key)
        self._wait = self._seconds_until_allowed(previous, current - 1, elapsed)
        return False

    def _count(self, current_key: str, previous_key: str) -> tuple[int, int]:
        """(this window's count after this request's increment, the previous window's).

        The counter is kept for two windows: the next window reads it as its "previous".
        On Redis it is one round trip: `SET NX EX`, `INCR`, `GET` in one MULTI/EXEC (the key
        cannot expire between its creation and the increment). Django's cache API would take
        four (`add`; `incr` is `EXISTS` + `INCR`; `get`), each with a new client object.
        The values are plain integers, which Django's Redis cache reads back as such."""
        ttl = 2 * self.duration + 1
        # `django.core.cache.cache` is a proxy: the backend behind it decides the path.
        cache = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if isinstance(cache, RedisCache):
            key = cache.make_and_validate_key(current_key)
            client = cache._cache.get_client(key, write=True)
            with client.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=ttl, nx=True)
                pipe.incr(key)
                pipe.get(cache.make_and_validate_key(previous_key))
                _, current, previous = pipe.execute()
            return current, int(previous or 0)
        self.cache.add(current_key, 0, timeout=ttl)
        try:
            current = self.cache.incr(current_key)
        except ValueError:  # expired between add and incr: start the window again
            self.cache.add(current_key, 1, timeout=ttl)
            current = 1
        return current, self.cache.get(previous_key, 0) or 0

    def _seconds_until_allowed(self, previous: int, current: int, elapsed: float) -> float:
        """When the estimate drops enough for one more request (within this window, or at the
        latest when the next one starts)."""
        room = self.num_requests - current - 1
        if previous > 0 and room >= 0:
            # previous × (1 − t/duration) ≤ room  ⇔  t ≥ duration × (1 − room/previous)
            at = self.duration * (1 - room / previous)
            if at > elapsed:
                return max(math.ceil(at - elapsed), 1)
        return max(math.ceil(self.duration - elapsed), 1)

    def wait(self):
        return getattr(self, "_wait", None)


class AuthRateThrottle(SharedRateThrottle):
    """Per client IP, for login, signup, refresh and admin-bootstrap."""

    scope = "auth"

    def get_rate(self):
        return settings.THROTTLE_AUTH_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(SharedRateThrottle):
    """Per user (per IP when anonymous), for everything else."""

    scope = "user"

    def get_rate(self):
        return settings.THROTTLE_USER_RATE

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PresignRateThrottle(UserRateThrottle):
    """Upload URLs, per user: each one reserves quota and a storage key."""

    scope = "presign"

    def get_rate(self):
        return settings.THROTTLE_PRESIGN_RATE


class ModerationRateThrottle(UserRateThrottle):
    """Text screening, per user: its cost grows with the text."""

    scope = "moderation"

    def get_rate(self):
        return settings.THROTTLE_MODERATION_RATE
