import datetime

import factory
from django.utils import timezone

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking, BookingVendor
from vendors.tests.factories import ServiceVendorFactory, VenueFactory


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    organizer = factory.SubFactory(OrganizerFactory, subscribed=True)
    title = factory.Sequence(lambda n: f"Event {n}")
    event_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    guest_count = 120
    status = Booking.Status.DRAFT
    submitted_at = factory.LazyAttribute(
        lambda o: None if o.status == Booking.Status.DRAFT else timezone.now()
    )
    # The payment window of a ready booking runs from here (expire_unpaid_bookings).
    ready_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == Booking.Status.READY else None
    )


class BookingVendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingVendor

    booking = factory.SubFactory(BookingFactory)
    vendor = factory.SubFactory("vendors.tests.factories.VendorFactory")
    role = factory.LazyAttribute(lambda o: o.vendor.vendor_type)
    status = BookingVendor.Status.PENDING
    proposed_price_cents = 100_000
    # The database insists: an approved line has an agreed price, a countered one a counter.
    agreed_price_cents = factory.LazyAttribute(
        lambda o: o.proposed_price_cents if o.status == BookingVendor.Status.APPROVED else None
    )
    counter_price_cents = factory.LazyAttribute(
        lambda o: o.proposed_price_cents if o.status == BookingVendor.Status.COUNTERED else None
    )
    position = factory.Sequence(lambda n: n)


def booking_with_vendors(
    *,
    status=Booking.Status.DRAFT,
    prices=(500_000, 150_000),
    line_status=BookingVendor.Status.PENDING,
    organizer=None,
    vendors=None,
    **booking_fields,
):
    """A booking with one venue (first price) and a service vendor per further price. With
    line_status=approved, agreed prices equal the proposed ones (countered: counter prices).

    `vendors` (optional): existing vendors to use instead of new ones, one per price (the first
    must be a venue). Further keyword arguments go to BookingFactory (e.g. guest_count)."""
    if organizer:
        booking_fields["organizer"] = organizer
    booking = BookingFactory(status=status, **booking_fields)
    for i, price in enumerate(prices):
        if vendors is not None:
            vendor = vendors[i]
        else:
            vendor = VenueFactory() if i == 0 else ServiceVendorFactory()
        BookingVendorFactory(
            booking=booking,
            vendor=vendor,
            role=vendor.vendor_type,
            proposed_price_cents=price,
            status=line_status,
            position=i,
        )
    if status in Booking.ALREADY_PAID and "amount_paid_cents" not in booking_fields:
        # A booking made "paid or later" directly is treated as paid in full (no balance due).
        booking.amount_paid_cents = sum(prices)
        booking.save(update_fields=["amount_paid_cents"])
    return booking
