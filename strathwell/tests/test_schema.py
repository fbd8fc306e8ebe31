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
