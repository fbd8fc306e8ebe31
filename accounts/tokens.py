"""Sessions: short-lived JWT access tokens and persisted, rotating refresh tokens.

Every refresh token is a signed JWT (`strathwell.api.jwt`: `kid`, `iss`, `aud`, `jti`, `exp`)
*and* a `RefreshToken` row. Rotation spends the presented row and issues the next token of the
same family under a row lock; presenting a spent token again is treated as theft: the whole
family is revoked and the caller gets 401 `token_reused`.

A family (one login) ends `REFRESH_FAMILY_MAX_DAYS` after the login, however often it is
rotated. Both token kinds carry the user's password fingerprint: after a password change the
user's families are revoked (`User.save`) and the access tokens already out are refused.
"""

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from accounts.models import RefreshToken, User
from strathwell.api.exceptions import TokenInvalid, TokenReused
from strathwell.api.jwt import PASSWORD_CLAIM, password_fingerprint
from strathwell.api.jwt import RefreshToken as JWTRefreshToken
from strathwell.db import delete_in_batches


def issue_tokens(
    user: User, *, family: uuid.UUID | None = None, family_expires_at: datetime | None = None
) -> dict:
    """Mint an access token and a refresh token (persisted) for user, in `family` (ending at
    `family_expires_at`) or in a new family."""
    refresh = JWTRefreshToken.for_user(user)
    now = timezone.now()
    if family is None:
        family = uuid.uuid4()
        family_expires_at = now + timedelta(days=settings.REFRESH_FAMILY_MAX_DAYS)
    expires_at = min(datetime.fromtimestamp(refresh["exp"], tz=UTC), family_expires_at)
    refresh["exp"] = int(expires_at.timestamp())
    refresh["fam"] = str(family)
    refresh[PASSWORD_CLAIM] = password_fingerprint(user)
    RefreshToken.objects.create(
        user=user,
        family=family,
        jti=refresh["jti"],
        expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
        family_expires_at=family_expires_at,
    )
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _decode(raw: str) -> str:
    try:
        return JWTRefreshToken(raw)["jti"]
    except (TokenError, KeyError) as exc:
        raise TokenInvalid() from exc


def revoke_family(family: uuid.UUID) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def rotate_refresh_token(raw: str) -> dict:
    """Spend `raw` and return a new {access, refresh} pair of the same family.

    Locks the token's row, so of N concurrent rotations of one token exactly one succeeds; the
    others see it spent, revoke the family (committed) and raise TokenReused."""
    jti = _decode(raw)
    reused = False
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=jti)
            .first()
        )
        if row is None:
            raise TokenInvalid()
        if row.spent_at is not None:
            revoke_family(row.family)
            reused = True
        elif not row.is_usable or not row.user.is_active:
            raise TokenInvalid()
        else:
            row.spent_at = timezone.now()
            row.save(update_fields=["spent_at"])
            tokens = issue_tokens(
                row.user, family=row.family, family_expires_at=row.family_expires_at
            )
    if reused:  # raised after commit: the revocation must stick
        raise TokenReused()
    return tokens


def revoke_refresh_token(raw: str, *, user: User) -> bool:
    """Logout: revoke the session (the family) that `raw` belongs to, if it is `user`'s."""
    jti = _decode(raw)
    with transaction.atomic():
        row = RefreshToken.objects.select_for_update().filter(jti=jti, user=user).first()
        if row is None:
            return False
        revoke_family(row.family)
    return True


def purge_refresh_tokens(*, before, batch_size: int = 1000) -> int:
    """Delete the refresh tokens nobody can present any more: expired, and expired, spent or
    revoked before `before` (the `purge_expired_tokens` job passes now − PURGE_AFTER_DAYS).

    A spent or revoked token whose JWT is still valid is kept, however old: presenting it again
    must still be recognised as reuse (401 `token_reused`, family revoked). Deletes in batches
    so no long lock is held. Returns how many rows were deleted."""
    now = timezone.now()
    # Unusable: expired itself, or its login's family reached its absolute deadline.
    stale = RefreshToken.objects.filter(
        Q(expires_at__lt=now) | Q(family_expires_at__lt=now)
    ).filter(
        Q(expires_at__lt=before)
        | Q(family_expires_at__lt=before)
        | Q(spent_at__lt=before)
        | Q(revoked_at__lt=before)
    )
    return delete_in_batches(stale, batch_size=batch_size)
