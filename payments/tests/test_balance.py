"""The balance payment: `POST /bookings/{id}/payments {kind: balance}` on localstripe, its
signed success webhook allocated like the deposit (one more completion payout per vendor),
`start` refused while anything is unpaid, and the webhook's cost pinned."""

import datetime

import pytest
from django.core.management import call_command
from django.test import Client

from bookings.models import Booking
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import Allocation, LedgerEntry, Payment, Payout, WebhookEvent
from payments.tests.factories import (
    PaymentFactory,
    event_body,
    intent_object,
    pay_balance,
    post_event,
    ready_booking,
    sign,
    succeeded_payment,
)
from strathwell.jobs import outbox
from strathwell.testing.threads import run_together

pytestmark = pytest.mark.django_db


def create(client, booking, key, **body):
    return client.post(
        f"/api/v1/bookings/{booking.pk}/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def succeeded(payment, **kwargs):
    return event_body("payment_intent.succeeded", intent_object(payment), **kwargs)


@pytest.mark.e2e
def test_balance_payment_is_a_second_intent_for_the_balance(
    stripe_local, organizer, organizer_client, localstripe_client
):
    booking = ready_booking(prices=(500_000, 150_000), organizer=organizer)
    # Before the deposit succeeded there is no balance to pay.
    early = create(organizer_client, booking, "bal-early", kind="balance")
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"

    deposit = create(organizer_client, booking, "dep-1")
    assert deposit.status_code == 201
    money_in = Payment.objects.get(pk=deposit.json()["id"])
    post_event(Client(), succeeded(money_in))
    booking.refresh_from_db()
    assert (booking.status, booking.amount_paid_cents, booking.balance_cents) == (
        "paid",
        195_000,
        650_000 - 195_000,
    )
    assert booking.balance_due_on == booking.event_date - datetime.timedelta(days=14)

    # The key fixes the kind: the deposit's key cannot ask for the balance.
    reused = create(organizer_client, booking, "dep-1", kind="balance")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_conflict"
    bad = create(organizer_client, booking, "bal-x", kind="tip")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["details"]

    response = create(organizer_client, booking, "bal-1", kind="balance")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["amount_cents"], body["status"]) == ("balance", 455_000, "pending")
    intent = localstripe_client.v1.payment_intents.retrieve(body["stripe_payment_intent_id"])
    assert intent.amount == 455_000 and intent.metadata.to_dict()["payment_id"] == body["id"]
    assert body["stripe_payment_intent_id"] != money_in.stripe_payment_intent_id
    # The same key replays it (no third intent).
    again = create(organizer_client, booking, "bal-1", kind="balance")
    assert again.status_code == 201 and again.json()["id"] == body["id"]

    balance = Payment.objects.get(pk=body["id"])
    assert post_event(Client(), succeeded(balance)).json()["outcome"] == "processed"
    booking.refresh_from_db()
    assert (booking.amount_paid_cents, booking.balance_cents) == (650_000, 0)
    # Allocated by the same rule; each vendor's net share is one more completion payout.
    shares = dict(
        Allocation.objects.filter(payment=balance).values_list(
            "booking_vendor__position", "share_cents"
        )
    )
    assert shares == {0: 350_000, 1: 105_000}
    payouts = Payout.objects.filter(payment=balance)
    assert sorted((p.kind, p.amount_cents, p.status) for p in payouts) == [
        ("completion", 94_500, "locked"),
        ("completion", 315_000, "locked"),
    ]
    assert find_discrepancies()[1] == []
    # Nothing left to pay: a further balance is refused.
    done = create(organizer_client, booking, "bal-2", kind="balance")
    assert done.status_code == 409 and done.json()["error"]["code"] == "invalid_transition"


def test_start_answers_balance_due_until_the_balance_is_paid(organizer_client, organizer):
    payment = succeeded_payment(organizer=organizer)
    booking = payment.booking
    url = f"/api/v1/bookings/{booking.pk}/start"

    refused = organizer_client.post(url)

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "balance_due"
    assert error["details"]["balance_cents"] == booking.total_cents - payment.amount_cents
    assert Booking.objects.get(pk=booking.pk).status == "paid"

    pay_balance(booking)
    started = organizer_client.post(url)
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert started.json()["balance_cents"] == 0
    assert started.json()["amount_paid_cents"] == booking.total_cents


def test_completion_payouts_of_the_balance_become_eligible_at_completion(organizer):
    from payments import services as money

    payment = succeeded_payment(organizer=organizer)
    balance = pay_balance(payment.booking)
    booking = Booking.objects.get(pk=payment.booking_id).start(actor=organizer)
    money.complete_booking(booking, actor=organizer)
    completions = Payout.objects.filter(booking=booking, kind="completion")
    assert completions.count() == 4
    assert set(completions.values_list("status", flat=True)) == {"eligible"}
    assert Payout.objects.filter(payment=balance, kind="reservation").count() == 0
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_balance_webhook_redelivered_20_times_at_once_allocates_once():
    payment = succeeded_payment(prices=(300_000, 200_000, 100_001))
    balance = PaymentFactory(
        booking=payment.booking,
        kind=Payment.Kind.BALANCE,
        amount_cents=payment.booking.balance_cents,
    )
    body = succeeded(balance, event_id="evt_balance_20")
    header = sign(body)

    outcomes = run_together(*[lambda: post_event(Client(), body, header).json()] * 20)

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(o["outcome"] == "processed" and not o["duplicate"] for o in outcomes) == 1
    assert WebhookEvent.objects.filter(stripe_event_id="evt_balance_20").count() == 1
    assert Allocation.objects.filter(payment=balance).count() == 3
    assert LedgerEntry.objects.filter(payment=balance).count() == 4  # held_funds + 3 fees
    assert Payout.objects.filter(payment=balance).count() == 3
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.amount_paid_cents == booking.total_cents
    assert find_discrepancies()[1] == []


WEBHOOK_QUERY_BUDGET = 20


# transaction=True: the request runs as in production (its atomic blocks are a transaction and
# savepoints, not savepoints inside a test's transaction).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("kind", "vendors"), [("deposit", 3), ("balance", 3), ("deposit", 12)])
def test_success_webhook_stays_within_20_queries_whatever_the_vendor_count(
    kind, vendors, django_assert_max_num_queries, api_client, monkeypatch
):
    # As in production with a broker: the request enqueues the owed emails after its commit
    # and a worker sends them (here eager tasks would send them inside the request).
    enqueued = []
    monkeypatch.setattr(outbox, "_dispatch", enqueued.extend)
    prices = tuple(100_000 + 1_001 * i for i in range(vendors))
    if kind == "balance":
        booking = succeeded_payment(prices=prices).booking
        payment = PaymentFactory(
            booking=booking, kind=Payment.Kind.BALANCE, amount_cents=booking.balance_cents
        )
    else:
        payment = PaymentFactory(booking=ready_booking(prices=prices))
    body = succeeded(payment)
    enqueued.clear()  # the set-up's own emails

    # Measured: 20 for a deposit as for a balance, at 3 vendors as at 12: the event's INSERT,
    # then its processing (test_webhook_speed.py pins it, with lines that hold units).
    with django_assert_max_num_queries(WEBHOOK_QUERY_BUDGET):
        response = post_event(api_client, body)

    assert response.json()["outcome"] == "processed"
    assert len(enqueued) == (1 + vendors if kind == "deposit" else 1)  # receipt + shares
    per_vendor = 2 if kind == "deposit" else 1
    assert Payout.objects.filter(payment=payment).count() == per_vendor * vendors
    assert find_discrepancies()[1] == []
