"""The availability endpoints: the vendor's calendar and blocked dates, the public availability
of a vendor, the directory's `available_on`, the capacity on /vendors/me, and the 409
`vendor_unavailable` of the booking endpoints — each bad input a 400 in the envelope."""

import pytest

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from conftest import client_for
from vendors import availability
from vendors.models import VendorDateUnit
from vendors.tests.availability_helpers import API, approve, awaiting_booking, day, line_of
from vendors.tests.factories import ServiceVendorFactory, VendorFactory, VenueFactory

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def assert_invalid(response, field: str) -> None:
    assert response.status_code == 400, response.content
    err = error(response)
    assert err["code"] == "validation_error" and field in err["details"], err


# --- capacity on /vendors/me ---------------------------------------------------------------------


def test_vendor_sets_its_daily_capacity():
    caterer = ServiceVendorFactory()
    client = client_for(caterer.user)
    assert client.get(f"{API}/vendors/me").json()["daily_capacity"] == 1
    response = client.patch(f"{API}/vendors/me", {"daily_capacity": 4}, format="json")
    assert response.status_code == 200 and response.json()["daily_capacity"] == 4
    caterer.refresh_from_db()
    assert caterer.daily_capacity == 4
    assert client.get(f"{API}/vendors/{caterer.pk}").json()["daily_capacity"] == 4


@pytest.mark.parametrize("value", [0, 51, -1, "two", None, 1.5])
def test_daily_capacity_is_validated(value):
    client = client_for(ServiceVendorFactory().user)
    assert_invalid(
        client.patch(f"{API}/vendors/me", {"daily_capacity": value}, format="json"),
        "daily_capacity",
    )


def test_a_venue_cannot_take_two_events_a_day():
    venue = VenueFactory()
    response = client_for(venue.user).patch(
        f"{API}/vendors/me", {"daily_capacity": 2}, format="json"
    )
    assert_invalid(response, "daily_capacity")
    venue.refresh_from_db()
    assert venue.daily_capacity == 1


def test_lowering_capacity_below_a_coming_dates_use_is_a_400_naming_the_date():
    caterer = ServiceVendorFactory(daily_capacity=2)
    for _ in range(2):
        approve(awaiting_booking(VenueFactory(), caterer), caterer)
    response = client_for(caterer.user).patch(
        f"{API}/vendors/me", {"daily_capacity": 1}, format="json"
    )
    assert_invalid(response, "daily_capacity")
    assert day().isoformat() in error(response)["details"]["daily_capacity"][0]


def test_onboarding_takes_a_capacity_for_a_service_but_not_above_one_for_a_venue(make_client):
    from accounts.tests.factories import VendorUserFactory

    body = {
        "vendor_type": "service",
        "business_name": "Twin Kitchens",
        "city": "Austin",
        "daily_capacity": 2,
        "service_profile": {
            "category": "catering",
            "service_area": "Austin",
            "base_price_cents": 1,
        },
    }
    response = make_client(VendorUserFactory()).post(
        f"{API}/vendors/onboarding", body, format="json"
    )
    assert response.status_code == 201 and response.json()["daily_capacity"] == 2
    venue = {
        "vendor_type": "venue",
        "business_name": "Hall",
        "city": "Austin",
        "daily_capacity": 3,
        "venue_profile": {"address": "1 Main", "capacity": 10, "base_price_cents": 1},
    }
    response = make_client(VendorUserFactory()).post(
        f"{API}/vendors/onboarding", venue, format="json"
    )
    assert_invalid(response, "daily_capacity")


# --- the vendor's calendar --------------------------------------------------------------------


