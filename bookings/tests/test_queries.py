"""The booking lists run a fixed number of queries whatever the page holds: lines and their
vendors come in one prefetch, totals and `my_line` are computed from it."""

import pytest

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.conftest import FOUR_PRICES
from bookings.tests.factories import booking_with_vendors
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

# auth user, the bookings page with its count (a window), lines with their vendors
ORGANIZER_LIST_QUERIES = 3
# the same + the caller's vendor row
VENDOR_LIST_QUERIES = 4


@pytest.fixture
def shared_vendors():
    return [VenueFactory(), *(ServiceVendorFactory() for _ in FOUR_PRICES[1:])]


def make_bookings(organizer, vendors, count):
    for i in range(count):
        booking_with_vendors(
            organizer=organizer,
            vendors=vendors,
            prices=FOUR_PRICES,
            status=Booking.Status.AWAITING,
            line_status=BookingVendor.Status.APPROVED if i % 2 else BookingVendor.Status.PENDING,
        )


@pytest.mark.parametrize("count", [5, 50])
def test_organizer_list_query_count_is_flat(
    count, make_client, shared_vendors, django_assert_num_queries
):
    organizer = OrganizerFactory(subscribed=True)
    make_bookings(organizer, shared_vendors, count)
    client = make_client(organizer)
    with django_assert_num_queries(ORGANIZER_LIST_QUERIES):
        response = client.get("/api/v1/bookings?page_size=100")
    body = response.json()
    assert body["count"] == len(body["results"]) == count
    assert all(len(r["vendors"]) == 4 for r in body["results"])
    assert all(r["total_cents"] == sum(FOUR_PRICES) for r in body["results"])


@pytest.mark.parametrize("count", [5, 50])
def test_vendor_list_query_count_is_flat(
    count, make_client, shared_vendors, django_assert_num_queries
):
    make_bookings(OrganizerFactory(subscribed=True), shared_vendors, count)
    client = make_client(shared_vendors[2].user)
    with django_assert_num_queries(VENDOR_LIST_QUERIES):
        response = client.get(
            "/api/v1/bookings?page_size=100&status=awaiting_vendor_approval&my_line_status=pending"
        )
    body = response.json()
    assert body["count"] == len(body["results"]) == (count + 1) // 2
    assert all(r["my_line"]["status"] == "pending" for r in body["results"])


@pytest.mark.parametrize("lines", [2, 12])
def test_detail_query_count_does_not_grow_with_lines(lines, make_client, django_assert_num_queries):
    booking = booking_with_vendors(prices=[100_000] * lines)
    client = make_client(booking.organizer)
    with django_assert_num_queries(3):  # auth user, booking, lines with vendors
        response = client.get(f"/api/v1/bookings/{booking.pk}")
    assert len(response.json()["vendors"]) == lines
