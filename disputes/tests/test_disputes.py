"""Disputes through the API: who may open and read them, the money they freeze, and how
staff decisions settle it — with the ledger invariant checked after every path."""

from fractions import Fraction

import pytest
from django.core.management import call_command

from accounts.tests.factories import OrganizerFactory, VendorUserFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from disputes.models import Dispute
from disputes.tests.helpers import (
    CONFIRM,
    paid_booking,
    payouts_of,
    request_reservations,
    vendor_users,
)
from payments import services as money
from payments.models import LedgerEntry, Payout, Refund
from payments.tests.factories import pay_balance
from strathwell.audit.models import AuditLog
from strathwell.money import round_half_up
from trust.models import ModerationEvent
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def open_dispute(client, booking, *, reason="Vendor did not show up", description=None):
    return client.post(
        "/api/v1/disputes",
        {
            "booking_id": str(booking.pk),
            "reason": reason,
            "description": description or "The band never arrived; we had to improvise.",
        },
    )


def patch(client, dispute_id, status, note=""):
    body = {"status": status}
    if note:
        body["resolution_note"] = note
    return client.patch(f"/api/v1/admin/disputes/{dispute_id}", body)


def ledger_ok():
    call_command("check_ledger")  # raises CommandError on any discrepancy


# --- opening ---------------------------------------------------------------------------------


def test_organizer_opens_dispute_and_every_eligible_payout_is_held(make_client):
    booking = paid_booking()
    eligible = request_reservations(booking)  # both reservations eligible, completions locked
    response = open_dispute(make_client(booking.organizer), booking)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["booking_id"] == str(booking.pk)
    assert body["opened_by_id"] == str(booking.organizer_id)
    dispute_id = body["id"]
    for payout in eligible:
        payout.refresh_from_db()
        assert payout.status == Payout.Status.HELD
        assert payout.held_by_dispute_id is not None
        assert str(payout.held_by_dispute_id) == dispute_id
        assert dispute_id in payout.hold_reason
    assert all(
        p.status == Payout.Status.LOCKED for p in payouts_of(booking, kind=Payout.Kind.COMPLETION)
    )
    log = AuditLog.objects.get(action="dispute.open")
    assert log.actor_id == booking.organizer_id and log.target_id == dispute_id
    assert log.after["status"] == "open" and log.reason == "Vendor did not show up"
    assert AuditLog.objects.filter(action="payout.hold").count() == len(eligible)
    ledger_ok()


def test_vendor_on_the_booking_can_open_a_dispute(make_client):
    booking = paid_booking()
    venue_user = vendor_users(booking)[0]
    response = open_dispute(make_client(venue_user), booking, reason="Organizer broke the venue")
    assert response.status_code == 201
    assert response.json()["opened_by_id"] == str(venue_user.pk)


def test_strangers_get_404_and_admins_403(make_client, admin_user):
    booking = paid_booking()
    other_vendor = VendorFactory().user
    for user in (OrganizerFactory(subscribed=True), other_vendor, VendorUserFactory()):
        response = open_dispute(make_client(user), booking)
        assert response.status_code == 404, user
        assert response.json()["error"]["code"] == "not_found"
    response = open_dispute(make_client(admin_user), booking)
    assert response.status_code == 403
    assert not Dispute.objects.exists()


def test_vendor_on_an_unsent_draft_gets_404_not_its_status(make_client):
    # A vendor cannot see an organizer's draft (GET /bookings/{id} is 404), so opening a
    # dispute on it must not reveal that it exists or what state it is in either.
    booking = booking_with_vendors(status=Booking.Status.DRAFT)
    vendor_user = BookingVendor.objects.filter(booking=booking).first().vendor.user
    client = make_client(vendor_user)
    assert client.get(f"/api/v1/bookings/{booking.pk}").status_code == 404
    response = open_dispute(client, booking)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Dispute.objects.exists()


def test_unknown_booking_is_404(organizer_client):
    response = organizer_client.post(
        "/api/v1/disputes",
        {
            "booking_id": "00000000-0000-0000-0000-000000000000",
            "reason": "x",
            "description": "y",
        },
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "status",
    [
        Booking.Status.DRAFT,
        Booking.Status.AWAITING,
        Booking.Status.READY,
        Booking.Status.CANCELED,
    ],
)
def test_dispute_needs_a_paid_booking(make_client, status):
    booking = booking_with_vendors(status=status)
    response = open_dispute(make_client(booking.organizer), booking)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert not Dispute.objects.exists()


