"""Every error under /api/ is the JSON envelope with DEBUG on (`make run`) and off; the staff
console keeps Django's HTML pages (strathwell.api.middleware.ApiErrorMiddleware)."""

import json

import pytest
from django.http import HttpResponseBadRequest, HttpResponseServerError
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from strathwell.api.middleware import ApiErrorMiddleware

pytestmark = pytest.mark.django_db

DEBUG = pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])


def envelope(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def anon():
    return APIClient(raise_request_exception=False)


@DEBUG
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/templates/",  # a trailing slash the API does not use
        "/api/v1/no-such-thing",
        "/api/v2/bookings",
        "/api/",
    ],
)
def test_unrouted_api_path_is_404_envelope(anon, debug, path):
    with override_settings(DEBUG=debug):
        envelope(anon.get(path), 404, "not_found")


@DEBUG
def test_slug_instead_of_an_id_is_404_envelope(anon, debug):
    with override_settings(DEBUG=debug):
        envelope(anon.get("/api/v1/templates/spring-gala"), 404, "not_found")


@DEBUG
def test_wrong_method_is_405_envelope_with_allow(anon, debug):
    with override_settings(DEBUG=debug):
        response = anon.delete("/api/v1/health")
        envelope(response, 405, "method_not_allowed")
        assert "GET" in response["Allow"]


@DEBUG
def test_body_over_the_limit_is_413_envelope(anon, debug, settings):
    body = json.dumps({"email": "a@example.com", "password": "x" * 2_700_000})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with override_settings(DEBUG=debug):
        response = anon.generic("POST", "/api/v1/auth/login", body, content_type="application/json")
        envelope(response, 413, "payload_too_large")


def test_django_400_for_a_body_over_the_limit_becomes_413_envelope(settings):
    # Django refuses a form body it parses itself (a non-DRF view, a middleware) with a 400
    # (the technical 500 page with DEBUG on): for /api/ it is the 413 of the contract.
    request = RequestFactory().post(
        "/api/v1/x",
        "a=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
        content_type="application/x-www-form-urlencoded",
    )
    middleware = ApiErrorMiddleware(lambda request: HttpResponseBadRequest("<html>debug</html>"))
    error = envelope(middleware(request), 413, "payload_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]


@override_settings(DEBUG=True)
def test_debug_500_page_of_a_non_drf_view_becomes_envelope_with_the_exception():
    request = RequestFactory().get("/api/v1/x")
    middleware = ApiErrorMiddleware(lambda request: HttpResponseServerError("<html>tb</html>"))
    middleware.process_exception(request, RuntimeError("boom"))
    error = envelope(middleware(request), 500, "server_error")
    assert "boom" in error["details"]["exception"]


@DEBUG
def test_unknown_host_is_400_invalid_host_envelope(anon, debug):
    with override_settings(DEBUG=debug, ALLOWED_HOSTS=["testserver"]):
        envelope(anon.get("/api/v1/health", HTTP_HOST="evil.example"), 400, "invalid_host")


@DEBUG
def test_admin_keeps_django_html_pages(anon, debug):
    with override_settings(DEBUG=debug, ALLOWED_HOSTS=["testserver"]):
        missing = anon.get("/admin/no-such-page/")
        assert missing.status_code in (302, 404)
        assert not missing["Content-Type"].startswith("application/json")
        bad_host = anon.get("/admin/", HTTP_HOST="evil.example")
        assert bad_host.status_code == 400
        assert b'"error"' not in bad_host.content


@override_settings(DEBUG=True)
def test_debug_404_envelope_keeps_cors_header(anon):
    with override_settings(CORS_ALLOWED_ORIGINS=["http://localhost:3000"]):
        response = anon.get("/api/v1/nope", HTTP_ORIGIN="http://localhost:3000")
    envelope(response, 404, "not_found")
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
