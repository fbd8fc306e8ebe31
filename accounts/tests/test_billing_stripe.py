"""POST /subscription/start and /cancel with Stripe Billing on localstripe (a real HTTP peer):
what the organizer gets, what Stripe holds afterwards, and the gate."""

import datetime
import threading

import pytest

from accounts import billing
from accounts.models import Subscription, User
from accounts.tests.factories import OrganizerFactory
from accounts.tests.stripe_helpers import (
    CHARGE_DECLINED,
    DECLINED,
    NEEDS_ACTION,
    VISA,
    card,
    customers_of,
    stripe_subscriptions,
)
from strathwell.audit.models import AuditLog
from strathwell.testing.threads import run_together
from templates_app.tests.factories import TemplateFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

START = "/api/v1/subscription/start"


@pytest.fixture
def stripe_on(stripe_billing_settings):
    return stripe_billing_settings


@pytest.fixture
def organizer():
    return OrganizerFactory()


@pytest.fixture
def client(make_client, organizer):
    return make_client(organizer)


def gate(client):
    return client.get(f"/api/v1/templates/{TemplateFactory().pk}")


def start(client, stripe_client, number=VISA, plan="monthly"):
    return client.post(START, {"plan": plan, "payment_method": card(stripe_client, number)})


def test_visa_starts_an_active_stripe_subscription(
    stripe_on, client, organizer, localstripe_client
):
    response = start(client, localstripe_client)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["plan"], body["provider"]) == ("active", "monthly", "stripe")
    assert body["client_secret"] is None and body["has_access"] is True
    assert body["cancel_at"] is None and body["canceled_at"] is None
    period_end = datetime.datetime.fromisoformat(body["current_period_end"])
    started = datetime.datetime.fromisoformat(body["started_at"])
    assert 27 <= (period_end - started).days <= 31  # one month
    assert gate(client).status_code == 200

    # Stripe holds one Customer (email, our user id, the card as its invoices' default) and
    # one active subscription on the monthly plan, with our metadata.
    [customer] = customers_of(localstripe_client, organizer)
    assert customer["email"] == organizer.email
    default_pm = customer["invoice_settings"]["default_payment_method"]
    assert localstripe_client.v1.payment_methods.retrieve(default_pm).customer == customer["id"]
    [sub] = stripe_subscriptions(localstripe_client, customer["id"])
    assert sub["status"] == "active"
    assert sub["plan"]["id"] == "strathwell-organizer-monthly"
    assert sub["metadata"]["user_id"] == str(organizer.pk)
    row = Subscription.objects.get(pk=organizer.pk)
    assert (row.stripe_customer_id, row.stripe_subscription_id) == (customer["id"], sub["id"])
    assert row.start_token is None
    assert (
        AuditLog.objects.filter(action="subscription.start", target_id=str(organizer.pk)).count()
        == 1
    )


def test_annual_plan_runs_a_year(stripe_on, client, localstripe_client):
    body = start(client, localstripe_client, plan="annual").json()
    assert (body["status"], body["plan"]) == ("active", "annual")
    period_end = datetime.datetime.fromisoformat(body["current_period_end"])
    assert 364 <= (period_end - datetime.datetime.fromisoformat(body["started_at"])).days <= 366


def test_declined_card_is_402_and_leaves_no_subscription(
    stripe_on, client, organizer, localstripe_client
):
    response = start(client, localstripe_client, DECLINED)

    assert response.status_code == 402, response.content
    assert set(response.json()) == {"error"}  # the one envelope
    error = response.json()["error"]
    assert error["code"] == "payment_failed"
    assert error["message"] == "Your card was declined."  # Stripe's message
    assert error["details"] == {"decline_code": "card_declined"}
    [customer] = customers_of(localstripe_client, organizer)  # kept, reused by the next try
    assert stripe_subscriptions(localstripe_client, customer["id"]) == []
    row = Subscription.objects.get(pk=organizer.pk)
    assert (row.status, row.stripe_subscription_id, row.start_token) == ("none", None, None)
    assert client.get("/api/v1/subscription").json()["status"] == "none"
    assert gate(client).status_code == 403
    assert not AuditLog.objects.filter(action="subscription.start").exists()

    # The organizer tries another card: the same Customer, now one subscription.
    assert start(client, localstripe_client, VISA).json()["status"] == "active"
    assert len(customers_of(localstripe_client, organizer)) == 1
    assert len(stripe_subscriptions(localstripe_client, customer["id"])) == 1


