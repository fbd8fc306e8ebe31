"""The cost of a payment-success webhook, pinned: the request that records the event (one
INSERT … ON CONFLICT DO NOTHING), and the processing of a deposit whose lines really hold
capacity units (approved through `BookingVendor.approve`), the same at 3 and at 12 vendors."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from payments import webhooks
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import Payment, Payout, WebhookEvent
from payments.tests.factories import (
    PaymentFactory,
    event_body,
    intent_object,
    post_event,
    succeeded_payment,
)
from strathwell.audit.models import AuditLog
from strathwell.jobs import outbox
from vendors.models import VendorDateUnit

# Measured, BEGIN and COMMIT included: a deposit's success is 20 queries (19 when its lines
# hold no units), a balance's 19 (no unit to book, one UPDATE of the amount paid); the same at
# 3 and at 12 vendors.
PROCESS_DEPOSIT_QUERIES = 20
PROCESS_BALANCE_QUERIES = 19


def held_booking(vendors: int) -> Booking:
    """A ready booking whose every line was approved by its vendor (one unit held each)."""
    prices = tuple(100_000 + 1_001 * i for i in range(vendors))
    booking = booking_with_vendors(status=Booking.Status.AWAITING, prices=prices)
    for line in booking.vendors.select_related("vendor__user").order_by("position"):
        line.approve(actor=line.vendor.user)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.READY
    return booking


def recorded(payment: Payment, event_id=None) -> WebhookEvent:
    kwargs = {"event_id": event_id} if event_id else {}
    body = event_body("payment_intent.succeeded", intent_object(payment), **kwargs)
    event, created = webhooks.record_event(json.loads(body))
    assert created
    return event


@pytest.fixture
def enqueued(monkeypatch):
    """The emails owed, as a worker would be handed them (eager tasks would send them)."""
    items = []
    monkeypatch.setattr(outbox, "_dispatch", items.extend)
    return items


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vendors", [3, 12])
def test_processing_a_deposit_whose_lines_hold_units_costs_the_same_at_3_and_12_vendors(
    vendors, django_assert_num_queries, enqueued
):
    booking = held_booking(vendors)
    assert VendorDateUnit.objects.filter(
        booking_vendor__booking=booking, status="held"
    ).count() == (vendors)
    payment = PaymentFactory(booking=booking)
    event = recorded(payment)
    enqueued.clear()

    with django_assert_num_queries(PROCESS_DEPOSIT_QUERIES):
        result = webhooks.process_event(event.pk)

    assert not result.failed and not result.duplicate
    assert result.event.outcome == "processed"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PAID
    units = VendorDateUnit.objects.filter(booking_vendor__booking=booking)
    assert set(units.values_list("status", flat=True)) == {"booked"}
    # One audit row per unit booked (written in one INSERT), as one by one before.
    assert AuditLog.objects.filter(action="vendor_unit.book").count() == vendors
    assert AuditLog.objects.filter(action="payment.succeed", target_id=str(payment.pk)).exists()
    assert AuditLog.objects.filter(action="booking.mark_paid", target_id=str(booking.pk)).exists()
    assert Payout.objects.filter(payment=payment).count() == 2 * vendors
    assert len(enqueued) == 1 + vendors  # the receipt and each vendor's share
    assert find_discrepancies()[1] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vendors", [3, 12])
def test_processing_a_balance_costs_the_same_at_3_and_12_vendors(
    vendors, django_assert_num_queries, enqueued
):
    prices = tuple(100_000 + 1_001 * i for i in range(vendors))
    booking = succeeded_payment(prices=prices).booking
    payment = PaymentFactory(
        booking=booking, kind=Payment.Kind.BALANCE, amount_cents=booking.balance_cents
    )
    event = recorded(payment)
    enqueued.clear()

    with django_assert_num_queries(PROCESS_BALANCE_QUERIES):
        result = webhooks.process_event(event.pk)

    assert result.event.outcome == "processed"
    assert Payout.objects.filter(payment=payment).count() == vendors
    assert len(enqueued) == 1
    assert find_discrepancies()[1] == []


@pytest.mark.django_db(transaction=True)
def test_recording_an_event_is_one_insert_and_a_redelivery_one_more_select(
    django_assert_num_queries,
):
    payment = PaymentFactory()
    body = json.loads(event_body("payment_intent.succeeded", intent_object(payment)))

    with django_assert_num_queries(1):
        event, created = webhooks.record_event(body)
    with django_assert_num_queries(2):
        again, created_again = webhooks.record_event(body)

    assert created and not created_again
    assert again.pk == event.pk
    assert WebhookEvent.objects.filter(stripe_event_id=body["id"]).count() == 1
    assert again.outcome == "received" and again.payload == body


@pytest.mark.django_db(transaction=True)
def test_a_failed_handler_leaves_nothing_and_records_the_failure(monkeypatch, enqueued):
    booking = held_booking(3)
    payment = PaymentFactory(booking=booking)
    event = recorded(payment)

    def boom(*args, **kwargs):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(webhooks.services.ledger, "post", boom)
    result = webhooks.process_event(event.pk)

    assert result.failed
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == ("failed", 1)
    assert "ledger down" in event.error
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == "pending" and payment.payouts_created_at is None
    assert booking.status == Booking.Status.READY
    assert set(
        VendorDateUnit.objects.filter(booking_vendor__booking=booking).values_list(
            "status", flat=True
        )
    ) == {"held"}
    assert not AuditLog.objects.filter(action__in=["payment.succeed", "vendor_unit.book"]).exists()

    monkeypatch.undo()
    monkeypatch.setattr(outbox, "_dispatch", enqueued.extend)
    retried = webhooks.process_event(event.pk)
    assert retried.event.outcome == "processed" and retried.event.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_the_request_records_and_processes_within_budget(api_client, enqueued):
    booking = held_booking(3)
    payment = PaymentFactory(booking=booking)
    body = event_body("payment_intent.succeeded", intent_object(payment))
    enqueued.clear()

    with CaptureQueriesContext(connection) as queries:
        response = post_event(api_client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    assert len(queries) == PROCESS_DEPOSIT_QUERIES + 1  # the INSERT of the event, then processing
    assert (
        BookingVendor.objects.filter(booking=booking, capacity_unit__status="booked").count() == 3
    )
