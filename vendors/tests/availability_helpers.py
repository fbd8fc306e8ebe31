"""Builders for the availability tests: submitted bookings naming given vendors on one date,
and readers of a vendor's units."""

from __future__ import annotations

import datetime

from django.utils import timezone

from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from vendors.models import VendorDateUnit

API = "/api/v1"


def day(offset: int = 40) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def awaiting_booking(*vendors, date=None, venue_approved=False, **fields) -> Booking:
    """A submitted booking (`awaiting_vendor_approval`, every line pending) naming these vendors
    (the first a venue) on `date`. `venue_approved`: its venue line is already approved (made by
    the factory, so it holds no unit: only the other vendors' capacity is in play)."""
    prices = tuple([500_000] + [150_000] * (len(vendors) - 1))
    booking = booking_with_vendors(
        status=Booking.Status.AWAITING,
        vendors=list(vendors),
        prices=prices,
        event_date=date or day(),
        **fields,
    )
    if venue_approved:
        BookingVendor.objects.filter(booking=booking, role=BookingVendor.Role.VENUE).update(
            status=BookingVendor.Status.APPROVED, agreed_price_cents=500_000
        )
    return booking


def line_of(booking, vendor) -> BookingVendor:
    return BookingVendor.objects.select_related("vendor__user").get(booking=booking, vendor=vendor)


def approve(booking, vendor) -> BookingVendor:
    """The vendor approves its line through the real transition."""
    line = line_of(booking, vendor)
    return line.approve(actor=line.vendor.user)


def statuses(vendor, date=None) -> list[str]:
    """The vendor's units on the date, in slot order, by status."""
    return list(
        VendorDateUnit.objects.filter(vendor=vendor, date=date or day())
        .order_by("slot")
        .values_list("status", flat=True)
    )


def slots(vendor, date=None) -> list[int]:
    return list(
        VendorDateUnit.objects.filter(vendor=vendor, date=date or day())
        .order_by("slot")
        .values_list("slot", flat=True)
    )
