"""Bad input never reaches a 500: each defect found by probing the running server, with the
4xx in the envelope that now answers it."""

import datetime
import json
import uuid

import pytest
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import OrganizerFactory
from conftest import client_for
from payments.tests.factories import ready_booking
from strathwell.api.exceptions import api_bad_request
from strathwell.api.parsers import JSONDocumentError, load_json, strip_nul
from strathwell.audit.models import AuditLog
from strathwell.audit.services import write_audit_log
from templates_app.models import Template
from vendors.tests.factories import VenueFactory

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def raw_post(client, path, body: str | bytes, **extra):
    return client.generic("POST", path, body, content_type="application/json", **extra)


@pytest.fixture
def anon():
    return APIClient(raise_request_exception=False)


@pytest.fixture
def organizer_api(organizer):
    client = client_for(organizer)
    client.raise_request_exception = False
    return client


# --- bodies -----------------------------------------------------------------------------------


def test_body_over_the_limit_is_413_for_anonymous_login(anon, settings):
    body = json.dumps({"email": "a@example.com", "password": "x" * 2_700_000})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    error = assert_envelope(raw_post(anon, "/api/v1/auth/login", body), 413, "payload_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]


def test_body_over_the_limit_is_413_for_a_signed_in_write(organizer_api):
    body = json.dumps({"title": "x" * 2_700_000})
    assert_envelope(raw_post(organizer_api, "/api/v1/bookings", body), 413, "payload_too_large")


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/auth/login"])
def test_deeply_nested_json_is_invalid_payload(organizer_api, path):
    error = assert_envelope(raw_post(organizer_api, path, "[" * 100_000), 400, "invalid_payload")
    assert "nested" in error["message"]


def test_json_nested_past_the_limit_is_refused_and_at_the_limit_parsed():
    assert isinstance(load_json("[" * 32 + "]" * 32), list)
    with pytest.raises(JSONDocumentError, match="nested"):
        load_json("[" * 33 + "]" * 33)
    with pytest.raises(JSONDocumentError, match="nested"):
        load_json('{"a": ' * 40 + "1" + "}" * 40)


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a@example.com", "password": "x\\u0000y"}',
        '{"email": "a@example.com", "password": "x", "k\\u0000": 1}',
        '{"email": "a@example.com", "password": "x", "n": 1e400}',
        '{"email": "a@example.com", "password": "x", "n": NaN}',
        '{"email": "a@example.com", "password": "x", "n": -Infinity}',
    ],
    ids=["nul-in-value", "nul-in-key", "1e400", "NaN", "-Infinity"],
)
def test_values_postgresql_cannot_store_are_invalid_payload(anon, body):
    assert_envelope(raw_post(anon, "/api/v1/auth/login", body), 400, "invalid_payload")


def test_nul_in_a_booking_note_is_refused_before_the_database(organizer_api):
    venue = VenueFactory()
    body = json.dumps(
        {
            "title": "Gala",
            "event_date": str(timezone.localdate() + datetime.timedelta(days=30)),
            "guest_count": 10,
            "notes": "a\x00b",
            "vendors": [{"vendor_id": str(venue.pk), "proposed_price_cents": 1000}],
        }
    )
    assert "\\u0000" in body
    assert_envelope(raw_post(organizer_api, "/api/v1/bookings", body), 400, "invalid_payload")


def test_strip_nul_keeps_the_shape():
    data = {"a\x00": ["x\x00y", {"k": "v\x00"}, 1, None, True], "b": 1.5}
    assert strip_nul(data) == {"a": ["xy", {"k": "v"}, 1, None, True], "b": 1.5}


# --- strict types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", 5), ("email", 5), ("password", 12345678901234), ("full_name", True)],
)
def test_a_number_where_a_string_is_due_is_a_validation_error(anon, field, value):
    body = {
        "email": "ann@example.com",
        "password": "Plan-2026-events!",
        "full_name": "Ann",
        "role": "organizer",
        field: value,
    }
    error = assert_envelope(anon.post("/api/v1/auth/signup", body), 400, "validation_error")
    assert field in error["details"]
    assert not User.objects.filter(email="ann@example.com").exists()


def test_moderation_text_must_be_a_string(organizer_api):
    response = organizer_api.post(
        "/api/v1/trust/moderation-events", {"context_type": "message", "text": 0}
    )
    assert "text" in assert_envelope(response, 400, "validation_error")["details"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("guest_count", "10"), ("guest_count", 10.0), ("guest_count", True), ("title", 7)],
)
def test_booking_fields_of_the_wrong_json_type_are_refused(organizer_api, field, value):
    venue = VenueFactory()
    body = {
        "title": "Gala",
        "event_date": str(timezone.localdate() + datetime.timedelta(days=30)),
        "guest_count": 10,
        "vendors": [{"vendor_id": str(venue.pk), "proposed_price_cents": 1000}],
        field: value,
    }
    response = organizer_api.post("/api/v1/bookings", body)
    assert field in assert_envelope(response, 400, "validation_error")["details"]


