"""Schemathesis over the whole OpenAPI schema, in process (WSGI), as an organizer, a vendor and
an admin: no 5xx, every response conforms to the schema (status, content type, body), every
error is the one envelope, and input that violates the schema is refused with a 4xx.

Bounded (a few minutes on two cores): `make fuzz` runs it, and so does CI (`.ci/run`). The
default `make test` leaves it out (`-m "not fuzz"` in pytest.ini); run it alone with
`pytest -m fuzz strathwell/tests/test_schemathesis.py`.

A small world is seeded per operation (fresh state, rolled back afterwards): a subscribed
organizer with a draft, an awaiting, a ready and a paid booking (its payment, payouts and an
open dispute), the venue and service vendors on them, a pending vendor, an admin, a template,
a moderation event, a webhook event and audit rows. Generated path ids that are valid are
replaced by the world's real ids for that operation, so positive cases reach real objects
(invalid ids are kept: they must be refused with a 4xx).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig

from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from conftest import client_for
from disputes.tests.helpers import paid_booking
from payments.models import Payment, Payout, WebhookEvent
from strathwell.audit.models import AuditLog
from templates_app.tests.factories import TemplateFactory
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))

CONFIG = {
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "mode": "all",
        "deterministic": True,
        # An unknown query parameter or header is ignored, as by any HTTP API (cache busters,
        # tracking tags): not a schema violation the API must refuse. (Request bodies declare
        # no additionalProperties, so bodies are generated as before.)
        "allow-extra-parameters": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        # Stateful chains need OpenAPI links the schema does not declare; every operation is
        # reached by the phases above, against real objects (see FuzzWorld.path_ids).
        "stateful": {"enabled": False},
    },
    "checks": {
        # A schema-valid body can still break a business rule the schema cannot express (an
        # event date in the past, a vendor id that does not exist, two venues): that is a 400
        # validation_error, not a server fault. Everything else of this check stays on.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"],
        },
        # Without a required header the contract answers 428 confirmation_required (the
        # X-Confirm-Action of admin actions), or 404 when the object is not the caller's to
        # see at all (a header cannot make it visible). 400/401/403 as the default says.
        "missing_required_header": {
            "expected-statuses": ["400", "401", "403", "404", "428"],
        },
    },
}


def _schema_dict() -> dict:
    generator = SchemaGenerator()
    raw = generator.get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


schema = schemathesis.openapi.from_dict(_schema_dict(), config=SchemathesisConfig.from_dict(CONFIG))
schema.app = WSGIHandler()


def error_envelope(ctx, response, case):
    """Every 4xx/5xx answer is {"error": {"code", "message", "details"}} and nothing else
    (passed to each call: the built-in checks do not know our envelope)."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} without a JSON body") from exc
    if not (isinstance(body, dict) and set(body) == {"error"}):
        raise AssertionError(f"{response.status_code} outside the envelope: {body!r:.300}")
    error = body["error"]
    if not (isinstance(error, dict) and set(error) == {"code", "message", "details"}):
        raise AssertionError(f"malformed envelope: {error!r:.300}")
    if not (re.fullmatch(r"[a-z][a-z0-9_]*", str(error["code"])) and error["message"]):
        raise AssertionError(f"bad code or empty message: {error!r:.300}")
    if not isinstance(error["details"], dict):
        raise AssertionError(f"details is not an object: {error!r:.300}")
    return None