def test_second_open_dispute_on_a_booking_is_already_exists(make_client):
    booking = paid_booking()
    assert open_dispute(make_client(booking.organizer), booking).status_code == 201
    response = open_dispute(make_client(vendor_users(booking)[1]), booking)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_exists"
    assert Dispute.objects.count() == 1


def test_validation_errors_name_the_field(organizer_client):
    response = organizer_client.post("/api/v1/disputes", {"booking_id": "nope"})
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"booking_id", "reason", "description"}


def test_contact_details_in_the_description_are_refused_and_logged_masked(make_client):
    booking = paid_booking()
    response = open_dispute(
        make_client(booking.organizer),
        booking,
        description="Call me on 415-555-0134 or write to jane.doe@gmail.com to sort it out",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "description" in error["details"]
    assert not Dispute.objects.exists()
    event = ModerationEvent.objects.get()
    assert event.action == "block" and set(event.signals) == {"email", "phone"}
    assert "415-555-0134" not in event.excerpt and "jane.doe@gmail.com" not in event.excerpt


def test_payment_talk_in_the_description_is_accepted_and_logged(make_client):
    booking = paid_booking()
    response = open_dispute(
        make_client(booking.organizer),
        booking,
        description="The caterer asked us to pay the balance by Venmo instead.",
    )
    assert response.status_code == 201
    event = ModerationEvent.objects.get()
    assert event.action == "warn" and event.signals == ["off_platform_payment"]


# --- reading ----------------------------------------------------------------------------------


def test_participants_read_disputes_on_their_bookings_others_get_404(make_client):
    booking = paid_booking()
    dispute_id = open_dispute(make_client(booking.organizer), booking).json()["id"]
    other = paid_booking()
    open_dispute(make_client(other.organizer), other)

    for user in (booking.organizer, *vendor_users(booking)):
        client = make_client(user)
        listed = client.get("/api/v1/disputes").json()
        assert [d["id"] for d in listed["results"]] == [dispute_id]
        assert client.get(f"/api/v1/disputes/{dispute_id}").status_code == 200
    for user in (other.organizer, vendor_users(other)[0], OrganizerFactory()):
        response = make_client(user).get(f"/api/v1/disputes/{dispute_id}")
        assert response.status_code == 404


def test_dispute_list_query_count_does_not_grow(make_client, django_assert_num_queries):
    organizer = OrganizerFactory(subscribed=True)
    client = make_client(organizer)
    counts = []
    for n in (2, 6):
        while Dispute.objects.filter(booking__organizer=organizer).count() < n:
            booking = paid_booking(organizer=organizer)
            money.open_dispute(
                booking=booking, opened_by=organizer, reason="late", description="late"
            )
        with django_assert_num_queries(2) as ctx:  # user, the page with its count
            response = client.get("/api/v1/disputes?page_size=100")
        assert response.json()["count"] == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_admin_lists_and_filters_disputes(admin_client_api, make_client):
    first = paid_booking()
    second = paid_booking()
    d1 = open_dispute(make_client(first.organizer), first).json()["id"]
    d2 = open_dispute(make_client(second.organizer), second).json()["id"]
    assert patch(admin_client_api, d2, "under_review").status_code == 200

    everything = admin_client_api.get("/api/v1/admin/disputes").json()
    assert {d["id"] for d in everything["results"]} == {d1, d2}
    open_only = admin_client_api.get("/api/v1/admin/disputes?status=open").json()
    assert [d["id"] for d in open_only["results"]] == [d1]
    assert admin_client_api.get(f"/api/v1/admin/disputes/{d2}").json()["status"] == "under_review"
    assert admin_client_api.get("/api/v1/admin/disputes?status=bogus").status_code == 400


def test_non_admins_cannot_use_admin_dispute_endpoints(make_client):
    booking = paid_booking()
    client = make_client(booking.organizer)
    dispute_id = open_dispute(client, booking).json()["id"]
    assert client.get("/api/v1/admin/disputes").status_code == 403
    response = patch(client, dispute_id, "under_review")
    assert response.status_code == 403
    assert Dispute.objects.get().status == "open"


# --- money is frozen while open --------------------------------------------------------------


def test_no_payout_can_be_requested_approved_or_released_while_open(make_client, admin_user):
    booking = paid_booking()
    venue_user, service_user = vendor_users(booking)
    venue_reservation = payouts_of(booking, kind=Payout.Kind.RESERVATION)
    venue_reservation = next(p for p in venue_reservation if p.vendor.user_id == venue_user.pk)
    venue_reservation.request(actor=venue_user)  # eligible → will be held by the dispute
    open_dispute(make_client(booking.organizer), booking)
    admin = make_client(admin_user)

    # The service vendor's reservation is still locked: requesting it is refused.
    service_reservation = next(
        p
        for p in payouts_of(booking, kind=Payout.Kind.RESERVATION)
        if p.vendor.user_id == service_user.pk
    )
    response = make_client(service_user).post(
        f"/api/v1/vendor/payouts/{service_reservation.pk}/request"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"

    # The held one can be neither released nor approved.
    response = admin.post(
        f"/api/v1/admin/payouts/{venue_reservation.pk}/release", {"reason": "ok"}, **CONFIRM
    )
    assert response.status_code == 409
    response = admin.post(f"/api/v1/admin/payouts/{venue_reservation.pk}/approve", **CONFIRM)
    assert response.status_code == 409

    # Completing the booking does not make completion payouts eligible.
    pay_balance(booking)
    booking = Booking.objects.get(pk=booking.pk)
    booking.start(actor=booking.organizer)
    money.complete_booking(booking, actor=booking.organizer)
    assert all(
        p.status == Payout.Status.LOCKED for p in payouts_of(booking, kind=Payout.Kind.COMPLETION)
    )
    statuses = {p.pk: p.status for p in payouts_of(booking)}
    assert statuses[venue_reservation.pk] == Payout.Status.HELD
    assert not LedgerEntry.objects.filter(entry_type="payout").exists()
    ledger_ok()


def test_an_eligible_payout_cannot_be_approved_while_a_dispute_is_open(make_client, admin_user):
    booking = paid_booking()
    money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late", description="x")
    payout = payouts_of(booking, kind=Payout.Kind.RESERVATION)[0]
    # Test-only shortcut to an eligible payout under an open dispute (no legal path leads
    # here; the guard must hold anyway).
    Payout.objects.filter(pk=payout.pk).update(status=Payout.Status.ELIGIBLE)
    response = make_client(admin_user).post(f"/api/v1/admin/payouts/{payout.pk}/approve", **CONFIRM)
    assert response.status_code == 409
    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE and payout.paid_at is None


def test_a_payout_paid_before_the_dispute_stays_paid(make_client, admin_user):
    booking = paid_booking()
    paid, other = request_reservations(booking)
    paid.approve(actor=admin_user)
    open_dispute(make_client(booking.organizer), booking)
    paid.refresh_from_db()
    other.refresh_from_db()
    assert paid.status == Payout.Status.PAID and paid.held_by_dispute_id is None
    assert other.status == Payout.Status.HELD
    ledger_ok()


# --- staff decisions -------------------------------------------------------------------------


def open_and_review(client_for_org, admin_client, booking):
    dispute_id = open_dispute(client_for_org, booking).json()["id"]
    response = patch(admin_client, dispute_id, "under_review", "Looking into it")
    assert response.status_code == 200 and response.json()["status"] == "under_review"
    return dispute_id


def test_resolved_releases_what_the_dispute_held(make_client, admin_client_api, admin_user):
    booking = paid_booking()
    held = request_reservations(booking)
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)

    response = patch(admin_client_api, dispute_id, "resolved", "Vendor showed up late; no refund")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert body["resolution_note"] == "Vendor showed up late; no refund"
    for payout in held:
        payout.refresh_from_db()
        assert payout.status == Payout.Status.ELIGIBLE
        assert payout.hold_reason == "" and payout.held_by_dispute_id is None
    # Money flows again: staff can pay it out.
    response = admin_client_api.post(f"/api/v1/admin/payouts/{held[0].pk}/approve", **CONFIRM)
    assert response.status_code == 200 and response.json()["status"] == "paid"

    log = AuditLog.objects.get(action="dispute.resolve")
    assert log.actor_id == admin_user.pk
    assert log.before["status"] == "under_review" and log.after["status"] == "resolved"
    assert log.reason == "Vendor showed up late; no refund"
    assert AuditLog.objects.filter(action="dispute.start_review", target_id=dispute_id).exists()
    assert AuditLog.objects.filter(action="payout.release").count() == len(held)
    ledger_ok()


def test_resolved_makes_completion_payouts_of_a_completed_booking_eligible(
    make_client, admin_client_api
):
    booking = paid_booking()
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)
    pay_balance(booking)
    booking = Booking.objects.get(pk=booking.pk)
    booking.start(actor=booking.organizer)
    money.complete_booking(
        booking, actor=booking.organizer
    )  # completion payouts stay locked: dispute open
    assert patch(admin_client_api, dispute_id, "resolved", "Settled").status_code == 200
    completions = payouts_of(booking, kind=Payout.Kind.COMPLETION)
    assert completions and all(p.status == Payout.Status.ELIGIBLE for p in completions)
    reservations = payouts_of(booking, kind=Payout.Kind.RESERVATION)
    assert all(p.status == Payout.Status.LOCKED for p in reservations)  # never requested
    ledger_ok()


