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


# --- refunds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedRefund:
    id: str
    status: str  # succeeded | pending | requires_action | failed | canceled
    amount: int
    failure_reason: str = ""


def idempotency_key_for_refund(refund_id, attempt: int = 1) -> str:
    """Stripe's idempotency key for a refund: a network retry never refunds twice. A retry
    after a definite failure is a new attempt (Stripe replays a stored error for its key);
    `create_refund` first looks for a refund an earlier attempt may have made."""
    base = f"strathwell-refund-{refund_id}"
    return base if attempt <= 1 else f"{base}-attempt-{attempt}"


def _as_created_refund(obj) -> CreatedRefund:
    return CreatedRefund(
        id=obj.id,
        status=obj.status or "",
        amount=int(obj.amount),
        failure_reason=str(getattr(obj, "failure_reason", None) or ""),
    )


def find_refund(*, payment_intent_id: str, refund_id) -> CreatedRefund | None:
    """A refund an earlier attempt made for our refund (by its metadata), if any."""
    client = get_client()
    try:
        refunds = client.v1.refunds.list(
            params={"payment_intent": payment_intent_id, "limit": 100}
        ).auto_paging_iter()
        for obj in refunds:
            if (obj.metadata or {}).get("refund_id") == str(refund_id):
                return _as_created_refund(obj)
    except stripe.StripeError as exc:
        raise PaymentProviderError(
            "The payment provider failed or is unreachable; the refund was not made.",
            details={"provider_error": type(exc).__name__, "refund_id": str(refund_id)},
        ) from exc
    return None


def create_refund(
    *, payment_intent_id: str, amount_cents: int, refund_id, payment_id, booking_id, attempt=1
) -> CreatedRefund:
    """Refund part of a PaymentIntent (Stripe's Refund API). Never call this while holding
    row locks. A retry (attempt > 1) first reuses a refund an earlier attempt made."""
    if attempt > 1:
        earlier = find_refund(payment_intent_id=payment_intent_id, refund_id=refund_id)
        if earlier is not None:
            return earlier
    client = get_client()
    try:
        obj = client.v1.refunds.create(
            params={
                "payment_intent": payment_intent_id,
                "amount": amount_cents,
                "metadata": {
                    "refund_id": str(refund_id),
                    "payment_id": str(payment_id),
                    "booking_id": str(booking_id),
                },
            },
            options={"idempotency_key": idempotency_key_for_refund(refund_id, attempt)},
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refund failed for refund %s: %r", refund_id, exc)
        raise PaymentProviderError(
            "The payment provider failed or is unreachable; the refund was not made. "
            "It is kept as failed and can be retried.",
            details={
                "provider_error": type(exc).__name__,
                "provider_message": str(getattr(exc, "user_message", "") or exc)[:300],
                "refund_id": str(refund_id),
            },
        ) from exc
    return _as_created_refund(obj)


# --- listing (reconciliation) ------------------------------------------------------------------


def _list(resource, what: str, *, created_gte: int | None):
    """Every object of a list endpoint (created at or after a Unix time), paginated by the
    library. When the server refuses the `created` filter (localstripe) the list is read in
    full instead; the caller filters by `created` itself."""
    params = {"limit": 100}
    if created_gte is not None:
        params["created"] = {"gte": created_gte}
    try:
        try:
            yield from resource.list(params=params).auto_paging_iter()
        except (stripe.InvalidRequestError, stripe.APIError):
            # localstripe answers 400 ("Unexpected created") for PaymentIntents and 500 for
            # Refunds; without the filter the listing is only longer, never wrong.
            if "created" not in params:
                raise
            params.pop("created")
            yield from resource.list(params=params).auto_paging_iter()
    except stripe.StripeError as exc:
        raise PaymentProviderError(
            f"Could not list {what} from the payment provider.",
            details={"provider_error": type(exc).__name__},
        ) from exc


def list_payment_intents(*, created_gte: int | None = None):
    """Every PaymentIntent (created at or after a Unix time)."""
    return _list(get_client().v1.payment_intents, "PaymentIntents", created_gte=created_gte)


def list_refunds(*, created_gte: int | None = None):
    """Every Refund (created at or after a Unix time)."""
    return _list(get_client().v1.refunds, "Refunds", created_gte=created_gte)
