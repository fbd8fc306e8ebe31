"""End to end with localstripe as a real HTTP peer: the app runs under `live_server`, makes the
Customer and subscription on localstripe, and hears back only through localstripe's own signed
webhooks over HTTP (`customer.subscription.created|deleted`, `invoice.payment_succeeded`)."""

import pytest
import requests

from accounts.models import Subscription
from accounts.tests.factories import OrganizerFactory
from accounts.tests.stripe_helpers import (
    CHARGE_DECLINED,
    NEEDS_ACTION,
    card,
    customers_of,
    stripe_subscriptions,
    wait_for,
)
from accounts.tokens import issue_tokens
from payments.models import WebhookEvent
from strathwell.testing.servers import (
    LOCALSTRIPE_API_KEY,
    disable_localstripe_webhook,
    register_localstripe_webhook,
)
from templates_app.tests.factories import TemplateFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEBHOOK_SECRET = "whsec_e2e_strathwell_billing"
WEBHOOK_ID = "strathwell-billing-e2e"


@pytest.fixture
def app(settings, live_server, stripe_billing_settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    register_localstripe_webhook(
        stripe_billing_settings,
        f"{live_server.url}/api/v1/webhooks/stripe",
        WEBHOOK_SECRET,
        webhook_id=WEBHOOK_ID,
    )
    try:
        yield live_server
    finally:
        disable_localstripe_webhook(stripe_billing_settings, webhook_id=WEBHOOK_ID)


class Api:
    """The organizer's HTTP client against the live server (loopback, never a proxy)."""

    def __init__(self, base: str, user):
        self.base = f"{base}/api/v1"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {issue_tokens(user)['access']}"

    def get(self, path):
        return self.session.get(self.base + path, timeout=30)

    def post(self, path, body=None):
        return self.session.post(self.base + path, json=body or {}, timeout=30)

    def gated(self) -> list[tuple[int, str]]:
        """Every gated call (template detail, booking create and submit, payment create)."""
        template = TemplateFactory()
        random = "00000000-0000-4000-8000-000000000000"
        responses = [
            self.get(f"/templates/{template.pk}"),
            self.post("/bookings"),
            self.post(f"/bookings/{random}/submit"),
            self.session.post(
                f"{self.base}/bookings/{random}/payments",
                json={},
                headers={"Idempotency-Key": "gate"},
                timeout=30,
            ),
        ]
        return [
            (r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else "")
            for r in responses
        ]


def events(event_type: str, subscription_id: str) -> list[WebhookEvent]:
    """The processed events of this type about this subscription (recorded ones still being
    processed do not count yet)."""
    rows = WebhookEvent.objects.filter(type=event_type).exclude(outcome="received")
    return [
        e
        for e in rows
        if subscription_id
        in (
            e.payload["data"]["object"].get("id"),
            e.payload["data"]["object"].get("subscription"),
        )
    ]


def test_visa_is_active_from_the_response_and_again_after_the_webhooks(app, localstripe_client):
    organizer = OrganizerFactory()
    api = Api(app.url, organizer)

    started = api.post(
        "/subscription/start", {"plan": "monthly", "payment_method": card(localstripe_client)}
    )

    assert started.status_code == 200, started.text
    assert started.json()["status"] == "active"
    sub_id = Subscription.objects.get(pk=organizer.pk).stripe_subscription_id
    # localstripe's own signed events arrive over HTTP and are recorded once each.
    wait_for(
        lambda: (
            events("customer.subscription.created", sub_id)
            and events("invoice.payment_succeeded", sub_id)
        ),
        what="customer.subscription.created and invoice.payment_succeeded from localstripe",
    )
    for event_type in ("customer.subscription.created", "invoice.payment_succeeded"):
        [event] = events(event_type, sub_id)
        # Same state as the response (which was already written): nothing older overwrites it.
        assert event.outcome in ("processed", "stale"), (event_type, event.error)
    body = api.get("/subscription").json()
    assert (body["status"], body["has_access"]) == ("active", True)
    assert body["current_period_end"] == started.json()["current_period_end"]
    assert api.get("/auth/me").json()["subscription"]["status"] == "active"
    statuses = [code for code, _ in api.gated()]
    assert statuses[0] == 200 and 403 not in statuses


def test_cancel_keeps_access_until_stripe_deletes_then_every_gate_closes(app, localstripe_client):
    organizer = OrganizerFactory()
    api = Api(app.url, organizer)
    api.post("/subscription/start", {"plan": "annual", "payment_method": card(localstripe_client)})

    canceled = api.post("/subscription/cancel")

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "active"
    assert canceled.json()["cancel_at"] == canceled.json()["current_period_end"]
    assert api.gated()[0][0] == 200  # access runs to cancel_at
    sub_id = Subscription.objects.get(pk=organizer.pk).stripe_subscription_id

    # The period ends: Stripe deletes the subscription and says so with a signed webhook.
    localstripe_client.v1.subscriptions.cancel(sub_id)
    wait_for(
        lambda: Subscription.objects.get(pk=organizer.pk).status == "canceled",
        what="customer.subscription.deleted from localstripe",
    )

    [deleted] = events("customer.subscription.deleted", sub_id)
    assert deleted.outcome == "processed"
    body = api.get("/subscription").json()
    assert (body["status"], body["has_access"], body["cancel_at"]) == ("canceled", False, None)
    assert body["canceled_at"] is not None
    assert api.gated() == [(403, "subscription_required")] * 4


def test_card_needing_action_becomes_active_once_authenticated(
    app, localstripe_server, localstripe_client
):
    organizer = OrganizerFactory()
    api = Api(app.url, organizer)

    started = api.post(
        "/subscription/start",
        {"plan": "monthly", "payment_method": card(localstripe_client, NEEDS_ACTION)},
    )

    assert started.status_code == 200, started.text
    assert started.json()["status"] == "incomplete"
    secret = started.json()["client_secret"]
    assert api.gated()[0] == (403, "subscription_required")

    # The organizer completes 3-D Secure in the browser (Stripe.js); on localstripe that is
    # its `_authenticate` endpoint. Only the webhook tells the app.
    intent_id = secret.split("_secret_")[0]
    authenticated = requests.post(
        f"{localstripe_server.url}/v1/payment_intents/{intent_id}/_authenticate",
        data={"client_secret": secret, "success": "true"},
        headers={"Authorization": f"Bearer {LOCALSTRIPE_API_KEY}"},
        timeout=10,
    )
    assert authenticated.status_code == 200, authenticated.text
    wait_for(
        lambda: Subscription.objects.get(pk=organizer.pk).status == "active",
        what="invoice.payment_succeeded from localstripe",
    )
    body = api.get("/subscription").json()
    assert (body["status"], body["has_access"]) == ("active", True)
    assert api.gated()[0][0] == 200


def test_declined_first_charge_leaves_nothing_even_after_the_webhooks(app, localstripe_client):
    organizer = OrganizerFactory()
    api = Api(app.url, organizer)

    response = api.post(
        "/subscription/start",
        {"plan": "monthly", "payment_method": card(localstripe_client, CHARGE_DECLINED)},
    )

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "payment_failed"
    [customer] = customers_of(localstripe_client, organizer)
    [discarded] = stripe_subscriptions(localstripe_client, customer["id"])
    assert discarded["status"] == "canceled"
    # Stripe's events about the discarded subscription are recorded and change nothing.
    wait_for(
        lambda: (
            events("customer.subscription.created", discarded["id"])
            and events("customer.subscription.deleted", discarded["id"])
        ),
        what="customer.subscription.created and deleted from localstripe",
    )
    for event in events("customer.subscription.created", discarded["id"]) + events(
        "customer.subscription.deleted", discarded["id"]
    ):
        assert event.outcome == "ignored"
    row = Subscription.objects.get(pk=organizer.pk)
    assert (row.status, row.stripe_subscription_id) == ("none", None)
    assert api.gated()[0] == (403, "subscription_required")
