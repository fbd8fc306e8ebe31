"""A property of the whole availability machine, on one vendor and one date: whatever sequence
of approvals, counter acceptances, declines, removals, cancellations (organizer and staff),
payments, blocks, unblocks and capacity changes happens — each through the real flows, each
allowed to fail as the domain says — the vendor never has more units in use than its capacity,
and the units always match what the bookings imply: one `held` per approved line of an unpaid
live booking, one `booked` per approved line of a paid one (canceling a paid booking refunds it and
releases its units), and a block covers the whole capacity."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminFactory
from bookings.models import Booking, BookingVendor
from payments import services as money
from payments.tests.factories import PaymentFactory
from strathwell.exceptions import DomainError
from vendors import availability
from vendors.models import Vendor, VendorDateUnit
from vendors.services import update_own_vendor
from vendors.tests.availability_helpers import awaiting_booking, day
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

BOOKINGS = 4
S = Booking.Status
L = BookingVendor.Status

booking_index = st.integers(min_value=0, max_value=BOOKINGS - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("approve"), booking_index),
        st.tuples(st.just("counter_accept"), booking_index),
        st.tuples(st.just("decline"), booking_index),
        st.tuples(st.just("remove"), booking_index),
        st.tuples(st.just("cancel"), booking_index),
        st.tuples(st.just("staff_cancel"), booking_index),
        st.tuples(st.just("pay"), booking_index),
        st.tuples(st.just("block"), st.just(0)),
        st.tuples(st.just("unblock"), st.just(0)),
        st.tuples(st.just("capacity"), st.integers(min_value=1, max_value=3)),
    ),
    min_size=1,
    max_size=14,
)


class World:
    """One service vendor named on BOOKINGS submitted bookings of one date, each with its own
    venue already approved (so the vendor's approval makes the booking payable)."""

    def __init__(self, capacity: int):
        self.vendor = ServiceVendorFactory(daily_capacity=capacity)
        self.staff = AdminFactory()
        self.bookings = []
        for _ in range(BOOKINGS):
            venue = VenueFactory()
            booking = awaiting_booking(venue, self.vendor)
            line = booking.vendors.get(vendor=venue)
            line.approve(actor=venue.user)
            self.bookings.append(booking)

    def line(self, i) -> BookingVendor | None:
        return (
            BookingVendor.objects.select_related("vendor__user")
            .filter(booking=self.bookings[i], vendor=self.vendor)
            .first()
        )

    def booking(self, i) -> Booking:
        return Booking.objects.get(pk=self.bookings[i].pk)

    def apply(self, op: str, arg: int) -> None:
        vendor = Vendor.objects.get(pk=self.vendor.pk)
        if op == "block":
            availability.block_date(vendor, day(), note="closed", actor=vendor.user)
        elif op == "unblock":
            availability.unblock_date(vendor, day(), actor=vendor.user)
        elif op == "capacity":
            update_own_vendor(vendor=vendor, actor=vendor.user, data={"daily_capacity": arg})
        elif op in ("cancel", "staff_cancel"):
            booking = self.booking(arg)
            actor = self.staff if op == "staff_cancel" else booking.organizer
            money.cancel_booking(booking, actor=actor, reason="x", by_staff=op == "staff_cancel")
        elif op == "pay":
            booking = self.booking(arg)
            if booking.status != S.READY:
                return
            money.record_payment_success(PaymentFactory(booking=booking))
        else:
            line = self.line(arg)
            if line is None:
                return
            booking = self.booking(arg)
            if op == "approve":
                line.approve(actor=vendor.user)
            elif op == "decline":
                line.decline(actor=vendor.user)
            elif op == "remove":
                money.remove_vendor(booking, actor=booking.organizer, line=line)
            elif op == "counter_accept":
                line.counter(actor=vendor.user, price_cents=160_000)
                booking.accept_counter(actor=booking.organizer, line=line)

    def check(self) -> None:
        vendor = Vendor.objects.get(pk=self.vendor.pk)
        units = list(VendorDateUnit.objects.filter(vendor=vendor, date=day()))
        capacity = vendor.daily_capacity
        assert len(units) <= capacity, (len(units), capacity)
        assert all(unit.slot < capacity for unit in units)
        lines = BookingVendor.objects.filter(vendor=vendor, status=L.APPROVED).select_related(
            "booking"
        )
        expected = {}
        for line in lines:
            booking = line.booking
            if booking.status in (S.AWAITING, S.READY):
                expected[line.pk] = "held"
            elif booking.paid_at is not None and booking.status != S.CANCELED:
                expected[line.pk] = "booked"  # paid (a paid booking canceled is refunded)
        actual = {u.booking_vendor_id: u.status for u in units if u.status != "blocked"}
        assert actual == expected
        blocked = [u for u in units if u.status == "blocked"]
        assert len(blocked) in (0, capacity)
        assert not (blocked and actual)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(capacity=st.integers(min_value=1, max_value=3), ops=operations)
def test_any_sequence_keeps_the_vendor_within_capacity_and_units_match_the_bookings(capacity, ops):
    with transaction.atomic():
        world = World(capacity)
        world.check()
        for op, arg in ops:
            try:
                world.apply(op, arg)
            except DomainError:
                pass  # refused (409 / 400 / 403): nothing may have changed
            world.check()
        transaction.set_rollback(True)  # the next example starts from an empty database
