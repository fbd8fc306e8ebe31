"""A slow Stripe cannot stall the API: every Stripe call has connect/read timeouts and a time
budget that its retries must fit in (payments/stripe_client.py). Against real loopback servers
that accept and never answer, or drop every connection."""

import time

import pytest

from bookings.models import Booking
from payments import stripe_client
from payments.models import IdempotencyRecord, Payment
from payments.tests.factories import ready_booking
from strathwell.exceptions import PaymentProviderError
from strathwell.testing.servers import SilentServer

pytestmark = pytest.mark.django_db


def create(client, booking, key="key-1"):
    return client.post(
        f"/api/v1/bookings/{booking.pk}/payments", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def timed(call):
    start = time.monotonic()
    try:
        result = call()
    except PaymentProviderError as exc:
        result = exc
    return result, time.monotonic() - start


def create_intent():
    return stripe_client.create_payment_intent(
        amount_cents=1000, currency="usd", payment_id="p-1", booking_id="b-1"
    )


def test_payment_create_against_a_hanging_stripe_answers_502_within_10_seconds(
    organizer, organizer_client, settings
):
    """With the default settings: one attempt, cut at STRIPE_TIMEOUT_SECONDS (8 s), and no
    retry (what is left of the 9 s budget is too little for one). Nothing is kept."""
    booking = ready_booking(organizer=organizer)
    with SilentServer(mode="hang") as stripe:
        settings.STRIPE_API_BASE = stripe.url

        response, elapsed = timed(lambda: create(organizer_client, booking))

        assert stripe.accepted == 1
    assert response.status_code == 502, response.content
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert settings.STRIPE_TIMEOUT_SECONDS - 0.5 <= elapsed <= 10.0, elapsed
    assert not Payment.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.READY


def test_dropped_connections_are_retried_once_then_502(settings):
    with SilentServer(mode="close") as stripe:
        settings.STRIPE_API_BASE = stripe.url
        error, elapsed = timed(create_intent)
        assert stripe.accepted == 1 + settings.STRIPE_MAX_NETWORK_RETRIES == 2
    assert isinstance(error, PaymentProviderError)
    assert elapsed < 3, elapsed


def test_a_timed_out_attempt_is_retried_when_the_budget_has_room(settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    settings.STRIPE_CALL_BUDGET_SECONDS = 4.0
    with SilentServer(mode="hang") as stripe:
        settings.STRIPE_API_BASE = stripe.url
        error, elapsed = timed(create_intent)
        assert stripe.accepted == 2
    assert isinstance(error, PaymentProviderError)
    assert 2.0 <= elapsed <= 4.0, elapsed


def test_no_retry_starts_that_would_overrun_the_budget(settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    settings.STRIPE_CALL_BUDGET_SECONDS = 3.0  # 1 s spent + 0.5 s back-off leaves < 2 s
    with SilentServer(mode="hang") as stripe:
        settings.STRIPE_API_BASE = stripe.url
        error, elapsed = timed(create_intent)
        assert stripe.accepted == 1
    assert isinstance(error, PaymentProviderError)
    assert elapsed < 2.0, elapsed


def test_an_attempt_is_cut_to_what_is_left_of_the_budget(settings):
    settings.STRIPE_TIMEOUT_SECONDS = 30.0
    settings.STRIPE_CALL_BUDGET_SECONDS = 1.5
    with SilentServer(mode="hang") as stripe:
        settings.STRIPE_API_BASE = stripe.url
        error, elapsed = timed(create_intent)
    assert isinstance(error, PaymentProviderError)
    assert 1.0 <= elapsed <= 2.5, elapsed
