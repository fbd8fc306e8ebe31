"""Vendor verification by staff: every transition of the state table (legal and illegal),
the audit trail, role checks, the admin list, and the database's profile/type rules."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.tests.factories import AdminFactory, VendorUserFactory
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from vendors.models import Vendor
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

PENDING, APPROVED, NEEDS_CHANGES = "pending", "approved", "needs_changes"


def approve(client, vendor, **body):
    return client.post(f"/api/v1/admin/vendors/{vendor.id}/approve", body)


def needs_changes(client, vendor, notes="Please add photos of the hall."):
    return client.post(f"/api/v1/admin/vendors/{vendor.id}/needs-changes", {"notes": notes})


# --- legal transitions ----------------------------------------------------------------------


def test_admin_approves_pending_vendor(admin_client_api, admin_user, api_client):
    vendor = VenueFactory(verification_status=PENDING)
    response = approve(admin_client_api, vendor, notes="Looks great.")
    assert response.status_code == 200, response.json()
    assert response.json()["verification_status"] == APPROVED
    assert response.json()["verified_at"]
    vendor.refresh_from_db()
    assert vendor.verification_status == APPROVED and vendor.verified_at is not None
    assert vendor.admin_notes == "Looks great."

    log = AuditLog.objects.get(action="vendor.approve")
    assert log.actor_id == admin_user.id
    assert log.target_type == "vendors.vendor" and log.target_id == str(vendor.id)
    assert log.before["verification_status"] == PENDING
    assert log.after["verification_status"] == APPROVED
    assert log.after["profile"]["capacity"] == 300
    # now visible in the public directory
    assert api_client.get(f"/api/v1/vendors/{vendor.id}").status_code == 200


def test_admin_requests_changes_then_vendor_resubmits_then_admin_approves(
    admin_client_api, make_client
):
    vendor = VenueFactory(verification_status=PENDING)
    response = needs_changes(admin_client_api, vendor, notes="The address is incomplete.")
    assert response.status_code == 200
    assert response.json()["verification_status"] == NEEDS_CHANGES
    assert response.json()["admin_notes"] == "The address is incomplete."
    log = AuditLog.objects.get(action="vendor.request_changes")
    assert (log.before["verification_status"], log.after["verification_status"]) == (
        PENDING,
        NEEDS_CHANGES,
    )
    assert log.reason == "The address is incomplete."

    vendor_client = make_client(vendor.user)
    me = vendor_client.get("/api/v1/vendors/me").json()
    assert me["admin_notes"] == "The address is incomplete."
    patched = vendor_client.patch("/api/v1/vendors/me", {"venue_profile": {"address": "9 Elm St"}})
    assert patched.json()["verification_status"] == PENDING

    response = approve(admin_client_api, vendor)
    assert response.status_code == 200
    assert response.json()["verification_status"] == APPROVED
    assert response.json()["admin_notes"] == ""  # the old change request is cleared
    assert list(
        AuditLog.objects.filter(target_id=str(vendor.id))
        .order_by("created_at")
        .values_list("action", flat=True)
    ) == [
        "vendor.request_changes",
        "vendor.update",
        "vendor.resubmit",
        "vendor.approve",
    ]


# --- illegal transitions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "endpoint"),
    [
        (APPROVED, "approve"),
        (APPROVED, "needs-changes"),
        (NEEDS_CHANGES, "approve"),
        (NEEDS_CHANGES, "needs-changes"),
    ],
)
def test_illegal_admin_transitions_are_409_and_change_nothing(admin_client_api, start, endpoint):
    vendor = VenueFactory(verification_status=start, admin_notes="keep")
    response = admin_client_api.post(
        f"/api/v1/admin/vendors/{vendor.id}/{endpoint}", {"notes": "again"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    vendor.refresh_from_db()
    assert vendor.verification_status == start
    assert vendor.admin_notes == "keep"
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("start", "method", "kwargs"),
    [
        (PENDING, "resubmit", {}),
        (APPROVED, "resubmit", {}),
        (APPROVED, "approve", {}),
        (APPROVED, "request_changes", {"notes": "x"}),
        (NEEDS_CHANGES, "approve", {}),
        (NEEDS_CHANGES, "request_changes", {"notes": "x"}),
    ],
)
def test_illegal_model_transitions_raise(start, method, kwargs):
    vendor = VenueFactory(verification_status=start)
    with pytest.raises(InvalidTransition):
        getattr(vendor, method)(actor=AdminFactory(), **kwargs)
    vendor.refresh_from_db()
    assert vendor.verification_status == start
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("start", "method", "kwargs", "end"),
    [
        (PENDING, "approve", {}, APPROVED),
        (PENDING, "request_changes", {"notes": "x"}, NEEDS_CHANGES),
        (NEEDS_CHANGES, "resubmit", {}, PENDING),
    ],
)
def test_legal_model_transitions(start, method, kwargs, end):
    vendor = VenueFactory(verification_status=start)
    returned = getattr(vendor, method)(actor=AdminFactory(), **kwargs)
    assert returned.verification_status == end == vendor.verification_status
    vendor.refresh_from_db()
    assert vendor.verification_status == end
    assert AuditLog.objects.count() == 1


def test_needs_changes_requires_notes(admin_client_api):
    vendor = VenueFactory(verification_status=PENDING)
    for body in ({}, {"notes": ""}, {"notes": "   "}):
        response = admin_client_api.post(f"/api/v1/admin/vendors/{vendor.id}/needs-changes", body)
        assert response.status_code == 400
        assert "notes" in response.json()["error"]["details"]
    vendor.refresh_from_db()
    assert vendor.verification_status == PENDING


# --- roles ----------------------------------------------------------------------------------


def test_vendor_cannot_approve_itself(make_client):
    vendor = VenueFactory(verification_status=PENDING)
    client = make_client(vendor.user)
    for response in (
        approve(client, vendor),
        needs_changes(client, vendor),
        client.get("/api/v1/admin/vendors"),
        client.get(f"/api/v1/admin/vendors/{vendor.id}"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    vendor.refresh_from_db()
    assert vendor.verification_status == PENDING
    assert not AuditLog.objects.exists()


def test_organizer_and_anonymous_cannot_verify(organizer_client, api_client):
    vendor = VenueFactory(verification_status=PENDING)
    assert approve(organizer_client, vendor).status_code == 403
    assert approve(api_client, vendor).status_code == 401
    vendor.refresh_from_db()
    assert vendor.verification_status == PENDING


def test_unknown_vendor_is_404(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/admin/vendors/00000000-0000-0000-0000-000000000000/approve"
    )
    assert response.status_code == 404


# --- admin list -----------------------------------------------------------------------------


def test_admin_list_shows_every_vendor_and_filters_status(admin_client_api):
    pending = VenueFactory(verification_status=PENDING)
    VenueFactory()
    ServiceVendorFactory(verification_status=NEEDS_CHANGES)
    body = admin_client_api.get("/api/v1/admin/vendors").json()
    assert body["count"] == 3
    assert {"admin_notes", "user_id", "user_email"} <= set(body["results"][0])
    filtered = admin_client_api.get("/api/v1/admin/vendors", {"verification_status": PENDING})
    assert [row["id"] for row in filtered.json()["results"]] == [str(pending.id)]
    detail = admin_client_api.get(f"/api/v1/admin/vendors/{pending.id}").json()
    assert detail["user_email"] == pending.user.email
    bad = admin_client_api.get("/api/v1/admin/vendors", {"verification_status": "rejected"})
    assert bad.status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_admin_list_query_count_does_not_grow(admin_client_api, django_assert_num_queries, rows):
    for i in range(rows):
        (VenueFactory if i % 2 else ServiceVendorFactory)(verification_status=PENDING)
    with django_assert_num_queries(2):  # admin user + the page with its total (joined)
        response = admin_client_api.get("/api/v1/admin/vendors", {"page_size": 100})
    assert len(response.json()["results"]) == rows


# --- database rules -------------------------------------------------------------------------


def _raw_insert(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_refuses_a_profile_of_the_other_type():
    venue = VenueFactory()
    service = ServiceVendorFactory()
    with pytest.raises(IntegrityError, match="only allowed for a service vendor"):
        _raw_insert(
            "INSERT INTO vendors_serviceprofile (vendor_id, category, service_area, "
            "base_price_cents) VALUES (%s, 'music', 'Austin', 100)",
            [venue.id],
        )
    with pytest.raises(IntegrityError, match="only allowed for a venue vendor"):
        _raw_insert(
            "INSERT INTO vendors_venueprofile (vendor_id, address, capacity, base_price_cents, "
            "amenities) VALUES (%s, 'x', 10, 100, '[]')",
            [service.id],
        )
    with pytest.raises(IntegrityError):  # a second profile of the right type: one-to-one
        _raw_insert(
            "INSERT INTO vendors_venueprofile (vendor_id, address, capacity, base_price_cents, "
            "amenities) VALUES (%s, 'x', 10, 100, '[]')",
            [venue.id],
        )


def test_database_refuses_a_type_change_once_a_profile_exists():
    venue = VenueFactory()
    with pytest.raises(IntegrityError, match="cannot change"):
        _raw_insert("UPDATE vendors_vendor SET vendor_type = 'service' WHERE id = %s", [venue.id])
    venue.refresh_from_db()
    assert venue.vendor_type == "venue"


def test_profile_of_matching_type_is_accepted_by_the_database():
    vendor = Vendor.objects.create(
        user=VendorUserFactory(),
        vendor_type="service",
        business_name="Raw",
        city="Austin",
    )
    _raw_insert(
        "INSERT INTO vendors_serviceprofile (vendor_id, category, service_area, "
        "base_price_cents) VALUES (%s, 'music', 'Austin', 100)",
        [vendor.id],
    )
    assert vendor.profile.category == "music"


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_needs_changes_only_one_wins():
    vendor = VenueFactory(verification_status=PENDING)
    admins = [AdminFactory(), AdminFactory()]
    barrier = threading.Barrier(2)
    outcomes = []

    def act(i):
        try:
            barrier.wait()
            if i == 0:
                vendor.approve(actor=admins[0])
            else:
                vendor.request_changes(actor=admins[1], notes="x")
            outcomes.append("ok")
        except InvalidTransition:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert AuditLog.objects.filter(target_id=str(vendor.id)).count() == 1
