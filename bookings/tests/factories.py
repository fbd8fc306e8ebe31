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


class BookingVendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingVendor

    booking = factory.SubFactory(BookingFactory)
    vendor = factory.SubFactory("vendors.tests.factories.VendorFactory")
    role = factory.LazyAttribute(lambda o: o.vendor.vendor_type)
    proposed_price_cents = 100_000
    position = factory.Sequence(lambda n: n)


def booking_with_vendors(
    *,
    status=Booking.Status.DRAFT,
    prices=(500_000, 150_000),
    line_status=BookingVendor.Status.PENDING,
    organizer=None,
):
    """A booking with one venue (first price) and a service vendor per further price. With
    line_status=approved, agreed prices equal the proposed ones."""
    booking = BookingFactory(status=status, **({"organizer": organizer} if organizer else {}))
    for i, price in enumerate(prices):
        vendor = VenueFactory() if i == 0 else ServiceVendorFactory()
        approved = line_status == BookingVendor.Status.APPROVED
        BookingVendorFactory(
            booking=booking,
            vendor=vendor,
            role=vendor.vendor_type,
            proposed_price_cents=price,
            agreed_price_cents=price if approved else None,
            status=line_status,
            position=i,
        )
    return booking
