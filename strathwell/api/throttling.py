"""Rate limits, read from settings at request time (THROTTLE_AUTH_RATE, THROTTLE_USER_RATE) so
operators and load tests can tune them without code changes."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Per client IP, for login, signup, refresh and admin-bootstrap."""

    scope = "auth"

    def get_rate(self):
        return settings.THROTTLE_AUTH_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(DRFUserRateThrottle):
    """Per user (per IP when anonymous), for everything else."""

    scope = "user"

    def get_rate(self):
        return settings.THROTTLE_USER_RATE