def test_refunded_refunds_the_held_and_locked_payouts_through_stripe(
    make_client, admin_client_api, admin_user, stripe_local
):
    booking = paid_booking()
    paid, held = request_reservations(booking)
    paid.approve(actor=admin_user)
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)

    response = patch(admin_client_api, dispute_id, "refunded", "Event did not happen")
    assert response.status_code == 200 and response.json()["status"] == "refunded"
    statuses = {p.pk: p.status for p in payouts_of(booking)}
    assert statuses.pop(paid.pk) == Payout.Status.PAID  # already paid: untouched
    assert set(statuses.values()) == {Payout.Status.REVERSED}
    held.refresh_from_db()
    assert f"dispute {dispute_id} refunded" in held.reverse_reason
    # The money the dispute froze went back to the organizer with the fee on it: everything
    # but the paid-out reservation and the fee on that part.
    [refund] = Refund.objects.filter(booking=booking)
    payment = refund.payment
    fees = sum(a.fee_cents for a in payment.allocations.all())
    net = payment.amount_cents - fees
    assert refund.status == "succeeded" and refund.origin == "dispute"
    assert refund.net_cents == net - paid.amount_cents
    assert refund.fee_cents == fees - round_half_up(Fraction(paid.amount_cents * fees, net))
    assert refund.stripe_refund_id and refund.lines.count() == 3
    assert AuditLog.objects.filter(action="dispute.refund", actor=admin_user).exists()
    ledger_ok()


