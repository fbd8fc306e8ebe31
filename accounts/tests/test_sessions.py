"""Refresh rotation, reuse detection, logout, and what access tokens are refused."""

import base64
import json
import threading
import time

import jwt
import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import RefreshToken
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tokens import issue_tokens
from strathwell.api.jwt import key_id


def login(client, email="bob@example.com"):
    response = client.post("/api/v1/auth/login", {"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db
class TestRefresh:
    def test_rotation_spends_old_token_and_issues_new_in_family(self, api_client):
        user = UserFactory(email="bob@example.com")
        first = login(api_client)
        response = api_client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]})
        assert response.status_code == 200
        second = response.json()
        assert set(second) == {"access", "refresh"}
        assert second["refresh"] != first["refresh"]
        rows = list(RefreshToken.objects.filter(user=user).order_by("created_at"))
        assert len(rows) == 2
        assert rows[0].family == rows[1].family
        assert rows[0].spent_at is not None and rows[1].spent_at is None
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {second['access']}")
        assert api_client.get("/api/v1/auth/me").json()["email"] == "bob@example.com"

    def test_reuse_of_spent_token_revokes_the_whole_family(self, api_client):
        user = UserFactory(email="bob@example.com")
        first = login(api_client)
        other_session = login(api_client)  # a second login is another family
        second = api_client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}).json()

        reused = api_client.post("/api/v1/auth/refresh", {"refresh": first["refresh"]})
        assert reused.status_code == 401
        assert reused.json()["error"]["code"] == "token_reused"

        family = RefreshToken.objects.get(jti=jwt_claims(first["refresh"])["jti"]).family
        assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
        # The thief's (or victim's) newer token is dead too...
        response = api_client.post("/api/v1/auth/refresh", {"refresh": second["refresh"]})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_invalid"
        # ...but the other login is untouched.
        other = api_client.post("/api/v1/auth/refresh", {"refresh": other_session["refresh"]})
        assert other.status_code == 200
        usable = RefreshToken.objects.filter(user=user, revoked_at=None, spent_at=None)
        assert usable.count() == 1

    def test_garbage_and_access_token_are_not_refresh_tokens(self, api_client):
        UserFactory(email="bob@example.com")
        tokens = login(api_client)
        for bad in ["garbage", tokens["access"], tokens["refresh"][:-2] + "xx"]:
            response = api_client.post("/api/v1/auth/refresh", {"refresh": bad})
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "token_invalid"

    def test_inactive_user_cannot_refresh(self, api_client):
        user = UserFactory(email="bob@example.com")
        tokens = login(api_client)
        user.is_active = False
        user.save(update_fields=["is_active"])
        response = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
        assert response.status_code == 401

    def test_logout_revokes_the_session(self, api_client):
        UserFactory(email="bob@example.com")
        tokens = login(api_client)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert (
            api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}).status_code
            == 204
        )
        api_client.credentials()
        response = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_invalid"

    def test_logout_with_someone_elses_token_is_refused(self, api_client, make_client):
        UserFactory(email="bob@example.com")
        bobs = login(api_client)
        mallory = make_client(UserFactory())
        response = mallory.post("/api/v1/auth/logout", {"refresh": bobs["refresh"]})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert (
            api_client.post("/api/v1/auth/refresh", {"refresh": bobs["refresh"]}).status_code == 200
        )

    def test_logout_requires_bearer(self, api_client):
        response = api_client.post("/api/v1/auth/logout", {"refresh": "x"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def jwt_claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_refreshes_exactly_one_succeeds():
    user = UserFactory(email="race@example.com")
    raw = issue_tokens(user)["refresh"]
    barrier = threading.Barrier(10)
    statuses: list[int] = []
    codes: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            response = client.post("/api/v1/auth/refresh", {"refresh": raw}, format="json")
            with lock:
                statuses.append(response.status_code)
                if response.status_code != 200:
                    codes.append(response.json()["error"]["code"])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [200] + [401] * 9
    assert set(codes) == {"token_reused"}
    # Exactly one successor was minted, and reuse detection revoked the family.
    assert RefreshToken.objects.filter(user=user).count() == 2
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()


@pytest.mark.django_db
class TestAccessTokens:
    def me(self, token):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.get("/api/v1/auth/me")

    def assert_refused(self, response):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_invalid"

    def test_valid_token(self):
        user = UserFactory()
        assert self.me(issue_tokens(user)["access"]).status_code == 200

    def test_expired_token(self, settings):
        user = UserFactory()
        access = issue_tokens(user)["access"]
        claims = jwt_claims(access)
        claims["exp"] = int(time.time()) - 5
        kid = {"kid": key_id(settings.JWT_SECRET)}  # refused for its exp, not for a missing kid
        expired = jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256", headers=kid)
        self.assert_refused(self.me(expired))

    def test_tampered_payload(self):
        user, other = UserFactory(), UserFactory()
        header, payload, signature = issue_tokens(user)["access"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = str(other.id)
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        self.assert_refused(self.me(f"{header}.{forged}.{signature}"))

    def test_wrong_secret(self):
        user = UserFactory()
        claims = jwt_claims(issue_tokens(user)["access"])
        self.assert_refused(self.me(jwt.encode(claims, "x" * 40, algorithm="HS256")))

    def test_alg_none(self):
        user = UserFactory()
        claims = jwt_claims(issue_tokens(user)["access"])
        unsigned = jwt.encode(claims, key=None, algorithm="none")
        self.assert_refused(self.me(unsigned))

    def test_refresh_token_is_not_an_access_token(self):
        user = UserFactory()
        self.assert_refused(self.me(issue_tokens(user)["refresh"]))

    def test_deactivated_user(self):
        user = UserFactory()
        access = issue_tokens(user)["access"]
        user.is_active = False
        user.save(update_fields=["is_active"])
        self.assert_refused(self.me(access))


@pytest.mark.django_db
def test_login_and_signup_are_throttled_per_ip(api_client, settings):
    settings.THROTTLE_AUTH_RATE = "3/min"
    body = {"email": "nobody@example.com", "password": "wrong"}
    statuses = [api_client.post("/api/v1/auth/login", body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = api_client.post("/api/v1/auth/signup", body)
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["details"]["retry_after_seconds"] > 0
    # Another client IP has its own budget.
    other = api_client.post("/api/v1/auth/login", body, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 401


@pytest.mark.django_db
def test_user_rate_applies_per_user(make_client, settings):
    settings.THROTTLE_USER_RATE = "2/min"
    alice, bob = make_client(UserFactory()), make_client(UserFactory())
    assert [alice.get("/api/v1/auth/me").status_code for _ in range(3)] == [200, 200, 429]
    assert bob.get("/api/v1/auth/me").status_code == 200


@pytest.mark.django_db
def test_login_throttle_is_not_reset_by_a_spoofed_forwarded_for(api_client, settings):
    # X-Forwarded-For is whatever the client writes unless a trusted proxy set it: rotating it
    # must not buy a fresh budget of password guesses.
    settings.THROTTLE_AUTH_RATE = "3/min"
    body = {"email": "nobody@example.com", "password": "wrong"}
    statuses = [
        api_client.post(
            "/api/v1/auth/login", body, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
