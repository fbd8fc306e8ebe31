"""The audit's low findings: read-only mode everywhere, one trusted client IP, webhook livemode,
the moderation throttle, the booking vendors cap."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory, OrganizerFactory
from accounts.tokens import issue_tokens
from bookings.models import MAX_BOOKING_VENDORS, Booking
from bookings.tests.factories import booking_with_vendors
from payments.models import Payment, WebhookEvent
from payments.tests.factories import PaymentFactory, event_body, intent_object, post_event, sign
from strathwell.api.client_ip import client_ip
from strathwell.audit.models import AuditLog
from trust.models import ModerationEvent
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


# --- READ_ONLY_MODE ------------------------------------------------------------------------------


def signup_body():
    return {
        "email": "a@example.com",
        "password": DEFAULT_PASSWORD,
        "full_name": "A",
        "role": "vendor",
    }


def test_read_only_cannot_be_bypassed_with_a_script_name_prefix(read_only):
    """Behind a proxy that mounts the app under a prefix, `path` starts with the prefix; the
    middleware matches `path_info`, the path inside the application."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/signup", signup_body(), format="json", SCRIPT_NAME="/backend"
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "read_only_mode"
    assert not User.objects.exists()


def test_write_commands_refuse_in_read_only_mode(read_only):
    for command in ("replay_webhook_events", "seed_demo", "purge_stale_uploads"):
        with pytest.raises(CommandError, match="READ_ONLY_MODE"):
            call_command(command, stdout=io.StringIO())
    # Read-only commands still run.
    call_command("check_ledger", stdout=io.StringIO())


# --- one trusted client IP -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.1"),  # no proxy: the header is the client's own words
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # a forged left part is ignored
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),
        (3, "1.2.3.4", "1.2.3.4"),  # fewer hops than proxies: the leftmost
        (1, "not-an-ip", "10.0.0.1"),
        (1, None, "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_num_proxies_hops(settings, proxies, forwarded, expected):
    settings.NUM_PROXIES = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **extra)
    assert client_ip(request) == expected


def test_throttles_and_the_audit_log_see_the_same_client_ip(settings):
    settings.NUM_PROXIES = 1
    settings.THROTTLE_AUTH_RATE = "2/min"
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    client = APIClient()
    body = {"email": "root@example.com", "password": DEFAULT_PASSWORD, "full_name": "Root"}
    response = client.post(
        "/api/v1/auth/admin-bootstrap",
        body,
        format="json",
        HTTP_X_ADMIN_BOOTSTRAP_TOKEN="s3cret-bootstrap",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
        **proxy,
    )
    assert response.status_code == 201
    assert AuditLog.objects.get(action="admin.bootstrap").ip == "203.0.113.5"

    login = {"email": "root@example.com", "password": "wrong-Passw0rd!"}
    same = {"HTTP_X_FORWARDED_FOR": "7.7.7.7, 203.0.113.5", **proxy}
    assert client.post("/api/v1/auth/login", login, **same).status_code == 401
    # The third auth request of 203.0.113.5 this minute (bootstrap, login, login): throttled,
    # whatever the client wrote to the left of the proxy's entry.
    assert client.post("/api/v1/auth/login", login, **same).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": "203.0.113.6", **proxy}
    assert client.post("/api/v1/auth/login", login, **other).status_code == 401


# --- webhooks of the other Stripe mode -----------------------------------------------------------


def live_event(payment) -> bytes:
    data = json.loads(event_body("payment_intent.succeeded", intent_object(payment)))
    data["livemode"] = True
    return json.dumps(data).encode()


def test_a_live_event_on_a_test_key_is_recorded_and_refused(api_client, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_strathwell"
    payment = PaymentFactory()
    body = live_event(payment)
    response = post_event(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "livemode_mismatch"
    event = WebhookEvent.objects.get()
    assert (event.livemode, event.outcome) == (True, WebhookEvent.Outcome.MISMATCH)
    assert "live-mode event" in event.error
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.READY
    # Stripe's retry is refused the same way; a forced replay applies nothing either.
    assert post_event(api_client, body, sign(body)).status_code == 400
    call_command(
        "replay_webhook_events", "--ids", event.stripe_event_id, "--force", stdout=io.StringIO()
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_test_event_on_a_live_key_is_refused(api_client, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_strathwell"
    payment = PaymentFactory()
    body = event_body("payment_intent.succeeded", intent_object(payment))
    response = post_event(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "livemode_mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    # The same event for the matching mode is applied.
    settings.STRIPE_SECRET_KEY = "sk_test_strathwell"
    other = event_body("payment_intent.succeeded", intent_object(payment))
    assert post_event(api_client, other).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


# --- moderation endpoint throttle ----------------------------------------------------------------


def test_moderation_events_have_their_own_throttle(settings):
    settings.THROTTLE_MODERATION_RATE = "3/min"
    client = client_for(OrganizerFactory())
    body = {"text": "hello", "context_type": "message", "context_id": "x"}
    codes = [
        client.post("/api/v1/trust/moderation-events", body, format="json").status_code
        for _ in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    assert ModerationEvent.objects.count() == 3
    # Other endpoints of the same user are not affected.
    assert client.get("/api/v1/auth/me").status_code == 200


# --- booking vendors cap -------------------------------------------------------------------------


def test_booking_create_caps_the_vendors_list(organizer_client):
    vendors = [VenueFactory()] + [ServiceVendorFactory() for _ in range(MAX_BOOKING_VENDORS)]
    body = {
        "title": "Gala",
        "event_date": "2031-06-01",
        "guest_count": 50,
        "vendors": [{"vendor_id": str(v.pk), "proposed_price_cents": 10_000} for v in vendors],
    }
    response = organizer_client.post("/api/v1/bookings", body, format="json")
    assert response.status_code == 400
    assert "vendors" in response.json()["error"]["details"]
    assert not Booking.objects.exists()
    body["vendors"] = body["vendors"][:MAX_BOOKING_VENDORS]
    assert organizer_client.post("/api/v1/bookings", body, format="json").status_code == 201


def test_adding_a_vendor_past_the_cap_is_refused(organizer):
    booking = booking_with_vendors(
        organizer=organizer, prices=(100_000,) + (10_000,) * (MAX_BOOKING_VENDORS - 1)
    )
    assert booking.vendors.count() == MAX_BOOKING_VENDORS
    response = client_for(organizer).post(
        f"/api/v1/bookings/{booking.pk}/vendors",
        {"vendor_id": str(ServiceVendorFactory().pk), "proposed_price_cents": 10_000},
        format="json",
    )
    assert response.status_code == 400
    assert "at most" in str(response.json()["error"]["details"])
    assert booking.vendors.count() == MAX_BOOKING_VENDORS


def test_console_is_refused_to_staff_without_staff_flag():
    """Sanity of the permission map's base rule: only is_staff users get any staff power."""
    user = AdminFactory(is_staff=False, is_superuser=False)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
