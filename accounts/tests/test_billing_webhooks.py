"""Stripe's subscription and invoice events through POST /api/v1/webhooks/stripe (real
signatures, the one inbox): out of order, twice, stale, unknown, and the grace period.

The handler makes no Stripe call, so most tests start from a Stripe-backed row; the last ones
start from a real localstripe subscription and send its own object back in both orders."""

import datetime
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import billing
from accounts.models import Subscription
from accounts.tests.factories import OrganizerFactory
from accounts.tests.stripe_helpers import (
    card,
    invoice_object,
    send,
    subscription_object,
)
from payments.models import WebhookEvent
from strathwell.audit.models import AuditLog
from strathwell.testing.threads import run_together
from templates_app.tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db

DAY = 86400
T0 = int(time.time()) - 3600  # the state the row holds was stamped an hour ago
P1, P2 = T0 + 20 * DAY, T0 + 50 * DAY  # the current period's end, then the renewed one


def when(epoch: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


_counter = iter(range(10**9))


def stripe_row(*, status="active", stamp=T0, period_end=P1) -> Subscription:
    """An organizer paying through Stripe, as a start leaves the row (state stamped `stamp`)."""
    n = next(_counter)
    return Subscription.objects.create(
        user=OrganizerFactory(),
        status=status,
        plan="monthly",
        provider="stripe",
        started_at=when(stamp),
        current_period_end=when(period_end),
        stripe_customer_id=f"cus_test{n}x{time.time_ns()}",
        stripe_subscription_id=f"sub_test{n}x{time.time_ns()}",
        stripe_state_at=stamp,
    )


def sub_event(row, event_type, *, created, status, period_end=P2, **extra):
    obj = subscription_object(
        row.stripe_subscription_id,
        row.stripe_customer_id,
        status=status,
        period_end=period_end,
        **extra,
    )
    return (event_type, obj, created)


def invoice_event(row, event_type, *, created, period_end=P2):
    obj = invoice_object(row.stripe_subscription_id, row.stripe_customer_id, period_end=period_end)
    return (event_type, obj, created)


def history(row):
    """A renewal that fails, is retried and paid, then a cancellation at the period's end —
    as Stripe would tell it, each event stamped 10 s after the previous one."""
    return [
        invoice_event(row, "invoice.payment_failed", created=T0 + 10),
        sub_event(row, "customer.subscription.updated", created=T0 + 20, status="past_due"),
        invoice_event(row, "invoice.payment_succeeded", created=T0 + 30),
        sub_event(
            row,
            "customer.subscription.updated",
            created=T0 + 40,
            status="active",
            cancel_at_period_end=True,
        ),
    ]


def deliver(client, events, order, *, repeats=()):
    """Send events[i] for i in order, each with its own event id; `repeats` are indexes sent
    again (same id) at the end. Returns the answers."""
    ids = {i: f"evt_h{i}_{time.time_ns()}" for i in range(len(events))}
    answers = []
    for i in [*order, *repeats]:
        event_type, obj, created = events[i]
        answers.append(send(client, event_type, obj, created=created, event_id=ids[i]))
    return answers


def assert_final_state_is_the_newest(row):
    row.refresh_from_db()
    assert row.status == "active"
    assert row.current_period_end == when(P2)
    assert row.cancel_at == when(P2)
    assert row.past_due_since is None
    assert row.stripe_state_at == T0 + 40
    assert row.access().granted


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0]], ids=["in-order", "reversed"])
def test_events_in_either_order_and_twice_end_in_the_newest_state(api_client, order):
    row = stripe_row()
    events = history(row)

    answers = deliver(api_client, events, order, repeats=order)

    assert_final_state_is_the_newest(row)
    first, again = answers[:4], answers[4:]
    assert all(a["duplicate"] is False for a in first)
    assert all(a["duplicate"] is True for a in again)  # a redelivery changes nothing
    outcomes = [a["outcome"] for a in first]
    if order == [3, 2, 1, 0]:
        # The newest first; everything older is stale.
        assert outcomes == ["processed", "stale", "stale", "stale"]
    else:
        assert outcomes == ["processed"] * 4
    assert WebhookEvent.objects.count() == 4


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    order=st.permutations(range(4)),
    repeats=st.lists(st.integers(min_value=0, max_value=3), max_size=4),
)
def test_any_order_with_any_redeliveries_ends_in_the_newest_state(api_client, order, repeats):
    row = stripe_row()
    deliver(api_client, history(row), order, repeats=repeats)
    assert_final_state_is_the_newest(row)
    # Each applied change is audited once; a stale or repeated event writes nothing.
    changes = AuditLog.objects.filter(target_id=str(row.pk)).count()
    assert 1 <= changes <= 4


