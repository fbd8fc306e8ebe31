"""Helpers of the Stripe Billing tests: test cards, what localstripe holds for an organizer, and
real signed Stripe events."""

from __future__ import annotations

import json
import time
import uuid

from accounts import stripe_billing
from payments.tests.factories import post_event

VISA = "4242424242424242"
DECLINED = "4000000000000002"  # localstripe: declined when attached
CHARGE_DECLINED = "4000000000000341"  # attaches; the first invoice's charge is declined
NEEDS_ACTION = "4000002500003155"  # 3-D Secure: the first invoice's PaymentIntent needs action


def card(stripe_client, number: str = VISA) -> str:
    """A PaymentMethod as Stripe.js would make it, on localstripe."""
    return stripe_client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    ).id


def customers_of(stripe_client, user) -> list[dict]:
    """localstripe's Customers made for this organizer (by email and our metadata)."""
    listed = stripe_client.v1.customers.list(params={"email": user.email, "limit": 100})
    return [
        c.to_dict()
        for c in listed.data
        if (c.to_dict().get("metadata") or {}).get("user_id") == str(user.pk)
    ]


def stripe_subscriptions(stripe_client, customer_id: str, *, status: str = "all") -> list[dict]:
    listed = stripe_client.v1.subscriptions.list(
        params={"customer": customer_id, "status": status, "limit": 100}
    )
    return [s.to_dict() for s in listed.data]


def event_body(event_type: str, obj: dict, *, created: int, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": stripe_billing.STRIPE_BILLING_API_VERSION,
            "created": created,
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def send(client, event_type: str, obj: dict, *, created: int, event_id: str | None = None):
    """Deliver one signed event to /api/v1/webhooks/stripe (Stripe's real signature scheme)."""
    response = post_event(client, event_body(event_type, obj, created=created, event_id=event_id))
    assert response.status_code == 200, response.content
    return response.json()


def subscription_object(sub_id: str, customer: str, *, status: str, period_end: int, **extra):
    """A subscription object in the pinned API version's shape (what localstripe sends)."""
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "current_period_end": period_end,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "start_date": period_end - 30 * 86400,
        "items": {"object": "list", "data": [{"object": "subscription_item", "plan": {}}]},
        "metadata": {},
        **extra,
    }


def invoice_object(sub_id: str, customer: str, *, period_end: int, status: str = "paid"):
    return {
        "id": f"in_{uuid.uuid4().hex[:14]}",
        "object": "invoice",
        "customer": customer,
        "subscription": sub_id,
        "status": status,
        "lines": {"data": [{"period": {"start": period_end - 30 * 86400, "end": period_end}}]},
    }


def wait_for(predicate, *, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
