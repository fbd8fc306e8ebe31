"""Disputes racing money movements: real threads, each with its own connection."""

import pytest
from django.core.management import call_command

from accounts.tests.factories import AdminFactory
from disputes.models import Dispute
from disputes.tests.helpers import paid_booking, payouts_of, request_reservations
from payments import services as money
from payments.models import LedgerEntry, Payout
from strathwell.audit.models import AuditLog
from strathwell.testing.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(3))
def test_dispute_opening_racing_a_payout_approval(admin_user, attempt):
    booking = paid_booking()
    payout = request_reservations(booking)[0]

    run_together(
        lambda: money.open_dispute(
            booking=booking, opened_by=booking.organizer, reason="late", description="late"
        ),
        lambda: Payout.objects.get(pk=payout.pk).approve(actor=admin_user),
    )

    payout.refresh_from_db()
    assert Dispute.objects.filter(booking=booking).count() == 1
    if payout.status == Payout.Status.PAID:
        # The approval won: the dispute found it paid and left it alone.
        assert payout.held_by_dispute_id is None
        assert LedgerEntry.objects.filter(payout=payout).count() == 1
    else:
        # The dispute won: held, never paid, no ledger entry.
        assert payout.status == Payout.Status.HELD and payout.paid_at is None
        assert not LedgerEntry.objects.filter(payout=payout).exists()
    assert AuditLog.objects.filter(action="payout.hold", target_id=str(payout.pk)).count() <= 1
    call_command("check_ledger")


def test_two_disputes_racing_on_one_booking_open_once_and_hold_once(make_client):
    booking = paid_booking()
    held = request_reservations(booking)
    vendor_user = held[0].vendor.user

    results = run_together(
        lambda: money.open_dispute(
            booking=booking, opened_by=booking.organizer, reason="late", description="late"
        ),
        lambda: money.open_dispute(
            booking=booking, opened_by=vendor_user, reason="unpaid", description="unpaid"
        ),
    )

    assert sum(isinstance(r, Dispute) for r in results) == 1
    loser = next(r for r in results if not isinstance(r, Dispute))
    assert getattr(loser, "code", None) == "already_exists"
    dispute = Dispute.objects.get(booking=booking)
    for payout in payouts_of(booking, kind=Payout.Kind.RESERVATION):
        assert payout.status == Payout.Status.HELD and payout.held_by_dispute_id == dispute.pk
    assert AuditLog.objects.filter(action="payout.hold").count() == len(held)
    assert AuditLog.objects.filter(action="dispute.open").count() == 1


def test_resolution_racing_a_release_never_double_moves(admin_user):
    booking = paid_booking()
    held = request_reservations(booking)
    dispute = money.open_dispute(
        booking=booking, opened_by=booking.organizer, reason="late", description="x"
    )
    money.start_dispute_review(dispute, actor=admin_user)

    results = run_together(
        lambda: money.resolve_dispute(
            Dispute.objects.get(pk=dispute.pk),
            actor=admin_user,
            status="resolved",
            resolution_note="ok",
        ),
        lambda: Payout.objects.get(pk=held[0].pk).release(actor=admin_user, reason="manual"),
    )

    # Either the release came first (409: dispute still open) or after (no-op: eligible).
    assert isinstance(results[0], Dispute)
    for payout in held:
        payout.refresh_from_db()
        assert payout.status == Payout.Status.ELIGIBLE
    assert AuditLog.objects.filter(action="payout.release").count() == len(held)
    call_command("check_ledger")


@pytest.mark.parametrize("attempt", range(3))
def test_two_admins_deciding_one_dispute_apply_exactly_one_decision(attempt, stripe_local):
    booking = paid_booking()
    held = request_reservations(booking)  # eligible, then held by the dispute
    still_locked = payouts_of(booking, kind=Payout.Kind.COMPLETION)
    dispute = money.open_dispute(
        booking=booking, opened_by=booking.organizer, reason="late", description="x"
    )
    admin_a, admin_b = AdminFactory(), AdminFactory()
    money.start_dispute_review(dispute, actor=admin_a)

    resolved, refunded = run_together(
        lambda: money.resolve_dispute(
            Dispute.objects.get(pk=dispute.pk),
            actor=admin_a,
            status="resolved",
            resolution_note="vendor was on time",
        ),
        lambda: money.resolve_dispute(
            Dispute.objects.get(pk=dispute.pk),
            actor=admin_b,
            status="refunded",
            resolution_note="refund the organizer",
        ),
    )

    dispute.refresh_from_db()
    winner, loser = (resolved, refunded) if dispute.status == "resolved" else (refunded, resolved)
    assert isinstance(winner, Dispute), winner
    assert getattr(loser, "code", None) == "invalid_transition", loser
    decisions = AuditLog.objects.filter(
        target_id=str(dispute.pk), action__in=["dispute.resolve", "dispute.refund"]
    )
    assert list(decisions.values_list("action", flat=True)) == [Dispute.ACTIONS[dispute.status]]
    releases = AuditLog.objects.filter(action="payout.release").count()
    reversals = AuditLog.objects.filter(action="payout.refund").count()
    statuses = {p.pk: p.status for p in payouts_of(booking)}
    if dispute.status == "resolved":  # the held payouts released, nothing reversed
        assert dispute.resolution_note == "vendor was on time"
        assert (releases, reversals) == (len(held), 0)
        assert all(statuses[p.pk] == Payout.Status.ELIGIBLE for p in held)
        assert all(statuses[p.pk] == Payout.Status.LOCKED for p in still_locked)
    else:  # refunded: held and locked payouts refunded (reversed), nothing released
        assert dispute.status == "refunded"
        assert dispute.resolution_note == "refund the organizer"
        assert (releases, reversals) == (0, len(held) + len(still_locked))
        assert set(statuses.values()) == {Payout.Status.REVERSED}
    assert not LedgerEntry.objects.filter(entry_type="payout", booking=booking).exists()
    call_command("check_ledger")
