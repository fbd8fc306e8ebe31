from rest_framework.throttling import SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Per client IP, for login, signup, refresh and admin-bootstrap (THROTTLE_AUTH_RATE)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(DRFUserRateThrottle):
    """Per user (per IP when anonymous), for everything else (THROTTLE_USER_RATE)."""

    scope = "user"
