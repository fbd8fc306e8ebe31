from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from strathwell.api.exceptions import TokenInvalid


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's access-token authentication, with its errors in the contract's vocabulary
    (401 `token_invalid`: expired, tampered, `alg: none`, unknown or inactive user)."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (InvalidToken, AuthenticationFailed) as exc:
            raise TokenInvalid() from exc
