"""Races on a booking, with real threads and one database connection each.

Every line change locks the booking row first, so concurrent answers are serialized and the
one that leaves no line un-approved is the only one that sees it. A short sleep between the
readiness check and the commit widens the race window, so a missing lock would show (checked:
without the booking lock the first test fails)."""

import time

import pytest

from bookings.models import Booking, BookingVendor
from bookings.tests.conftest import FOUR_PRICES, booking_audit
from bookings.tests.factories import booking_with_vendors
from bookings.tests.threads import run_together
from strathwell.exceptions import InvalidTransition

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
            lambda booking=booking: booking.cancel(actor=booking.organizer, reason="Race."),
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
