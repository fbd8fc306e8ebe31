"""Payout transitions through the API: vendor request, staff approve/hold/release/reverse."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import AdminFactory, VendorUserFactory
from conftest import client_for
from disputes.models import Dispute
from payments.models import LedgerEntry, Payout
from payments.tests.factories import succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition

pytestmark = pytest.mark.django_db

CONFIRM = {"HTTP_X_CONFIRM_ACTION": "true"}


def payout_of(payment, kind="reservation", position=0):
    return Payout.objects.get(payment=payment, kind=kind, booking_vendor__position=position)


def vendor_client(payout):
    return client_for(payout.vendor.user)


def admin_post(client, payout, action, data=None, confirm=True):
    headers = CONFIRM if confirm else {}
    return client.post(
        f"/api/v1/admin/payouts/{payout.pk}/{action}", data or {}, format="json", **headers
    )


def requested(payment, position=0):
    payout = payout_of(payment, "reservation", position)
    return payout.request(actor=payout.vendor.user)


def open_dispute(payment):
    return Dispute.objects.create(
        booking=payment.booking, opened_by=payment.organizer, reason="quality"
    )


# --- vendor ----------------------------------------------------------------------------------


def test_vendor_lists_only_own_payouts_with_filter():
    payment = succeeded_payment()
    mine = payout_of(payment)
    client = vendor_client(mine)

    listed = client.get("/api/v1/vendor/payouts").json()
    filtered = client.get("/api/v1/vendor/payouts?status=eligible").json()

    assert {p["kind"] for p in listed["results"]} == {"reservation", "completion"}
    assert {p["vendor_id"] for p in listed["results"]} == {str(mine.vendor_id)}
    assert set(listed["results"][0]) >= {
        "id",
        "vendor_id",
        "booking_id",
        "booking_vendor_id",
        "payment_id",
        "kind",
        "amount_cents",
        "currency",
        "status",
        "requested_at",
        "paid_at",
        "hold_reason",
    }
    assert filtered["count"] == 0


@pytest.mark.parametrize("bookings", [2, 12])
def test_payout_lists_have_constant_query_counts(
    bookings, admin_client_api, django_assert_max_num_queries
):
    from bookings.models import BookingVendor
    from payments.services import record_payment_success
    from payments.tests.factories import PaymentFactory, ready_booking

    first = succeeded_payment()
    vendor = payout_of(first).vendor
    for _ in range(bookings - 1):
        booking = ready_booking(prices=(100_000,))
        BookingVendor.objects.filter(booking=booking).update(vendor=vendor)  # set-up only
        record_payment_success(PaymentFactory(booking=booking))
    client = client_for(vendor.user)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/vendor/payouts?page_size=100")
    assert response.json()["count"] == 2 * bookings
    with django_assert_max_num_queries(5):
        response = admin_client_api.get(
            f"/api/v1/admin/payouts?vendor_id={vendor.pk}&page_size=100"
        )
    assert response.json()["count"] == 2 * bookings


def test_vendor_requests_reservation_payout():
    payment = succeeded_payment()
    payout = payout_of(payment)

    response = vendor_client(payout).post(f"/api/v1/vendor/payouts/{payout.pk}/request")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "eligible"
    assert response.json()["requested_at"] is not None
    log = AuditLog.objects.get(action="payout.request")
    assert log.actor_id == payout.vendor.user_id
    assert (log.before["status"], log.after["status"]) == ("locked", "eligible")
    # A repeat is a no-op.
    again = vendor_client(payout).post(f"/api/v1/vendor/payouts/{payout.pk}/request")
    assert again.status_code == 200
    assert AuditLog.objects.filter(action="payout.request").count() == 1


def test_vendor_cannot_request_completion_payout_or_others_payouts():
    payment = succeeded_payment()
    completion = payout_of(payment, "completion")
    client = vendor_client(completion)

    response = client.post(f"/api/v1/vendor/payouts/{completion.pk}/request")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"

    someone_elses = payout_of(payment, "reservation", position=1)
    assert client.post(f"/api/v1/vendor/payouts/{someone_elses.pk}/request").status_code == 404
    assert client_for(VendorUserFactory()).get("/api/v1/vendor/payouts").json()["count"] == 0


def test_request_refused_while_dispute_is_open():
    payment = succeeded_payment()
    open_dispute(payment)
    payout = payout_of(payment)
    response = vendor_client(payout).post(f"/api/v1/vendor/payouts/{payout.pk}/request")
    assert response.status_code == 409
    assert "dispute" in response.json()["error"]["message"]
    payout.refresh_from_db()
    assert payout.status == "locked"


def test_organizer_and_admin_cannot_use_vendor_endpoints(organizer_client, admin_client_api):
    assert organizer_client.get("/api/v1/vendor/payouts").status_code == 403
    assert admin_client_api.get("/api/v1/vendor/payouts").status_code == 403


# --- admin -----------------------------------------------------------------------------------


def test_admin_approves_eligible_payout_and_writes_ledger_entry(admin_user, admin_client_api):
    payment = succeeded_payment()
    payout = requested(payment)

    response = admin_post(admin_client_api, payout, "approve", {"reason": "weekly run"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["paid_at"] is not None
    entry = LedgerEntry.objects.get(entry_type="payout")
    assert (entry.payout_id, entry.amount_cents, entry.payment_id) == (
        payout.pk,
        payout.amount_cents,
        payment.pk,
    )
    log = AuditLog.objects.get(action="payout.approve")
    assert log.actor_id == admin_user.pk
    assert log.reason == "weekly run"
    assert log.before["status"] == "eligible" and log.after["status"] == "paid"
    assert log.target_id == str(payout.pk)


def test_approve_needs_confirmation(admin_client_api):
    payout = requested(succeeded_payment())
    response = admin_post(admin_client_api, payout, "approve", confirm=False)
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "confirmation_required"
    payout.refresh_from_db()
    assert payout.status == "eligible"
    assert not LedgerEntry.objects.filter(entry_type="payout").exists()


def test_illegal_transitions_are_409_and_change_nothing(admin_client_api):
    payment = succeeded_payment()
    locked = payout_of(payment, "completion")
    paid = requested(payment)
    admin_post(admin_client_api, paid, "approve")

    cases = [
        (locked, "approve", {}),  # locked → paid skips eligible
        (locked, "release", {"reason": "x"}),  # not held
        (paid, "hold", {"reason": "x"}),  # paid is final
        (paid, "reverse", {"reason": "x"}),
    ]
    for payout, action, data in cases:
        before = Payout.objects.get(pk=payout.pk).status
        response = admin_post(admin_client_api, payout, action, data)
        assert response.status_code == 409, (action, response.content)
        assert response.json()["error"]["code"] == "invalid_transition"
        assert Payout.objects.get(pk=payout.pk).status == before
    assert LedgerEntry.objects.filter(entry_type="payout").count() == 1


def test_approve_refused_while_dispute_is_open(admin_client_api):
    payment = succeeded_payment()
    payout = requested(payment)
    open_dispute(payment)
    response = admin_post(admin_client_api, payout, "approve")
    assert response.status_code == 409
    assert not LedgerEntry.objects.filter(entry_type="payout").exists()


def test_hold_requires_reason_then_release_and_reverse(admin_client_api):
    payment = succeeded_payment()
    payout = requested(payment)

    missing = admin_post(admin_client_api, payout, "hold", {}, confirm=False)
    assert missing.status_code == 400
    assert missing.json()["error"]["details"] == {"reason": ["This field is required."]}

    held = admin_post(admin_client_api, payout, "hold", {"reason": "KYC check"}, confirm=False)
    assert held.status_code == 200
    assert (held.json()["status"], held.json()["hold_reason"]) == ("held", "KYC check")

    assert (
        admin_post(admin_client_api, payout, "release", {"reason": "ok"}, confirm=False).status_code
        == 428
    )
    released = admin_post(admin_client_api, payout, "release", {"reason": "KYC ok"})
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["hold_reason"]) == ("eligible", "")

    assert (
        admin_post(admin_client_api, payout, "reverse", {"reason": "x"}, confirm=False).status_code
        == 428
    )
    assert admin_post(admin_client_api, payout, "reverse", {}).status_code == 400
    reversed_ = admin_post(admin_client_api, payout, "reverse", {"reason": "refund"})
    assert reversed_.status_code == 200
    assert reversed_.json()["status"] == "reversed"
    assert reversed_.json()["reverse_reason"] == "refund"
    actions = list(
        AuditLog.objects.filter(target_id=str(payout.pk))
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["payout.request", "payout.hold", "payout.release", "payout.reverse"]


def test_release_of_a_never_due_payout_goes_back_to_locked(admin_client_api):
    payout = payout_of(succeeded_payment(), "completion")  # booking is only paid
    admin_post(admin_client_api, payout, "hold", {"reason": "check"})
    response = admin_post(admin_client_api, payout, "release", {"reason": "fine"})
    assert response.status_code == 200
    assert response.json()["status"] == "locked"


def test_release_refused_while_dispute_is_open(admin_client_api):
    payment = succeeded_payment()
    payout = requested(payment)
    admin_post(admin_client_api, payout, "hold", {"reason": "check"})
    open_dispute(payment)
    response = admin_post(admin_client_api, payout, "release", {"reason": "fine"})
    assert response.status_code == 409
    assert Payout.objects.get(pk=payout.pk).status == "held"


def test_hold_with_dispute_and_repeat_is_no_op(admin_user):
    payment = succeeded_payment()
    payout = requested(payment)
    dispute = open_dispute(payment)
    held = payout.hold(actor=admin_user, reason="dispute opened", dispute=dispute)
    assert held.held_by_dispute_id == dispute.pk
    assert payout.hold(actor=admin_user, reason="again").hold_reason == "dispute opened"
    assert AuditLog.objects.filter(action="payout.hold").count() == 1


def test_make_eligible_requires_a_completed_booking():
    payout = payout_of(succeeded_payment(), "completion")
    with pytest.raises(InvalidTransition, match="completed"):
        payout.make_eligible()
    with pytest.raises(InvalidTransition, match="Only completion"):
        payout_of(payout.payment, "reservation").make_eligible()


def test_admin_list_filters_and_access(admin_client_api, organizer_client):
    payment = succeeded_payment()
    payout = requested(payment)
    listed = admin_client_api.get("/api/v1/admin/payouts?status=eligible").json()
    assert [p["id"] for p in listed["results"]] == [str(payout.pk)]
    by_vendor = admin_client_api.get(f"/api/v1/admin/payouts?vendor_id={payout.vendor_id}").json()
    assert by_vendor["count"] == 2
    assert organizer_client.get("/api/v1/admin/payouts").status_code == 403
    assert admin_client_api.get(f"/api/v1/admin/payouts/{payout.pk}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_approve_writes_one_ledger_entry():
    payment = succeeded_payment()
    payout = requested(payment)
    admins = [AdminFactory(), AdminFactory()]
    clients = [client_for(a) for a in admins for _ in range(3)]
    barrier = threading.Barrier(len(clients))
    statuses, errors = [], []

    def approve(client):
        try:
            barrier.wait(timeout=30)
            statuses.append(admin_post(client, payout, "approve").status_code)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert statuses == [200] * len(clients)
    assert LedgerEntry.objects.filter(entry_type="payout", payout=payout).count() == 1
    assert AuditLog.objects.filter(action="payout.approve").count() == 1
    assert Payout.objects.get(pk=payout.pk).status == "paid"
