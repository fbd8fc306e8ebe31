"""Races on a booking, with real threads and one database connection each.

Every line change locks the booking row first, so concurrent answers are serialized and the
one that leaves no line un-approved is the only one that sees it. A short sleep between the
readiness check and the commit widens the race window, so a missing lock would show (checked:
without the booking lock the first test fails)."""

import time

import pytest
from django.core.management import call_command

from accounts.tests.factories import AdminFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.conftest import FOUR_PRICES, booking_audit
from bookings.tests.factories import booking_with_vendors
from payments import services as money
from payments.models import LedgerEntry, Payout
from payments.tests.factories import pay_balance, succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from strathwell.testing.threads import run_together
from vendors.tests.factories import ServiceVendorFactory

S = Booking.Status
L = BookingVendor.Status


@pytest.fixture
def slow_settle(monkeypatch):
    original = Booking._settle

    def settle(self, **kwargs):
        result = original(self, **kwargs)
        time.sleep(0.05)  # still inside the transaction: hold it open after the check
        return result

    monkeypatch.setattr(Booking, "_settle", settle)


@pytest.mark.django_db(transaction=True)
def test_all_vendors_approving_at_once_makes_the_booking_ready_exactly_once(
    transitions, slow_settle
):
    booking = booking_with_vendors(status=S.AWAITING, prices=FOUR_PRICES)
    lines = list(booking.vendors.select_related("vendor__user"))
    assert len(lines) == 4

    outcomes = run_together(
        *[lambda line=line: line.approve(actor=line.vendor.user) for line in lines]
    )

    assert all(isinstance(o, BookingVendor) for o in outcomes), outcomes
    booking.refresh_from_db()
    assert booking.status == S.READY
    assert set(booking.vendors.values_list("status", flat=True)) == {L.APPROVED}  # none lost
    ready = [
        t for t in transitions if t["sender"] is Booking and t["after"] == {"status": S.READY.value}
    ]
    assert len(ready) == 1
    assert ready[0]["before"] == {"status": S.AWAITING.value}
    assert booking_audit(booking) == ["booking.ready_for_payment"]
    assert sum(1 for t in transitions if t["sender"] is BookingVendor) == 4


@pytest.mark.django_db(transaction=True)
def test_cancel_racing_the_last_approval_ends_in_one_consistent_state(transitions, slow_settle):
    for _ in range(6):
        booking = booking_with_vendors(status=S.AWAITING, prices=FOUR_PRICES)
        *first, last = booking.vendors.select_related("vendor__user").order_by("position")
        for line in first:
            line.approve(actor=line.vendor.user)
        transitions.clear()

        cancel, approve = run_together(
            lambda booking=booking: money.cancel_booking(
                booking, actor=booking.organizer, reason="Race."
            ),
            lambda last=last: last.approve(actor=last.vendor.user),
        )

        booking.refresh_from_db()
        last.refresh_from_db()
        audit = booking_audit(booking)
        # The organizer may cancel before payment, so the cancel always wins in the end; what
        # varies is whether the approval got in first.
        assert isinstance(cancel, Booking), cancel
        assert booking.status == S.CANCELED
        if isinstance(approve, InvalidTransition):  # cancel first: the approval changed nothing
            assert last.status == L.PENDING
            assert audit == ["booking.cancel"]
        else:  # approval first: ready, then canceled from ready
            assert isinstance(approve, BookingVendor), approve
            assert last.status == L.APPROVED
            assert audit == ["booking.ready_for_payment", "booking.cancel"]
        booking_signals = [(t["before"], t["after"]) for t in transitions if t["sender"] is Booking]
        assert booking_signals[-1] == (
            {"status": booking_signals[-1][0]["status"]},
            {"status": S.CANCELED.value},
        )
        assert len(booking_signals) == len(audit)