def test_calendar_lists_non_open_dates_with_their_bookings():
    caterer = ServiceVendorFactory(daily_capacity=2)
    booking = awaiting_booking(VenueFactory(), caterer)
    line = approve(booking, caterer)
    client = client_for(caterer.user)
    assert (
        client.post(
            f"{API}/vendors/me/blocked-dates", {"date": day(45).isoformat(), "note": "Team day"}
        ).status_code
        == 201
    )

    response = client.get(f"{API}/vendors/me/calendar")  # default range: today + 90 days

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "date": day().isoformat(),
            "status": "held",
            "booking_id": str(booking.pk),
            "booking_vendor_id": str(line.pk),
            "note": "",
        },
        {
            "date": day(45).isoformat(),
            "status": "blocked",
            "booking_id": None,
            "booking_vendor_id": None,
            "note": "Team day",
        },
    ]
    narrowed = client.get(
        f"{API}/vendors/me/calendar", {"from": day(41).isoformat(), "to": day(60).isoformat()}
    )
    assert [e["status"] for e in narrowed.json()] == ["blocked"]


def test_calendar_is_the_callers_own():
    caterer = ServiceVendorFactory()
    approve(awaiting_booking(VenueFactory(), caterer), caterer)
    other = ServiceVendorFactory()
    assert client_for(other.user).get(f"{API}/vendors/me/calendar").json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "2030-05-02", "to": "2030-05-01"}, "to"),
        ({"from": "2030-01-01", "to": "2031-01-02"}, "to"),  # 367 days
    ],
)
def test_calendar_ranges_are_validated(params, field):
    client = client_for(ServiceVendorFactory().user)
    assert_invalid(client.get(f"{API}/vendors/me/calendar", params), field)


def test_a_366_day_range_is_accepted():
    client = client_for(ServiceVendorFactory().user)
    response = client.get(f"{API}/vendors/me/calendar", {"from": "2028-01-01", "to": "2028-12-31"})
    assert response.status_code == 200


def test_calendar_needs_an_onboarded_vendor():
    from accounts.tests.factories import VendorUserFactory

    response = client_for(VendorUserFactory()).get(f"{API}/vendors/me/calendar")
    assert response.status_code == 404 and error(response)["code"] == "not_found"
    response = client_for(OrganizerFactory()).get(f"{API}/vendors/me/calendar")
    assert response.status_code == 403


# --- blocked dates ------------------------------------------------------------------------------


def test_block_and_unblock_a_date():
    vendor = ServiceVendorFactory(daily_capacity=2)
    client = client_for(vendor.user)
    url = f"{API}/vendors/me/blocked-dates"

    created = client.post(url, {"date": day().isoformat(), "note": "Closed"})
    assert created.status_code == 201
    assert created.json() == {"date": day().isoformat(), "status": "blocked", "note": "Closed"}
    again = client.post(url, {"date": day().isoformat(), "note": "Closed for stocktake"})
    assert again.status_code == 200 and again.json()["note"] == "Closed for stocktake"
    assert VendorDateUnit.objects.filter(vendor=vendor, status="blocked").count() == 2

    assert client.delete(f"{url}/{day().isoformat()}").status_code == 204
    assert not VendorDateUnit.objects.exists()
    missing = client.delete(f"{url}/{day().isoformat()}")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"date": "not-a-date"}, {"date": "2020-01-01"}, {"date": "2030-01-01", "note": "x" * 501}],
    ids=["missing", "unparsable", "past", "long-note"],
)
def test_blocking_validates_its_input(body):
    client = client_for(ServiceVendorFactory().user)
    response = client.post(f"{API}/vendors/me/blocked-dates", body)
    assert_invalid(response, "note" if "note" in body else "date")
    assert not VendorDateUnit.objects.exists()


def test_unblocking_an_unparsable_date_is_a_400():
    client = client_for(ServiceVendorFactory().user)
    assert_invalid(client.delete(f"{API}/vendors/me/blocked-dates/2030-13-01"), "date")


def test_blocking_a_held_date_is_a_409_and_blocks_nothing():
    venue = VenueFactory()
    approve(awaiting_booking(venue), venue)
    response = client_for(venue.user).post(
        f"{API}/vendors/me/blocked-dates", {"date": day().isoformat()}
    )
    assert response.status_code == 409
    err = error(response)
    assert err["code"] == "vendor_unavailable"
    assert err["details"] == {
        "vendor_ids": [str(venue.pk)],
        "date": day().isoformat(),
        "status": "held",
    }
    assert list(VendorDateUnit.objects.values_list("status", flat=True)) == ["held"]