def test_charge_declined_on_the_first_invoice_is_402_and_cancels_it_in_stripe(
    stripe_on, client, organizer, localstripe_client
):
    response = start(client, localstripe_client, CHARGE_DECLINED)

    assert response.status_code == 402, response.content
    assert response.json()["error"]["code"] == "payment_failed"
    assert response.json()["error"]["message"] == "Your card was declined."
    [customer] = customers_of(localstripe_client, organizer)
    # Stripe made the subscription before charging; it was canceled, so none is live.
    assert stripe_subscriptions(localstripe_client, customer["id"], status="active") == []
    assert stripe_subscriptions(localstripe_client, customer["id"], status="incomplete") == []
    assert [s["status"] for s in stripe_subscriptions(localstripe_client, customer["id"])] == [
        "canceled"
    ]
    assert Subscription.objects.get(pk=organizer.pk).status == "none"
    assert gate(client).status_code == 403


def test_card_needing_action_is_incomplete_with_the_client_secret(
    stripe_on, client, organizer, localstripe_client
):
    first = start(client, localstripe_client, NEEDS_ACTION)

    assert first.status_code == 200, first.content
    body = first.json()
    assert body["status"] == "incomplete" and body["has_access"] is False
    [customer] = customers_of(localstripe_client, organizer)
    [sub] = stripe_subscriptions(localstripe_client, customer["id"])
    invoice = localstripe_client.v1.invoices.retrieve(sub["latest_invoice"])
    intent = localstripe_client.v1.payment_intents.retrieve(invoice.payment_intent)
    assert intent.status == "requires_action"
    assert body["client_secret"] == intent.client_secret
    assert gate(client).status_code == 403

    # A repeat while incomplete: the same subscription and secret, no second one in Stripe.
    again = start(client, localstripe_client, VISA)
    assert again.status_code == 200
    assert again.json() == body
    assert len(stripe_subscriptions(localstripe_client, customer["id"])) == 1


def test_repeat_start_while_active_returns_the_same_subscription(
    stripe_on, client, organizer, localstripe_client
):
    first = start(client, localstripe_client).json()
    second = start(client, localstripe_client, plan="annual")

    assert second.status_code == 200
    assert second.json() == first  # same subscription, same plan: no second charge
    [customer] = customers_of(localstripe_client, organizer)
    assert len(stripe_subscriptions(localstripe_client, customer["id"])) == 1


def test_cancel_runs_access_to_the_period_end(stripe_on, client, organizer, localstripe_client):
    started = start(client, localstripe_client).json()

    canceled = client.post("/api/v1/subscription/cancel")

    assert canceled.status_code == 200, canceled.content
    body = canceled.json()
    assert body["status"] == "active" and body["has_access"] is True
    assert body["cancel_at"] == started["current_period_end"]
    assert body["canceled_at"] is None
    row = Subscription.objects.get(pk=organizer.pk)
    stripe_sub = localstripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert stripe_sub.cancel_at_period_end is True and stripe_sub.status == "active"
    assert gate(client).status_code == 200
    # Canceling again changes nothing (and makes no second audit row).
    assert client.post("/api/v1/subscription/cancel").json() == body
    assert AuditLog.objects.filter(action="subscription.cancel").count() == 1
    # Past cancel_at the gate is closed even before Stripe's `deleted` event arrives.
    row.refresh_from_db()
    assert row.access(now=row.cancel_at).granted is False
    assert row.access(now=row.cancel_at - datetime.timedelta(seconds=1)).granted is True