def test_adjusted_leaves_held_payouts_for_staff_to_settle_one_by_one(make_client, admin_client_api):
    booking = paid_booking()
    first, second = request_reservations(booking)
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)

    response = patch(admin_client_api, dispute_id, "adjusted", "Partial credit agreed")
    assert response.status_code == 200 and response.json()["status"] == "adjusted"
    for payout in (first, second):
        payout.refresh_from_db()
        assert payout.status == Payout.Status.HELD

    # Release needs confirmation and a reason, then the payout is payable again.
    url = f"/api/v1/admin/payouts/{first.pk}/release"
    assert admin_client_api.post(url, {"reason": "settled"}).status_code == 428
    assert admin_client_api.post(url, {}, **CONFIRM).status_code == 400
    response = admin_client_api.post(url, {"reason": "settled in full"}, **CONFIRM)
    assert response.status_code == 200 and response.json()["status"] == "eligible"
    approve = admin_client_api.post(f"/api/v1/admin/payouts/{first.pk}/approve", **CONFIRM)
    assert approve.status_code == 200
    reverse = admin_client_api.post(
        f"/api/v1/admin/payouts/{second.pk}/reverse", {"reason": "credited"}, **CONFIRM
    )
    assert reverse.status_code == 200 and reverse.json()["status"] == "reversed"
    ledger_ok()


