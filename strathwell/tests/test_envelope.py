"""Every error, from every endpoint, has one shape: {"error": {"code", "message", "details"}}."""

import pytest

from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("strathwell.tests.urls")]


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def test_400_validation_error_has_field_details(api_client):
    error = assert_envelope(
        api_client.post("/api/v1/auth/signup", {"email": "not-an-email"}), 400, "validation_error"
    )
    assert {"email", "password", "full_name", "role"} <= set(error["details"])
    assert all(isinstance(m, list) for m in error["details"].values())


def test_400_malformed_json_is_invalid_payload(api_client):
    response = api_client.generic(
        "POST", "/api/v1/auth/login", "{not json", content_type="application/json"
    )
    assert_envelope(response, 400, "invalid_payload")


def test_400_django_validation_error(api_client):
    error = assert_envelope(
        api_client.post("/api/v1/_test/django-validation"), 400, "validation_error"
    )
    assert error["details"] == {"event_date": ["Must be in the future."]}


def test_401_not_authenticated(api_client):
    assert_envelope(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_403_permission_denied(make_client):
    client = make_client(UserFactory())
    assert_envelope(client.post("/api/v1/_test/confirm"), 403, "permission_denied")


def test_404_unknown_api_path_and_object(api_client):
    assert_envelope(api_client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_409_invalid_transition(api_client):
    error = assert_envelope(api_client.post("/api/v1/_test/transition"), 409, "invalid_transition")
    assert error["message"] == "Cannot ship a canceled booking."
    assert error["details"] == {"status": "canceled"}


def test_405_method_not_allowed(api_client):
    assert_envelope(api_client.delete("/api/v1/health"), 405, "method_not_allowed")


def test_428_confirmation_required(make_client, admin_user):
    client = make_client(admin_user)
    assert_envelope(client.post("/api/v1/_test/confirm"), 428, "confirmation_required")
    ok = client.post("/api/v1/_test/confirm", HTTP_X_CONFIRM_ACTION="true")
    assert ok.status_code == 200
    assert ok.json() == {"done": True}


def test_500_unexpected_error_has_envelope_and_no_internals(settings):
    from rest_framework.test import APIClient

    settings.DEBUG = False
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/_test/crash")
    error = assert_envelope(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["details"] == {}
