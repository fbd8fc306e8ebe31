"""The REST contract (../shared/API.md) in one place, table-driven across apps: paths without
trailing slashes, resource shapes, money and timestamp formats, pagination on every list, the
named filters, the gates (role, subscription, 404 for other users' objects), the confirmation
header and required reasons on admin actions, and the READ_ONLY_MODE exemptions."""

import re
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking
from conftest import client_for
from disputes.tests.helpers import paid_booking, vendor_users
from payments.models import Payment, Payout
from payments.services import _create_refund, refund_plan
from strathwell.api.middleware import READ_ONLY_EXEMPT_PATHS
from templates_app.tests.factories import TemplateFactory
from trust.models import ModerationEvent
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
CONFIRM = {"HTTP_X_CONFIRM_ACTION": "true"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


class World:
    """Two paid bookings of one organizer (one with an open dispute), their vendors, an admin,
    another organizer, an organizer without subscription, a template, a moderation event."""

    def __init__(self):
        self.admin = AdminFactory()
        self.organizer = OrganizerFactory(subscribed=True)
        self.stranger = OrganizerFactory(subscribed=True)
        self.unsubscribed = OrganizerFactory()
        self.booking = paid_booking(organizer=self.organizer)
        self.clean = paid_booking(organizer=self.organizer)
        self.venue_user, self.service_user = vendor_users(self.booking)
        self.other_vendor = VendorFactory()
        self.pending_vendor = VendorFactory(service=True, verification_status="pending")
        self.template = TemplateFactory()
        self.payment = Payment.objects.get(booking=self.booking)
        self.payout = Payout.objects.filter(booking=self.booking).order_by("id").first()
        self.clean_payout = Payout.objects.filter(booking=self.clean, kind="reservation").first()
        self.line = self.booking.vendors.order_by("position").first()
        self.clients = {
            "admin": client_for(self.admin),
            "organizer": client_for(self.organizer),
            "stranger": client_for(self.stranger),
            "unsubscribed": client_for(self.unsubscribed),
            "venue": client_for(self.venue_user),
            "other_vendor": client_for(self.other_vendor.user),
            "anon": APIClient(),
        }
        opened = self.clients["organizer"].post(
            f"{API}/disputes",
            {"booking_id": str(self.booking.pk), "reason": "quality", "description": "Late."},
        )
        assert opened.status_code == 201, opened.content
        self.dispute_id = opened.json()["id"]
        screened = self.clients["venue"].post(
            f"{API}/trust/moderation-events",
            {"context_type": "message", "text": "Mail me at ann@example.com"},
        )
        assert screened.status_code == 201, screened.content
        self.moderation = screened.json()
        # The paid bookings told the organizer (payment received) and the vendors.
        self.notification = self.organizer.notifications.order_by("created_at").first()
        # A pending refund (rows only; no Stripe call) so the refund lists have an item.
        plan = refund_plan(self.payment)
        self.refund = _create_refund(
            plan, 1_000, actor=self.admin, origin="admin", reason="contract world"
        )

    def path(self, template: str) -> str:
        return API + template.format(
            booking=self.booking.pk,
            clean=self.clean.pk,
            payment=self.payment.pk,
            refund=self.refund.pk,
            payout=self.payout.pk,
            clean_payout=self.clean_payout.pk,
            dispute=self.dispute_id,
            template=self.template.pk,
            line=self.line.pk,
            vendor=self.other_vendor.pk,
            pending_vendor=self.pending_vendor.pk,
            admin=self.admin.pk,
            notification=self.notification.pk,
            random=uuid.uuid4(),
        )

    def call(self, who: str, method: str, template: str, data=None, **headers):
        client = self.clients[who]
        return getattr(client, method.lower())(self.path(template), data, **headers)


@pytest.fixture
def world():
    return World()


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]["code"]