def test_adjusted_puts_locked_completion_payouts_of_a_completed_booking_in_the_staff_queue(
    make_client, admin_client_api
):
    booking = paid_booking()
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)
    pay_balance(booking)
    booking = Booking.objects.get(pk=booking.pk)
    booking.start(actor=booking.organizer)
    money.complete_booking(
        booking, actor=booking.organizer
    )  # completion payouts stay locked: dispute open
    assert patch(admin_client_api, dispute_id, "adjusted", "Partial credit").status_code == 200

    completions = payouts_of(booking, kind=Payout.Kind.COMPLETION)
    assert completions and all(p.status == Payout.Status.HELD for p in completions)
    assert all(str(p.held_by_dispute_id) == dispute_id for p in completions)
    # Staff settle each: a release makes it payable (the booking is completed).
    response = admin_client_api.post(
        f"/api/v1/admin/payouts/{completions[0].pk}/release", {"reason": "agreed"}, **CONFIRM
    )
    assert response.status_code == 200 and response.json()["status"] == "eligible"
    ledger_ok()


@pytest.mark.parametrize(
    "path, status",
    [
        ((), "resolved"),  # open → resolved skips the review
        ((), "refunded"),
        ((("under_review", ""), ("resolved", "done")), "under_review"),  # final is final
        ((("under_review", ""), ("adjusted", "done")), "refunded"),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(
    make_client, admin_client_api, path, status
):
    booking = paid_booking()
    request_reservations(booking)
    dispute_id = open_dispute(make_client(booking.organizer), booking).json()["id"]
    for step, note in path:
        assert patch(admin_client_api, dispute_id, step, note).status_code == 200
    before = Dispute.objects.get(pk=dispute_id).status
    payouts_before = {p.pk: p.status for p in payouts_of(booking)}
    audit_rows = AuditLog.objects.count()

    response = patch(admin_client_api, dispute_id, status, "some note")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert Dispute.objects.get(pk=dispute_id).status == before
    assert {p.pk: p.status for p in payouts_of(booking)} == payouts_before
    assert AuditLog.objects.count() == audit_rows


def test_bad_status_changes_are_400(make_client, admin_client_api):
    booking = paid_booking()
    dispute_id = open_dispute(make_client(booking.organizer), booking).json()["id"]
    assert patch(admin_client_api, dispute_id, "under_review").status_code == 200
    for body in ({"status": "open"}, {"status": "nope"}, {}, {"status": "resolved"}):
        response = admin_client_api.patch(f"/api/v1/admin/disputes/{dispute_id}", body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "validation_error"
    assert "resolution_note" in response.json()["error"]["details"]
    assert Dispute.objects.get().status == "under_review"


def test_repeating_the_current_status_is_a_no_op(make_client, admin_client_api):
    booking = paid_booking()
    dispute_id = open_dispute(make_client(booking.organizer), booking).json()["id"]
    assert patch(admin_client_api, dispute_id, "under_review").status_code == 200
    rows = AuditLog.objects.filter(action="dispute.start_review").count()
    assert patch(admin_client_api, dispute_id, "under_review").status_code == 200
    assert AuditLog.objects.filter(action="dispute.start_review").count() == rows == 1
    assert admin_client_api.put(f"/api/v1/admin/disputes/{dispute_id}", {}).status_code == 405


def test_after_a_decision_a_new_dispute_can_be_opened(make_client, admin_client_api):
    booking = paid_booking()
    client = make_client(booking.organizer)
    dispute_id = open_and_review(client, admin_client_api, booking)
    patch(admin_client_api, dispute_id, "resolved", "fine")
    assert open_dispute(client, booking).status_code == 201
    assert Dispute.objects.filter(booking=booking).count() == 2
    assert BookingVendor.objects.filter(booking=booking).count() == 2


def test_a_decided_dispute_cannot_be_decided_again(make_client, admin_client_api):
    booking = paid_booking()
    request_reservations(booking)
    dispute_id = open_and_review(make_client(booking.organizer), admin_client_api, booking)
    assert patch(admin_client_api, dispute_id, "resolved", "first").status_code == 200
    response = patch(admin_client_api, dispute_id, "resolved", "second thoughts")
    assert response.status_code == 409
    assert Dispute.objects.get().resolution_note == "first"
