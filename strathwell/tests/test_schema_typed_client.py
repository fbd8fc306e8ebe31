"""The schema is one a typed frontend client can trust (issue #20): what the server answers is
what the types say. The end-to-end proof is the TypeScript journey
(`test_typescript_client.py`); these pin each point of the schema."""

import importlib.util
import inspect
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from rest_framework import exceptions as drf_exceptions
from rest_framework_simplejwt import exceptions as jwt_exceptions

import payments.webhooks  # noqa: F401  (defines DomainError subclasses)
from accounts.models import User
from payments.models import WebhookEvent
from strathwell.api import exceptions as api_exceptions
from strathwell.api.exceptions import ErrorCode, envelope_exception_handler
from strathwell.exceptions import DomainError

BASE_DIR = Path(django_settings.BASE_DIR)


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
    return json.loads(path.read_text())


def components(schema):
    return schema["components"]["schemas"]


def enum_of(schema, prop):
    """The enum values of a property (a $ref, allOf [$ref] or oneOf [$ref, NullEnum])."""
    refs = [prop.get("$ref")] + [s.get("$ref") for s in prop.get("allOf", prop.get("oneOf", []))]
    values = []
    for ref in filter(None, refs):
        values += [v for v in components(schema)[ref.rsplit("/", 1)[1]].get("enum", []) if v]
    return values


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield path, method, op


# --- subscription ------------------------------------------------------------------------------


def test_subscription_dates_are_nullable_and_status_plan_are_enums(schema):
    sub = components(schema)["Subscription"]
    for field in ("started_at", "canceled_at", "current_period_end", "cancel_at"):
        assert sub["properties"][field].get("nullable") is True, field
        assert sub["properties"][field]["format"] == "date-time"
    assert enum_of(schema, sub["properties"]["status"]) == [
        "none",
        "incomplete",
        "active",
        "past_due",
        "canceled",
    ]
    assert enum_of(schema, sub["properties"]["plan"]) == ["monthly", "annual"]
    assert sub["properties"]["plan"].get("nullable") is True
    assert enum_of(schema, sub["properties"]["provider"]) == ["manual", "stripe", "complimentary"]


@pytest.mark.django_db
def test_a_new_organizer_answers_null_dates(api_client):
    response = api_client.post(
        "/api/v1/auth/signup",
        {
            "email": "n@example.com",
            "password": "Str0ng-Passw0rd!",
            "full_name": "N",
            "role": "organizer",
        },
        format="json",
    )
    assert response.status_code == 201
    sub = response.json()["user"]["subscription"]
    assert sub["started_at"] is None and sub["canceled_at"] is None
    assert sub["status"] == "none" and sub["plan"] is None


# --- errors ------------------------------------------------------------------------------------


def test_error_code_is_the_error_code_enum(schema):
    code = components(schema)["Error"]["properties"]["code"]
    assert code["allOf"][0]["$ref"].endswith("/ErrorCodeEnum")
    assert components(schema)["ErrorCodeEnum"]["enum"] == [c.value for c in ErrorCode]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _emitted_codes():
    """Every code the API can put in `error.code`."""
    codes = {sub.code for sub in _subclasses(DomainError)} | {DomainError.code}
    # The handler's answer to every DRF/simplejwt/own APIException.
    exception_classes = {
        cls
        for module in (drf_exceptions, jwt_exceptions, api_exceptions)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, drf_exceptions.APIException)
    }
    for cls in exception_classes:
        try:
            exc = cls(wait=3) if cls is drf_exceptions.Throttled else cls()
        except TypeError:  # needs arguments (MethodNotAllowed(method), ...)
            exc = cls("X")
        response = envelope_exception_handler(exc, {"view": None})
        codes.add(response.data["error"]["code"])
    codes.add(
        envelope_exception_handler(RuntimeError("boom"), {"view": None}).data["error"]["code"]
    )
    # Literal codes written straight into an envelope (error_body("...") and gunicorn's hook).
    for path in BASE_DIR.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        codes |= set(re.findall(r'error_body\(\s*"(\w+)"', path.read_text()))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", BASE_DIR / "gunicorn.conf.py")
    gunicorn_conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gunicorn_conf)
    codes |= set(gunicorn_conf.ERROR_CODES.values())
    return codes