def test_start_while_a_cancellation_is_pending_withdraws_it(
    stripe_on, client, organizer, localstripe_client
):
    start(client, localstripe_client)
    client.post("/api/v1/subscription/cancel")

    resumed = start(client, localstripe_client)

    assert resumed.status_code == 200
    assert resumed.json()["status"] == "active" and resumed.json()["cancel_at"] is None
    row = Subscription.objects.get(pk=organizer.pk)
    stripe_sub = localstripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert stripe_sub.cancel_at_period_end is False
    assert len(stripe_subscriptions(localstripe_client, row.stripe_customer_id)) == 1


def test_restart_after_canceled_reuses_the_customer(
    stripe_on, client, organizer, localstripe_client
):
    start(client, localstripe_client)
    row = Subscription.objects.get(pk=organizer.pk)
    first_sub = row.stripe_subscription_id
    billing.cancel_subscription(organizer, immediately=True, reason="test: ended")
    assert Subscription.objects.get(pk=organizer.pk).status == "canceled"
    assert gate(client).status_code == 403

    restarted = start(client, localstripe_client, plan="annual")

    assert restarted.status_code == 200
    assert (restarted.json()["status"], restarted.json()["canceled_at"]) == ("active", None)
    row.refresh_from_db()
    assert row.stripe_subscription_id != first_sub
    [customer] = customers_of(localstripe_client, organizer)
    statuses = sorted(s["status"] for s in stripe_subscriptions(localstripe_client, customer["id"]))
    assert statuses == ["active", "canceled"]
    assert gate(client).status_code == 200


def test_cancel_of_an_incomplete_subscription_ends_it_in_stripe(
    stripe_on, client, organizer, localstripe_client
):
    start(client, localstripe_client, NEEDS_ACTION)

    response = client.post("/api/v1/subscription/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    row = Subscription.objects.get(pk=organizer.pk)
    assert localstripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id).status == (
        "canceled"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"plan": "monthly"}, "This field is required."),
        ({"plan": "monthly", "payment_method": "pm_nope"}, ""),
    ],
)
def test_payment_method_must_be_given_and_known(stripe_on, client, organizer, body, message):
    response = client.post(START, body)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "payment_method" in error["details"]
    if message:
        assert error["details"]["payment_method"] == [message]
    assert Subscription.objects.filter(pk=organizer.pk, status="none").exists() or not (
        Subscription.objects.filter(pk=organizer.pk).exists()
    )


def test_stripe_unreachable_is_502_and_keeps_nothing(stripe_on, settings, client, organizer):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = client.post(START, {"plan": "monthly", "payment_method": "pm_card_visa"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    row = Subscription.objects.get(pk=organizer.pk)
    assert (row.status, row.start_token, row.stripe_customer_id) == ("none", None, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("row_exists", [True, False], ids=["row-exists", "first-ever-start"])
def test_ten_concurrent_starts_make_one_customer_and_one_subscription(
    stripe_on, localstripe_client, row_exists
):
    organizer = OrganizerFactory()
    if row_exists:  # e.g. after a declined attempt: the row lock alone must serialise them
        Subscription.objects.create(user=organizer)
    payment_method = card(localstripe_client)
    # Each thread opens its database connection first, then all start at the same instant.
    start_line = threading.Barrier(10)

    def go():
        user = User.objects.get(pk=organizer.pk)
        start_line.wait(timeout=10)
        return billing.start_subscription(user, plan="monthly", payment_method=payment_method)

    outcomes = run_together(*[go] * 10)

    assert all(isinstance(o, billing.StartResult) for o in outcomes), outcomes
    ids = {o.subscription.stripe_subscription_id for o in outcomes}
    assert len(ids) == 1 and None not in ids
    assert {o.subscription.status for o in outcomes} == {"active"}
    [customer] = customers_of(localstripe_client, organizer)
    [stripe_sub] = stripe_subscriptions(localstripe_client, customer["id"])
    assert {stripe_sub["id"]} == ids
    audit = AuditLog.objects.filter(action="subscription.start", target_id=str(organizer.pk))
    assert audit.count() == 1
    assert Subscription.objects.get(pk=organizer.pk).start_token is None
