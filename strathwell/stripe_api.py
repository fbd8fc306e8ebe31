"""The Stripe client every app uses (the official `stripe` library), built from settings.

The client is built at call time, so `STRIPE_SECRET_KEY` / `STRIPE_API_BASE` changes (tests,
`make run` with localstripe) take effect without a restart, and nothing mutates the library's
module-level globals that other threads may be using. It lives in the bottom layer because two
apps talk to Stripe: `payments` (PaymentIntents, refunds) and `accounts` (Stripe Billing).
"""

from __future__ import annotations

import stripe
from django.conf import settings

from strathwell.exceptions import PaymentProviderError

# Stripe answers in well under a second; a hung connection must not hold a worker for the
# library's default 80 s. One retry is safe: every create carries an idempotency key.
STRIPE_TIMEOUT_SECONDS = 20
STRIPE_MAX_NETWORK_RETRIES = 1


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
