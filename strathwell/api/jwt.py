"""Signing and checking the session JWTs: simplejwt's tokens on a key ring.

- Every token carries `iss` (`JWT_ISSUER`) and `aud` (`JWT_AUDIENCE`); a token without them, or
  with other values, is refused.
- Every token names its key in the header (`kid`, derived from the secret, never the secret).
  Tokens are signed with `JWT_SECRET`; `JWT_PREVIOUS_SECRET`, when set, still verifies the tokens
  it signed, so the secret can be rotated without signing everyone out: set the old value as
  `JWT_PREVIOUS_SECRET` and a new `JWT_SECRET`, and remove the previous one once the longest
  refresh lifetime has passed. A token whose `kid` matches neither key is refused.

Settings are read per call (the key ring is cached per configuration), so a rotation in tests
or a reload needs no restart of anything else.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import jwt
from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

KID_LENGTH = 16


def key_id(secret: str) -> str:
    """A stable, public name for a secret (a truncated SHA-256 of a labelled digest)."""
    return hashlib.sha256(b"strathwell.jwt.kid:" + secret.encode()).hexdigest()[:KID_LENGTH]


class KeyRingBackend(TokenBackend):
    """simplejwt's TokenBackend with a current and an optional previous HMAC key, chosen by the
    token's `kid` header."""

    def __init__(self, *, algorithm: str, secret: str, previous: str, issuer: str, audience: str):
        super().__init__(
            algorithm, signing_key=secret, audience=audience or None, issuer=issuer or None
        )
        self.kid = key_id(secret)
        self.keys = {self.kid: secret}
        if previous and previous != secret:
            self.keys[key_id(previous)] = previous

    def encode(self, payload: dict[str, Any]) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        return jwt.encode(
            claims, self.prepared_signing_key, algorithm=self.algorithm, headers={"kid": self.kid}
        )

    def get_verifying_key(self, token) -> Any:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc
        secret = self.keys.get(header.get("kid"))
        if secret is None:
            raise TokenBackendError("Token is signed with an unknown key")
        return self._prepare_key(secret)


@functools.lru_cache(maxsize=8)
def _backend(algorithm, secret, previous, issuer, audience) -> KeyRingBackend:
    return KeyRingBackend(
        algorithm=algorithm, secret=secret, previous=previous, issuer=issuer, audience=audience
    )


def token_backend() -> KeyRingBackend:
    return _backend(
        settings.JWT_ALGORITHM,
        settings.JWT_SECRET,
        settings.JWT_PREVIOUS_SECRET,
        settings.JWT_ISSUER,
        settings.JWT_AUDIENCE,
    )


class AccessToken(SimpleAccessToken):
    def get_token_backend(self):
        return token_backend()


class RefreshToken(SimpleRefreshToken):
    access_token_class = AccessToken

    def get_token_backend(self):
        return token_backend()


PASSWORD_CLAIM = "pwd"


def password_fingerprint(user) -> str:
    """A short keyed digest of the user's password hash: a session's tokens carry it, and an
    access token whose fingerprint no longer matches (the password changed) is refused."""
    from django.utils.crypto import salted_hmac

    return salted_hmac("strathwell.jwt.password", user.password or "").hexdigest()[:16]
