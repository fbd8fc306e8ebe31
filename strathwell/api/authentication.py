import hmac
import uuid

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from strathwell.api.exceptions import TokenInvalid
from strathwell.api.jwt import PASSWORD_CLAIM, password_fingerprint


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's access-token authentication (key ring, `iss`, `aud`: strathwell.api.jwt), with
    its errors in the contract's vocabulary (401 `token_invalid`: expired, tampered, `alg: none`,
    unknown key, unknown or inactive user, a subject that is not a user id at all, or issued
    before the user's last password change)."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (InvalidToken, AuthenticationFailed) as exc:
            raise TokenInvalid() from exc

    def get_user(self, validated_token):
        # A correctly signed token whose `sub` is not a UUID string (a number, a list, junk)
        # would otherwise reach the UUID primary key lookup and answer 400.
        claim = settings.SIMPLE_JWT.get("USER_ID_CLAIM", "sub")
        subject = validated_token.get(claim)
        try:
            uuid.UUID(subject)
        except (TypeError, ValueError, AttributeError) as exc:
            raise TokenInvalid() from exc
        user = super().get_user(validated_token)
        # The user row is loaded anyway: checking the password fingerprint costs no query.
        presented = str(validated_token.get(PASSWORD_CLAIM, ""))
        if not hmac.compare_digest(presented, password_fingerprint(user)):
            raise TokenInvalid()
        return user
