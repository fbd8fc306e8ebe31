"""OpenAPI: every operation documents the error envelope for the errors it can answer."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from strathwell.api.permissions import CONFIRM_HEADER as CONFIRM_HEADER_NAME


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case error code.")
    message = serializers.CharField(help_text="Human-readable sentence.")
    details = serializers.DictField(help_text="{field: [messages]} for validation errors.")


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
        codes = {"400", "429", "500"}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes |= _WRITE_ERRORS
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
