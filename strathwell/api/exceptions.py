"""The one error envelope: every error of every endpoint is
`{"error": {"code": "<snake_case>", "message": "<sentence>", "details": {...}}}`.
"""

import enum
import logging

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from strathwell.exceptions import DomainError

logger = logging.getLogger("strathwell.api")


class ErrorCode(enum.StrEnum):
    """Every `error.code` the API can answer: the contract's stable vocabulary, in one place.
    The schema's `Error.code` is this enum (`strathwell.api.schema`), and a test checks that
    every code the handler, the domain exceptions and gunicorn can emit is a member."""

    # 400
    VALIDATION_ERROR = "validation_error"
    INVALID_PAYLOAD = "invalid_payload"
    INVALID_SIGNATURE = "invalid_signature"
    LIVEMODE_MISMATCH = "livemode_mismatch"
    BAD_REQUEST = "bad_request"
    INVALID_HOST = "invalid_host"
    # 401
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOKEN_INVALID = "token_invalid"
    TOKEN_REUSED = "token_reused"
    OTP_REQUIRED = "otp_required"
    INVALID_OTP = "invalid_otp"
    # 402
    PAYMENT_FAILED = "payment_failed"
    # 403
    PERMISSION_DENIED = "permission_denied"
    SUBSCRIPTION_REQUIRED = "subscription_required"
    VENDOR_NOT_APPROVED = "vendor_not_approved"
    OTP_SETUP_REQUIRED = "otp_setup_required"
    # 404, 405, 406, 415
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    # 409
    INVALID_TRANSITION = "invalid_transition"
    BALANCE_DUE = "balance_due"
    NOTHING_TO_REFUND = "nothing_to_refund"
    ALREADY_EXISTS = "already_exists"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    VENDOR_UNAVAILABLE = "vendor_unavailable"
    UPLOAD_QUOTA_EXCEEDED = "upload_quota_exceeded"
    # 413, 414, 417, 428, 429, 431
    PAYLOAD_TOO_LARGE = "payload_too_large"
    URI_TOO_LONG = "uri_too_long"
    EXPECTATION_FAILED = "expectation_failed"
    CONFIRMATION_REQUIRED = "confirmation_required"
    THROTTLED = "throttled"
    ACCOUNT_LOCKED = "account_locked"
    HEADERS_TOO_LARGE = "headers_too_large"
    # 5xx
    SERVER_ERROR = "server_error"
    NOT_IMPLEMENTED = "not_implemented"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    READ_ONLY_MODE = "read_only_mode"


class ConfirmationRequired(exceptions.APIException):
    status_code = 428
    default_code = "confirmation_required"
    default_detail = "This action must be confirmed with the header X-Confirm-Action: true."


