"""The OpenAPI schema validates and describes the endpoints, with the error envelope."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    with django_db_blocker.unblock():
        call_command(
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--format",
            "openapi-json",
            "--file",
            str(path),
        )
    import json

    return json.loads(path.read_text())


def test_schema_lists_foundation_endpoints(schema):
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/admin-bootstrap",
        "/api/v1/health",
        "/api/v1/subscription",
    ]:
        assert path in paths, path
    assert not [p for p in paths if p.endswith("/") and p != "/"], "no trailing slashes"


def test_operations_document_the_error_envelope(schema):
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(login)
    ref = login["400"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ErrorEnvelope")
    me = schema["paths"]["/api/v1/auth/me"]["get"]["responses"]
    assert "401" in me


@pytest.mark.django_db
def test_schema_and_swagger_are_served():
    client = APIClient()
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


# Every operation of the REST contract (API.md), as (method, path with placeholders).
CONTRACT = """
POST /auth/signup; POST /auth/login; POST /auth/refresh; POST /auth/logout; GET /auth/me
POST /auth/admin-bootstrap; GET /subscription; POST /subscription/start
POST /subscription/cancel; GET /templates; GET /templates/{id}; POST /admin/templates
PATCH /admin/templates/{id}; DELETE /admin/templates/{id}; POST /vendors/onboarding
GET /vendors/me; PATCH /vendors/me; GET /vendors; GET /vendors/{id}; GET /admin/vendors
POST /admin/vendors/{id}/approve; POST /admin/vendors/{id}/needs-changes
POST /uploads/presign; POST /bookings; GET /bookings; GET /bookings/{id}
PATCH /bookings/{id}; POST /bookings/{id}/submit; POST /bookings/{id}/vendors
DELETE /bookings/{id}/vendors/{id}; POST /bookings/{id}/vendors/{id}/approve
POST /bookings/{id}/vendors/{id}/decline; POST /bookings/{id}/vendors/{id}/counter
POST /bookings/{id}/vendors/{id}/accept-counter; POST /bookings/{id}/cancel
POST /bookings/{id}/start; POST /bookings/{id}/complete; POST /bookings/{id}/payments
GET /payments/{id}; GET /bookings/{id}/payments; POST /webhooks/stripe
GET /vendor/payouts; POST /vendor/payouts/{id}/request; GET /admin/payouts
POST /admin/payouts/{id}/approve; POST /admin/payouts/{id}/hold
POST /admin/payouts/{id}/reverse; POST /admin/payouts/{id}/release
POST /trust/moderation-events; GET /admin/moderation-events; POST /disputes
GET /disputes; GET /disputes/{id}; GET /admin/disputes; PATCH /admin/disputes/{id}
GET /admin/overview; GET /admin/bookings; GET /admin/payments
POST /admin/bookings/{id}/cancel; POST /admin/bookings/{id}/force-complete
GET /admin/audit-logs; GET /health; GET /ops/health; POST /ops/seed-demo
GET /vendors/me/calendar; POST /vendors/me/blocked-dates; DELETE /vendors/me/blocked-dates/{date}
GET /vendors/{id}/availability
GET /notifications; POST /notifications/{id}/read
GET /bookings/{id}/refunds; POST /admin/payments/{id}/refund
"""


def test_schema_describes_every_contract_operation(schema):
    import re

    def normalize(path):
        return re.sub(r"\{[^}]+\}", "{}", path)

    documented = {
        (method.upper(), normalize(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }
    expected = [op.strip().split(" ", 1) for op in CONTRACT.replace("\n", ";").split(";")]
    missing = [
        f"{method} {path}"
        for method, path in (op for op in expected if len(op) == 2)
        if (method, normalize("/api/v1" + path)) not in documented
    ]
    assert len(expected) >= 64
    assert missing == []


def test_schema_documents_vendor_unavailable_where_capacity_is_taken_or_checked(schema):
    """The 409 `vendor_unavailable` is described on every operation that can answer it, and
    the directory documents `available_on`."""
    operations = [
        ("post", "/api/v1/bookings"),
        ("patch", "/api/v1/bookings/{id}"),
        ("post", "/api/v1/bookings/{id}/submit"),
        ("post", "/api/v1/bookings/{id}/vendors"),
        ("post", "/api/v1/bookings/{id}/vendors/{bv_id}/approve"),
        ("post", "/api/v1/bookings/{id}/vendors/{bv_id}/accept-counter"),
        ("post", "/api/v1/vendors/me/blocked-dates"),
    ]
    for method, path in operations:
        conflict = schema["paths"][path][method]["responses"]["409"]
        assert "vendor_unavailable" in conflict["description"], (method, path)
    directory = schema["paths"]["/api/v1/vendors"]["get"]["parameters"]
    assert any(p["name"] == "available_on" for p in directory)
    for path in ("/api/v1/vendors/me/calendar", "/api/v1/vendors/{id}/availability"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"from", "to"} <= names, path


def test_schema_tells_the_truth_about_nulls_statuses_and_pages(schema):
    """What schemathesis found the schema and the answers disagreeing on, pinned."""
    subscription = schema["components"]["schemas"]["Subscription"]["properties"]
    assert subscription["started_at"]["nullable"] and subscription["canceled_at"]["nullable"]
    paths = schema["paths"]

    def statuses(path, method):
        return set(paths[path][method]["responses"])

    assert "428" in statuses("/api/v1/admin/payouts/{id}/approve", "post")
    assert "428" in statuses("/api/v1/admin/bookings/{id}/cancel", "post")
    assert "428" not in statuses("/api/v1/admin/payouts/{id}/hold", "post")  # no confirmation
    assert "404" in statuses("/api/v1/bookings", "get")  # ?page past the end: "Invalid page."
    assert "404" in statuses("/api/v1/disputes", "post")  # a booking that is not the caller's
    assert "404" in statuses("/api/v1/ops/seed-demo", "post")
    assert {"413", "503"} <= statuses("/api/v1/auth/login", "post")
    assert "502" in statuses("/api/v1/bookings/{booking_id}/payments", "post")
    parameters = {p["name"]: p for p in paths["/api/v1/bookings"]["get"]["parameters"]}
    assert parameters["page_size"]["schema"]["minimum"] == 1
    assert parameters["status"]["allowEmptyValue"] is True  # `?status=` is "no filter"
