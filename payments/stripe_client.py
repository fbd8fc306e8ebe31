"""The one place the app talks to Stripe (the official `stripe` library).

The client is built from settings at call time, so `STRIPE_SECRET_KEY` / `STRIPE_API_BASE`
changes (tests, `make run` with localstripe) take effect without a restart, and nothing mutates
the library's module-level globals that other threads may be using. Every Stripe failure
(API error, network error, missing key) surfaces as `PaymentProviderError` (502).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from django.conf import settings

from strathwell.exceptions import PaymentProviderError

logger = logging.getLogger("strathwell.payments")

# Stripe answers in well under a second; a hung connection must not hold a worker for the
# library's default 80 s. One retry is safe: every create carries an idempotency key.
STRIPE_TIMEOUT_SECONDS = 20
STRIPE_MAX_NETWORK_RETRIES = 1


@dataclass(frozen=True)
class CreatedIntent:
    id: str
    client_secret: str
    status: str


def get_client() -> stripe.StripeClient:
    """A StripeClient configured from settings (key, optional api base)."""
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentProviderError(
            "Payments are not configured on this server (STRIPE_SECRET_KEY is not set)."
        )
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE.rstrip("/")}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS),
        **kwargs,
    )


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
