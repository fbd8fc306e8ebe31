"""End to end with localstripe as a real HTTP peer: the app runs under `live_server`, creates
the PaymentIntent on localstripe, and learns of the payment only from localstripe's signed
webhook arriving over HTTP."""

import time

import pytest
import requests
from django.core.management import call_command

from accounts.tests.factories import AdminFactory, OrganizerFactory
from accounts.tokens import issue_tokens
from bookings.models import Booking
from payments.models import LedgerEntry, Payment, Payout, WebhookEvent
from payments.tests.factories import ready_booking
from strathwell.testing.servers import (
    LOCALSTRIPE_API_KEY,
    disable_localstripe_webhook,
    register_localstripe_webhook,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEBHOOK_SECRET = "whsec_e2e_strathwell_payments"
WEBHOOK_ID = "strathwell-payments-e2e"


@pytest.fixture
def app_with_localstripe(settings, live_server, localstripe_server):
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    register_localstripe_webhook(
        localstripe_server,
        f"{live_server.url}/api/v1/webhooks/stripe",
        WEBHOOK_SECRET,
        webhook_id=WEBHOOK_ID,
    )
    try:
        yield live_server
    finally:
        disable_localstripe_webhook(localstripe_server, webhook_id=WEBHOOK_ID)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {issue_tokens(user)['access']}"}


def wait_for(predicate, *, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_deposit_paid_on_localstripe_is_applied_from_its_signed_webhook(
    app_with_localstripe, localstripe_client
):
    api = f"{app_with_localstripe.url}/api/v1"
    organizer = OrganizerFactory(subscribed=True)
    booking = ready_booking(prices=(400_000, 100_001), organizer=organizer)
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy

    # 1. The organizer creates the deposit through the API (the app calls localstripe).
    created = session.post(
        f"{api}/bookings/{booking.pk}/payments",
        json={},
        headers={**bearer(organizer), "Idempotency-Key": "e2e-deposit-1"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["amount_cents"] == 150_000  # round_half_up(500 001 × 30 %) = 150 000
    intent_id = body["stripe_payment_intent_id"]
    intent = localstripe_client.v1.payment_intents.retrieve(intent_id)
    assert intent.metadata.to_dict()["payment_id"] == body["id"]

    # 2. The customer pays that PaymentIntent with a test card, on localstripe.
    pm = localstripe_client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    localstripe_client.v1.payment_intents.update(intent_id, params={"payment_method": pm.id})
    assert localstripe_client.v1.payment_intents.confirm(intent_id).status == "succeeded"

    # 3. Only localstripe's signed webhook tells the app; wait for it to arrive.
    payment = Payment.objects.get(pk=body["id"])
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED,
        what="payment_intent.succeeded to arrive from localstripe",
    )
    event = WebhookEvent.objects.get(type="payment_intent.succeeded")
    assert event.outcome == WebhookEvent.Outcome.PROCESSED
    assert event.payload["data"]["object"]["id"] == intent_id

    payment.refresh_from_db()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.PAID
    entries = LedgerEntry.objects.filter(payment=payment)
    held = sum(e.amount_cents for e in entries if e.entry_type == "held_funds")
    fees = sum(e.amount_cents for e in entries if e.entry_type == "platform_fee")
    payouts = list(Payout.objects.filter(payment=payment))
    assert held == 150_000
    assert held == fees + sum(p.amount_cents for p in payouts)
    assert len(payouts) == 4
    assert len({p.vendor_id for p in payouts}) == 2
    assert {(p.kind, p.status) for p in payouts} == {
        ("reservation", "locked"),
        ("completion", "locked"),
    }

    # 4. Money leaves only through staff: vendor requests, admin approves; the ledger holds.
    reservation = next(p for p in payouts if p.kind == "reservation")
    requested = session.post(
        f"{api}/vendor/payouts/{reservation.pk}/request",
        headers=bearer(reservation.vendor.user),
        timeout=30,
    )
    assert requested.status_code == 200, requested.text
    approved = session.post(
        f"{api}/admin/payouts/{reservation.pk}/approve",
        json={"reason": "e2e"},
        headers={**bearer(AdminFactory()), "X-Confirm-Action": "true"},
        timeout=30,
    )
    assert approved.json()["status"] == "paid"
    call_command("check_ledger")

    # A redelivery of the same event (Stripe retries) changes nothing.
    replay = session.post(
        f"{api}/webhooks/stripe",
        data=b"{}",
        headers={"Stripe-Signature": "t=1,v1=bad", "Content-Type": "application/json"},
        timeout=30,
    )
    assert replay.status_code == 400
    assert Payout.objects.filter(payment=payment).count() == 4
