"""Migration 0004 gives the bookings made before availability their units: paid lines
`booked` (they win a contested date), unpaid live ones `held`, nothing for drafts, declined
or pending lines and unpaid canceled bookings; a pre-existing double booking is logged."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from vendors.models import VendorDateUnit
from vendors.tests.availability_helpers import day
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("vendors.migrations.0004_backfill_capacity_units").backfill
S = Booking.Status
APPROVED = BookingVendor.Status.APPROVED


def made_before(status, *vendors, date=None, line_status=APPROVED, paid=False):
    booking = booking_with_vendors(
        status=status,
        vendors=list(vendors),
        prices=tuple([500_000] + [100_000] * (len(vendors) - 1)),
        line_status=line_status,
        event_date=date or day(),
    )
    if paid:
        Booking.objects.filter(pk=booking.pk).update(paid_at=timezone.now())
    return booking


def units_of(booking) -> list[str]:
    return sorted(
        VendorDateUnit.objects.filter(booking_vendor__booking=booking).values_list(
            "status", flat=True
        )
    )


def test_backfill_gives_existing_bookings_their_units(caplog):
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    ready = made_before(S.READY, venue, caterer)  # approved first, unpaid
    paid = made_before(S.PAID, venue, date=day(41), paid=True)
    staff_canceled = made_before(S.CANCELED, VenueFactory(), paid=True)
    canceled = made_before(S.CANCELED, VenueFactory())
    draft = made_before(S.DRAFT, VenueFactory(), line_status=BookingVendor.Status.PENDING)
    awaiting = made_before(S.AWAITING, VenueFactory(), line_status=BookingVendor.Status.PENDING)
    # A double booking made before the guard: the paid one wins the venue's date.
    clash = made_before(S.PAID, venue, date=day(), paid=True)

    backfill(apps, None)

    assert units_of(paid) == ["booked"] and units_of(staff_canceled) == ["booked"]
    assert units_of(clash) == ["booked"]
    assert units_of(ready) == ["held"]  # the caterer's; the venue's date went to `clash`
    assert VendorDateUnit.objects.get(booking_vendor__booking=ready).vendor == caterer
    assert units_of(canceled) == units_of(draft) == units_of(awaiting) == []
    assert "already full" in caplog.text and str(ready.pk) in caplog.text

    count = VendorDateUnit.objects.count()
    backfill(apps, None)  # a second run changes nothing
    assert VendorDateUnit.objects.count() == count