class ReadOnlyMode(exceptions.APIException):
    """Answered by `ReadOnlyModeMiddleware` before any view runs."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "read_only_mode"
    default_detail = "The service is in read-only mode; writes are temporarily disabled."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class TokenInvalid(exceptions.AuthenticationFailed):
    default_code = "token_invalid"
    default_detail = "The token is invalid or expired."


class TokenReused(exceptions.AuthenticationFailed):
    default_code = "token_reused"
    default_detail = "This refresh token was already used; the session has been revoked."


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_code = "invalid_credentials"
    default_detail = "Email or password is incorrect."


class OTPRequired(exceptions.AuthenticationFailed):
    default_code = "otp_required"
    default_detail = "Staff sign in with a code from their authenticator app: send otp_token."


class InvalidOTP(exceptions.AuthenticationFailed):
    default_code = "invalid_otp"
    default_detail = (
        "The authenticator code is not valid (or too many attempts: wait and use a new code)."
    )


class OTPSetupRequired(exceptions.PermissionDenied):
    default_code = "otp_setup_required"
    default_detail = (
        "This staff account has no authenticator yet: set one up by signing in to the staff "
        "console (/admin/) first."
    )


# DRF's own default codes, renamed to the contract's vocabulary.
_CODE_ALIASES = {
    "invalid": "validation_error",
    "parse_error": "invalid_payload",
    "authentication_failed": "token_invalid",
    "token_not_valid": "token_invalid",
    "user_not_found": "token_invalid",
    "user_inactive": "token_invalid",
    "no_active_account": "invalid_credentials",
    "error": "server_error",
}

_DEFAULT_MESSAGES = {
    "validation_error": "Invalid input.",
    "not_found": "Not found.",
    "throttled": "Too many requests; try again later.",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _validation_details(detail) -> dict:
    """DRF validation detail → {field: [messages]} (non-dict errors under non_field_errors).

    Every value is a flat list of strings, as the contract says: errors of a nested object or
    of a list's items keep their place as a prefix of the message (`vendors`:
    `["1.proposed_price_cents: A whole number of cents …"]`)."""

    def messages(value, path=()):
        if isinstance(value, dict):
            for key, nested in value.items():
                # DRF's `non_field_errors` is not a place in the body: it adds nothing.
                place = () if key == "non_field_errors" else (str(key),)
                yield from messages(nested, (*path, *place))
        elif isinstance(value, list):
            for index, nested in enumerate(value):
                if isinstance(nested, dict | list):  # a list serializer's per-item errors
                    yield from messages(nested, (*path, str(index)))
                else:
                    yield from messages(nested, path)
        else:
            yield f"{'.'.join(path)}: {value}" if path else str(value)

    if isinstance(detail, dict):
        return {str(k): list(messages(v)) for k, v in detail.items()}
    return {"non_field_errors": list(messages(detail if isinstance(detail, list) else [detail]))}


def _first_message(details: dict) -> str | None:
    for field, messages in details.items():
        while isinstance(messages, list | dict) and messages:
            messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
        if isinstance(messages, str):
            return messages if field == "non_field_errors" else f"{field}: {messages}"
    return None


def _from_django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


# What Django raises when a body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE (or too many form fields).
_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def _payload_too_large() -> PayloadTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")


def envelope_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: map every exception to the one envelope."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, _TOO_LARGE):
        exc = _payload_too_large()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request is malformed.")

    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        details = {"exception": repr(exc)} if settings.DEBUG else {}
        return Response(
            error_body("server_error", "An unexpected error occurred.", details),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
        message = _first_message(details) or "Invalid input."
        response.data = error_body("validation_error", message, details)
        return response

    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    detail = exc.detail
    details = {}
    if isinstance(code, dict):  # simplejwt puts {"detail", "code", "messages"} in detail
        code = code.get("code") or "token_invalid"
        message = str(detail.get("detail", "")) if isinstance(detail, dict) else str(detail)
    elif isinstance(code, list):
        code = "error"  # → server_error
        message = str(detail[0]) if detail else ""
    else:
        message = str(detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        code = "not_authenticated"
    code = _CODE_ALIASES.get(code, code)
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        details = {"retry_after_seconds": exc.wait}
        message = _DEFAULT_MESSAGES["throttled"]
    response.data = error_body(code, message or _DEFAULT_MESSAGES.get(code, "Error."), details)
    return response


def api_not_found(request, exception=None):
    """handler404 for paths Django could not route: the envelope for the API, Django's page
    elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_bad_request(request, exception=None):
    """handler400: what Django refuses before a view runs (an unknown Host header, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE read by middleware), in the envelope for the API."""
    if not request.path.startswith("/api/"):
        from django.views.defaults import bad_request

        return bad_request(request, exception)
    if isinstance(exception, _TOO_LARGE):
        error = _payload_too_large()
        return JsonResponse(error_body(error.default_code, str(error.detail)), status=413)
    if isinstance(exception, DisallowedHost):
        return JsonResponse(
            error_body("invalid_host", "The Host header is not a host this service answers."),
            status=400,
        )
    return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)


def api_permission_denied(request, exception=None):
    """handler403 for refusals raised outside DRF views (middleware)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to perform this action."),
            status=403,
        )
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def api_server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
