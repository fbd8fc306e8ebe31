import pytest

from bookings.models import Booking
from bookings.signals import booking_transitioned, booking_vendor_transitioned
from bookings.tests.factories import booking_with_vendors
from strathwell.audit.models import AuditLog

FOUR_PRICES = (500_000, 150_000, 80_000, 40_000)


def booking_audit(booking, *, target_type="bookings.booking"):
    """The booking's audit actions, oldest first."""
    rows = AuditLog.objects.filter(target_type=target_type, target_id=str(booking.pk))
    return list(rows.order_by("created_at").values_list("action", flat=True))


def refreshed(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def awaiting_booking(db):
    """Submitted booking: a venue and three service vendors, every line pending."""
    return booking_with_vendors(status=Booking.Status.AWAITING, prices=FOUR_PRICES)


@pytest.fixture
def transitions():
    """Every booking / line transition signal sent during the test: list of kwargs dicts."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append({"sender": sender, **kwargs})

    booking_transitioned.connect(receiver, dispatch_uid="test-booking-transitions")
    booking_vendor_transitioned.connect(receiver, dispatch_uid="test-line-transitions")
    yield sent
    booking_transitioned.disconnect(dispatch_uid="test-booking-transitions")
    booking_vendor_transitioned.disconnect(dispatch_uid="test-line-transitions")
