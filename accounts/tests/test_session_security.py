"""Sessions end when they should: a password change (API, console self-change, staff
set-password) revokes every session; families have an absolute lifetime; staff revoke a
user's sessions from the console; access tokens are bound to iss/aud/kid and to the password."""

from datetime import timedelta

import jwt
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RefreshToken
from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from accounts.tokens import issue_tokens
from strathwell.api.jwt import key_id
from strathwell.audit.models import AuditLog

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "An0ther-Passw0rd!"


def login(email, password=DEFAULT_PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.json()
    return response.json()


def me(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/auth/me")


def refresh(raw):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": raw})


def live_families(user) -> int:
    now = timezone.now()
    return (
        RefreshToken.objects.filter(
            user=user, revoked_at__isnull=True, spent_at__isnull=True, expires_at__gt=now
        )
        .values("family")
        .distinct()
        .count()
    )


def assert_session_dead(tokens):
    assert me(tokens["access"]).status_code == 401
    response = refresh(tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


# --- password change through the API -----------------------------------------------------------


def change_password(access, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.post("/api/v1/auth/password", {"current_password": current, "new_password": new})


def test_api_password_change_revokes_every_session_and_returns_a_new_one():
    user = UserFactory(email="pat@example.com")
    phone, laptop = login(user.email), login(user.email)
    rotated = refresh(laptop["refresh"]).json()
    assert live_families(user) == 2

    response = change_password(phone["access"])
    assert response.status_code == 200, response.json()
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}

    for old in (phone, rotated):
        assert_session_dead(old)  # access refused at once, refresh revoked
    assert live_families(user) == 1
    assert me(fresh["access"]).status_code == 200
    assert refresh(fresh["refresh"]).status_code == 200
    login(user.email, NEW_PASSWORD)
    log = AuditLog.objects.get(action="auth.password_change")
    assert log.actor_id == user.pk and log.after == {"password": "***", "sessions": "revoked"}


def test_api_password_change_needs_the_current_password():
    user = UserFactory(email="pat@example.com")
    tokens = login(user.email)
    response = change_password(tokens["access"], current="wrong-password-1!")
    assert response.status_code == 400
    assert "current_password" in response.json()["error"]["details"]
    response = change_password(tokens["access"], new="short")
    assert response.status_code == 400
    assert "new_password" in response.json()["error"]["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert me(tokens["access"]).status_code == 200 and live_families(user) == 1


def test_api_password_change_is_refused_in_read_only_mode(settings):
    user = UserFactory(email="pat@example.com")
    tokens = login(user.email)
    settings.READ_ONLY_MODE = True
    response = change_password(tokens["access"])
    assert response.status_code == 503
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD) and live_families(user) == 1


def test_a_hash_upgrade_at_login_is_not_a_password_change(settings):
    """Django rehashes on login when the hasher changes; that must not sign anyone out."""
    user = UserFactory(email="pat@example.com")
    first = login(user.email)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    login(user.email)  # upgrades the MD5 hash to PBKDF2
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert refresh(first["refresh"]).status_code == 200


# --- password change in the console --------------------------------------------------------------


def test_console_self_password_change_revokes_sessions_and_is_audited():
    staff = AdminFactory(email="ops@strathwell.test")
    tokens = login(staff.email)
    client = Client()
    client.force_login(staff)
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content[:500]
    assert_session_dead(tokens)
    log = AuditLog.objects.get(action="admin.user.password_change")
    assert log.actor_id == staff.pk and log.target_id == str(staff.pk)
    assert client.get("/admin/").status_code == 200  # this console session stays signed in


def test_console_self_password_change_is_refused_in_read_only_mode(settings):
    staff = AdminFactory(email="ops@strathwell.test")
    tokens = login(staff.email)
    client = Client()
    client.force_login(staff)
    settings.READ_ONLY_MODE = True
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "Read-only mode" in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(DEFAULT_PASSWORD)
    assert me(tokens["access"]).status_code == 200
    assert not AuditLog.objects.filter(action="admin.user.password_change").exists()


def test_staff_set_password_revokes_the_users_sessions():
    staff = AdminFactory(email="ops@strathwell.test")
    user = UserFactory(email="pat@example.com")
    tokens = login(user.email)
    client = Client()
    client.force_login(staff)
    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:800]
    assert_session_dead(tokens)
    log = AuditLog.objects.get(action="admin.user.set_password")
    assert log.after == {"password": "***", "sessions": "revoked"}


# --- staff revoke a user's sessions ---------------------------------------------------------------


def test_staff_sign_a_user_out_of_every_session_with_a_reason():
    staff = AdminFactory(email="ops@strathwell.test")
    user = UserFactory(email="pat@example.com")
    sessions = [login(user.email), login(user.email)]
    client = Client()
    client.force_login(staff)
    url = "/admin/accounts/user/"
    page = client.post(url, {"action": "revoke_sessions", "_selected_action": [user.pk]})
    assert page.status_code == 200 and "Yes, sign out" in page.content.decode()
    assert live_families(user) == 2  # the confirmation page changes nothing

    done = client.post(
        url,
        {
            "action": "revoke_sessions",
            "_selected_action": [user.pk],
            "post": "yes",
            "reason": "Lost phone",
        },
        follow=True,
    )
    assert "Signed out 1 user" in done.content.decode()
    for tokens in sessions:
        assert refresh(tokens["refresh"]).status_code == 401
    log = AuditLog.objects.get(action="admin.user.revoke_sessions")
    assert (log.actor_id, log.reason) == (staff.pk, "Lost phone")
    assert log.before == {"active_sessions": 2} and log.after == {"active_sessions": 0}


# --- absolute lifetime of a family ---------------------------------------------------------------


def test_rotation_never_extends_a_family_past_its_deadline(settings):
    settings.REFRESH_FAMILY_MAX_DAYS = 2  # shorter than REFRESH_TOKEN_EXPIRE_DAYS (14)
    user = UserFactory(email="pat@example.com")
    tokens = login(user.email)
    first = RefreshToken.objects.get(user=user)
    deadline = first.family_expires_at
    assert timedelta(days=2) - timedelta(seconds=5) < deadline - first.created_at
    for _ in range(3):
        tokens = refresh(tokens["refresh"]).json()
    rows = RefreshToken.objects.filter(user=user)
    assert rows.count() == 4
    assert {row.family_expires_at for row in rows} == {deadline}
    assert all(row.expires_at <= deadline for row in rows)
    claims = jwt.decode(tokens["refresh"], options={"verify_signature": False})
    assert claims["exp"] <= deadline.timestamp()


def test_a_family_past_its_deadline_cannot_be_refreshed():
    user = UserFactory(email="pat@example.com")
    tokens = login(user.email)
    # The login was 31 days ago (the JWT itself is still within its own 14 days).
    past = timezone.now() - timedelta(seconds=1)
    RefreshToken.objects.filter(user=user).update(family_expires_at=past, expires_at=past)
    response = refresh(tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


# --- iss / aud / kid ------------------------------------------------------------------------------


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_tokens_carry_issuer_audience_and_key_id(settings):
    tokens = issue_tokens(UserFactory())
    for token in tokens.values():
        assert jwt.get_unverified_header(token)["kid"] == key_id(settings.JWT_SECRET)
        claims = claims_of(token)
        assert (claims["iss"], claims["aud"]) == ("strathwell", "strathwell-api")


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.pop("iss"),
        lambda c: c.pop("aud"),
        lambda c: c.update(iss="someone-else"),
        lambda c: c.update(aud="another-api"),
    ],
    ids=["no-iss", "no-aud", "other-iss", "other-aud"],
)
def test_issuer_and_audience_are_checked(settings, change):
    access = issue_tokens(UserFactory())["access"]
    claims = claims_of(access)
    change(claims)
    headers = {"kid": key_id(settings.JWT_SECRET)}
    forged = jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256", headers=headers)
    response = me(forged)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_token_forged_with_the_published_dev_secret_is_refused(settings):
    settings.JWT_SECRET = "r" * 48  # a deployment's real secret
    admin = AdminFactory()
    claims = claims_of(issue_tokens(admin)["access"])
    dev = "dev-insecure-jwt-secret-change-me"
    forged = jwt.encode(claims, dev, algorithm="HS256", headers={"kid": key_id(dev)})
    assert me(forged).status_code == 401
    unnamed = jwt.encode(claims, dev, algorithm="HS256")
    assert me(unnamed).status_code == 401


def test_secret_rotation_keeps_the_previous_key_valid_until_removed(settings):
    old, new = "o" * 40, "n" * 40
    settings.JWT_SECRET = old
    user = UserFactory()
    before = issue_tokens(user)

    settings.JWT_SECRET, settings.JWT_PREVIOUS_SECRET = new, old
    assert me(before["access"]).status_code == 200
    after = refresh(before["refresh"])
    assert after.status_code == 200
    rotated = after.json()
    assert jwt.get_unverified_header(rotated["access"])["kid"] == key_id(new)
    assert me(rotated["access"]).status_code == 200

    # A token naming the new key but signed with the old one is refused.
    claims = claims_of(before["access"])
    mixed = jwt.encode(claims, old, algorithm="HS256", headers={"kid": key_id(new)})
    assert me(mixed).status_code == 401

    settings.JWT_PREVIOUS_SECRET = ""
    assert me(before["access"]).status_code == 401
    assert me(rotated["access"]).status_code == 200


def test_unknown_key_id_is_refused(settings):
    claims = claims_of(issue_tokens(UserFactory())["access"])
    token = jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256", headers={"kid": "other"})
    assert me(token).status_code == 401


def test_access_token_of_an_old_password_is_refused():
    user = UserFactory()
    access = issue_tokens(user)["access"]
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])  # e.g. `manage.py changepassword`
    assert me(access).status_code == 401
    assert live_families(user) == 0


# --- the console never shows a jti ----------------------------------------------------------------


def test_refresh_token_str_and_console_page_leave_out_the_jti():
    staff = AdminFactory()
    user = UserFactory()
    issue_tokens(user)
    token = RefreshToken.objects.get(user=user)
    assert token.jti not in str(token)
    client = Client()
    client.force_login(staff)
    for url in (
        "/admin/accounts/refreshtoken/",
        f"/admin/accounts/refreshtoken/{token.pk}/change/",
        "/admin/audit/auditlog/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert token.jti not in response.content.decode(), url
