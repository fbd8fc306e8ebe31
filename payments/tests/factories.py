"""Factories and helpers for the payments tests: payable bookings, payments, signed events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import factory
from django.conf import settings

from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from payments.models import Payment


def ready_booking(*, prices=(500_000, 150_000), organizer=None) -> Booking:
    """A `ready_for_payment` booking: one venue (first price) + a service vendor per further
    price, every line approved at that price."""
    return booking_with_vendors(
        status=Booking.Status.READY,
        prices=prices,
        line_status=BookingVendor.Status.APPROVED,
        organizer=organizer,
    )


class PaymentFactory(factory.django.DjangoModelFactory):
    """A pending deposit with a (fake) PaymentIntent id, for a ready booking."""

    class Meta:
        model = Payment

    booking = factory.LazyFunction(ready_booking)
    organizer = factory.LazyAttribute(lambda o: o.booking.organizer)
    kind = Payment.Kind.DEPOSIT
    amount_cents = factory.LazyAttribute(lambda o: o.booking.deposit_cents)
    currency = factory.LazyAttribute(lambda o: o.booking.currency)
    stripe_payment_intent_id = factory.LazyFunction(lambda: f"pi_test_{uuid.uuid4().hex[:16]}")
    client_secret = factory.LazyAttribute(lambda o: f"{o.stripe_payment_intent_id}_secret_x")


def _on_stripe() -> bool:
    """Whether the test points the app at localstripe (the `stripe_local` fixture)."""
    return bool(settings.STRIPE_API_BASE)


def charge_on_localstripe(payment: Payment) -> Payment:
    """Give a payment a real PaymentIntent on localstripe, paid with a test card (so refunds
    of it are real Stripe refunds). Needs the `stripe_local` fixture."""
    from payments import stripe_client

    intent = stripe_client.create_payment_intent(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
    )
    client = stripe_client.get_client()
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    client.v1.payment_intents.update(intent.id, params={"payment_method": method.id})
    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"
    Payment.objects.filter(pk=payment.pk).update(
        stripe_payment_intent_id=intent.id, client_secret=intent.client_secret
    )
    payment.refresh_from_db()
    return payment


def _new_payment(**fields) -> Payment:
    if _on_stripe():
        payment = PaymentFactory(stripe_payment_intent_id=None, client_secret="", **fields)
        return charge_on_localstripe(payment)
    return PaymentFactory(**fields)


def succeeded_payment(*, prices=(500_000, 150_000), organizer=None) -> Payment:
    """A payment whose success was recorded (booking paid, ledger written, payouts locked).
    With the `stripe_local` fixture its PaymentIntent is real (paid on localstripe)."""
    from payments.services import record_payment_success

    payment = _new_payment(booking=ready_booking(prices=prices, organizer=organizer))
    record_payment_success(payment)
    payment.refresh_from_db()
    return payment


def pay_balance(booking) -> Payment:
    """Record a succeeded balance payment of the booking's whole balance (fake PaymentIntent),
    so it can start: one more completion payout per vendor."""
    from payments.services import record_payment_success

    booking = Booking.objects.get(pk=booking.pk)
    payment = _new_payment(
        booking=booking, kind=Payment.Kind.BALANCE, amount_cents=booking.balance_cents
    )
    record_payment_success(payment)
    payment.refresh_from_db()
    return payment


# --- Stripe events ------------------------------------------------------------------------------


def intent_object(payment: Payment, *, status="succeeded", amount=None, currency=None, **extra):
    amount = payment.amount_cents if amount is None else amount
    return {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency or payment.currency,
        "status": status,
        "metadata": {"payment_id": str(payment.pk), "booking_id": str(payment.booking_id)},
        **extra,
    }


def event_body(event_type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def sign(payload: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header, with Stripe's real scheme: HMAC-SHA256 of `t.payload`."""
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def post_event(client, payload: bytes, header: str | None = None, **headers):
    if header is None:
        header = sign(payload)
    if header:
        headers["HTTP_STRIPE_SIGNATURE"] = header
    return client.post(
        "/api/v1/webhooks/stripe", data=payload, content_type="application/json", **headers
    )
