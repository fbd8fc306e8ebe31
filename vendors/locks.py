"""Row locks of a vendor's availability: step 3b of the project's one lock order.

    webhook event → booking → its lines → vendor units → payment(s) → payouts → dispute

A flow on a booking locks the booking and its lines first (`bookings.locks`), then the capacity
units of those lines (here), then the money (`payments.locks`). The vendor's own calendar
flows (block, unblock, capacity change) start at the vendor: the vendor row, then its units.
Taking a unit does not lock existing rows: it inserts one, and the database (unique slot,
capacity trigger reading the vendor row `FOR SHARE`) decides; so a capacity change, which holds
the vendor row `FOR UPDATE`, and an approval queue on the vendor row instead of deadlocking.
`bookings.locks` and `payments.locks` re-export these functions.
"""

from __future__ import annotations

import datetime

from vendors.models import Vendor, VendorDateUnit


def lock_vendor(pk) -> Vendor:
    """The vendor row, `FOR UPDATE` (a capacity change: no unit is taken meanwhile)."""
    return Vendor.objects.select_for_update().get(pk=pk)


def lock_booking_units(booking_id, *, line_ids=None) -> list[VendorDateUnit]:
    """Step 3b: the capacity units held or booked by a (locked) booking's lines. `line_ids`:
    the ids of ALL the booking's lines, already locked by the caller (the same units, read
    through the unique `booking_vendor_id` index without joining the lines again)."""
    if line_ids is not None:
        units = VendorDateUnit.objects.select_for_update().filter(
            booking_vendor_id__in=list(line_ids)
        )
    else:
        units = VendorDateUnit.objects.select_for_update(of=("self",)).filter(
            booking_vendor__booking_id=booking_id
        )
    return list(units.order_by("id"))


def lock_line_unit(line_id) -> VendorDateUnit | None:
    """Step 3b: the capacity unit of one (locked) line, if it holds one."""
    return VendorDateUnit.objects.select_for_update().filter(booking_vendor_id=line_id).first()


def lock_date_units(vendor_id, date: datetime.date) -> list[VendorDateUnit]:
    """A vendor's units on one date (its calendar flows, after the vendor row if they need
    it), in slot order."""
    return list(
        VendorDateUnit.objects.select_for_update()
        .filter(vendor_id=vendor_id, date=date)
        .order_by("slot")
    )


def lock_vendor_dates_units(vendor_id, dates) -> list[VendorDateUnit]:
    """A vendor's units on several dates (a capacity change renumbering them, vendor row
    locked first), in date and slot order."""
    return list(
        VendorDateUnit.objects.select_for_update()
        .filter(vendor_id=vendor_id, date__in=list(dates))
        .order_by("date", "slot")
    )
