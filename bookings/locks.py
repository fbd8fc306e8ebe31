"""Row locks of a booking, the first rows of the project's one lock order.

The order (every flow takes the rows it needs in this order, each once per transaction):

    webhook event → booking → its lines → vendor units → payment(s) → payouts → dispute

This module takes the booking and its lines, and re-exports the next step, the capacity units
of those lines (`vendors.locks`: `lock_booking_units`, `lock_line_unit`); `payments.locks`
continues the order with the payments, payouts and the dispute. Locking the booking first is
what serialises every change to a booking's lines and money: two flows on one booking never
interleave, and never deadlock.
"""

from __future__ import annotations

# `bookings.models` imports this module at its top (its transitions lock through it); the
# module object is bound here and its classes are read only when a lock is taken, so either
# module may be imported first.
from bookings import models
from strathwell.exceptions import InvalidTransition
from vendors.locks import lock_booking_units, lock_line_unit

__all__ = [
    "lock_booking",
    "lock_booking_row",
    "lock_booking_units",
    "lock_line",
    "lock_line_unit",
    "lock_lines",
]


def lock_booking(pk) -> models.Booking:
    """Lock and re-read a booking (`SELECT … FOR UPDATE`)."""
    return models.Booking.objects.select_for_update().get(pk=pk)


def lock_booking_row(pk) -> None:
    """Lock a booking's row without reading it into a model (a flow that only needs the
    booking's lock to serialise with the others, e.g. a payout change)."""
    models.Booking.objects.select_for_update().filter(pk=pk).values_list("pk").first()


def lock_lines(booking_id) -> list[models.BookingVendor]:
    """Lock and re-read every line of a (locked) booking, in allocation order."""
    return list(
        models.BookingVendor.objects.select_for_update(of=("self",))
        .select_related("vendor", "vendor__venue_profile")
        .filter(booking_id=booking_id)
        .order_by("position", "created_at", "id")
    )


def lock_line(booking_id, line_id) -> models.BookingVendor:
    """Lock and re-read one line of a (locked) booking; InvalidTransition when it is gone."""
    try:
        return (
            models.BookingVendor.objects.select_for_update(of=("self",))
            .select_related("vendor")
            .get(pk=line_id, booking_id=booking_id)
        )
    except models.BookingVendor.DoesNotExist as exc:
        raise InvalidTransition("This vendor is no longer on the booking.") from exc
