"""The bookings list built from `values()` rows instead of model instances (issue #15).

A page of 20 bookings with 4 lines and their vendors is ~180 model instances; building them
(`Model.__init__`, descriptors, prefetch bookkeeping) cost more than the queries. Here the page
is two `values()` queries turned into plain row objects that carry the *model's own* derived
properties (`Booking.total_cents`, `deposit_cents`, `balance_cents`, `balance_due_on`,
`BookingVendor.effective_price_cents`: the property objects themselves, not copies), so the
money arithmetic stays in one place. `BookingSerializer` (lean) reads them by attribute like
model instances; the JSON is the same byte for byte (strathwell/tests/test_lean_json.py).
"""

from functools import cached_property

from bookings.models import Booking, BookingVendor

# What `BookingSerializer` and the derived totals read, and nothing else.
BOOKING_COLUMNS = (
    "id", "organizer_id", "template_id", "title", "event_date", "guest_count", "notes",
    "status", "currency", "amount_paid_cents", "amount_refunded_cents", "created_at",
    "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "booking_id", "vendor_id", "role", "status", "proposed_price_cents",
    "counter_price_cents", "agreed_price_cents", "note",
)  # fmt: skip


class _Lines(list):
    """A booking's lines, answering `.all()` like the prefetched manager the properties use."""

    def all(self):
        return self


class VendorName:
    __slots__ = ("business_name",)

    def __init__(self, business_name: str):
        self.business_name = business_name


class LineRow:
    Status = BookingVendor.Status
    effective_price_cents = BookingVendor.effective_price_cents

    def __init__(self, values: dict):
        self.__dict__.update(values)


class BookingRow:
    Status = Booking.Status
    # Read three times a row (itself, the deposit, the balance): computed once, as a row
    # does not change.
    total_cents = cached_property(Booking.total_cents.fget)
    deposit_cents = Booking.deposit_cents
    received_cents = Booking.received_cents
    balance_cents = Booking.balance_cents
    balance_due_on = Booking.balance_due_on

    def __init__(self, values: dict):
        self.__dict__.update(values)
        self.vendors = _Lines()


def booking_rows(page_values) -> list[BookingRow]:
    """Rows for a page of `queryset.values(*BOOKING_COLUMNS)`, with their lines (one query)."""
    rows = [BookingRow(values) for values in page_values]
    by_id = {row.id: row for row in rows}
    if by_id:
        lines = (
            BookingVendor.objects.filter(booking_id__in=by_id)
            .order_by("position", "created_at")
            .values_list(*LINE_COLUMNS, "vendor__business_name")
        )
        names = (*LINE_COLUMNS, "vendor")
        for values in lines:
            line = LineRow(dict(zip(names, values, strict=True)))
            line.vendor = VendorName(line.vendor)
            by_id[line.booking_id].vendors.append(line)
    return rows