class FuzzWorld:
    def __init__(self):
        self.admin = AdminFactory()
        self.organizer = OrganizerFactory(subscribed=True)
        self.paid = paid_booking(organizer=self.organizer)
        lines = list(self.paid.vendors.order_by("position").select_related("vendor__user"))
        self.venue, self.service = lines[0].vendor, lines[1].vendor
        self.vendor_user = self.venue.user
        today = timezone.localdate()

        def booking(status, line_status, days):
            return booking_with_vendors(
                status=status,
                line_status=line_status,
                organizer=self.organizer,
                vendors=[self.venue, self.service],
                event_date=today + datetime.timedelta(days=days),
            )

        self.draft = booking(Booking.Status.DRAFT, BookingVendor.Status.PENDING, 90)
        self.awaiting = booking(Booking.Status.AWAITING, BookingVendor.Status.PENDING, 100)
        countered = self.awaiting.vendors.order_by("position")[1]
        BookingVendor.objects.filter(pk=countered.pk).update(
            status=BookingVendor.Status.COUNTERED, counter_price_cents=140_000
        )
        self.ready = booking(Booking.Status.READY, BookingVendor.Status.APPROVED, 110)
        self.lines = {
            name: [line.pk for line in b.vendors.order_by("position")]
            for name, b in (("draft", self.draft), ("awaiting", self.awaiting))
        }
        self.payment = Payment.objects.get(booking=self.paid)
        self.payout = Payout.objects.filter(booking=self.paid, vendor=self.venue).first()
        self.pending_vendor = VendorFactory(service=True, verification_status="pending")
        self.template = TemplateFactory()
        self.webhook_event = WebhookEvent.objects.create(
            stripe_event_id=f"evt_{uuid.uuid4().hex}",
            type="payment_intent.succeeded",
            payload={"id": "evt_x", "type": "payment_intent.succeeded"},
        )
        organizer = client_for(self.organizer)
        opened = organizer.post(
            "/api/v1/disputes",
            {"booking_id": str(self.paid.pk), "reason": "quality", "description": "Late."},
        )
        assert opened.status_code == 201, opened.content
        self.dispute_id = opened.json()["id"]
        screened = client_for(self.vendor_user).post(
            "/api/v1/trust/moderation-events",
            {"context_type": "message", "text": "Mail me at ann@example.com"},
        )
        assert screened.status_code == 201, screened.content
        self.moderation_id = screened.json()["id"]
        self.audit_log_id = AuditLog.objects.values_list("pk", flat=True).first()
        self.users = {
            "organizer": self.organizer,
            "vendor": self.vendor_user,
            "admin": self.admin,
        }

    def path_ids(self, method: str, path: str) -> dict:
        """Real ids for the operation's path parameters."""
        path = path.removeprefix("/api/v1")
        fixed = {
            "/admin/audit-logs/{id}": {"id": self.audit_log_id},
            "/admin/disputes/{id}": {"id": self.dispute_id},
            "/admin/moderation-events/{id}": {"id": self.moderation_id},
            "/admin/payments/{id}": {"id": self.payment.pk},
            "/admin/templates/{id}": {"id": self.template.pk},
            "/admin/vendors/{id}": {"id": self.pending_vendor.pk},
            "/admin/webhook-events/{id}": {"id": self.webhook_event.pk},
            "/disputes/{id}": {"id": self.dispute_id},
            "/payments/{id}": {"id": self.payment.pk},
            "/templates/{id}": {"id": self.template.pk},
            "/vendors/{id}": {"id": self.venue.pk},
        }
        for prefix, ids in fixed.items():
            if path.startswith(prefix):
                return ids
        if path.startswith(("/admin/payouts/{id}", "/vendor/payouts/{id}")):
            return {"id": self.payout.pk}
        if path.startswith("/admin/bookings/{id}"):
            return {"id": self.paid.pk}
        if path == "/bookings/{booking_id}/payments":
            return {"booking_id": (self.ready if method == "POST" else self.paid).pk}
        if path.startswith("/bookings/{id}/vendors/{bv_id}"):
            if method == "DELETE":
                return {"id": self.draft.pk, "bv_id": self.lines["draft"][1]}
            position = 1 if path.endswith("accept-counter") else 0
            return {"id": self.awaiting.pk, "bv_id": self.lines["awaiting"][position]}
        if path.startswith("/bookings/{id}"):
            tail = path.removeprefix("/bookings/{id}")
            if method == "PATCH" or tail in ("/submit", "/vendors"):
                return {"id": self.draft.pk}
            return {"id": self.paid.pk}
        return {}


def _valid_id(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@pytest.fixture
def world(settings, localstripe_server):
    from strathwell.testing.servers import LOCALSTRIPE_API_KEY

    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    # Login/signup are throttled per IP at 20/min and every example comes from one IP: let
    # them all reach the views (429 itself is documented and in the envelope).
    settings.THROTTLE_AUTH_RATE = settings.THROTTLE_USER_RATE = "100000/min"
    world = FuzzWorld()
    # Like Django's test client (which reconnects them after each of its requests, hence after
    # the world is built): the test's transaction must survive each WSGI request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield world
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _call(case, world, role):
    for name, real in world.path_ids(case.method, case.path).items():
        if name in (case.path_parameters or {}) and _valid_id(case.path_parameters[name]):
            case.path_parameters[name] = str(real)
    token = client_for(world.users[role])._credentials["HTTP_AUTHORIZATION"]
    headers = {"Authorization": token}
    case.call_and_validate(headers=headers, additional_checks=[error_envelope])


FUZZ_SETTINGS = settings(
    suppress_health_check=list(HealthCheck), deadline=None, derandomize=True, database=None
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_organizer(case, world):
    _call(case, world, "organizer")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_vendor(case, world):
    _call(case, world, "vendor")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_admin(case, world):
    _call(case, world, "admin")


def test_world_is_reachable(world):
    """The seeded ids answer 200 for their owners: the fuzz run reaches real objects."""
    client = client_for(world.organizer)
    assert client.get(f"/api/v1/bookings/{world.paid.pk}").status_code == 200
    assert APIClient().get(f"/api/v1/vendors/{world.venue.pk}").status_code == 200
    assert Vendor.objects.filter(pk=world.pending_vendor.pk).exists()
