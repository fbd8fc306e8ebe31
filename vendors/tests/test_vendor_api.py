"""Vendor onboarding, the own vendor (/vendors/me), and the public directory."""

import threading
import uuid

import pytest

from accounts.tests.factories import AdminFactory, OrganizerFactory, VendorUserFactory
from strathwell.audit.models import AuditLog
from strathwell.uploads.models import Upload
from strathwell.uploads.tests.factories import UploadFactory
from trust.models import ModerationEvent
from vendors.models import ServiceProfile, Vendor, VenueProfile
from vendors.tests.factories import ServiceVendorFactory, VendorFactory, VenueFactory

pytestmark = pytest.mark.django_db


def venue_body(**overrides):
    return {
        "vendor_type": "venue",
        "business_name": "The Glasshouse",
        "description": "A light-filled hall by the river.",
        "city": "Austin",
        "venue_profile": {
            "address": "1 River Road",
            "capacity": 250,
            "base_price_cents": 450_000,
            "amenities": ["parking", "stage"],
        },
        **overrides,
    }


def service_body(**overrides):
    return {
        "vendor_type": "service",
        "business_name": "Golden Spoon Catering",
        "description": "Seasonal menus for up to 500 guests.",
        "city": "Dallas",
        "service_profile": {
            "category": "catering",
            "service_area": "North Texas",
            "base_price_cents": 120_000,
        },
        **overrides,
    }


@pytest.fixture
def vendor_user():
    return VendorUserFactory()


@pytest.fixture
def vendor_client(make_client, vendor_user):
    return make_client(vendor_user)


# --- onboarding -----------------------------------------------------------------------------


def test_onboard_venue(vendor_client, vendor_user):
    response = vendor_client.post("/api/v1/vendors/onboarding", venue_body())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["verification_status"] == "pending"
    assert body["vendor_type"] == "venue"
    assert body["venue_profile"] == venue_body()["venue_profile"]
    assert body["service_profile"] is None
    vendor = Vendor.objects.get(user=vendor_user)
    assert str(vendor.id) == body["id"]
    assert VenueProfile.objects.get(vendor=vendor).capacity == 250
    assert not ServiceProfile.objects.filter(vendor=vendor).exists()
    log = AuditLog.objects.get(action="vendor.onboard")
    assert log.actor_id == vendor_user.id and log.target_id == str(vendor.id)
    assert log.after["profile"]["capacity"] == 250


def test_onboard_service(vendor_client):
    response = vendor_client.post("/api/v1/vendors/onboarding", service_body())
    assert response.status_code == 201, response.json()
    assert response.json()["service_profile"]["category"] == "catering"
    assert response.json()["venue_profile"] is None


