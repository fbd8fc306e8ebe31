import contextvars

from django.conf import settings
from django.http import JsonResponse

from strathwell.api.client_ip import client_ip
from strathwell.api.exceptions import ReadOnlyMode, error_body

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Stripe must still be able to tell us about money; sessions keep working.
READ_ONLY_EXEMPT_PATHS = {
    "/api/v1/webhooks/stripe",
    "/api/v1/health",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
}

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_ip", default=None)


def current_request_ip() -> str | None:
    """The client IP of the request being served, for the audit trail (None outside requests)."""
    return _request_ip.get()


class ReadOnlyModeMiddleware:
    """`READ_ONLY_MODE=true`: API writes answer 503 `read_only_mode` (the listed paths excepted).
    The Django admin refuses saves itself, with a message (see the admin mixins). Also records
    the client IP (`client_ip`: the same rule as rate limits) for the audit trail.

    Paths are matched on `path_info` (the path inside the application): a `SCRIPT_NAME`
    prefix added by a proxy must not move a write out of the API's reach."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(client_ip(request))
        try:
            path = request.path_info
            if (
                settings.READ_ONLY_MODE
                and request.method in WRITE_METHODS
                and path.startswith("/api/")
                and path.rstrip("/") not in READ_ONLY_EXEMPT_PATHS
            ):
                return JsonResponse(
                    error_body(ReadOnlyMode.default_code, ReadOnlyMode.default_detail),
                    status=ReadOnlyMode.status_code,
                )
            return self.get_response(request)
        finally:
            _request_ip.reset(token)
