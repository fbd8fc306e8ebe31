"""The bookings API end to end over HTTP: the happy path, every role boundary, the illegal
transitions (409, nothing changed) and the request validation."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizerFactory, VendorUserFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.conftest import booking_audit, refreshed
from bookings.tests.factories import booking_with_vendors
from strathwell.audit.models import AuditLog
from templates_app.models import Template
from trust.models import ModerationEvent
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

S = Booking.Status
L = BookingVendor.Status
BOOKING_FIELDS = {
    "id",
    "title",
    "event_date",
    "guest_count",
    "notes",
    "template_id",
    "status",
    "currency",
    "amount_paid_cents",
    "balance_cents",
    "balance_due_on",
    "total_cents",
    "deposit_cents",
    "organizer_id",
    "vendors",
    "my_line",
    "created_at",
    "updated_at",
}
LINE_FIELDS = {
    "id",
    "vendor_id",
    "vendor_name",
    "role",
    "status",
    "proposed_price_cents",
    "counter_price_cents",
    "agreed_price_cents",
    "note",
}


def url(booking, suffix=""):
    return f"/api/v1/bookings/{booking.pk if hasattr(booking, 'pk') else booking}{suffix}"


def line_url(line, action=""):
    return f"/api/v1/bookings/{line.booking_id}/vendors/{line.pk}" + (
        f"/{action}" if action else ""
    )


def future(days=45):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def error_code(response):
    return response.json()["error"]["code"]


@pytest.fixture
def venue():
    return VenueFactory(business_name="Harbor Hall", profile__capacity=200)


@pytest.fixture
def services():
    return [ServiceVendorFactory(business_name=n) for n in ("Feast Co", "DJ Ray", "Bloom")]


@pytest.fixture
def request_body(venue, services):
    return {
        "title": "Company retreat",
        "event_date": future(),
        "guest_count": 120,
        "notes": "Vegetarian menu please.",
        "vendors": [
            {"vendor_id": str(venue.pk), "proposed_price_cents": 500_000},
            *[
                {"vendor_id": str(v.pk), "proposed_price_cents": price}
                for v, price in zip(services, (150_000, 80_000, 40_000), strict=True)
            ],
        ],
    }


def line_for(booking_data, vendor):
    return BookingVendor.objects.get(booking_id=booking_data["id"], vendor=vendor)


# --- the happy path -----------------------------------------------------------------------------


def test_happy_path_create_submit_answer_accept_ready(
    organizer_client, organizer, make_client, venue, services, request_body, settings
):
    settings.BOOKING_DEPOSIT_PERCENT = 30
    template = Template.objects.create(slug="retreat", title="Retreat", is_published=True)
    response = organizer_client.post(
        "/api/v1/bookings", {**request_body, "template_id": str(template.pk)}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == BOOKING_FIELDS
    assert body["status"] == "draft"
    assert body["my_line"] is None
    assert (body["organizer_id"], body["template_id"]) == (str(organizer.pk), str(template.pk))
    assert body["currency"] == "usd"
    assert body["total_cents"] == 770_000
    assert body["deposit_cents"] == 231_000
    assert [ln["vendor_name"] for ln in body["vendors"]] == [
        "Harbor Hall",
        "Feast Co",
        "DJ Ray",
        "Bloom",
    ]
    assert set(body["vendors"][0]) == LINE_FIELDS
    assert [ln["role"] for ln in body["vendors"]] == ["venue", "service", "service", "service"]
    booking = Booking.objects.get(pk=body["id"])

    response = organizer_client.post(url(booking, "/submit"))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "awaiting_vendor_approval"

    venue_line, feast, dj, bloom = (line_for(body, v) for v in (venue, *services))
    for line in (venue_line, dj, bloom):
        response = make_client(line.vendor.user).post(line_url(line, "approve"))
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "awaiting_vendor_approval"
        assert response.json()["my_line"]["status"] == "approved"
    response = make_client(feast.vendor.user).post(
        line_url(feast, "counter"), {"price_cents": 165_000, "note": "Includes service staff."}
    )
    assert response.status_code == 200, response.json()
    my_line = response.json()["my_line"]
    assert (my_line["status"], my_line["counter_price_cents"], my_line["note"]) == (
        "countered",
        165_000,
        "Includes service staff.",
    )
    assert response.json()["status"] == "awaiting_vendor_approval"

    response = organizer_client.post(line_url(feast, "accept-counter"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready_for_payment"
    assert all(ln["status"] == "approved" for ln in body["vendors"])
    assert [ln["agreed_price_cents"] for ln in body["vendors"]] == [
        500_000,
        165_000,
        80_000,
        40_000,
    ]
    assert body["total_cents"] == 785_000
    assert body["deposit_cents"] == 235_500
    assert booking_audit(booking) == [
        "booking.create",
        "booking.submit",
        "booking.ready_for_payment",
    ]
    ready = AuditLog.objects.get(action="booking.ready_for_payment")
    assert ready.actor_id == organizer.pk
    assert ready.before == {"status": "awaiting_vendor_approval"}
    assert AuditLog.objects.filter(target_type="bookings.bookingvendor").count() == 5


def test_decline_then_replace_vendor(make_client):
    booking = booking_with_vendors(status=S.AWAITING, prices=(300_000, 50_000))
    client = make_client(booking.organizer)
    venue_line, band = booking.vendors.order_by("position")
    assert (
        make_client(venue_line.vendor.user).post(line_url(venue_line, "approve")).status_code == 200
    )
    response = make_client(band.vendor.user).post(line_url(band, "decline"), {"reason": "Booked."})
    assert response.status_code == 200
    assert response.json()["my_line"]["status"] == "declined"
    assert response.json()["status"] == "awaiting_vendor_approval"

    assert client.delete(line_url(band)).status_code == 204
    assert refreshed(booking).status == S.READY  # only approved lines remain
    replacement = ServiceVendorFactory()
    response = client.post(
        url(booking, "/vendors"),
        {"vendor_id": str(replacement.pk), "proposed_price_cents": 45_000},
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == LINE_FIELDS
    assert response.json()["status"] == "pending"
    assert refreshed(booking).status == S.AWAITING
    new_line = BookingVendor.objects.get(pk=response.json()["id"])
    response = make_client(replacement.user).post(line_url(new_line, "approve"))
    assert response.json()["status"] == "ready_for_payment"


def test_adding_a_vendor_to_a_ready_booking_sends_it_back_to_awaiting(make_client):
    booking = booking_with_vendors(status=S.READY, line_status=L.APPROVED)
    extra = ServiceVendorFactory()
    response = make_client(booking.organizer).post(
        url(booking, "/vendors"), {"vendor_id": str(extra.pk), "proposed_price_cents": 25_000}
    )
    assert response.status_code == 201, response.json()
    assert refreshed(booking).status == S.AWAITING
    response = make_client(extra.user).get(url(booking))
    assert response.json()["status"] == "awaiting_vendor_approval"
    assert response.json()["my_line"]["status"] == "pending"
    assert booking_audit(booking) == ["booking.reopen"]


def test_start_and_complete(make_client):
    booking = booking_with_vendors(status=S.PAID, line_status=L.APPROVED)
    client = make_client(booking.organizer)
    assert client.post(url(booking, "/start")).json()["status"] == "in_progress"
    assert client.post(url(booking, "/complete")).json()["status"] == "completed"


def test_cancel_with_reason(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    response = make_client(booking.organizer).post(url(booking, "/cancel"), {"reason": "Moved."})
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert refreshed(booking).cancel_reason == "Moved."


# --- listing and reading ------------------------------------------------------------------------


def test_vendor_incoming_requests_show_its_own_line_first_class(make_client):
    venue = VenueFactory()
    mine = [
        booking_with_vendors(status=S.AWAITING, vendors=[venue, ServiceVendorFactory()])
        for _ in range(2)
    ]
    answered = booking_with_vendors(status=S.AWAITING, vendors=[venue, ServiceVendorFactory()])
    line = answered.vendors.get(vendor=venue)
    line.approve(actor=venue.user)
    booking_with_vendors(status=S.DRAFT, vendors=[venue, ServiceVendorFactory()])  # not sent yet
    booking_with_vendors(status=S.AWAITING)  # someone else's request
    client = make_client(venue.user)

    body = client.get("/api/v1/bookings?status=awaiting_vendor_approval").json()
    assert body["count"] == 3
    assert {r["id"] for r in body["results"]} == {str(b.pk) for b in (*mine, answered)}
    for result in body["results"]:
        assert result["my_line"]["vendor_id"] == str(venue.pk)
    statuses = {r["id"]: r["my_line"]["status"] for r in body["results"]}
    assert statuses[str(answered.pk)] == "approved"

    body = client.get("/api/v1/bookings?my_line_status=pending").json()
    assert {r["id"] for r in body["results"]} == {str(b.pk) for b in mine}
    response = client.get("/api/v1/bookings?status=nonsense")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "status" in response.json()["error"]["details"]


def test_organizer_lists_only_own_bookings(organizer, organizer_client):
    own = [booking_with_vendors(organizer=organizer) for _ in range(2)]
    booking_with_vendors()
    body = organizer_client.get("/api/v1/bookings").json()
    assert {r["id"] for r in body["results"]} == {str(b.pk) for b in own}
    assert all("my_line" in r and r["my_line"] is None for r in body["results"])


def test_admin_reads_everything(admin_client_api):
    booking = booking_with_vendors(status=S.DRAFT)
    assert admin_client_api.get(url(booking)).status_code == 200
    assert admin_client_api.get("/api/v1/bookings").json()["count"] == 1


# --- role boundaries ----------------------------------------------------------------------------


def test_strangers_get_404_everywhere(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    stranger_org = make_client(OrganizerFactory(subscribed=True))
    stranger_vendor = make_client(ServiceVendorFactory().user)
    vendor_without_profile = make_client(VendorUserFactory())
    for client in (stranger_org, stranger_vendor, vendor_without_profile):
        assert client.get(url(booking)).status_code == 404
        assert client.post(url(booking, "/cancel")).status_code == 404
        assert client.post(line_url(line, "approve")).status_code == 404
        response = client.patch(url(booking), {"title": "Mine now"})
        assert response.status_code == 404
        assert error_code(response) == "not_found"
    assert refreshed(booking).status == S.AWAITING
    assert refreshed(line).status == L.PENDING


def test_vendors_do_not_see_drafts(make_client):
    booking = booking_with_vendors(status=S.DRAFT)
    line = booking.vendors.first()
    client = make_client(line.vendor.user)
    assert client.get(url(booking)).status_code == 404
    assert client.get("/api/v1/bookings").json()["count"] == 0
    # nor a draft canceled before it was ever sent
    assert make_client(booking.organizer).post(url(booking, "/cancel")).status_code == 200
    assert client.get(url(booking)).status_code == 404
    assert client.get("/api/v1/bookings").json()["count"] == 0


def test_a_vendor_cannot_answer_another_vendors_line(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    venue_line, service_line = booking.vendors.order_by("position")
    client = make_client(service_line.vendor.user)
    for action in ("approve", "decline", "counter"):
        response = client.post(line_url(venue_line, action), {"price_cents": 1_000})
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    assert refreshed(venue_line).status == L.PENDING


def test_an_organizer_cannot_answer_for_a_vendor(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    response = make_client(booking.organizer).post(line_url(line, "approve"))
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert refreshed(line).status == L.PENDING


def test_vendors_cannot_drive_organizer_actions(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    client = make_client(line.vendor.user)
    for path in ("/cancel", "/submit", "/start", "/complete"):
        response = client.post(url(booking, path))
        assert response.status_code == 403, path
    line.counter(actor=line.vendor.user, price_cents=999_999)
    response = client.post(line_url(line, "accept-counter"))
    assert response.status_code == 403
    assert client.delete(line_url(line)).status_code == 403
    assert client.patch(url(booking), {"title": "x"}).status_code == 403
    assert refreshed(booking).status == S.AWAITING
    assert refreshed(line).status == L.COUNTERED


def test_unapproved_vendor_cannot_answer(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    vendor = line.vendor
    vendor.verification_status = "needs_changes"
    vendor.save(update_fields=["verification_status"])
    response = make_client(vendor.user).post(line_url(line, "approve"))
    assert response.status_code == 403
    assert error_code(response) == "vendor_not_approved"


def test_create_needs_a_subscribed_organizer(make_client, request_body):
    response = make_client(OrganizerFactory()).post("/api/v1/bookings", request_body)
    assert (response.status_code, error_code(response)) == (403, "subscription_required")
    response = make_client(VendorUserFactory()).post("/api/v1/bookings", request_body)
    assert (response.status_code, error_code(response)) == (403, "permission_denied")
    response = make_client(OrganizerFactory()).get("/api/v1/bookings")
    assert response.status_code == 200  # reading needs no subscription
    assert not Booking.objects.exists()


def test_submit_needs_a_subscription(make_client):
    booking = booking_with_vendors(organizer=OrganizerFactory())
    response = make_client(booking.organizer).post(url(booking, "/submit"))
    assert (response.status_code, error_code(response)) == (403, "subscription_required")
    assert refreshed(booking).status == S.DRAFT


def test_anonymous_is_401(api_client):
    booking = booking_with_vendors()
    assert api_client.get("/api/v1/bookings").status_code == 401
    assert api_client.get(url(booking)).status_code == 401


# --- illegal transitions: 409, nothing changed --------------------------------------------------


def assert_conflict(response):
    assert response.status_code == 409, response.json()
    assert error_code(response) == "invalid_transition"


def test_illegal_booking_transitions_are_409_and_change_nothing(make_client):
    cases = [
        (S.AWAITING, "/submit"),
        (S.READY, "/submit"),
        (S.DRAFT, "/start"),
        (S.READY, "/start"),
        (S.AWAITING, "/complete"),
        (S.PAID, "/complete"),
        (S.IN_PROGRESS, "/cancel"),
        (S.COMPLETED, "/cancel"),
        (S.CANCELED, "/cancel"),
        (S.CANCELED, "/submit"),
    ]
    for start, path in cases:
        booking = booking_with_vendors(status=start, line_status=L.APPROVED)
        assert_conflict(make_client(booking.organizer).post(url(booking, path)))
        assert refreshed(booking).status == start, (start, path)
    assert not AuditLog.objects.exists()


def test_illegal_line_transitions_are_409_and_change_nothing(make_client):
    booking = booking_with_vendors(status=S.AWAITING, prices=(300_000, 50_000, 20_000))
    venue_line, band, florist = booking.vendors.order_by("position")
    organizer = make_client(booking.organizer)
    assert make_client(band.vendor.user).post(line_url(band, "approve")).status_code == 200
    # approving twice
    assert_conflict(make_client(band.vendor.user).post(line_url(band, "approve")))
    # accepting a counter that was never made
    assert_conflict(organizer.post(line_url(venue_line, "accept-counter")))
    # a vendor approving its own counter
    vendor = make_client(florist.vendor.user)
    assert vendor.post(line_url(florist, "counter"), {"price_cents": 30_000}).status_code == 200
    assert_conflict(vendor.post(line_url(florist, "approve")))
    # answering once the booking is canceled
    assert organizer.post(url(booking, "/cancel")).status_code == 200
    assert_conflict(make_client(venue_line.vendor.user).post(line_url(venue_line, "approve")))
    assert_conflict(organizer.post(line_url(florist, "accept-counter")))
    statuses = dict(BookingVendor.objects.values_list("pk", "status"))
    assert statuses == {venue_line.pk: "pending", band.pk: "approved", florist.pk: "countered"}


def test_lines_and_details_are_frozen_after_payment(make_client):
    booking = booking_with_vendors(status=S.PAID, line_status=L.APPROVED)
    client = make_client(booking.organizer)
    response = client.post(
        url(booking, "/vendors"),
        {"vendor_id": str(ServiceVendorFactory().pk), "proposed_price_cents": 1_000},
    )
    assert_conflict(response)
    assert_conflict(client.delete(line_url(booking.vendors.last())))
    assert_conflict(client.patch(url(booking), {"title": "Renamed"}))
    assert booking.vendors.count() == 2


def test_patch_edits_a_draft_only(make_client):
    booking = booking_with_vendors(guest_count=100)
    client = make_client(booking.organizer)
    response = client.patch(url(booking), {"title": "Summer gala", "guest_count": 150})
    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["guest_count"]) == ("Summer gala", 150)
    response = client.patch(url(booking), {"status": "paid", "currency": "eur"})
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"status", "currency"}
    response = client.patch(url(booking), {"guest_count": 301})  # the venue holds 300
    assert response.status_code == 400
    assert "guest_count" in response.json()["error"]["details"]
    response = client.patch(url(booking), {"event_date": "2001-01-01"})
    assert "event_date" in response.json()["error"]["details"]
    assert client.post(url(booking, "/submit")).status_code == 200
    assert_conflict(client.patch(url(booking), {"title": "Too late"}))
    assert refreshed(booking).title == "Summer gala"


# --- validation ---------------------------------------------------------------------------------


def invalid(request_body, venue, services, case):
    body = {**request_body, "vendors": [dict(v) for v in request_body["vendors"]]}
    if case == "no_vendors":
        body["vendors"] = []
    elif case == "no_venue":
        body["vendors"] = body["vendors"][1:]
    elif case == "two_venues":
        body["vendors"].append({"vendor_id": str(VenueFactory().pk), "proposed_price_cents": 1})
    elif case == "duplicate":
        body["vendors"].append(dict(body["vendors"][1]))
    elif case == "zero_price":
        body["vendors"][1]["proposed_price_cents"] = 0
    elif case == "float_price":
        body["vendors"][1]["proposed_price_cents"] = 1500.5
    elif case == "string_price":
        body["vendors"][1]["proposed_price_cents"] = "1500"
    elif case == "unknown_vendor":
        body["vendors"][1]["vendor_id"] = "00000000-0000-4000-8000-000000000000"
    elif case == "past_date":
        body["event_date"] = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    elif case == "today":
        body["event_date"] = timezone.localdate().isoformat()
    elif case == "over_capacity":
        body["guest_count"] = 201
    elif case == "zero_guests":
        body["guest_count"] = 0
    elif case == "unpublished_template":
        body["template_id"] = str(Template.objects.create(slug="hidden", title="Hidden").pk)
    elif case == "missing_title":
        del body["title"]
    return body


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_vendors", "vendors"),
        ("no_venue", "vendors"),
        ("two_venues", "vendors"),
        ("duplicate", "vendors"),
        ("zero_price", "vendors"),
        ("float_price", "vendors"),
        ("string_price", "vendors"),
        ("unknown_vendor", "vendors"),
        ("past_date", "event_date"),
        ("today", "event_date"),
        ("over_capacity", "guest_count"),
        ("zero_guests", "guest_count"),
        ("unpublished_template", "template_id"),
        ("missing_title", "title"),
    ],
)
def test_create_validation(organizer_client, request_body, venue, services, case, field):
    response = organizer_client.post(
        "/api/v1/bookings", invalid(request_body, venue, services, case)
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert not Booking.objects.exists()


def test_create_with_unapproved_vendor_is_403_vendor_not_approved(organizer_client, request_body):
    pending = ServiceVendorFactory(verification_status="pending")
    request_body["vendors"].append({"vendor_id": str(pending.pk), "proposed_price_cents": 9_000})
    response = organizer_client.post("/api/v1/bookings", request_body)
    assert response.status_code == 403
    assert error_code(response) == "vendor_not_approved"
    assert "vendors" in response.json()["error"]["details"]
    assert not Booking.objects.exists()


def test_add_vendor_validation(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    client = make_client(booking.organizer)
    existing = booking.vendors.last().vendor
    cases = [
        ({"vendor_id": str(VenueFactory().pk), "proposed_price_cents": 1_000}, 400, "vendor_id"),
        ({"vendor_id": str(existing.pk), "proposed_price_cents": 1_000}, 400, "vendor_id"),
        (
            {"vendor_id": "00000000-0000-4000-8000-000000000000", "proposed_price_cents": 1},
            400,
            "vendor_id",
        ),
        (
            {"vendor_id": str(ServiceVendorFactory().pk), "proposed_price_cents": -1},
            400,
            "proposed_price_cents",
        ),
        ({"proposed_price_cents": 1_000}, 400, "vendor_id"),
    ]
    for body, code, field in cases:
        response = client.post(url(booking, "/vendors"), body)
        assert response.status_code == code, (body, response.json())
        assert field in response.json()["error"]["details"]
    pending = ServiceVendorFactory(verification_status="pending")
    response = client.post(
        url(booking, "/vendors"), {"vendor_id": str(pending.pk), "proposed_price_cents": 1_000}
    )
    assert (response.status_code, error_code(response)) == (403, "vendor_not_approved")
    assert booking.vendors.count() == 2


def test_counter_validation(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    client = make_client(line.vendor.user)
    for body in ({}, {"price_cents": 0}, {"price_cents": 12.5}, {"price_cents": "100"}):
        response = client.post(line_url(line, "counter"), body)
        assert response.status_code == 400
        assert "price_cents" in response.json()["error"]["details"]
    assert refreshed(line).status == L.PENDING


def test_malformed_ids_are_404(organizer_client):
    assert organizer_client.get("/api/v1/bookings/not-a-uuid").status_code == 404
    booking = booking_with_vendors(status=S.AWAITING)
    response = organizer_client.post(url(booking, "/vendors/nope/approve"))
    assert response.status_code == 404
    response = organizer_client.post(
        url(booking, "/vendors/00000000-0000-4000-8000-000000000000/accept-counter")
    )
    assert response.status_code == 404


# --- trust screening ----------------------------------------------------------------------------


def test_notes_with_contact_details_are_refused_and_logged(organizer_client, request_body):
    request_body["notes"] = "Call me on +1 415 555 0199 or mail planner@example.com"
    response = organizer_client.post("/api/v1/bookings", request_body)
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "notes" in response.json()["error"]["details"]
    assert not Booking.objects.exists()
    event = ModerationEvent.objects.get()
    assert (event.context_type, event.action) == ("booking_note", "block")
    assert "planner@example.com" not in event.excerpt


def test_patch_notes_are_screened(make_client):
    booking = booking_with_vendors()
    response = make_client(booking.organizer).patch(
        url(booking), {"notes": "details at https://example.org/plan"}
    )
    assert response.status_code == 400
    assert "notes" in response.json()["error"]["details"]
    assert refreshed(booking).notes == ""
    assert ModerationEvent.objects.get().context_id == str(booking.pk)


def test_counter_notes_are_screened(make_client):
    booking = booking_with_vendors(status=S.AWAITING)
    line = booking.vendors.first()
    response = make_client(line.vendor.user).post(
        line_url(line, "counter"), {"price_cents": 600_000, "note": "email me: dj@example.com"}
    )
    assert response.status_code == 400
    assert "note" in response.json()["error"]["details"]
    assert refreshed(line).status == L.PENDING
    event = ModerationEvent.objects.get()
    assert (event.context_type, event.context_id) == ("counter_note", str(line.pk))


def test_admin_is_not_an_organizer_of_others_bookings(admin_client_api):
    booking = booking_with_vendors(status=S.AWAITING)
    response = admin_client_api.post(url(booking, "/cancel"))
    assert response.status_code == 403
    # staff cancel through admin_cancel (the admin endpoints), with confirmation and reason
    assert refreshed(booking).status == S.AWAITING