# --- public availability ----------------------------------------------------------------------


def test_public_availability_lists_full_dates_only_without_booking_details(api_client):
    caterer = ServiceVendorFactory(daily_capacity=2)
    for _ in range(2):
        approve(awaiting_booking(VenueFactory(), caterer), caterer)
    approve(awaiting_booking(VenueFactory(), caterer, date=day(41)), caterer)  # 1 of 2
    availability.block_date(caterer, day(42), note="Private: surgery")

    response = api_client.get(
        f"{API}/vendors/{caterer.pk}/availability",
        {"from": day().isoformat(), "to": day(50).isoformat()},
    )

    assert response.status_code == 200
    assert response.json() == {
        "vendor_id": str(caterer.pk),
        "unavailable": [day().isoformat(), day(42).isoformat()],
        "from": day().isoformat(),
        "to": day(50).isoformat(),
    }
    assert b"surgery" not in response.content and b"booking" not in response.content


def test_public_availability_of_an_unapproved_vendor_is_404(api_client):
    pending = VendorFactory(verification_status="pending")
    response = api_client.get(f"{API}/vendors/{pending.pk}/availability")
    assert response.status_code == 404 and error(response)["code"] == "not_found"


def test_public_availability_validates_the_range(api_client):
    vendor = ServiceVendorFactory()
    url = f"{API}/vendors/{vendor.pk}/availability"
    assert_invalid(api_client.get(url, {"from": "2031-01-01", "to": "2030-01-01"}), "to")
    assert_invalid(api_client.get(url, {"from": "2030-01-01", "to": "2032-01-01"}), "to")
    assert_invalid(api_client.get(url, {"from": "01/02/2030"}), "from")


# --- the directory's available_on ----------------------------------------------------------------


def test_directory_available_on_drops_the_vendors_full_that_day(api_client):
    full_venue, free_venue = VenueFactory(), VenueFactory()
    busy_caterer = ServiceVendorFactory(daily_capacity=2)
    approve(awaiting_booking(full_venue), full_venue)
    approve(awaiting_booking(VenueFactory(), busy_caterer), busy_caterer)  # 1 of 2
    blocked = ServiceVendorFactory()
    availability.block_date(blocked, day())

    def listed(params):
        response = api_client.get(f"{API}/vendors", {"page_size": 100, **params})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    everyone = listed({})
    on_the_day = listed({"available_on": day().isoformat()})
    assert everyone - on_the_day == {str(full_venue.pk), str(blocked.pk)}
    assert {str(free_venue.pk), str(busy_caterer.pk)} <= on_the_day
    assert listed({"available_on": day(1).isoformat()}) == everyone
    assert listed({"available_on": day().isoformat(), "vendor_type": "venue"}) == (
        on_the_day & listed({"vendor_type": "venue"})
    )


def test_directory_available_on_must_be_a_date(api_client):
    assert_invalid(api_client.get(f"{API}/vendors", {"available_on": "soon"}), "available_on")


@pytest.mark.parametrize("count", [5, 50])
def test_available_on_query_count_is_flat(count, api_client, django_assert_num_queries):
    caterers = [ServiceVendorFactory(daily_capacity=1 + i % 2) for i in range(count)]
    for i, caterer in enumerate(caterers):
        if i % 3 == 0:
            availability.block_date(caterer, day())  # full
        elif i % 3 == 1:
            approve(awaiting_booking(VenueFactory(), caterer), caterer)  # one unit used
    expected = {
        str(c.pk)
        for i, c in enumerate(caterers)
        if i % 3 == 2 or (i % 3 == 1 and c.daily_capacity == 2)
    }
    # The page with its total (COUNT(*) OVER ()), profiles joined, whatever the page holds.
    with django_assert_num_queries(1):
        response = api_client.get(
            f"{API}/vendors",
            {"available_on": day().isoformat(), "vendor_type": "service", "page_size": 100},
        )
    body = response.json()
    assert {row["id"] for row in body["results"]} == expected
    assert body["count"] == len(expected)


