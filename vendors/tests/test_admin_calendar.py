"""The staff console's vendor page shows the vendor's coming calendar, read-only: blocked
dates with their note, and each held or booked date with a link to the booking holding it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from vendors import availability
from vendors.models import VendorDateUnit
from vendors.tests.availability_helpers import approve, awaiting_booking, day
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(AdminFactory())
    return client


def calendar_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="vendor-calendar">(.*?)</table>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ][1:]


def test_vendor_page_shows_blocked_dates_and_the_bookings_holding_each_date(staff_client):
    caterer = ServiceVendorFactory(daily_capacity=2)
    first = awaiting_booking(VenueFactory(), caterer, title="Smith wedding")
    second = awaiting_booking(VenueFactory(), caterer, title="Acme launch")
    approve(first, caterer)
    approve(second, caterer)
    availability.block_date(caterer, day(45), note="Staff holiday")
    availability.block_date(caterer, day(400), note="Too far to show")  # beyond a year

    response = staff_client.get(reverse("admin:vendors_vendor_change", args=[caterer.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert calendar_rows(html) == [
        [day().isoformat(), "2/2", "held", "Smith wedding", "booking awaiting_vendor_approval"],
        [day().isoformat(), "2/2", "held", "Acme launch", "booking awaiting_vendor_approval"],
        [day(45).isoformat(), "2/2", "blocked", "-", "Staff holiday"],
    ]
    for booking in (first, second):
        assert reverse("admin:bookings_booking_change", args=[booking.pk]) in html
    # Read-only: the page offers no field to edit the capacity or the calendar.
    assert 'name="daily_capacity"' not in html and 'name="calendar"' not in html


def test_vendor_page_says_when_every_coming_date_is_open(staff_client):
    vendor = VenueFactory()
    response = staff_client.get(reverse("admin:vendors_vendor_change", args=[vendor.pk]))
    assert "Every coming date is open." in response.content.decode()


def test_units_are_read_only_in_the_console(staff_client):
    venue = VenueFactory()
    booking = awaiting_booking(venue)
    approve(booking, venue)
    unit = VendorDateUnit.objects.get()
    listing = staff_client.get(reverse("admin:vendors_vendordateunit_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:bookings_booking_change", args=[booking.pk]) in listing.content.decode()
    change_url = reverse("admin:vendors_vendordateunit_change", args=[unit.pk])
    assert staff_client.get(change_url).status_code == 200
    changed = staff_client.post(change_url, {"status": "blocked", "slot": 0})
    assert changed.status_code == 403
    deleted = staff_client.post(reverse("admin:vendors_vendordateunit_delete", args=[unit.pk]))
    assert deleted.status_code == 403
    unit.refresh_from_db()
    assert (unit.status, unit.slot) == ("held", 0)