def walk(value, key=""):
    """Every (key, value) pair of a JSON document, recursively."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)


def assert_formats(body) -> None:
    """Money is integer `_cents` (never a float) with a lower-case currency; timestamps are
    ISO 8601 UTC; dates YYYY-MM-DD."""
    for key, value in walk(body):
        if key.endswith("_cents") and not isinstance(value, dict):
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)), key
        if key == "currency":
            assert re.fullmatch(r"[a-z]{3}", value), value
        if key.endswith("_at") and value is not None and not isinstance(value, dict):
            assert ISO_UTC.match(value), f"{key}={value}"
        if key == "event_date":
            assert DATE.match(value), value


# --- shapes -------------------------------------------------------------------------------------

BOOKING = {
    "id", "title", "event_date", "guest_count", "notes", "template_id", "status", "currency",
    "total_cents", "deposit_cents", "organizer_id", "vendors", "created_at", "updated_at",
    "amount_paid_cents", "balance_cents", "balance_due_on",
}  # fmt: skip
REFUND = {
    "id", "payment_id", "booking_id", "amount_cents", "currency", "status", "reason",
    "stripe_refund_id", "created_at",
}  # fmt: skip
BOOKING_VENDOR = {
    "id", "vendor_id", "vendor_name", "role", "status", "proposed_price_cents",
    "counter_price_cents", "agreed_price_cents", "note",
}  # fmt: skip
PAYMENT = {
    "id", "booking_id", "status", "kind", "amount_cents", "currency",
    "stripe_payment_intent_id", "client_secret",
}  # fmt: skip
PAYOUT = {
    "id", "vendor_id", "booking_id", "booking_vendor_id", "payment_id", "kind", "amount_cents",
    "currency", "status", "requested_at", "paid_at", "hold_reason",
}  # fmt: skip
AUDIT_LOG = {
    "id", "actor", "action", "target_type", "target_id", "before", "after", "reason",
    "created_at",
}  # fmt: skip
TEMPLATE_SUMMARY = {
    "id", "slug", "title", "event_type", "summary", "guest_count_min", "guest_count_max",
    "estimated_total_cents", "currency",
}  # fmt: skip
NOTIFICATION = {"id", "kind", "title", "body", "booking_id", "created_at", "read_at"}
ME = {"id", "email", "full_name", "role", "is_admin", "subscription"}
SUBSCRIPTION = {"status", "plan", "started_at", "canceled_at", "current_period_end", "cancel_at"}
COUNTED = ("vendors", "bookings", "payments", "payouts", "disputes")

# (who, path, {json pointer-ish key: required fields}); "" is the body itself, "results.0" the
# first list item.
SHAPES = [
    ("organizer", "/bookings/{booking}", {"": BOOKING, "vendors.0": BOOKING_VENDOR}),
    ("venue", "/bookings/{booking}", {"": BOOKING, "vendors.0": BOOKING_VENDOR}),
    ("admin", "/admin/bookings/{booking}", {"": BOOKING}),
    ("organizer", "/payments/{payment}", {"": PAYMENT}),
    ("organizer", "/bookings/{booking}/payments", {"results.0": PAYMENT}),
    ("admin", "/payments/{payment}", {"": PAYMENT - {"client_secret"}}),
    ("admin", "/admin/payments", {"results.0": PAYMENT - {"client_secret"}}),
    ("venue", "/vendor/payouts", {"results.0": PAYOUT}),
    ("admin", "/admin/payouts", {"results.0": PAYOUT}),
    ("organizer", "/bookings/{booking}/refunds", {"results.0": REFUND}),
    ("admin", "/bookings/{booking}/refunds", {"results.0": REFUND}),
    ("admin", "/admin/refunds", {"results.0": REFUND}),
    ("admin", "/admin/refunds/{refund}", {"": REFUND}),
    ("organizer", "/disputes/{dispute}", {"": {"id", "booking_id", "status", "reason"}}),
    ("admin", "/admin/moderation-events", {"results.0": {"id", "action", "signals", "excerpt"}}),
    ("admin", "/admin/audit-logs", {"results.0": AUDIT_LOG}),
    ("organizer", "/auth/me", {"": ME, "subscription": SUBSCRIPTION}),
    ("organizer", "/subscription", {"": SUBSCRIPTION}),
    ("anon", "/templates", {"results.0": TEMPLATE_SUMMARY}),
    ("organizer", "/templates/{template}", {"": TEMPLATE_SUMMARY | {"description", "items"}}),
    ("admin", "/admin/overview", {"": set(COUNTED)}),
    (
        "admin",
        "/ops/health",
        {"": {"status", "database", "migrations", "storage", "stripe", "broker", "jobs"}},
    ),
    ("organizer", "/notifications", {"results.0": NOTIFICATION}),
    ("venue", "/notifications", {"results.0": NOTIFICATION}),
    ("anon", "/health", {"": {"status"}}),
]


def pick(body, pointer: str):
    for part in filter(None, pointer.split(".")):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


@pytest.mark.parametrize(("who", "path", "fields"), SHAPES, ids=[f"{w}:{p}" for w, p, _ in SHAPES])
def test_resource_shapes_and_formats(world, who, path, fields):
    response = world.call(who, "GET", path)
    assert response.status_code == 200, response.content
    body = response.json()
    for pointer, required in fields.items():
        assert required <= set(pick(body, pointer)), (pointer, required - set(pick(body, pointer)))
    assert_formats(body)


def test_shape_details_the_contract_pins(world):
    """Admins never see client_secret; the template list has no detail fields; the overview
    counts every status and has money totals in cents; the moderation excerpt is masked."""
    assert "client_secret" not in world.call("admin", "GET", "/payments/{payment}").json()
    summary = world.call("anon", "GET", "/templates").json()["results"][0]
    assert not {"description", "items"} & set(summary)
    item = world.call("organizer", "GET", "/templates/{template}").json()["items"][0]
    assert set(item) == {"name", "category", "estimated_cost_cents"}
    overview = world.call("admin", "GET", "/admin/overview").json()
    assert overview["bookings"]["paid"] == 2 and overview["disputes"]["open"] == 1
    assert set(Vendor.VerificationStatus.values) <= set(overview["vendors"])
    assert {"held_cents", "fees_cents", "paid_out_cents"} <= set(overview["money"])
    assert world.moderation["action"] in {"allow", "warn", "block"}
    assert "email" in world.moderation["signals"]
    assert "ann@example.com" not in world.moderation["excerpt"]
    assert world.call("anon", "GET", "/health").json() == {"status": "ok"}


# --- lists: pagination and filters --------------------------------------------------------------

LISTS = [
    ("anon", "/templates"),
    ("anon", "/vendors"),
    ("admin", "/admin/vendors"),
    ("admin", "/admin/templates"),
    ("organizer", "/bookings"),
    ("venue", "/bookings"),
    ("organizer", "/bookings/{booking}/payments"),
    ("venue", "/vendor/payouts"),
    ("admin", "/admin/payouts"),
    ("admin", "/admin/moderation-events"),
    ("organizer", "/disputes"),
    ("admin", "/admin/disputes"),
    ("admin", "/admin/bookings"),
    ("admin", "/admin/payments"),
    ("admin", "/admin/audit-logs"),
    ("organizer", "/notifications"),
    ("venue", "/notifications"),
]


@pytest.mark.parametrize(("who", "path"), LISTS, ids=[f"{w}:{p}" for w, p in LISTS])
def test_every_list_is_paginated_with_page_size_capped_at_100(world, who, path):
    response = world.call(who, "GET", path, {"page_size": 1000})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1, "the world has at least one row for every list"
    view, request = response.renderer_context["view"], response.renderer_context["request"]
    assert view.paginator.get_page_size(request) == 100
    one = world.call(who, "GET", path, {"page_size": 1}).json()
    assert len(one["results"]) == 1
    assert (one["next"] is not None) == (body["count"] > 1)
    assert_formats(body)


def test_page_size_cap_holds_with_more_than_100_rows(world):
    ModerationEvent.objects.bulk_create(
        ModerationEvent(context_type="message", action="allow", excerpt=str(i)) for i in range(101)
    )
    body = world.call("admin", "GET", "/admin/moderation-events", {"page_size": 500}).json()
    assert body["count"] == 102 and len(body["results"]) == 100 and body["next"]


# (who, path, filter params that match the world's rows, params that match none)
FILTERS = [
    ("anon", "/vendors", {"vendor_type": "service"}, {"vendor_type": "venue", "city": "Nowhere"}),
    ("anon", "/vendors", {"city": "austin"}, {"city": "Nowhere"}),
    ("anon", "/vendors", {"q": "vendor"}, {"q": "zzz-no-match"}),
    (
        "admin",
        "/admin/vendors",
        {"verification_status": "pending"},
        {"verification_status": "needs_changes"},
    ),
    ("organizer", "/bookings", {"status": "paid"}, {"status": "draft"}),
    ("admin", "/admin/bookings", {"status": "paid"}, {"status": "canceled"}),
    ("admin", "/admin/payments", {"status": "succeeded"}, {"status": "failed"}),
    ("admin", "/admin/payouts", {"status": "locked"}, {"status": "paid"}),
    ("admin", "/admin/payouts", {"vendor_id": "{venue_vendor}"}, {"vendor_id": "{random}"}),
    ("admin", "/admin/disputes", {"status": "open"}, {"status": "resolved"}),
    ("admin", "/admin/audit-logs", {"action": "dispute.open"}, {"action": "no.such"}),
    ("admin", "/admin/audit-logs", {"actor_id": "{organizer}"}, {"actor_id": "{random}"}),
    ("admin", "/admin/audit-logs", {"target_type": "disputes.dispute"}, {"target_type": "x.y"}),
    ("admin", "/admin/audit-logs", {"target_id": "{dispute}"}, {"target_id": "{random}"}),
    ("organizer", "/notifications", {"unread": "true"}, {"unread": "false"}),
]


@pytest.mark.parametrize(
    ("who", "path", "hit", "miss"), FILTERS, ids=[f"{p}?{next(iter(h))}" for _, p, h, _ in FILTERS]
)
def test_contract_filters_narrow_the_list(world, who, path, hit, miss):
    values = {
        "venue_vendor": world.line.vendor_id,
        "organizer": world.organizer.pk,
        "dispute": world.dispute_id,
        "random": uuid.uuid4(),
    }

    def params(raw):
        return {k: str(v).format(**values) for k, v in raw.items()}

    everything = world.call(who, "GET", path).json()["count"]
    matched = world.call(who, "GET", path, params(hit))
    unmatched = world.call(who, "GET", path, params(miss))
    assert matched.status_code == 200 and unmatched.status_code == 200, (matched, unmatched)
    assert 0 < matched.json()["count"] <= everything
    assert unmatched.json()["count"] == 0


# --- access: 401, 403 role/gate, 404 for other users' objects -----------------------------------

# (who, method, path, status, code)
ACCESS = [
    ("anon", "GET", "/auth/me", 401, "not_authenticated"),
    ("anon", "POST", "/auth/password", 401, "not_authenticated"),
    ("anon", "GET", "/bookings", 401, "not_authenticated"),
    ("anon", "GET", "/templates/{template}", 401, "not_authenticated"),
    ("anon", "GET", "/admin/overview", 401, "not_authenticated"),
    ("anon", "GET", "/notifications", 401, "not_authenticated"),
    ("stranger", "POST", "/notifications/{notification}/read", 404, "not_found"),
    ("venue", "POST", "/notifications/{notification}/read", 404, "not_found"),
    # another user's object is missing, never forbidden
    ("stranger", "GET", "/bookings/{booking}", 404, "not_found"),
    ("stranger", "POST", "/bookings/{booking}/cancel", 404, "not_found"),
    ("stranger", "GET", "/bookings/{booking}/payments", 404, "not_found"),
    ("stranger", "POST", "/bookings/{booking}/payments", 404, "not_found"),
    ("stranger", "GET", "/payments/{payment}", 404, "not_found"),
    ("stranger", "GET", "/bookings/{booking}/refunds", 404, "not_found"),
    ("venue", "GET", "/bookings/{booking}/refunds", 403, "permission_denied"),
    ("anon", "GET", "/bookings/{booking}/refunds", 401, "not_authenticated"),
    ("organizer", "POST", "/admin/payments/{payment}/refund", 403, "permission_denied"),
    ("organizer", "GET", "/admin/refunds", 403, "permission_denied"),
    ("venue", "POST", "/admin/payouts/{payout}/refund", 403, "permission_denied"),
    ("stranger", "GET", "/disputes/{dispute}", 404, "not_found"),
    ("other_vendor", "GET", "/bookings/{booking}", 404, "not_found"),
    ("other_vendor", "POST", "/bookings/{booking}/vendors/{line}/approve", 404, "not_found"),
    ("other_vendor", "POST", "/vendor/payouts/{payout}/request", 404, "not_found"),
    ("other_vendor", "GET", "/disputes/{dispute}", 404, "not_found"),
    ("anon", "GET", "/vendors/{pending_vendor}", 404, "not_found"),
    ("anon", "GET", "/vendors/{pending_vendor}/availability", 404, "not_found"),
    ("anon", "GET", "/vendors/{random}/availability", 404, "not_found"),
    ("organizer", "GET", "/bookings/{random}", 404, "not_found"),
    # roles
    ("organizer", "GET", "/admin/overview", 403, "permission_denied"),
    ("venue", "GET", "/admin/payouts", 403, "permission_denied"),
    ("organizer", "GET", "/vendor/payouts", 403, "permission_denied"),
    ("venue", "POST", "/bookings", 403, "permission_denied"),
    ("venue", "GET", "/templates/{template}", 403, "permission_denied"),
    # a vendor's own calendar: vendors only
    ("anon", "GET", "/vendors/me/calendar", 401, "not_authenticated"),
    ("anon", "POST", "/vendors/me/blocked-dates", 401, "not_authenticated"),
    ("anon", "DELETE", "/vendors/me/blocked-dates/2030-01-01", 401, "not_authenticated"),
    ("organizer", "GET", "/vendors/me/calendar", 403, "permission_denied"),
    ("organizer", "POST", "/vendors/me/blocked-dates", 403, "permission_denied"),
    ("admin", "DELETE", "/vendors/me/blocked-dates/2030-01-01", 403, "permission_denied"),
    ("anon", "GET", "/vendors/{vendor}/availability", 200, None),
    ("venue", "GET", "/vendors/me/calendar", 200, None),
    # the subscription gate: template detail, booking create and submit, payment create
    ("unsubscribed", "GET", "/templates/{template}", 403, "subscription_required"),
    ("unsubscribed", "POST", "/bookings", 403, "subscription_required"),
    ("unsubscribed", "POST", "/bookings/{random}/submit", 403, "subscription_required"),
    ("unsubscribed", "POST", "/bookings/{random}/payments", 403, "subscription_required"),
    # admins pass every gate
    ("admin", "GET", "/templates/{template}", 200, None),
    ("admin", "GET", "/bookings/{booking}", 200, None),
    ("admin", "GET", "/payments/{payment}", 200, None),
    ("admin", "GET", "/bookings/{booking}/payments", 200, None),
    # paths have no trailing slash
    ("organizer", "GET", "/bookings/", 404, "not_found"),
    ("anon", "GET", "/templates/", 404, "not_found"),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "status", "code"),
    ACCESS,
    ids=[f"{w}:{m}:{p}" for w, m, p, _, _ in ACCESS],
)
def test_access_status_and_error_codes(world, who, method, path, status, code):
    response = world.call(who, method, path, {})
    assert response.status_code == status, response.content
    if code:
        assert error_code(response) == code


def test_unsubscribed_organizer_cannot_submit_own_draft(world):
    from bookings.tests.factories import booking_with_vendors

    draft = booking_with_vendors(organizer=world.unsubscribed)
    response = world.clients["unsubscribed"].post(f"{API}/bookings/{draft.pk}/submit")
    assert response.status_code == 403 and error_code(response) == "subscription_required"
    draft.refresh_from_db()
    assert draft.status == Booking.Status.DRAFT


def test_invalid_token_is_401_token_invalid(world):
    client = APIClient(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = client.get(f"{API}/auth/me")
    assert response.status_code == 401 and error_code(response) == "token_invalid"


def test_state_conflicts_are_409_with_the_contract_codes(world):
    """invalid_transition / already_exists / idempotency_conflict, and nothing changes."""
    conflicts = [
        (world.call("organizer", "POST", "/bookings/{booking}/submit"), "invalid_transition"),
        (
            world.call(
                "organizer", "POST", "/bookings/{booking}/payments", {}, HTTP_IDEMPOTENCY_KEY="k1"
            ),
            "invalid_transition",
        ),
        (
            world.call("admin", "POST", "/admin/payouts/{payout}/approve", {}, **CONFIRM),
            "invalid_transition",
        ),
        # the deposit is paid, the balance is not: the event cannot start
        (world.call("organizer", "POST", "/bookings/{clean}/start"), "balance_due"),
        # a pending refund is in progress at Stripe: not retried
        (
            world.call("admin", "POST", "/admin/refunds/{refund}/retry", {}, **CONFIRM),
            "invalid_transition",
        ),
        (
            world.clients["anon"].post(
                f"{API}/auth/signup",
                {
                    "email": world.organizer.email.upper(),
                    "password": "Another-strong-pass-9",
                    "full_name": "Copy",
                    "role": "organizer",
                },
            ),
            "already_exists",
        ),
        (
            world.call(
                "other_vendor",
                "POST",
                "/vendors/onboarding",
                {
                    "vendor_type": "service",
                    "business_name": "Second",
                    "city": "Austin",
                    "service_profile": {
                        "category": "dj",
                        "service_area": "Austin",
                        "base_price_cents": 1000,
                    },
                },
            ),
            "already_exists",
        ),
        (
            world.call(
                "organizer",
                "POST",
                "/disputes",
                {"booking_id": str(world.booking.pk), "reason": "again", "description": "x"},
            ),
            "already_exists",
        ),
    ]
    for response, code in conflicts:
        assert response.status_code == 409, response.content
        assert error_code(response) == code
    world.booking.refresh_from_db()
    assert world.booking.status == Booking.Status.PAID
    assert Payment.objects.filter(booking=world.booking).count() == 1


# --- validation errors: {field: [messages]} ------------------------------------------------------

# (who, path, body) each invalid, including nested objects and lists of objects
INVALID = [
    ("organizer", "/bookings", {"title": ""}),
    (
        "organizer",
        "/bookings",
        {
            "title": "Gala",
            "event_date": "2999-01-01",
            "guest_count": 10,
            "vendors": [{"vendor_id": "{vendor}", "proposed_price_cents": 1.5}],
        },
    ),
    ("other_vendor", "/vendors/onboarding", {"vendor_type": "venue", "venue_profile": {}}),
    ("admin", "/admin/templates", {"title": "T", "items": [{"name": "x"}]}),
    (
        "organizer",
        "/uploads/presign",
        {"filename": "a.exe", "content_type": "x/y", "size_bytes": 1},
    ),
    ("organizer", "/subscription/start", {"plan": "weekly"}),
    ("organizer", "/auth/password", {"current_password": "", "new_password": "x"}),
    ("admin", "/admin/disputes/{dispute}", {"status": "open"}),
    ("venue", "/vendors/me/blocked-dates", {"date": "2001-01-01"}),
    ("venue", "/vendors/me/blocked-dates", {"date": "31/12/2030", "note": "x"}),
]


@pytest.mark.parametrize(("who", "path", "body"), INVALID, ids=[p for _, p, _ in INVALID])
def test_validation_errors_are_field_to_message_lists(world, who, path, body):
    values = {"vendor": world.other_vendor.pk}
    for line in body.get("vendors", []):
        line["vendor_id"] = line["vendor_id"].format(**values)
    method = "PATCH" if path.startswith("/admin/disputes") else "POST"
    response = world.call(who, method, path, body)
    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    details = response.json()["error"]["details"]
    assert details
    for field, messages in details.items():
        assert isinstance(messages, list) and messages, (field, messages)
        assert all(isinstance(m, str) and m for m in messages), (field, messages)


# --- admin actions: X-Confirm-Action on exactly the marked ones, reasons where shown -----------

CONFIRMED = [
    ("/admin/payouts/{clean_payout}/approve", {}),
    ("/admin/payouts/{clean_payout}/reverse", {"reason": "Fraud."}),
    ("/admin/payouts/{clean_payout}/release", {"reason": "Cleared."}),
    ("/admin/bookings/{clean}/cancel", {"reason": "Venue closed."}),
    ("/admin/bookings/{clean}/force-complete", {"reason": "Event happened."}),
    ("/admin/payments/{payment}/refund", {"reason": "Goodwill."}),
    ("/admin/payouts/{clean_payout}/refund", {"reason": "Adjusted."}),
    ("/admin/refunds/{refund}/retry", {}),
]


@pytest.mark.parametrize(("path", "body"), CONFIRMED, ids=[p for p, _ in CONFIRMED])
def test_confirmed_actions_answer_428_without_the_header_and_change_nothing(world, path, body):
    response = world.call("admin", "POST", path, body)
    assert response.status_code == 428 and error_code(response) == "confirmation_required"
    world.clean.refresh_from_db()
    world.clean_payout.refresh_from_db()
    assert world.clean.status == Booking.Status.PAID
    assert world.clean_payout.status == Payout.Status.LOCKED


# Admin mutations the contract does not mark "confirm" work without the header.
UNCONFIRMED = [
    ("POST", "/admin/payouts/{clean_payout}/hold", {"reason": "Checking."}, 200),
    ("POST", "/admin/vendors/{pending_vendor}/approve", {}, 200),
    ("POST", "/admin/vendors/{pending_vendor}/needs-changes", {"notes": "Add photos."}, 200),
    ("PATCH", "/admin/disputes/{dispute}", {"status": "under_review"}, 200),
    ("POST", "/admin/templates", {"title": "Gala night", "event_type": "gala"}, 201),
    ("PATCH", "/admin/templates/{template}", {"title": "Renamed"}, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), UNCONFIRMED, ids=[p for _, p, _, _ in UNCONFIRMED]
)
def test_unmarked_admin_actions_need_no_confirmation(world, method, path, body, status):
    response = world.call("admin", method, path, body)
    assert response.status_code == status, response.content


REASON_REQUIRED = [
    "/admin/payouts/{clean_payout}/hold",
    "/admin/payouts/{clean_payout}/reverse",
    "/admin/payouts/{clean_payout}/release",
    "/admin/bookings/{clean}/cancel",
    "/admin/bookings/{clean}/force-complete",
    "/admin/payments/{payment}/refund",
    "/admin/payouts/{clean_payout}/refund",
]


@pytest.mark.parametrize("path", REASON_REQUIRED)
@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   "}], ids=["none", "empty", "blank"]
)
def test_reason_is_required_where_the_contract_shows_it(world, path, body):
    response = world.call("admin", "POST", path, body, **CONFIRM)
    assert response.status_code == 400, response.content
    assert error_code(response) == "validation_error"
    assert list(response.json()["error"]["details"]) == ["reason"]
    world.clean_payout.refresh_from_db()
    assert world.clean_payout.status == Payout.Status.LOCKED


# --- READ_ONLY_MODE: exactly four exempt paths ---------------------------------------------------


def test_read_only_mode_exempts_exactly_the_contract_paths(world, settings):
    assert {
        f"{API}/webhooks/stripe",
        f"{API}/health",
        f"{API}/auth/login",
        f"{API}/auth/refresh",
    } == READ_ONLY_EXEMPT_PATHS
    settings.READ_ONLY_MODE = True
    schema = SchemaGenerator().get_schema(request=None, public=True)
    client = world.clients["admin"]
    checked = 0
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        for method in set(operations) & {"post", "put", "patch", "delete"}:
            response = getattr(client, method)(concrete, {}, format="json")
            if path in READ_ONLY_EXEMPT_PATHS:
                assert response.status_code != 503, (method, path)
            else:
                assert response.status_code == 503, (method, path, response.content)
                assert error_code(response) == "read_only_mode"
                checked += 1
    assert checked >= 35
    # nothing was written by the refused calls
    assert Booking.objects.count() == 2


def test_schema_paths_have_no_trailing_slash():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert [p for p in schema["paths"] if p.endswith("/")] == []


# --- availability (v1.1) -------------------------------------------------------------------------


def test_availability_endpoints_shapes_and_conflicts(world):
    """A vendor blocks a date; its calendar, its public availability and the directory's
    `available_on` reflect it; a booking naming it on that date is 409 `vendor_unavailable`
    with the vendor's id; the venue's calendar range is validated."""
    date = "2999-06-01"
    vendor_path = f"/vendors/{world.other_vendor.pk}"
    other = client_for(world.other_vendor.user)
    blocked = other.post(f"{API}/vendors/me/blocked-dates", {"date": date, "note": "Private"})
    assert blocked.status_code == 201, blocked.content
    assert blocked.json() == {"date": date, "status": "blocked", "note": "Private"}

    calendar = other.get(f"{API}/vendors/me/calendar", {"from": date, "to": date})
    assert calendar.status_code == 200
    [entry] = calendar.json()
    assert {"date", "status", "booking_id", "note"} <= set(entry)
    assert DATE.match(entry["date"]) and entry["status"] == "blocked"

    public = world.call("anon", "GET", vendor_path + "/availability", {"from": date, "to": date})
    assert public.json() == {
        "vendor_id": str(world.other_vendor.pk),
        "unavailable": [date],
        "from": date,
        "to": date,
    }
    directory = world.call("anon", "GET", "/vendors", {"available_on": date, "page_size": 100})
    assert str(world.other_vendor.pk) not in {v["id"] for v in directory.json()["results"]}
    assert directory.json()["count"] == Vendor.objects.approved().count() - 1

    conflict = world.call(
        "organizer",
        "POST",
        "/bookings",
        {
            "title": "Summer gala",
            "event_date": date,
            "guest_count": 40,
            "vendors": [{"vendor_id": str(world.other_vendor.pk), "proposed_price_cents": 1000}],
        },
        format="json",
    )
    assert conflict.status_code == 409 and error_code(conflict) == "vendor_unavailable"
    assert conflict.json()["error"]["details"]["vendor_ids"] == [str(world.other_vendor.pk)]

    bad_range = world.call(
        "venue", "GET", "/vendors/me/calendar", {"from": "2030-02-01", "to": "2030-01-01"}
    )
    assert bad_range.status_code == 400 and error_code(bad_range) == "validation_error"
    unblocked = other.delete(f"{API}/vendors/me/blocked-dates/{date}")
    assert unblocked.status_code == 204