def fresh(booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


def assert_refused(outcome):
    assert isinstance(outcome, InvalidTransition), outcome
    assert outcome.status_code == 409


def audit_since_paid(booking) -> list[str]:
    """The booking's audit actions after its `booking.mark_paid`."""
    audit = booking_audit(booking)
    assert audit[0] == "booking.mark_paid", audit
    return audit[1:]


def paid_in_full() -> Booking:
    """A paid booking (ledger written, payouts locked) whose balance is paid too."""
    booking = succeeded_payment().booking
    pay_balance(booking)
    return fresh(booking)


def in_progress_booking() -> Booking:
    """A booking paid in full whose event has started."""
    booking = paid_in_full()
    return booking.start(actor=booking.organizer)


@pytest.mark.django_db(transaction=True)
def test_completing_twice_at_once_makes_completion_payouts_eligible_once(transitions):
    booking = in_progress_booking()
    completions = list(Payout.objects.filter(booking=booking, kind=Payout.Kind.COMPLETION))
    assert len(completions) == 4  # deposit's and balance's, per vendor
    transitions.clear()

    outcomes = run_together(
        lambda: money.complete_booking(fresh(booking), actor=booking.organizer),
        lambda: money.complete_booking(fresh(booking), actor=booking.organizer),
    )

    assert sum(isinstance(o, Booking) for o in outcomes) == 1, outcomes
    assert_refused(next(o for o in outcomes if not isinstance(o, Booking)))
    booking.refresh_from_db()
    assert booking.status == S.COMPLETED
    assert audit_since_paid(booking) == ["booking.start", "booking.complete"]
    assert [t["after"] for t in transitions if t["sender"] is Booking] == [
        {"status": S.COMPLETED.value}
    ]
    for payout in completions:
        payout.refresh_from_db()
        assert payout.status == Payout.Status.ELIGIBLE
        audit = AuditLog.objects.filter(target_id=str(payout.pk), action="payout.make_eligible")
        assert audit.count() == 1
    assert not Payout.objects.filter(booking=booking, kind="reservation").exclude(status="locked")
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_start_racing_an_admin_cancel_of_a_paid_booking(attempt, stripe_local):
    booking = paid_in_full()
    payouts = list(Payout.objects.filter(booking=booking))
    admin = AdminFactory()

    start, cancel = run_together(
        lambda: fresh(booking).start(actor=booking.organizer),
        lambda: money.cancel_booking(
            fresh(booking), by_staff=True, actor=admin, reason="venue closed"
        ),
    )

    # Staff may cancel a paid or started booking, so the cancel always applies.
    assert isinstance(cancel, Booking), cancel
    booking.refresh_from_db()
    assert booking.status == S.CANCELED
    if isinstance(start, Booking):  # started first, then canceled from in_progress
        assert audit_since_paid(booking) == ["booking.start", "booking.admin_cancel"]
    else:  # canceled first: starting a canceled booking is refused, nothing written
        assert_refused(start)
        assert audit_since_paid(booking) == ["booking.admin_cancel"]
    # The cancel held every payout exactly once and refunded it all; nothing was paid out.
    for payout in payouts:
        payout.refresh_from_db()
        assert payout.status == Payout.Status.REVERSED
        assert AuditLog.objects.filter(target_id=str(payout.pk), action="payout.hold").count() == 1
    assert not LedgerEntry.objects.filter(entry_type="payout", booking=booking).exists()
    assert booking.amount_paid_cents == 0 and booking.amount_refunded_cents == booking.total_cents
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_organizer_cancel_racing_start_of_a_paid_booking_applies_one(attempt, stripe_local):
    booking = paid_in_full()

    start, cancel = run_together(
        lambda: fresh(booking).start(actor=booking.organizer),
        lambda: money.cancel_booking(
            fresh(booking), actor=booking.organizer, reason="changed our minds"
        ),
    )

    # Organizers cancel before the event starts: exactly one of the two applies.
    booking.refresh_from_db()
    if isinstance(start, Booking):
        assert_refused(cancel)
        assert booking.status == S.IN_PROGRESS and booking.canceled_at is None
        assert audit_since_paid(booking) == ["booking.start"]
        assert not booking.refunds.exists()
        assert set(Payout.objects.filter(booking=booking).values_list("status", flat=True)) == {
            Payout.Status.LOCKED
        }
    else:
        assert isinstance(cancel, Booking), cancel
        assert_refused(start)
        assert booking.status == S.CANCELED
        assert audit_since_paid(booking) == ["booking.cancel"]
        assert booking.refunds.filter(status="succeeded").exists()
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_adding_a_vendor_racing_the_last_approval_never_leaves_it_ready(transitions, slow_settle):
    for _ in range(5):
        booking = booking_with_vendors(status=S.AWAITING, prices=FOUR_PRICES)
        *first, last = booking.vendors.select_related("vendor__user").order_by("position")
        for line in first:
            line.approve(actor=line.vendor.user)
        newcomer = ServiceVendorFactory()

        added, approved = run_together(
            lambda booking=booking, newcomer=newcomer: money.add_vendor(
                fresh(booking),
                actor=booking.organizer,
                vendor=newcomer,
                proposed_price_cents=70_000,
            ),
            lambda last=last: last.approve(actor=last.vendor.user),
        )

        assert isinstance(added, BookingVendor), added
        assert isinstance(approved, BookingVendor), approved
        booking.refresh_from_db()
        lines = {line.vendor_id: line.status for line in booking.vendors.all()}
        assert len(lines) == 5
        assert lines[newcomer.pk] == L.PENDING and lines[last.vendor_id] == L.APPROVED
        # Never payable with a pending line: it waits for the newcomer.
        assert booking.status == S.AWAITING
        audit = booking_audit(booking)
        # Approval first: ready, then reopened by the addition; else no booking transition.
        assert audit in (["booking.ready_for_payment", "booking.reopen"], [])
        assert [t["action"] for t in transitions if t["sender"] is Booking] == audit
        transitions.clear()
