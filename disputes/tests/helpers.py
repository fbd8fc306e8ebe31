"""Builders for the disputes tests: paid bookings with their ledger and payouts."""

from bookings.models import Booking, BookingVendor
from payments.models import Payout
from payments.tests.factories import succeeded_payment

CONFIRM = {"HTTP_X_CONFIRM_ACTION": "true"}


def paid_booking(*, prices=(500_000, 150_000), organizer=None) -> Booking:
    """A `paid` booking (venue + a service vendor per further price) whose payment succeeded
    through the real service: ledger written, one reservation + one completion payout per
    vendor, all `locked`."""
    return succeeded_payment(prices=prices, organizer=organizer).booking


def vendor_users(booking):
    """The users of the booking's vendors, venue first."""
    lines = BookingVendor.objects.filter(booking=booking).select_related("vendor__user")
    return [line.vendor.user for line in lines.order_by("position")]


def payouts_of(booking, **filters):
    return list(Payout.objects.filter(booking=booking, **filters).order_by("id"))


def request_reservations(booking):
    """Every vendor asks for its reservation payout (locked → eligible, real model method)."""
    result = []
    for payout in payouts_of(booking, kind=Payout.Kind.RESERVATION):
        result.append(payout.request(actor=payout.vendor.user))
    return result
