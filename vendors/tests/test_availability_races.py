"""Races on a vendor's capacity, with real threads (one database connection each) and
committed transactions: the database decides who gets the last unit.

A short sleep after each racer has read the free slots (and, for the capacity change, after it
has checked the dates) makes every racer read before any writes, so without the unique slot
constraint — or without the trigger reading the capacity `FOR SHARE` — these tests fail; one
of them drops the constraint and shows the over-booking it then allows.
"""

import time

import pytest
from django.db import connection

from bookings.models import Booking, BookingVendor
from strathwell.exceptions import DomainValidationError, VendorUnavailable
from strathwell.testing.threads import run_together
from vendors import availability
from vendors.models import Vendor, VendorDateUnit
from vendors.services import update_own_vendor
from vendors.tests.availability_helpers import approve, awaiting_booking, day, line_of, statuses
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = Booking.Status
L = BookingVendor.Status


@pytest.fixture
def slow_reads(monkeypatch):
    """Each racer reads the free slots, then waits: all of them read before any inserts."""
    original = availability._free_slots

    def free_slots(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.15)
        return result

    monkeypatch.setattr(availability, "_free_slots", free_slots)


def last_approval(booking, vendor):
    line = line_of(booking, vendor)
    return lambda: line.approve(actor=line.vendor.user)


def two_bookings_racing_for_one_venue():
    """Two bookings of one venue on one date, each with its caterer already approved: the
    venue's approval is the last one of each."""
    venue = VenueFactory()
    bookings = [awaiting_booking(venue, ServiceVendorFactory()) for _ in range(2)]
    for booking in bookings:
        caterer = booking.vendors.get(role="service").vendor
        approve(booking, caterer)
    return venue, bookings


def test_two_last_approvals_for_one_venue_date_one_wins_one_gets_409(slow_reads):
    venue, bookings = two_bookings_racing_for_one_venue()

    outcomes = run_together(*(last_approval(b, venue) for b in bookings))

    won = [o for o in outcomes if isinstance(o, BookingVendor)]
    refused = [o for o in outcomes if isinstance(o, VendorUnavailable)]
    assert (len(won), len(refused)) == (1, 1), outcomes
    assert refused[0].code == "vendor_unavailable" and refused[0].status_code == 409
    assert statuses(venue) == ["held"]  # exactly one unit used
    winner = next(b for b, o in zip(bookings, outcomes, strict=True) if o in won)
    loser = next(b for b in bookings if b is not winner)
    assert Booking.objects.get(pk=winner.pk).status == S.READY
    assert Booking.objects.get(pk=loser.pk).status == S.AWAITING
    assert line_of(loser, venue).status == L.PENDING  # the refused approval changed nothing
    assert VendorDateUnit.objects.get(vendor=venue).booking_vendor_id == line_of(winner, venue).pk


def test_three_approvals_for_a_capacity_two_caterer_two_win(slow_reads):
    caterer = ServiceVendorFactory(daily_capacity=2)
    bookings = []
    for _ in range(3):
        venue = VenueFactory()
        booking = awaiting_booking(venue, caterer)
        approve(booking, venue)
        bookings.append(booking)

    outcomes = run_together(*(last_approval(b, caterer) for b in bookings))

    assert sum(isinstance(o, BookingVendor) for o in outcomes) == 2, outcomes
    assert sum(isinstance(o, VendorUnavailable) for o in outcomes) == 1, outcomes
    assert statuses(caterer) == ["held", "held"]
    assert sorted(Booking.objects.values_list("status", flat=True)) == sorted(
        [S.READY, S.READY, S.AWAITING]
    )
    held_lines = set(
        VendorDateUnit.objects.filter(vendor=caterer).values_list("booking_vendor_id", flat=True)
    )
    assert held_lines == set(
        BookingVendor.objects.filter(vendor=caterer, status=L.APPROVED).values_list("pk", flat=True)
    )


def test_without_the_unique_slot_constraint_the_same_race_overbooks(slow_reads):
    """The proof that the constraint is what holds the line: dropped, both approvals win."""
    venue, bookings = two_bookings_racing_for_one_venue()
    table = VendorDateUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {availability.SLOT_TAKEN}")
    try:
        outcomes = run_together(*(last_approval(b, venue) for b in bookings))
        assert all(isinstance(o, BookingVendor) for o in outcomes), outcomes
        assert statuses(venue) == ["held", "held"]  # two parties, one room
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {availability.SLOT_TAKEN} "
                "UNIQUE (vendor_id, date, slot)"
            )


def test_block_racing_an_approval_ends_with_exactly_one_of_them(slow_reads):
    for _ in range(3):
        venue = VenueFactory()
        booking = awaiting_booking(venue)

        blocked, approved = run_together(
            lambda venue=venue: availability.block_date(venue, day(), actor=venue.user),
            last_approval(booking, venue),
        )

        used = statuses(venue)
        if isinstance(approved, BookingVendor):
            assert isinstance(blocked, VendorUnavailable), blocked
            assert used == ["held"]
        else:
            assert isinstance(approved, VendorUnavailable), approved
            assert blocked == ({"date": day(), "status": "blocked", "note": ""}, True)
            assert used == ["blocked"]
            assert line_of(booking, venue).status == L.PENDING


@pytest.fixture
def slow_capacity_change(monkeypatch):
    """The capacity change keeps its transaction open after it has checked the dates and
    written the new capacity."""
    original = availability._renumber

    def renumber(*args, **kwargs):
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(availability, "_renumber", renumber)


def test_lowering_capacity_racing_an_approval_never_leaves_a_date_over_capacity(
    slow_reads, slow_capacity_change
):
    caterer = ServiceVendorFactory(daily_capacity=2)
    approve(awaiting_booking(VenueFactory(), caterer), caterer)  # 1 of 2 used
    booking = awaiting_booking(VenueFactory(), caterer)

    lowered, approved = run_together(
        lambda: update_own_vendor(
            vendor=Vendor.objects.get(pk=caterer.pk),
            actor=caterer.user,
            data={"daily_capacity": 1},
        ),
        last_approval(booking, caterer),
    )

    capacity = Vendor.objects.get(pk=caterer.pk).daily_capacity
    used = statuses(caterer)
    assert len(used) <= capacity, (capacity, used, lowered, approved)
    if isinstance(lowered, Vendor):  # the change won: the approval found no unit left
        assert isinstance(approved, VendorUnavailable), approved
        assert (capacity, used) == (1, ["held"])
    else:  # the approval won: the change was refused, the date uses 2 of 2
        assert isinstance(lowered, DomainValidationError), lowered
        assert isinstance(approved, BookingVendor), approved
        assert (capacity, used) == (2, ["held", "held"])