def test_second_onboarding_is_already_exists(vendor_client):
    assert vendor_client.post("/api/v1/vendors/onboarding", venue_body()).status_code == 201
    response = vendor_client.post("/api/v1/vendors/onboarding", service_body())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_exists"
    assert Vendor.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # the matching profile is missing
        (venue_body(venue_profile=None), "venue_profile"),
        ({k: v for k, v in venue_body().items() if k != "venue_profile"}, "venue_profile"),
        ({k: v for k, v in service_body().items() if k != "service_profile"}, "service_profile"),
        # the profile of the other type
        (
            {**service_body(), "vendor_type": "venue", "venue_profile": None},
            "service_profile",
        ),
        ({**venue_body(), "service_profile": service_body()["service_profile"]}, "service_profile"),
        ({**venue_body(), "vendor_type": "service"}, "venue_profile"),
        # bad values
        (venue_body(vendor_type="caterer"), "vendor_type"),
        (venue_body(business_name=""), "business_name"),
        (venue_body(city=""), "city"),
        (
            venue_body(venue_profile={"address": "x", "capacity": 0, "base_price_cents": 1}),
            "venue_profile",
        ),
        (
            service_body(
                service_profile={"category": "c", "service_area": "a", "base_price_cents": -5}
            ),
            "service_profile",
        ),
    ],
)
def test_onboarding_validation_names_the_field(vendor_client, body, field):
    response = vendor_client.post("/api/v1/vendors/onboarding", body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert not Vendor.objects.exists()


def test_onboarding_blocks_contact_details_in_description(vendor_client, vendor_user):
    body = venue_body(description="Book direct: call 512-555-0199 or mail hall@example.com")
    response = vendor_client.post("/api/v1/vendors/onboarding", body)
    assert response.status_code == 400
    assert "description" in response.json()["error"]["details"]
    assert not Vendor.objects.exists()
    event = ModerationEvent.objects.get(user=vendor_user)
    assert event.action == "block" and event.context_type == "profile"


@pytest.mark.parametrize("role", ["organizer", "admin"])
def test_only_vendor_accounts_onboard(make_client, role):
    user = OrganizerFactory() if role == "organizer" else AdminFactory()
    response = make_client(user).post("/api/v1/vendors/onboarding", venue_body())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Vendor.objects.exists()


def test_onboarding_needs_authentication(api_client):
    assert api_client.post("/api/v1/vendors/onboarding", venue_body()).status_code == 401


# --- /vendors/me ----------------------------------------------------------------------------


def test_me_before_onboarding_is_404(vendor_client):
    response = vendor_client.get("/api/v1/vendors/me")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_me_shows_own_vendor_with_admin_notes(make_client):
    vendor = VenueFactory(verification_status="needs_changes", admin_notes="Add photos.")
    body = make_client(vendor.user).get("/api/v1/vendors/me").json()
    assert body["id"] == str(vendor.id)
    assert body["admin_notes"] == "Add photos."
    assert body["verification_status"] == "needs_changes"
    assert body["venue_profile"]["address"] == "1200 Market Street"


def test_organizer_cannot_read_vendors_me(organizer_client, make_client):
    VenueFactory()
    for client in (organizer_client, make_client(AdminFactory())):
        response = client.get("/api/v1/vendors/me")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert client.patch("/api/v1/vendors/me", {"city": "Reno"}).status_code == 403


def test_patch_updates_fields_and_profile(make_client):
    vendor = VenueFactory(verification_status="pending")
    response = make_client(vendor.user).patch(
        "/api/v1/vendors/me",
        {"business_name": "  The New Hall ", "venue_profile": {"capacity": 400}},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["business_name"] == "The New Hall"
    assert body["venue_profile"]["capacity"] == 400
    assert body["venue_profile"]["address"] == "1200 Market Street"  # merged, not replaced
    assert body["verification_status"] == "pending"
    vendor.refresh_from_db()
    assert vendor.venue_profile.capacity == 400
    log = AuditLog.objects.get(action="vendor.update")
    assert log.before["profile"]["capacity"] == 300 and log.after["profile"]["capacity"] == 400


def test_patch_while_needs_changes_resubmits(make_client):
    vendor = VenueFactory(verification_status="needs_changes", admin_notes="Fix the address.")
    response = make_client(vendor.user).patch(
        "/api/v1/vendors/me", {"venue_profile": {"address": "2 Main St"}}
    )
    assert response.status_code == 200
    assert response.json()["verification_status"] == "pending"
    vendor.refresh_from_db()
    assert vendor.verification_status == "pending"
    log = AuditLog.objects.get(action="vendor.resubmit")
    assert log.actor_id == vendor.user_id
    assert log.before["verification_status"] == "needs_changes"
    assert log.after["verification_status"] == "pending"


def test_patch_of_approved_vendor_keeps_it_approved(make_client):
    vendor = VenueFactory()
    response = make_client(vendor.user).patch("/api/v1/vendors/me", {"city": "Houston"})
    assert response.status_code == 200
    assert response.json()["verification_status"] == "approved"
    assert not AuditLog.objects.filter(action="vendor.resubmit").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service_profile": {"category": "music"}}, "service_profile"),
        ({"vendor_type": "service"}, "vendor_type"),
        ({"business_name": ""}, "business_name"),
        ({"venue_profile": {"capacity": -1}}, "venue_profile"),
        ({"description": "WhatsApp me on +1 512 555 0199"}, "description"),
    ],
)
def test_patch_validation_changes_nothing(make_client, body, field):
    vendor = VenueFactory(verification_status="needs_changes")
    response = make_client(vendor.user).patch("/api/v1/vendors/me", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    vendor.refresh_from_db()
    assert vendor.verification_status == "needs_changes"
    assert vendor.venue_profile.capacity == 300
    assert not AuditLog.objects.exists()


def test_patch_attaches_own_uploaded_photos(make_client):
    vendor = VenueFactory()
    first, second = UploadFactory(owner=vendor.user), UploadFactory(owner=vendor.user)
    response = make_client(vendor.user).patch(
        "/api/v1/vendors/me", {"photo_keys": [first.key, second.key, first.key]}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["photo_keys"] == [first.key, second.key]
    vendor.refresh_from_db()
    assert vendor.photo_keys == [first.key, second.key]


def test_patch_refuses_photo_keys_of_others_unknown_or_not_images(make_client):
    vendor = VenueFactory()
    someone_elses = UploadFactory()
    pdf = UploadFactory(owner=vendor.user, content_type="application/pdf", key="uploads/x.pdf")
    client = make_client(vendor.user)
    for keys in ([someone_elses.key], ["uploads/never-issued.png"], [pdf.key]):
        response = client.patch("/api/v1/vendors/me", {"photo_keys": keys})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert "photo_keys" in response.json()["error"]["details"]
    vendor.refresh_from_db()
    assert vendor.photo_keys == []


def test_patch_refuses_photo_key_whose_bytes_never_arrived(make_client, settings):
    settings.STORAGE_PROVIDER = "local"
    vendor = VenueFactory()
    pending = UploadFactory(owner=vendor.user, status=Upload.Status.PENDING)
    response = make_client(vendor.user).patch("/api/v1/vendors/me", {"photo_keys": [pending.key]})
    assert response.status_code == 400
    assert "not been uploaded" in response.json()["error"]["details"]["photo_keys"][0]


# --- public directory -----------------------------------------------------------------------


def test_directory_lists_approved_vendors_only(api_client):
    approved = VenueFactory(business_name="Approved Hall")
    VenueFactory(verification_status="pending")
    VenueFactory(verification_status="needs_changes")
    response = api_client.get("/api/v1/vendors")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["id"] == str(approved.id)
    assert row["venue_profile"]["capacity"] == 300
    assert row["service_profile"] is None
    assert "admin_notes" not in row


def test_unapproved_vendor_detail_is_404(api_client, organizer_client):
    for status_ in ("pending", "needs_changes"):
        vendor = VenueFactory(verification_status=status_)
        for client in (api_client, organizer_client):
            response = client.get(f"/api/v1/vendors/{vendor.id}")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
    assert api_client.get(f"/api/v1/vendors/{uuid.uuid4()}").status_code == 404
    assert api_client.get("/api/v1/vendors/not-a-uuid").status_code == 404


def test_directory_detail_with_profile(api_client):
    vendor = ServiceVendorFactory()
    response = api_client.get(f"/api/v1/vendors/{vendor.id}")
    assert response.status_code == 200
    assert response.json()["service_profile"] == {
        "category": "catering",
        "service_area": "Austin metro",
        "base_price_cents": 150_000,
    }
    assert response.json()["venue_profile"] is None


def test_directory_filters(api_client):
    hall = VenueFactory(business_name="River Hall", city="Austin")
    band = ServiceVendorFactory(
        business_name="Night Owls", city="Dallas", description="Jazz band for river cruises"
    )
    VenueFactory(business_name="River Secret", city="Austin", verification_status="pending")

    def ids(**params):
        return {row["id"] for row in api_client.get("/api/v1/vendors", params).json()["results"]}

    assert ids(vendor_type="venue") == {str(hall.id)}
    assert ids(vendor_type="service") == {str(band.id)}
    assert ids(city="austin") == {str(hall.id)}
    assert ids(city="aus") == set()
    assert ids(q="river") == {str(hall.id), str(band.id)}
    assert ids(q="river", vendor_type="service") == {str(band.id)}
    response = api_client.get("/api/v1/vendors", {"vendor_type": "florist"})
    assert response.status_code == 400
    assert "vendor_type" in response.json()["error"]["details"]


@pytest.mark.parametrize("rows", [5, 50])
def test_directory_query_count_does_not_grow(api_client, django_assert_num_queries, rows):
    for i in range(rows):
        (VenueFactory if i % 2 else ServiceVendorFactory)()
    VenueFactory(verification_status="pending")
    with django_assert_num_queries(1):  # the page with its total (profiles joined)
        response = api_client.get("/api/v1/vendors", {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_factory_defaults_still_work():
    vendor = VendorFactory()
    assert vendor.is_approved and vendor.profile.capacity == 300
    service = VendorFactory(service=True)
    assert service.profile.category == "catering"


@pytest.mark.django_db(transaction=True)
def test_concurrent_onboarding_creates_one_vendor():
    from django.db import connection

    from strathwell.exceptions import AlreadyExists
    from vendors.serializers import OnboardingSerializer
    from vendors.services import onboard_vendor

    user = VendorUserFactory()
    serializer = OnboardingSerializer(data=venue_body())
    serializer.is_valid(raise_exception=True)
    barrier = threading.Barrier(2)
    outcomes = []

    def onboard():
        try:
            barrier.wait()
            onboard_vendor(user=user, data=serializer.validated_data)
            outcomes.append("created")
        except AlreadyExists:
            outcomes.append("already_exists")
        finally:
            connection.close()

    threads = [threading.Thread(target=onboard) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_exists", "created"]
    assert Vendor.objects.filter(user=user).count() == 1
    assert VenueProfile.objects.count() == 1
    assert AuditLog.objects.filter(action="vendor.onboard").count() == 1
