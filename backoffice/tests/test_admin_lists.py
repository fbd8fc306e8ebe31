"""Admin lists (bookings, payments, audit logs) with filters and pinned query counts, and the
two staff booking actions with and without confirmation and reason."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking
from bookings.tests.factories import booking_with_vendors
from payments.models import Payout
from payments.tests.factories import PaymentFactory, ready_booking, succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.audit.services import write_audit_log

pytestmark = pytest.mark.django_db

CONFIRM = {"HTTP_X_CONFIRM_ACTION": "true"}


def results(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


# --- /admin/bookings --------------------------------------------------------------------------


def test_admin_bookings_filters(admin_client_api):
    organizer = OrganizerFactory(subscribed=True)
    today = timezone.localdate()
    soon = booking_with_vendors(status="draft", organizer=organizer)
    Booking.objects.filter(pk=soon.pk).update(event_date=today + datetime.timedelta(days=10))
    later = booking_with_vendors(status="awaiting_vendor_approval")
    Booking.objects.filter(pk=later.pk).update(event_date=today + datetime.timedelta(days=90))
    venue_id = later.vendors.get(role="venue").vendor_id

    def ids(query=""):
        return {b["id"] for b in results(admin_client_api, f"/api/v1/admin/bookings{query}")}

    assert ids() == {str(soon.pk), str(later.pk)}
    assert ids("?status=draft") == {str(soon.pk)}
    assert ids(f"?organizer_id={organizer.pk}") == {str(soon.pk)}
    assert ids(f"?vendor_id={venue_id}") == {str(later.pk)}
    to = today + datetime.timedelta(days=30)
    assert ids(f"?event_date_to={to.isoformat()}") == {str(soon.pk)}
    assert ids(f"?event_date_from={to.isoformat()}") == {str(later.pk)}
    assert admin_client_api.get("/api/v1/admin/bookings?status=nope").status_code == 400
    one = admin_client_api.get(f"/api/v1/admin/bookings/{later.pk}").json()
    assert one["status"] == "awaiting_vendor_approval" and len(one["vendors"]) == 2


@pytest.mark.parametrize("size", [5, 50])
def test_admin_bookings_query_count(admin_client_api, django_assert_num_queries, size):
    for _ in range(size):
        booking_with_vendors(prices=(500_000, 150_000, 90_000))
    # user, the page with its count, lines with their vendors
    with django_assert_num_queries(3):
        response = admin_client_api.get("/api/v1/admin/bookings?page_size=100")
    assert response.json()["count"] == size


# --- /admin/payments --------------------------------------------------------------------------


def test_admin_payments_filters_and_no_client_secret(admin_client_api):
    paid = succeeded_payment()
    pending = PaymentFactory(booking=ready_booking())

    def ids(query=""):
        return {p["id"] for p in results(admin_client_api, f"/api/v1/admin/payments{query}")}

    assert ids() == {str(paid.pk), str(pending.pk)}
    assert ids("?status=succeeded") == {str(paid.pk)}
    assert ids(f"?booking_id={pending.booking_id}") == {str(pending.pk)}
    body = admin_client_api.get(f"/api/v1/admin/payments/{pending.pk}").json()
    assert "client_secret" not in body and body["amount_cents"] == pending.amount_cents


@pytest.mark.parametrize("size", [5, 50])
def test_admin_payments_query_count(admin_client_api, django_assert_num_queries, size):
    for _ in range(size):
        PaymentFactory()
    with django_assert_num_queries(2):  # user, the page with its count
        response = admin_client_api.get("/api/v1/admin/payments?page_size=100")
    assert response.json()["count"] == size


# --- /admin/audit-logs ------------------------------------------------------------------------


def test_audit_logs_filters_newest_first_and_shape(admin_client_api, admin_user):
    booking = booking_with_vendors(status="draft")
    booking.submit(actor=booking.organizer)
    write_audit_log(
        actor=admin_user, action="test.poke", target=booking, after={"api_key": "x"}, reason="r"
    )

    rows = results(admin_client_api, "/api/v1/admin/audit-logs")
    times = [r["created_at"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert rows[0]["action"] == "test.poke"
    assert set(rows[0]) == {
        "id",
        "actor",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
        "reason",
        "ip",
        "created_at",
    }
    assert rows[0]["actor"] == {"id": str(admin_user.pk), "email": admin_user.email}
    assert rows[0]["after"] == {"api_key": "***"}

    mine = results(admin_client_api, f"/api/v1/admin/audit-logs?actor_id={admin_user.pk}")
    assert [r["action"] for r in mine] == ["test.poke"]
    submits = results(admin_client_api, "/api/v1/admin/audit-logs?action=booking.submit")
    assert len(submits) == 1 and submits[0]["actor"]["id"] == str(booking.organizer_id)
    on_booking = results(
        admin_client_api,
        f"/api/v1/admin/audit-logs?target_type=bookings.booking&target_id={booking.pk}",
    )
    assert {r["action"] for r in on_booking} >= {"booking.submit", "test.poke"}
    assert all(r["target_id"] == str(booking.pk) for r in on_booking)
    system = AuditLog.objects.filter(actor__isnull=True)
    assert all(r["actor"] is None for r in rows if r["id"] in {str(s.pk) for s in system})


@pytest.mark.parametrize("size", [5, 50])
def test_audit_logs_query_count(admin_client_api, admin_user, django_assert_num_queries, size):
    for i in range(size):
        write_audit_log(actor=admin_user, action="test.bulk", target=("x.y", i))
    with django_assert_num_queries(2):  # user, the page with its count (actor from the row)
        response = admin_client_api.get("/api/v1/admin/audit-logs?page_size=100&action=test.bulk")
    assert response.json()["count"] == size


# --- admin lists are admin only ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/admin/bookings", "/api/v1/admin/payments", "/api/v1/admin/audit-logs"]
)
def test_admin_lists_are_admin_only(organizer_client, api_client, url):
    assert organizer_client.get(url).status_code == 403
    assert api_client.get(url).status_code == 401


# --- cancel / force-complete ------------------------------------------------------------------


def paid_booking():
    return succeeded_payment().booking


def test_admin_cancel_needs_confirmation_and_a_reason(admin_client_api):
    booking = paid_booking()
    url = f"/api/v1/admin/bookings/{booking.pk}/cancel"
    response = admin_client_api.post(url, {"reason": "fraud"})
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "confirmation_required"
    for body in ({}, {"reason": "   "}):
        response = admin_client_api.post(url, body, **CONFIRM)
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["details"]
    booking.refresh_from_db()
    assert booking.status == "paid"
    assert not AuditLog.objects.filter(action="booking.admin_cancel").exists()


def test_admin_cancel_with_confirmation_cancels_audits_and_refunds_money(
    admin_client_api, admin_user, stripe_local
):
    booking = paid_booking()
    response = admin_client_api.post(
        f"/api/v1/admin/bookings/{booking.pk}/cancel",
        {"reason": "Venue flooded; organizer agreed"},
        **CONFIRM,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == str(booking.pk) and body["status"] == "canceled"
    log = AuditLog.objects.get(action="booking.admin_cancel")
    assert log.actor_id == admin_user.pk
    assert log.reason == "Venue flooded; organizer agreed"
    assert log.before == {"status": "paid"} and log.after == {"status": "canceled"}
    # Payments' hook: everything refundable goes back to the organizer through Stripe.
    assert set(Payout.objects.filter(booking=booking).values_list("status", flat=True)) == {
        "reversed"
    }
    [refund] = booking.refunds.all()
    assert refund.status == "succeeded" and refund.amount_cents == refund.payment.amount_cents


def test_admin_force_complete(admin_client_api, admin_user):
    booking = paid_booking()
    url = f"/api/v1/admin/bookings/{booking.pk}/force-complete"
    assert admin_client_api.post(url, {"reason": "done"}).status_code == 428
    assert admin_client_api.post(url, {}, **CONFIRM).status_code == 400
    response = admin_client_api.post(url, {"reason": "Event happened; app was down"}, **CONFIRM)
    assert response.status_code == 200 and response.json()["status"] == "completed"
    log = AuditLog.objects.get(action="booking.force_complete")
    assert log.actor_id == admin_user.pk and log.reason == "Event happened; app was down"
    completions = Payout.objects.filter(booking=booking, kind="completion")
    assert set(completions.values_list("status", flat=True)) == {"eligible"}


@pytest.mark.parametrize(
    "status, action",
    [("completed", "cancel"), ("canceled", "force-complete"), ("draft", "force-complete")],
)
def test_illegal_admin_actions_are_409(admin_client_api, status, action):
    booking = booking_with_vendors(status=status)
    response = admin_client_api.post(
        f"/api/v1/admin/bookings/{booking.pk}/{action}", {"reason": "x"}, **CONFIRM
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    booking.refresh_from_db()
    assert booking.status == status


@pytest.mark.parametrize("action", ["cancel", "force-complete"])
def test_admin_actions_are_admin_only(make_client, action):
    booking = paid_booking()
    response = make_client(booking.organizer).post(
        f"/api/v1/admin/bookings/{booking.pk}/{action}", {"reason": "x"}, **CONFIRM
    )
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == "paid"


def test_unknown_booking_is_404(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/admin/bookings/00000000-0000-0000-0000-000000000000/cancel",
        {"reason": "x"},
        **CONFIRM,
    )
    assert response.status_code == 404
