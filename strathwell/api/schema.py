"""OpenAPI: every operation documents the error envelope for the errors it can answer."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers

from strathwell.api.exceptions import ErrorCode
from strathwell.api.permissions import CONFIRM_HEADER as CONFIRM_HEADER_NAME

# What a value of `error.details` can be: a list of messages (validation errors, per field) or
# one scalar (`retry_after_seconds`, `status`, `line_status`, `event_id`, `decline_code`...).
DETAILS_VALUE = {
    "anyOf": [  # anyOf: an integer is also a number
        {"type": "array", "items": {"type": "string"}},
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
    ],
    "nullable": True,
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": DETAILS_VALUE,
        "description": (
            "`validation_error`: {field: [messages]} (every value a list of strings; errors of "
            "nested items are prefixed with their place, e.g. `1.price_cents: ...`). "
            "`throttled`/`account_locked`: {retry_after_seconds: number}. "
            "`invalid_transition`: the state that refused it, e.g. {status, action} or "
            "{status, line_status}. Other codes: {} or a few scalar facts."
        ),
    }
)
class ErrorDetailsField(serializers.DictField):
    pass


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[(code.value, code.value) for code in ErrorCode],
        help_text="Stable snake_case error code (the enum lists every code the API answers).",
    )
    message = serializers.CharField(help_text="Human-readable sentence.")
    details = ErrorDetailsField()


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


# 413: a body over DATA_UPLOAD_MAX_MEMORY_SIZE; 503: READ_ONLY_MODE.
_WRITE_ERRORS = {"400", "409", "413", "503"}


class EnvelopeAutoSchema(AutoSchema):
    """Documents, for every operation, each error status it can answer (all in the envelope):
    400 and 429 everywhere, 401/403 behind authentication, 404 for an object in the path or an
    invalid `page` of a list, the write errors (409, 413, 503), 428 where the confirmation
    header is required, and 500."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = {"400", "405", "429", "500"}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes |= _WRITE_ERRORS
        if self.method in ("POST", "PUT", "PATCH"):
            codes.add("415")  # a body that is not JSON
        if self.get_auth():
            codes |= {"401", "403"}
        if "{" in self.path or self._is_paginated_list():
            codes.add("404")  # an object in the path, or `page` past the end ("Invalid page.")
        if self._requires_confirmation():
            codes.add("428")
        for code in sorted(codes):
            responses.setdefault(
                code,
                self._get_response_for_code(ErrorEnvelopeSerializer, code, direction=direction),
            )
        # An error documented by a view with a description only (`OpenApiResponse(description=
        # ...)`) still answers the envelope: say so, or a typed client sees no body.
        for code, response in responses.items():
            if str(code) >= "400" and "content" not in response:
                envelope = self._get_response_for_code(
                    ErrorEnvelopeSerializer, str(code), direction=direction
                )
                responses[code] = {**envelope, "description": response.get("description", "")}
        return responses

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _requires_confirmation(self) -> bool:
        return any(
            getattr(parameter, "name", None) == CONFIRM_HEADER_NAME
            for parameter in self.get_override_parameters()
        )


def empty_query_values_mean_absent(result, generator, request, public):
    """POSTPROCESSING_HOOK: an optional query parameter sent empty (`?status=`) is the same as
    not sent (django-filter and the pagination ignore it), so the schema says it is allowed."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# The `ErrorCodeEnum` component (ENUM_NAME_OVERRIDES).
ERROR_CODE_CHOICES = [(code.value, code.value) for code in ErrorCode]


def uuid_path_ids_are_uuids(result, generator, request, public):
    """POSTPROCESSING_HOOK: a path id routed by a uuid regex is `format: uuid`, like the ids
    routed by `<uuid:...>`, so every id has one type in a typed client."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == UUID_PATTERN:
                    del schema["pattern"]
                    schema["format"] = "uuid"
    return result


def optional_fields_have_no_default(result, generator, request, public):
    """POSTPROCESSING_HOOK: a property that may be left out but has a `default` (`notes: ''`)
    is generated as *required* by typed clients (openapi-typescript's defaultNonNullable), so
    the default moves into the description."""
    for component in result.get("components", {}).get("schemas", {}).values():
        required = set(component.get("required", []))
        for name, prop in component.get("properties", {}).items():
            if name not in required and "default" in prop:
                default = prop.pop("default")
                note = f"Default: `{default!r}` when left out."
                prop["description"] = (
                    f"{prop['description']} {note}" if prop.get("description") else note
                )
    return result


class StrathwellJWTScheme(SimpleJWTScheme):
    """Documents our simplejwt subclass as the Bearer JWT scheme."""

    target_class = "strathwell.api.authentication.JWTAuthentication"
    name = "jwtAuth"


# The header `require_confirmation` checks, documented once for every confirm-action endpoint.
CONFIRM_HEADER = OpenApiParameter(
    CONFIRM_HEADER_NAME,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    enum=["true"],
    description="Must be `true`: the action is dangerous (else 428 confirmation_required).",
)
