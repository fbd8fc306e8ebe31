"""Rate limits, read from settings at request time (THROTTLE_*_RATE) so operators and load tests
can tune them without code changes. Clients are told apart by `strathwell.api.client_ip` (the
one trusted-client-IP rule, `NUM_PROXIES`), never by a header the client writes itself."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle

from strathwell.api.client_ip import client_ip


class ClientIPMixin:
    def get_ident(self, request):
        return client_ip(request) or "unknown"


class AuthRateThrottle(ClientIPMixin, SimpleRateThrottle):
    """Per client IP, for login, signup, refresh and admin-bootstrap."""

    scope = "auth"

    def get_rate(self):
        return settings.THROTTLE_AUTH_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(ClientIPMixin, DRFUserRateThrottle):
    """Per user (per IP when anonymous), for everything else."""

    scope = "user"

    def get_rate(self):
        return settings.THROTTLE_USER_RATE


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