def test_a_uuid_given_as_an_integer_is_refused(organizer_api):
    response = organizer_api.post(
        "/api/v1/disputes", {"booking_id": 5, "reason": "quality", "description": "Late."}
    )
    assert "booking_id" in assert_envelope(response, 400, "validation_error")["details"]


def test_template_booleans_and_generated_fields_are_strict(admin_client_api):
    base = {"title": "Barn wedding", "event_type": "wedding", "summary": "s", "description": "d"}
    for field, value in [("is_published", "yes"), ("is_published", 1), ("summary", 3)]:
        response = admin_client_api.post("/api/v1/admin/templates", {**base, field: value})
        assert field in assert_envelope(response, 400, "validation_error")["details"]
    assert not Template.objects.exists()
    ok = admin_client_api.post("/api/v1/admin/templates", {**base, "is_published": True})
    assert ok.status_code == 201, ok.content


# --- query strings ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["null", "abc", "0", "-1", "1.5", "٣"])
def test_page_size_that_is_not_a_positive_whole_number_is_refused(organizer_api, value):
    response = organizer_api.get("/api/v1/bookings", {"page_size": value})
    assert "page_size" in assert_envelope(response, 400, "validation_error")["details"]


def test_page_size_above_the_cap_is_capped_and_a_missing_page_is_404(organizer_api):
    assert organizer_api.get("/api/v1/bookings", {"page_size": 1000}).status_code == 200
    assert_envelope(organizer_api.get("/api/v1/bookings", {"page": 99}), 404, "not_found")


def test_audit_log_filter_takes_any_valid_offset_converted_to_utc(admin_client_api, admin_user):
    write_audit_log(actor=admin_user, action="test.offset", target=("t", "1"))
    row = AuditLog.objects.get(action="test.offset")
    # -19:52 is valid ISO 8601 and valid Python, but out of PostgreSQL's ±15:59 range.
    offset = datetime.timezone(-datetime.timedelta(hours=19, minutes=52))
    just_before = (row.created_at - datetime.timedelta(seconds=1)).astimezone(offset)
    just_after = (row.created_at + datetime.timedelta(seconds=1)).astimezone(offset)
    url = "/api/v1/admin/audit-logs"

    before = admin_client_api.get(url, {"action": "test.offset", "created_from": just_before})
    after = admin_client_api.get(url, {"action": "test.offset", "created_from": just_after})

    assert before.status_code == 200, before.content
    assert [r["id"] for r in before.json()["results"]] == [str(row.pk)]
    assert after.status_code == 200 and after.json()["results"] == []
    literal = admin_client_api.get(url + "?created_from=2020-01-01T00:00:00-19:52")
    assert literal.status_code == 200, literal.content


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2020-13-01T00:00:00"]
)
def test_audit_log_filter_outside_the_calendar_is_a_validation_error(admin_client_api, value):
    response = admin_client_api.get("/api/v1/admin/audit-logs", {"created_to": value})
    assert "created_to" in assert_envelope(response, 400, "validation_error")["details"]


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["not-a-uuid", 12345, ["x"], {"a": 1}, ""])
def test_signed_token_whose_subject_is_not_a_user_id_is_token_invalid(anon, subject):
    OrganizerFactory()
    token = AccessToken()
    token["sub"] = subject
    response = anon.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_envelope(response, 401, "token_invalid")


def test_signed_token_of_an_unknown_user_is_still_token_invalid(anon):
    token = AccessToken()
    token["sub"] = str(uuid.uuid4())
    response = anon.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_envelope(response, 401, "token_invalid")


# --- refused before a view runs ---------------------------------------------------------------


def test_unknown_host_is_answered_in_the_envelope(anon):
    response = anon.get("/api/v1/health", HTTP_HOST="evil.example")
    assert_envelope(response, 400, "invalid_host")


def test_unknown_host_outside_the_api_keeps_django_page(anon):
    response = anon.get("/admin/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert b'"error"' not in response.content


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        (RequestDataTooBig("too big"), 413, "payload_too_large"),
        (DisallowedHost("bad host"), 400, "invalid_host"),
        (None, 400, "bad_request"),
    ],
)
def test_handler400_maps_what_django_refuses(exception, status, code):
    request = RequestFactory().post("/api/v1/auth/login")
    response = api_bad_request(request, exception)
    assert response.status_code == status
    assert json.loads(response.content)["error"]["code"] == code


def test_idempotency_key_with_a_nul_is_a_validation_error_not_500(organizer_api, organizer):
    booking = ready_booking(organizer=organizer)
    response = organizer_api.post(
        f"/api/v1/bookings/{booking.pk}/payments", {}, format="json", HTTP_IDEMPOTENCY_KEY="a\x00b"
    )
    assert "Idempotency-Key" in assert_envelope(response, 400, "validation_error")["details"]