def test_a_deleted_subscription_stays_canceled_whatever_arrives_after(api_client, make_client):
    row = stripe_row()
    deleted = sub_event(
        row, "customer.subscription.deleted", created=T0 + 20, status="canceled", ended_at=T0 + 20
    )
    newer_update = sub_event(row, "customer.subscription.updated", created=T0 + 30, status="active")
    older_created = sub_event(row, "customer.subscription.created", created=T0, status="active")
    paid = invoice_event(row, "invoice.payment_succeeded", created=T0 + 40)

    answers = deliver(api_client, [deleted, newer_update, older_created, paid], [0, 1, 2, 3])

    assert [a["outcome"] for a in answers] == ["processed", "stale", "stale", "stale"]
    row.refresh_from_db()
    assert (row.status, row.cancel_at, row.canceled_at) == ("canceled", None, when(T0 + 20))
    template = TemplateFactory()
    response = make_client(row.user).get(f"/api/v1/templates/{template.pk}")
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "subscription_required",
    )


def test_events_of_the_same_second_order_by_lifecycle(api_client):
    row = stripe_row(status="incomplete")
    same = T0 + 5
    active = sub_event(row, "customer.subscription.created", created=same, status="active")
    deleted = sub_event(row, "customer.subscription.deleted", created=same, status="canceled")
    incomplete = sub_event(row, "customer.subscription.created", created=same, status="incomplete")

    answers = deliver(api_client, [active, deleted, incomplete], [1, 0, 2])

    assert [a["outcome"] for a in answers] == ["processed", "stale", "stale"]
    row.refresh_from_db()
    assert row.status == "canceled"


def test_a_failed_renewal_keeps_access_for_the_grace_period(api_client, make_client, settings):
    settings.SUBSCRIPTION_GRACE_DAYS = 3
    row = stripe_row()
    client = make_client(row.user)
    detail = f"/api/v1/templates/{TemplateFactory().pk}"

    failed = invoice_event(row, "invoice.payment_failed", created=T0 + 10)
    assert deliver(api_client, [failed], [0])[0]["outcome"] == "processed"

    row.refresh_from_db()
    assert (row.status, row.past_due_since) == ("past_due", when(T0 + 10))
    body = client.get("/api/v1/subscription").json()
    assert (body["status"], body["has_access"]) == ("past_due", True)
    assert client.get(detail).status_code == 200
    assert AuditLog.objects.get(action="subscription.past_due", target_id=str(row.pk)).actor is None

    # Four days into past_due: past the grace period, the gates close.
    four_days_ago = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=4)
    Subscription.objects.filter(pk=row.pk).update(past_due_since=four_days_ago)
    response = client.get(detail)
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "subscription_required",
    )
    assert client.get("/api/v1/subscription").json()["has_access"] is False
    settings.SUBSCRIPTION_GRACE_DAYS = 5
    assert client.get(detail).status_code == 200

    # The retry is paid: active again, the gates open.
    paid = invoice_event(row, "invoice.payment_succeeded", created=T0 + 20)
    assert deliver(api_client, [paid], [0])[0]["outcome"] == "processed"
    row.refresh_from_db()
    assert (row.status, row.past_due_since) == ("active", None)


def test_events_of_unknown_or_replaced_subscriptions_are_ignored(api_client):
    row = stripe_row()
    stranger = subscription_object("sub_nobody", "cus_nobody", status="canceled", period_end=P2)
    invoice = invoice_object("sub_nobody", "cus_nobody", period_end=P2)
    not_a_subscription = {**invoice, "subscription": None}

    answers = [
        send(api_client, "customer.subscription.deleted", stranger, created=T0 + 10),
        send(api_client, "invoice.payment_failed", invoice, created=T0 + 10),
        send(api_client, "invoice.payment_succeeded", not_a_subscription, created=T0 + 10),
    ]

    assert [a["outcome"] for a in answers] == ["ignored"] * 3
    row.refresh_from_db()
    assert (row.status, row.stripe_state_at) == ("active", T0)