# --- the booking endpoints' 409 vendor_unavailable -------------------------------------------


def test_create_booking_naming_a_full_venue_is_a_409_with_its_id():
    venue = VenueFactory()
    approve(awaiting_booking(venue), venue)
    caterer = ServiceVendorFactory()
    organizer = OrganizerFactory(subscribed=True)
    response = client_for(organizer).post(
        f"{API}/bookings",
        {
            "title": "Rooftop party",
            "event_date": day().isoformat(),
            "guest_count": 80,
            "vendors": [
                {"vendor_id": str(venue.pk), "proposed_price_cents": 400_000},
                {"vendor_id": str(caterer.pk), "proposed_price_cents": 90_000},
            ],
        },
        format="json",
    )
    assert response.status_code == 409, response.content
    err = error(response)
    assert err["code"] == "vendor_unavailable"
    assert err["details"] == {"vendor_ids": [str(venue.pk)], "date": day().isoformat()}
    assert not Booking.objects.filter(organizer=organizer).exists()


def test_submit_with_a_full_vendor_is_a_409_and_approval_of_a_taken_date_too():
    venue = VenueFactory()
    first = awaiting_booking(venue)
    second = awaiting_booking(venue)
    draft = booking_with_vendors(vendors=[venue], prices=(500_000,), event_date=day())

    ok = client_for(venue.user).post(
        f"{API}/bookings/{first.pk}/vendors/{line_of(first, venue).pk}/approve"
    )
    assert ok.status_code == 200
    taken = client_for(venue.user).post(
        f"{API}/bookings/{second.pk}/vendors/{line_of(second, venue).pk}/approve"
    )
    assert taken.status_code == 409 and error(taken)["code"] == "vendor_unavailable"
    assert line_of(second, venue).status == BookingVendor.Status.PENDING

    submit = client_for(draft.organizer).post(f"{API}/bookings/{draft.pk}/submit")
    assert submit.status_code == 409 and error(submit)["code"] == "vendor_unavailable"
    assert error(submit)["details"]["vendor_ids"] == [str(venue.pk)]
    assert Booking.objects.get(pk=draft.pk).status == Booking.Status.DRAFT


def test_patching_a_drafts_date_onto_a_full_date_is_a_409():
    venue = VenueFactory()
    approve(awaiting_booking(venue, date=day(70)), venue)
    draft = booking_with_vendors(vendors=[venue], prices=(500_000,), event_date=day(60))
    response = client_for(draft.organizer).patch(
        f"{API}/bookings/{draft.pk}", {"event_date": day(70).isoformat()}, format="json"
    )
    assert response.status_code == 409 and error(response)["code"] == "vendor_unavailable"
    assert Booking.objects.get(pk=draft.pk).event_date == day(60)
    assert (
        client_for(draft.organizer)
        .patch(f"{API}/bookings/{draft.pk}", {"event_date": day(71).isoformat()}, format="json")
        .status_code
        == 200
    )


def test_calendar_and_directory_share_one_notion_of_full(api_client):
    """A date is listed as unavailable exactly when the directory drops the vendor."""
    caterer = ServiceVendorFactory(daily_capacity=2)
    dates = [day(40 + i) for i in range(4)]
    for used, date in enumerate(dates):
        for _ in range(min(used, 2)):
            approve(awaiting_booking(VenueFactory(), caterer, date=date), caterer)
    unavailable = api_client.get(
        f"{API}/vendors/{caterer.pk}/availability",
        {"from": dates[0].isoformat(), "to": dates[-1].isoformat()},
    ).json()["unavailable"]
    for date in dates:
        ids = {
            r["id"]
            for r in api_client.get(
                f"{API}/vendors", {"available_on": date.isoformat(), "page_size": 100}
            ).json()["results"]
        }
        assert (str(caterer.pk) not in ids) == (date.isoformat() in unavailable)
    assert unavailable == [d.isoformat() for d in dates[2:]]
