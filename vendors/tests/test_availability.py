"""Availability through the real transitions: approvals take a unit of the vendor's capacity on
the event date, payment books it, every release path frees it, blocks and holds exclude each
other, and a capacity change keeps the dates consistent."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from payments import services as money
from payments.models import Refund
from payments.tests.factories import PaymentFactory, charge_on_localstripe
from strathwell.audit.models import AuditLog
from strathwell.exceptions import DomainValidationError, VendorUnavailable
from vendors import availability
from vendors.models import VendorDateUnit
from vendors.services import update_own_vendor
from vendors.tests.availability_helpers import (
    approve,
    awaiting_booking,
    day,
    line_of,
    slots,
    statuses,
)
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

S = Booking.Status
L = BookingVendor.Status


def pay(booking) -> Booking:
    """The deposit succeeds through the real payment flow."""
    payment = PaymentFactory(booking=Booking.objects.get(pk=booking.pk))
    money.record_payment_success(payment)
    return Booking.objects.get(pk=booking.pk)


def paid_booking(venue, *others, date=None) -> Booking:
    booking = awaiting_booking(venue, *others, date=date)
    for vendor in (venue, *others):
        approve(booking, vendor)
    return pay(booking)


# --- taking a unit -------------------------------------------------------------------------------


def test_approval_holds_a_unit_and_the_second_booking_of_the_venue_is_refused():
    venue = VenueFactory()
    first, second = awaiting_booking(venue), awaiting_booking(venue)

    approve(first, venue)
    with pytest.raises(VendorUnavailable) as refused:
        approve(second, venue)

    assert statuses(venue) == ["held"]
    assert VendorDateUnit.objects.get(vendor=venue).booking_vendor == line_of(first, venue)
    assert refused.value.status_code == 409 and refused.value.code == "vendor_unavailable"
    assert refused.value.details == {"vendor_ids": [str(venue.pk)], "date": day().isoformat()}
    # The refused approval changed nothing: its line is still pending, its booking awaiting.
    assert line_of(second, venue).status == L.PENDING
    assert line_of(second, venue).agreed_price_cents is None
    assert Booking.objects.get(pk=second.pk).status == S.AWAITING
    assert AuditLog.objects.filter(action="booking_vendor.approve").count() == 1
    assert AuditLog.objects.filter(action="vendor_unit.hold").count() == 1


def test_another_date_is_unaffected():
    venue = VenueFactory()
    approve(awaiting_booking(venue), venue)
    approve(awaiting_booking(venue, date=day(41)), venue)
    assert statuses(venue) == ["held"] and statuses(venue, day(41)) == ["held"]


def test_accept_counter_takes_a_unit_and_is_refused_when_none_is_left():
    venue = VenueFactory()
    first, second = awaiting_booking(venue), awaiting_booking(venue)
    for booking in (first, second):
        line = line_of(booking, venue)
        line.counter(actor=venue.user, price_cents=600_000)

    first.accept_counter(actor=first.organizer, line=line_of(first, venue))
    with pytest.raises(VendorUnavailable):
        second.accept_counter(actor=second.organizer, line=line_of(second, venue))

    assert statuses(venue) == ["held"]
    assert line_of(first, venue).status == L.APPROVED
    assert line_of(second, venue).status == L.COUNTERED
    assert line_of(second, venue).agreed_price_cents is None


def test_capacity_two_caterer_takes_two_bookings_and_refuses_the_third():
    caterer = ServiceVendorFactory(daily_capacity=2)
    bookings = [awaiting_booking(VenueFactory(), caterer) for _ in range(3)]

    approve(bookings[0], caterer)
    approve(bookings[1], caterer)
    with pytest.raises(VendorUnavailable):
        approve(bookings[2], caterer)

    assert statuses(caterer) == ["held", "held"] and slots(caterer) == [0, 1]
    assert availability.full_vendor_ids([caterer.pk], day()) == [str(caterer.pk)]


def test_the_last_approval_makes_the_booking_ready_and_holds_every_vendor():
    venue, caterer, dj = VenueFactory(), ServiceVendorFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer, dj)
    for vendor in (venue, caterer, dj):
        approve(booking, vendor)
    assert Booking.objects.get(pk=booking.pk).status == S.READY
    assert [statuses(v) for v in (venue, caterer, dj)] == [["held"]] * 3


# --- held → booked, and what a paid booking keeps ------------------------------------------------


def test_payment_books_the_held_units():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = paid_booking(venue, caterer)
    assert booking.status == S.PAID
    assert statuses(venue) == ["booked"] and statuses(caterer) == ["booked"]
    assert AuditLog.objects.filter(action="vendor_unit.book").count() == 2


def test_a_paid_booking_canceled_by_staff_is_refunded_and_its_dates_are_free_again(
    stripe_local,
):
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer)
    approve(booking, venue)
    approve(booking, caterer)
    # A real PaymentIntent paid on localstripe, so the cancel's refund is a real Stripe refund.
    payment = charge_on_localstripe(
        PaymentFactory(booking=Booking.objects.get(pk=booking.pk), stripe_payment_intent_id=None)
    )
    money.record_payment_success(payment)
    assert statuses(venue) == ["booked"] and statuses(caterer) == ["booked"]
    with pytest.raises(VendorUnavailable):  # the date is taken while the booking is paid
        approve(awaiting_booking(venue), venue)

    money.cancel_booking(booking, actor=AdminFactory(), reason="Venue flooded.", by_staff=True)

    assert Booking.objects.get(pk=booking.pk).status == S.CANCELED
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED
    assert statuses(venue) == [] and statuses(caterer) == []
    assert AuditLog.objects.filter(action="vendor_unit.release").count() == 2
    approve(awaiting_booking(venue), venue)
    assert statuses(venue) == ["held"]


def test_organizer_cancel_before_payment_releases_every_hold():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer)
    approve(booking, venue)
    approve(booking, caterer)  # ready for payment

    money.cancel_booking(booking, actor=booking.organizer, reason="Plans changed.")

    assert statuses(venue) == [] and statuses(caterer) == []
    released = AuditLog.objects.filter(action="vendor_unit.release")
    assert released.count() == 2
    assert all(row.after is None and row.before["status"] == "held" for row in released)
    approve(awaiting_booking(venue), venue)  # the date is open again


def test_an_unpaid_booking_that_expires_releases_every_hold():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer)
    approve(booking, venue)
    approve(booking, caterer)  # ready for payment, both dates held
    assert statuses(venue) == ["held"] and statuses(caterer) == ["held"]
    overdue = timezone.now() + datetime.timedelta(hours=settings.PAYMENT_WINDOW_HOURS + 1)

    expired = money.expire_booking(Booking.objects.get(pk=booking.pk), now=overdue)

    assert expired.status == S.EXPIRED
    assert statuses(venue) == [] and statuses(caterer) == []
    released = AuditLog.objects.filter(action="vendor_unit.release", actor_email="system")
    assert released.count() == 2
    approve(awaiting_booking(venue), venue)  # the date is open again


def test_staff_cancel_of_an_unpaid_booking_releases_its_holds():
    venue = VenueFactory()
    booking = awaiting_booking(venue, ServiceVendorFactory())
    approve(booking, venue)
    money.cancel_booking(booking, actor=AdminFactory(), reason="Fraud check.", by_staff=True)
    assert statuses(venue) == []


def test_removing_an_approved_line_releases_its_unit():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer)
    approve(booking, caterer)
    assert statuses(caterer) == ["held"]

    money.remove_vendor(booking, actor=booking.organizer, line=line_of(booking, caterer))

    assert statuses(caterer) == []
    assert not BookingVendor.objects.filter(booking=booking, vendor=caterer).exists()


def test_removing_an_approved_line_of_a_ready_booking_releases_it_too():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    booking = awaiting_booking(venue, caterer)
    approve(booking, venue)
    approve(booking, caterer)
    money.remove_vendor(booking, actor=booking.organizer, line=line_of(booking, caterer))
    assert statuses(caterer) == [] and statuses(venue) == ["held"]


def test_declining_holds_nothing_and_frees_the_date_for_others():
    caterer = ServiceVendorFactory()
    first, second = (awaiting_booking(VenueFactory(), caterer) for _ in range(2))
    line_of(first, caterer).decline(actor=caterer.user, reason="Fully staffed.")
    assert statuses(caterer) == []
    approve(second, caterer)
    assert statuses(caterer) == ["held"]


def test_release_line_is_the_hook_for_expiring_a_line():
    venue = VenueFactory()
    booking = awaiting_booking(venue)
    line = approve(booking, venue)
    assert availability.release_line(line.pk, reason="Expired.") == 1
    assert availability.release_line(line.pk) == 0  # idempotent
    assert statuses(venue) == []


def test_drafts_hold_nothing_and_moving_a_drafts_date_checks_the_new_one():
    venue = VenueFactory()
    approve(awaiting_booking(venue, date=day(50)), venue)  # venue full on day 50
    draft = booking_with_vendors(vendors=[venue, ServiceVendorFactory()], event_date=day(40))
    assert not VendorDateUnit.objects.filter(booking_vendor__booking=draft).exists()

    draft.update_details(actor=draft.organizer, event_date=day(45))
    assert Booking.objects.get(pk=draft.pk).event_date == day(45)
    with pytest.raises(VendorUnavailable) as refused:
        draft.update_details(actor=draft.organizer, event_date=day(50))
    assert refused.value.details["vendor_ids"] == [str(venue.pk)]
    assert Booking.objects.get(pk=draft.pk).event_date == day(45)


# --- creating and submitting with a full vendor --------------------------------------------------


def test_create_naming_a_full_vendor_is_refused_with_its_id():
    venue, caterer = VenueFactory(), ServiceVendorFactory()
    approve(awaiting_booking(venue), venue)
    organizer = Booking.objects.first().organizer
    before = Booking.objects.count()

    with pytest.raises(VendorUnavailable) as refused:
        Booking.create_request(
            organizer=organizer,
            title="Second party",
            event_date=day(),
            guest_count=50,
            lines=[(venue, 400_000), (caterer, 100_000)],
        )

    assert refused.value.details["vendor_ids"] == [str(venue.pk)]
    assert Booking.objects.count() == before


def test_submit_with_a_vendor_that_became_full_is_refused_and_stays_draft():
    venue = VenueFactory()
    draft = booking_with_vendors(vendors=[venue, ServiceVendorFactory()], event_date=day())
    approve(awaiting_booking(venue), venue)
    with pytest.raises(VendorUnavailable):
        draft.submit(actor=draft.organizer)
    assert Booking.objects.get(pk=draft.pk).status == S.DRAFT


def test_adding_a_full_vendor_is_refused():
    caterer = ServiceVendorFactory()
    approve(awaiting_booking(VenueFactory(), caterer), caterer)
    booking = awaiting_booking(VenueFactory())
    with pytest.raises(VendorUnavailable):
        money.add_vendor(
            booking, actor=booking.organizer, vendor=caterer, proposed_price_cents=90_000
        )
    assert not BookingVendor.objects.filter(booking=booking, vendor=caterer).exists()


def test_a_vendor_with_capacity_left_can_be_named():
    caterer = ServiceVendorFactory(daily_capacity=2)
    approve(awaiting_booking(VenueFactory(), caterer), caterer)
    availability.check_available([caterer.pk], day())  # one of two used: no error
    approve(awaiting_booking(VenueFactory(), caterer), caterer)
    with pytest.raises(VendorUnavailable):
        availability.check_available([caterer.pk], day())


# --- blocked dates against holds ---------------------------------------------------------------


def test_a_blocked_date_refuses_approvals():
    caterer = ServiceVendorFactory(daily_capacity=3)
    entry, created = availability.block_date(caterer, day(), note="Family wedding")
    assert created and entry == {"date": day(), "status": "blocked", "note": "Family wedding"}
    assert statuses(caterer) == ["blocked"] * 3  # every unit of the capacity

    booking = awaiting_booking(VenueFactory(), caterer)
    with pytest.raises(VendorUnavailable):
        approve(booking, caterer)
    assert line_of(booking, caterer).status == L.PENDING

    assert availability.unblock_date(caterer, day())
    approve(booking, caterer)
    assert statuses(caterer) == ["held"]


def test_a_held_or_booked_date_cannot_be_blocked():
    caterer = ServiceVendorFactory(daily_capacity=2)
    approve(awaiting_booking(VenueFactory(), caterer), caterer)
    with pytest.raises(VendorUnavailable) as refused:
        availability.block_date(caterer, day())
    assert refused.value.details["status"] == "held"
    assert statuses(caterer) == ["held"]

    venue = VenueFactory()
    paid_booking(venue, date=day(44))
    with pytest.raises(VendorUnavailable) as refused:
        availability.block_date(venue, day(44))
    assert refused.value.details["status"] == "booked"


def test_blocking_again_updates_the_note_and_unblocking_an_open_date_says_so():
    vendor = ServiceVendorFactory()
    availability.block_date(vendor, day(), note="Holiday")
    entry, created = availability.block_date(vendor, day(), note="Vacation")
    assert not created and entry["note"] == "Vacation"
    assert list(VendorDateUnit.objects.values_list("note", flat=True)) == ["Vacation"]
    assert AuditLog.objects.filter(action="vendor.block_date").count() == 1
    assert AuditLog.objects.filter(action="vendor.update_blocked_date").count() == 1
    assert availability.unblock_date(vendor, day())
    assert not availability.unblock_date(vendor, day())
    assert AuditLog.objects.filter(action="vendor.unblock_date").count() == 1


def test_a_past_date_cannot_be_blocked():
    with pytest.raises(DomainValidationError) as refused:
        availability.block_date(ServiceVendorFactory(), day(-1))
    assert refused.value.details == {"date": ["A past date cannot be blocked."]}
    assert not VendorDateUnit.objects.exists()


# --- capacity changes ---------------------------------------------------------------------------


def test_capacity_cannot_drop_below_what_a_coming_date_holds():
    caterer = ServiceVendorFactory(daily_capacity=3)
    for _ in range(2):
        approve(awaiting_booking(VenueFactory(), caterer), caterer)
    with pytest.raises(DomainValidationError) as refused:
        update_own_vendor(vendor=caterer, actor=caterer.user, data={"daily_capacity": 1})
    assert day().isoformat() in refused.value.details["daily_capacity"][0]
    caterer.refresh_from_db()
    assert caterer.daily_capacity == 3

    update_own_vendor(vendor=caterer, actor=caterer.user, data={"daily_capacity": 2})
    caterer.refresh_from_db()
    assert caterer.daily_capacity == 2 and availability.full_vendor_ids([caterer.pk], day())


def test_lowering_capacity_renumbers_units_into_the_remaining_slots():
    caterer = ServiceVendorFactory(daily_capacity=3)
    bookings = [awaiting_booking(VenueFactory(), caterer) for _ in range(3)]
    for booking in bookings:
        approve(booking, caterer)
    money.cancel_booking(bookings[0], actor=bookings[0].organizer)  # frees slot 0
    assert slots(caterer) == [1, 2]

    update_own_vendor(vendor=caterer, actor=caterer.user, data={"daily_capacity": 2})

    assert slots(caterer) == [0, 1]  # slot 2 moved below the new capacity
    with pytest.raises(VendorUnavailable):
        approve(awaiting_booking(VenueFactory(), caterer), caterer)


def test_raising_capacity_keeps_a_blocked_date_fully_blocked():
    caterer = ServiceVendorFactory()
    availability.block_date(caterer, day(), note="Closed")
    update_own_vendor(vendor=caterer, actor=caterer.user, data={"daily_capacity": 3})
    assert statuses(caterer) == ["blocked"] * 3
    assert availability.full_vendor_ids([caterer.pk], day()) == [str(caterer.pk)]
    update_own_vendor(vendor=caterer, actor=caterer.user, data={"daily_capacity": 2})
    assert statuses(caterer) == ["blocked"] * 2
    assert availability.unavailable_dates(caterer, day(), day()) == [day()]


def test_a_venue_is_always_one_event_per_date():
    venue = VenueFactory()
    with pytest.raises(DomainValidationError):
        update_own_vendor(vendor=venue, actor=venue.user, data={"daily_capacity": 2})
    venue.refresh_from_db()
    assert venue.daily_capacity == 1


def test_the_database_refuses_a_slot_beyond_capacity_and_a_second_unit_in_a_slot():
    from django.db import IntegrityError, transaction

    caterer = ServiceVendorFactory(daily_capacity=2)
    line = line_of(awaiting_booking(VenueFactory(), caterer), caterer)
    with pytest.raises(IntegrityError, match="daily capacity"), transaction.atomic():
        VendorDateUnit.objects.create(vendor=caterer, date=day(), slot=2, status="blocked")
    VendorDateUnit.objects.create(vendor=caterer, date=day(), slot=1, status="blocked")
    with pytest.raises(IntegrityError), transaction.atomic():
        VendorDateUnit.objects.create(
            vendor=caterer, date=day(), slot=1, status="held", booking_vendor=line
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # a held unit names its line
        VendorDateUnit.objects.create(vendor=caterer, date=day(), slot=0, status="held")


# --- reading ------------------------------------------------------------------------------------


def test_calendar_lists_blocks_and_the_bookings_holding_each_date():
    caterer = ServiceVendorFactory(daily_capacity=2)
    first, second = (awaiting_booking(VenueFactory(), caterer) for _ in range(2))
    approve(first, caterer)
    approve(second, caterer)
    availability.block_date(caterer, day(42), note="Inventory")
    paid = paid_booking(VenueFactory(), caterer, date=day(43))

    entries = availability.calendar(caterer, day(), day(43))

    assert [(e["date"], e["status"], e["booking_id"]) for e in entries] == [
        (day(), "held", first.pk),
        (day(), "held", second.pk),
        (day(42), "blocked", None),
        (day(43), "booked", paid.pk),
    ]
    assert entries[2]["note"] == "Inventory"
    # Public view: only full dates (day 40 is full at 2 of 2, day 43 has 1 of 2 left).
    assert availability.unavailable_dates(caterer, day(), day(43)) == [day(), day(42)]
