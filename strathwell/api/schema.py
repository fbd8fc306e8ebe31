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


_WRITE_ERRORS = {"400", "409", "503"}


class EnvelopeAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = {"400", "429", "500"}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes |= _WRITE_ERRORS
        if self.get_auth():
            codes |= {"401", "403"}
        if "{" in self.path:
            codes.add("404")
        for code in sorted(codes):
            responses.setdefault(
                code,
                self._get_response_for_code(ErrorEnvelopeSerializer, code, direction=direction),
            )
        return responses


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