def test_an_update_schedules_and_withdraws_the_cancellation(api_client):
    row = stripe_row()
    scheduled = sub_event(
        row,
        "customer.subscription.updated",
        created=T0 + 10,
        status="active",
        period_end=P1,
        cancel_at=P1,
    )
    withdrawn = sub_event(
        row, "customer.subscription.updated", created=T0 + 20, status="active", period_end=P1
    )

    deliver(api_client, [scheduled], [0])
    row.refresh_from_db()
    assert row.cancel_at == when(P1)
    deliver(api_client, [withdrawn], [0])
    row.refresh_from_db()
    assert row.cancel_at is None and row.status == "active"


def test_the_plan_follows_the_price_of_the_subscription(api_client):
    row = stripe_row()
    obj = subscription_object(
        row.stripe_subscription_id, row.stripe_customer_id, status="active", period_end=P2
    )
    obj["items"]["data"][0]["plan"] = {"id": "strathwell-organizer-annual"}

    send(api_client, "customer.subscription.updated", obj, created=T0 + 10)

    row.refresh_from_db()
    assert (row.plan, row.current_period_end) == ("annual", when(P2))


def test_newer_api_shapes_are_read_too(api_client):
    """Webhook endpoints on API versions ≥ 2025-03-31: the period end on the items, the
    subscription of an invoice under `parent`."""
    row = stripe_row()
    obj = subscription_object(
        row.stripe_subscription_id, row.stripe_customer_id, status="past_due", period_end=P2
    )
    del obj["current_period_end"]
    obj["items"]["data"][0]["current_period_end"] = P2
    invoice = invoice_object(row.stripe_subscription_id, row.stripe_customer_id, period_end=P2)
    del invoice["subscription"]
    invoice["parent"] = {
        "type": "subscription_details",
        "subscription_details": {"subscription": row.stripe_subscription_id},
    }

    send(api_client, "customer.subscription.updated", obj, created=T0 + 10)
    row.refresh_from_db()
    assert (row.status, row.current_period_end) == ("past_due", when(P2))
    send(api_client, "invoice.payment_succeeded", invoice, created=T0 + 20)
    row.refresh_from_db()
    assert row.status == "active"


# --- from a real localstripe subscription -------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("order", ["in-order", "reversed"])
def test_real_subscription_deleted_in_either_order(
    stripe_billing_settings, api_client, make_client, localstripe_client, order
):
    organizer = OrganizerFactory()
    result = billing.start_subscription(
        organizer, plan="monthly", payment_method=card(localstripe_client)
    )
    row = result.subscription
    assert row.status == "active"
    # What Stripe would send: the subscription's own object, then its deletion (newer).
    created = localstripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id).to_dict()
    deleted = localstripe_client.v1.subscriptions.cancel(row.stripe_subscription_id).to_dict()
    stamp = row.stripe_state_at
    events = [
        ("customer.subscription.created", created, stamp),
        ("customer.subscription.deleted", deleted, stamp + 1),
    ]

    answers = deliver(api_client, events, [0, 1] if order == "in-order" else [1, 0], repeats=[0, 1])

    assert [a["duplicate"] for a in answers] == [False, False, True, True]
    row.refresh_from_db()
    assert row.status == "canceled" and row.canceled_at is not None
    template = TemplateFactory()
    response = make_client(organizer).get(f"/api/v1/templates/{template.pk}")
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_events_delivered_at_the_same_instant_end_in_the_newest_state(attempt):
    """Stripe delivers concurrently (so does localstripe): each delivery in its own thread and
    connection, every event twice. The subscription row lock serialises them."""
    row = stripe_row()
    events = history(row)
    ids = [f"evt_race{i}_{time.time_ns()}" for i in range(len(events))]

    def deliver_one(i):
        event_type, obj, created = events[i]
        return lambda: send(Client(), event_type, obj, created=created, event_id=ids[i])

    outcomes = run_together(*[deliver_one(i) for i in [0, 1, 2, 3, 3, 2, 1, 0]])

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert_final_state_is_the_newest(row)
    assert WebhookEvent.objects.filter(stripe_event_id__in=ids).count() == 4