def test_every_code_the_api_can_emit_is_in_the_enum():
    emitted = _emitted_codes()
    assert {
        "invalid_transition",
        "token_reused",
        "method_not_allowed",
        "throttled",
        "confirmation_required",
        "uri_too_long",
        "invalid_host",
    } <= emitted
    missing = emitted - {c.value for c in ErrorCode}
    assert not missing, f"codes the API emits that ErrorCode lacks: {sorted(missing)}"


def test_error_details_values_are_typed(schema):
    details = components(schema)["Error"]["properties"]["details"]
    assert details["type"] == "object"
    kinds = details["additionalProperties"]["anyOf"]
    assert {"type": "array", "items": {"type": "string"}} in kinds
    assert {"type": "number"} in kinds


@pytest.mark.django_db
def test_validation_messages_do_not_leak_non_field_errors(organizer_client):
    response = organizer_client.post(
        "/api/v1/bookings",
        {"title": "T", "event_date": "2099-01-01", "guest_count": 10, "vendors": []},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["vendors"] == ["This list may not be empty."]
    assert "non_field_errors" not in error["message"]


def test_every_error_response_has_the_envelope_and_405_415_428_are_documented(schema):
    for path, method, op in operations(schema):
        responses = op["responses"]
        for status, response in responses.items():
            if int(status) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (path, method, status)
        assert "405" in responses, (path, method)
        if method in ("post", "put", "patch"):
            assert "415" in responses, (path, method)
        names = {p["name"] for p in op.get("parameters", [])}
        if "X-Confirm-Action" in names:
            assert "428" in responses, (path, method)


# --- fields ------------------------------------------------------------------------------------


def test_vendor_photo_keys_is_a_list_of_strings(schema):
    for name in ("Vendor", "OwnVendor"):
        prop = components(schema)[name]["properties"]["photo_keys"]
        assert prop["type"] == "array" and prop["items"] == {"type": "string"}, name


def test_optional_request_fields_have_no_default(schema):
    """A `default` on an optional field makes generated clients require it."""
    for name, component in components(schema).items():
        required = set(component.get("required", []))
        for field, prop in component.get("properties", {}).items():
            assert field in required or "default" not in prop, (name, field)
    create = components(schema)["BookingCreateRequest"]
    assert "notes" in create["properties"] and "notes" not in create["required"]


def test_pagination_keys_are_required(schema):
    page = components(schema)["PaginatedBookingList"]
    assert set(page["required"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["next"].get("nullable") is True


def test_path_ids_are_uuids_not_patterns(schema):
    for path, method, op in operations(schema):
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] != "key":
                assert "pattern" not in parameter["schema"], (path, method, parameter["name"])
    booking = schema["paths"]["/api/v1/bookings/{id}"]["get"]["parameters"][0]
    assert booking["schema"]["format"] == "uuid"


def test_webhook_outcome_and_demo_role_are_enums(schema):
    outcome = components(schema)["WebhookAck"]["properties"]["outcome"]
    assert enum_of(schema, outcome) == list(WebhookEvent.Outcome.values)
    role = components(schema)["DemoLogin"]["properties"]["role"]
    assert enum_of(schema, role) == list(User.Role.values)


def test_json_fields_have_declared_types(schema):
    """No property generates as `unknown`: every one has a type, a $ref or a composition."""
    for name, component in components(schema).items():
        for field, prop in component.get("properties", {}).items():
            assert {"type", "$ref", "allOf", "oneOf", "anyOf"} & set(prop), (name, field)
    signals = components(schema)["ModerationEvent"]["properties"]["signals"]
    assert signals["items"] == {"type": "string"}
    assert components(schema)["AuditLog"]["properties"]["before"]["nullable"] is True
    assert components(schema)["WebhookEvent"]["properties"]["payload"]["type"] == "object"
