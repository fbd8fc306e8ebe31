import contextvars
import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse

from strathwell.api.client_ip import client_ip
from strathwell.api.exceptions import ReadOnlyMode, api_bad_request, error_body

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


# What a non-JSON error answer of an /api/ path becomes (Django's own pages: the DEBUG technical
# 404/500 pages, HttpResponseNotAllowed, the 400 of a refused request).
_STATUS_ERRORS = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed on this path."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("server_error", "An unexpected error occurred."),
}

security_logger = logging.getLogger("django.security.DisallowedHost")


def _is_json(response) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith("application/") and "json" in content_type


class ApiErrorMiddleware:
    """Every error under `/api/` is the JSON envelope, whatever DEBUG says.

    With DEBUG on, Django answers an unrouted path with its technical 404 page and an error
    raised outside a DRF view (or a request it refuses, such as an unknown Host) with its
    technical 500 page: handler404/handler400/handler500 are only used with DEBUG off. This
    middleware is the outermost one: for `/api/` paths it checks the Host header itself (the
    400 `invalid_host`), and turns any non-JSON error answer into the envelope of its status
    (a 400 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE becomes the 413 `payload_too_large`).
    Other paths (the staff console at `/admin/`) keep Django's HTML pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        try:
            request.get_host()
        except DisallowedHost as exc:
            security_logger.error(str(exc), extra={"status_code": 400, "request": request})
            return api_bad_request(request, exc)
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        return self._envelope(request, response)

    def process_exception(self, request, exception):
        # Raised by a view that is not DRF's (DRF views answer in the envelope themselves):
        # remembered for the DEBUG details; Django still builds (and logs) its answer.
        request._api_exception = exception

    def _envelope(self, request, response):
        status = response.status_code
        if status == 400 and _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            status = 413
        code, message = _STATUS_ERRORS.get(
            status,
            ("error" if status < 500 else "server_error", "The request could not be served."),
        )
        details = {}
        if status == 413:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            message = f"The request body is larger than the limit of {limit} bytes."
        if status == 405 and response.get("Allow"):
            details["allowed_methods"] = [m.strip() for m in response["Allow"].split(",")]
        exception = getattr(request, "_api_exception", None)
        if settings.DEBUG and exception is not None:
            details["exception"] = repr(exception)
        envelope = JsonResponse(error_body(code, message, details), status=status)
        # Keep what the inner middleware added (CORS, Allow, Vary, security headers...).
        for header, value in response.items():
            if header.lower() not in ("content-type", "content-length"):
                envelope[header] = value
        envelope.cookies = response.cookies
        return envelope


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
