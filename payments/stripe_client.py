"""The one place payments talk to Stripe (the official `stripe` library).

The client comes from `strathwell.stripe_api.get_client` (built from settings at call time;
shared with `accounts.stripe_billing`). Every Stripe failure (API error, network error, missing
key) surfaces as `PaymentProviderError` (502).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe

from strathwell.exceptions import PaymentProviderError
from strathwell.stripe_api import get_client

logger = logging.getLogger("strathwell.payments")


@dataclass(frozen=True)
class CreatedIntent:
    id: str
    client_secret: str
    status: str


def idempotency_key_for_payment(payment_id) -> str:
    """Stripe's idempotency key for a payment's PaymentIntent: a retry never charges twice."""
    return f"strathwell-payment-{payment_id}"


def create_payment_intent(
    *, amount_cents: int, currency: str, payment_id, booking_id
) -> CreatedIntent:
    """Create the PaymentIntent of a payment. Never call this while holding row locks."""
    client = get_client()
    try:
        intent = client.v1.payment_intents.create(
            params={
                "amount": amount_cents,
                "currency": currency,
                "payment_method_types": ["card"],
                "metadata": {"payment_id": str(payment_id), "booking_id": str(booking_id)},
            },
            options={"idempotency_key": idempotency_key_for_payment(payment_id)},
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe PaymentIntent creation failed for payment %s: %r", payment_id, exc)
        raise PaymentProviderError(
            "The payment provider failed or is unreachable; nothing was charged. "
            "Retry with the same Idempotency-Key.",
            details={"provider_error": type(exc).__name__},
        ) from exc
    return CreatedIntent(id=intent.id, client_secret=intent.client_secret, status=intent.status)


def cancel_payment_intent(intent_id: str) -> None:
    """Best effort: cancel a PaymentIntent nobody should pay any more (errors are logged).
    Stripe then sends `payment_intent.canceled`, which cancels the payment."""
    try:
        get_client().v1.payment_intents.cancel(intent_id)
    except Exception as exc:  # best effort after the commit: never fail the request
        logger.warning("Could not cancel PaymentIntent %s: %r", intent_id, exc)
