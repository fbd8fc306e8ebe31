import pytest

from accounts.models import RefreshToken, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    body = {
        "email": "Alice@Example.com",
        "password": DEFAULT_PASSWORD,
        "full_name": "Alice Planner",
        "role": "organizer",
        **overrides,
    }
    return client.post("/api/v1/auth/signup", body, format="json")


def test_signup_creates_user_and_session(api_client):
    response = signup(api_client)
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["role"] == "organizer"
    assert body["user"]["is_admin"] is False
    assert body["user"]["subscription"]["status"] == "none"
    assert body["access"] and body["refresh"]
    user = User.objects.get(email="alice@example.com")
    assert RefreshToken.objects.filter(user=user).count() == 1


def test_signup_taken_email_is_case_insensitive_conflict(api_client):
    assert signup(api_client).status_code == 201
    response = signup(api_client, email="ALICE@example.COM")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_exists"
    assert User.objects.count() == 1


def test_signup_rejects_weak_password_and_admin_role(api_client):
    response = signup(api_client, password="12345678")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "password" in error["details"]
    response = signup(api_client, role="admin")
    assert response.status_code == 400
    assert "role" in response.json()["error"]["details"]
    assert User.objects.count() == 0


def test_login_and_me(api_client):
    user = UserFactory(email="bob@example.com", role="vendor")
    response = api_client.post(
        "/api/v1/auth/login", {"email": "BOB@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.json()
    access = response.json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api_client.get("/api/v1/auth/me").json()
    assert me["id"] == str(user.id)
    assert me["role"] == "vendor"
    assert set(me["subscription"]) >= {
        "status",
        "plan",
        "started_at",
        "canceled_at",
        "current_period_end",
        "cancel_at",
    }


def test_login_wrong_password(api_client):
    UserFactory(email="bob@example.com")
    response = api_client.post("/api/v1/auth/login", {"email": "bob@example.com", "password": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
