"""services.record_payment_success and the booking lifecycle hooks."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from disputes.models import Dispute
from payments import services as money
from payments.allocation import allocate
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import Allocation, LedgerEntry, Payment, Payout, Refund
from payments.services import record_payment_success
from payments.tests.factories import PaymentFactory, pay_balance, ready_booking, succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition

pytestmark = pytest.mark.django_db


def stripe_local_refund(refund_id):
    from payments import stripe_client

    return stripe_client.get_client().v1.refunds.retrieve(refund_id)


def ledger_sum(payment, entry_type):
    return sum(
        LedgerEntry.objects.filter(payment=payment, entry_type=entry_type).values_list(
            "amount_cents", flat=True
        )
    )


def assert_balanced(payment):
    held = ledger_sum(payment, "held_funds")
    fees = ledger_sum(payment, "platform_fee")
    payouts = sum(Payout.objects.filter(payment=payment).values_list("amount_cents", flat=True))
    shares = sum(Allocation.objects.filter(payment=payment).values_list("share_cents", flat=True))
    assert held == payment.amount_cents == fees + payouts == shares
    _checked, problems = find_discrepancies()
    assert problems == []


def test_success_writes_allocation_ledger_and_locked_payouts_exactly():
    booking = ready_booking(prices=(500_000, 150_000))
    payment = PaymentFactory(booking=booking)
    assert payment.amount_cents == 195_000

    assert record_payment_success(payment) is True

    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.payouts_created_at is not None
    assert booking.status == Booking.Status.PAID
    lines = list(booking.vendors.order_by("position"))
    # 195 000 split 500:150 → 150 000 / 45 000; fee 10 % → 15 000 / 4 500;
    # net 135 000 / 40 500; reservation 50 % → 67 500 / 20 250.
    rows = [
        (a.booking_vendor_id, a.share_cents, a.fee_cents, a.reservation_cents, a.completion_cents)
        for a in Allocation.objects.filter(payment=payment).order_by("share_cents").reverse()
    ]
    assert rows == [
        (lines[0].pk, 150_000, 15_000, 67_500, 67_500),
        (lines[1].pk, 45_000, 4_500, 20_250, 20_250),
    ]
    assert ledger_sum(payment, "held_funds") == 195_000
    fees = dict(
        LedgerEntry.objects.filter(payment=payment, entry_type="platform_fee").values_list(
            "booking_vendor_id", "amount_cents"
        )
    )
    assert fees == {lines[0].pk: 15_000, lines[1].pk: 4_500}
    payouts = {
        (p.vendor_id, p.kind): (p.amount_cents, p.status)
        for p in Payout.objects.filter(payment=payment)
    }
    assert payouts == {
        (lines[0].vendor_id, "reservation"): (67_500, "locked"),
        (lines[0].vendor_id, "completion"): (67_500, "locked"),
        (lines[1].vendor_id, "reservation"): (20_250, "locked"),
        (lines[1].vendor_id, "completion"): (20_250, "locked"),
    }
    assert_balanced(payment)
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"payment.succeed", "booking.mark_paid"} <= actions


def test_second_call_is_a_no_op():
    payment = succeeded_payment()
    counts = (Allocation.objects.count(), LedgerEntry.objects.count(), Payout.objects.count())
    assert record_payment_success(payment) is False
    assert (Allocation.objects.count(), LedgerEntry.objects.count(), Payout.objects.count()) == (
        counts
    )


@pytest.mark.parametrize(
    ("prices", "paid"),
    [
        ((500, 500, 500), 1),  # one cent over three vendors
        ((333, 333, 333, 333), 1_001),  # equal prices, odd total
        ((123_456,), 37_037),  # one vendor
        ((10**11, 3 * 10**11, 10**11 + 7), 10**9),  # large amounts
    ],
    ids=["1-cent-3-vendors", "equal-odd", "one-vendor", "large"],
)
def test_hard_allocations_balance_in_the_database(prices, paid):
    payment = PaymentFactory(booking=ready_booking(prices=prices), amount_cents=paid)
    record_payment_success(payment)
    payment.refresh_from_db()
    expected = allocate(paid, list(prices), commission_percent=10, reservation_percent=50)
    stored = list(
        Allocation.objects.filter(payment=payment)
        .order_by("booking_vendor__position")
        .values_list("share_cents", "fee_cents", "reservation_cents", "completion_cents")
    )
    assert stored == [
        (e.share_cents, e.fee_cents, e.reservation_cents, e.completion_cents) for e in expected
    ]
    assert Payout.objects.filter(payment=payment).count() == 2 * len(prices)
    assert_balanced(payment)


def test_one_hundred_vendors_balance():
    prices = [1_000 + i for i in range(100)]
    payment = PaymentFactory(booking=ready_booking(prices=prices), amount_cents=10**6 + 1)
    record_payment_success(payment)
    payment.refresh_from_db()
    assert Allocation.objects.filter(payment=payment).count() == 100
    assert Payout.objects.filter(payment=payment).count() == 200
    assert_balanced(payment)


def test_settings_drive_the_split(settings):
    settings.PLATFORM_COMMISSION_PERCENT = 15
    settings.RESERVATION_RELEASE_PERCENT = 20
    payment = PaymentFactory(booking=ready_booking(prices=(1_000,)), amount_cents=1_000)
    record_payment_success(payment)
    allocation = Allocation.objects.get(payment=payment)
    assert (allocation.fee_cents, allocation.reservation_cents) == (150, 170)


def test_locks_booking_then_lines_then_units_then_payment():
    payment = PaymentFactory()
    with CaptureQueriesContext(connection) as queries:
        record_payment_success(payment)
    locked_tables = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ")[1].split()[0].strip('"')
            if table not in locked_tables:
                locked_tables.append(table)
    assert locked_tables[:4] == [
        "bookings_booking",
        "bookings_bookingvendor",
        "vendors_vendordateunit",
        "payments_payment",
    ]


def test_booking_already_paid_by_another_payment_is_refused():
    first = succeeded_payment()
    second = PaymentFactory(booking=first.booking, stripe_payment_intent_id="pi_second")
    with pytest.raises(InvalidTransition, match="already paid by payment"):
        record_payment_success(second)
    second.refresh_from_db()
    assert second.status == Payment.Status.PENDING
    assert not Payout.objects.filter(payment=second).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_successes_for_one_payment_happen_once():
    payment = PaymentFactory()
    barrier = threading.Barrier(8)
    results, errors = [], []

    def succeed():
        try:
            barrier.wait(timeout=30)
            results.append(record_payment_success(Payment.objects.get(pk=payment.pk)))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=succeed) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(results) == [False] * 7 + [True]
    assert Payout.objects.filter(payment=payment).count() == 4
    assert LedgerEntry.objects.filter(payment=payment).count() == 3


# --- booking lifecycle -----------------------------------------------------------------------


def _complete(booking):
    organizer = booking.organizer
    pay_balance(booking)
    booking = Booking.objects.get(pk=booking.pk)
    booking.start(actor=organizer)
    return money.complete_booking(Booking.objects.get(pk=booking.pk), actor=organizer)


def test_completing_the_booking_makes_completion_payouts_eligible():
    payment = succeeded_payment()
    _complete(payment.booking)
    statuses = dict(Payout.objects.filter(payment=payment).values_list("kind", "status").distinct())
    assert statuses == {"reservation": "locked", "completion": "eligible"}


def test_completion_payouts_stay_locked_while_a_dispute_is_open():
    payment = succeeded_payment()
    Dispute.objects.create(booking=payment.booking, opened_by=payment.organizer, reason="no show")
    _complete(payment.booking)
    assert set(Payout.objects.filter(payment=payment).values_list("status", flat=True)) == {
        "locked"
    }


def test_admin_cancel_of_a_paid_booking_refunds_everything_refundable(admin_user, stripe_local):
    payment = succeeded_payment()
    reservation = Payout.objects.filter(payment=payment, kind="reservation").first()
    reservation.request(actor=reservation.vendor.user)

    money.cancel_booking(
        Booking.objects.get(pk=payment.booking_id),
        by_staff=True,
        actor=admin_user,
        reason="venue fire",
    )

    # Nothing was paid out, so all of it goes back (with the fee), through Stripe.
    [refund] = Refund.objects.filter(payment=payment)
    assert (refund.status, refund.amount_cents) == ("succeeded", payment.amount_cents)
    stripe_refund = stripe_local_refund(refund.stripe_refund_id)
    assert stripe_refund.amount == payment.amount_cents
    assert stripe_refund.payment_intent == payment.stripe_payment_intent_id
    payouts = Payout.objects.filter(payment=payment)
    assert {p.status for p in payouts} == {"reversed"}
    booking = Booking.objects.get(pk=payment.booking_id)
    assert (booking.amount_paid_cents, booking.amount_refunded_cents) == (0, payment.amount_cents)
    assert_balanced(payment)


def test_cancel_of_an_unpaid_booking_cancels_its_intent_after_commit(
    organizer, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import stripe_client

    canceled = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled.append)
    payment = PaymentFactory(booking=ready_booking(organizer=organizer))
    with django_capture_on_commit_callbacks(execute=True):
        money.cancel_booking(Booking.objects.get(pk=payment.booking_id), actor=organizer, reason="")
    assert canceled == [payment.stripe_payment_intent_id]
    assert not Payout.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_changing_lines_of_a_ready_booking_voids_its_pending_payment(monkeypatch):
    from payments import stripe_client
    from vendors.tests.factories import ServiceVendorFactory

    canceled_at_stripe = []
    monkeypatch.setattr(stripe_client, "cancel_payment_intent", canceled_at_stripe.append)
    payment = PaymentFactory()
    booking = payment.booking
    organizer = booking.organizer

    money.add_vendor(
        booking, actor=organizer, vendor=ServiceVendorFactory(), proposed_price_cents=9_000
    )

    payment.refresh_from_db()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.AWAITING
    assert payment.status == Payment.Status.CANCELED
    # The PaymentIntent is canceled at Stripe only after the commit.
    assert canceled_at_stripe == [payment.stripe_payment_intent_id]
    assert AuditLog.objects.filter(
        action="payment.cancel", target_id=str(payment.pk), reason="booking vendors changed"
    ).exists()
    # Should the intent succeed anyway, the money is recorded for a refund, not applied.
    with pytest.raises(InvalidTransition):
        record_payment_success(payment)
    assert not LedgerEntry.objects.filter(payment=payment).exists()


def test_removing_a_service_vendor_from_a_ready_booking_voids_the_pending_payment(monkeypatch):
    from payments import stripe_client

    monkeypatch.setattr(stripe_client, "cancel_payment_intent", lambda intent_id: None)
    payment = PaymentFactory(booking=ready_booking(prices=(500_000, 150_000, 50_000)))
    booking = payment.booking
    line = booking.vendors.get(role="service", proposed_price_cents=50_000)

    money.remove_vendor(booking, actor=booking.organizer, line=line)

    payment.refresh_from_db()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.READY  # still payable, at a new deposit
    assert payment.status == Payment.Status.CANCELED
    assert booking.deposit_cents != payment.amount_cents
