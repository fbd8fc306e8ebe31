import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_writes_answer_503_read_only_mode(read_only, api_client):
    response = api_client.post(
        "/api/v1/auth/signup",
        {
            "email": "a@example.com",
            "password": DEFAULT_PASSWORD,
            "full_name": "A",
            "role": "vendor",
        },
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "read_only_mode"
    assert User.objects.count() == 0


def test_reads_and_sessions_keep_working(read_only, api_client):
    UserFactory(email="bob@example.com")
    login = api_client.post(
        "/api/v1/auth/login", {"email": "bob@example.com", "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": login.json()["refresh"]})
    assert refreshed.status_code == 200
    assert api_client.get("/api/v1/health").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/v1/auth/me").status_code == 200
    logout = api_client.post("/api/v1/auth/logout", {"refresh": refreshed.json()["refresh"]})
    assert logout.status_code == 503


def test_stripe_webhook_path_is_exempt(read_only, api_client):
    # Not a 503: the webhook is answered by its own view (400 without a signature).
    response = api_client.post("/api/v1/webhooks/stripe", {}, format="json")
    assert response.status_code != 503
