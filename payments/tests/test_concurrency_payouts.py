"""Payout transitions racing each other: real threads, one database connection each.

Every payout transition locks Booking → Payout and re-reads, so of two conflicting moves one
applies and the other either finds its target state (a no-op) or refuses with 409; the money
follows the winner exactly once (one `payout` ledger entry iff paid)."""

import pytest
from django.core.management import call_command

from accounts.tests.factories import AdminFactory
from payments.models import LedgerEntry, Payout
from payments.tests.factories import succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from strathwell.testing.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def reservation(payment) -> Payout:
    return Payout.objects.get(payment=payment, kind="reservation", booking_vendor__position=0)


def payout_audit(payout) -> list[str]:
    rows = AuditLog.objects.filter(target_type="payments.payout", target_id=str(payout.pk))
    return list(rows.order_by("created_at").values_list("action", flat=True))


def payout_entries(payout) -> int:
    return LedgerEntry.objects.filter(entry_type="payout", payout=payout).count()


def fresh(payout) -> Payout:
    return Payout.objects.get(pk=payout.pk)


def assert_refused(outcome):
    assert isinstance(outcome, InvalidTransition), outcome
    assert outcome.status_code == 409


def test_concurrent_requests_by_the_vendor_transition_once():
    payout = reservation(succeeded_payment())
    vendor_user = payout.vendor.user

    outcomes = run_together(*[lambda: fresh(payout).request(actor=vendor_user)] * 4)

    assert all(isinstance(o, Payout) for o in outcomes), outcomes  # repeats are no-ops
    assert {o.status for o in outcomes} == {Payout.Status.ELIGIBLE}
    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE and payout.requested_at is not None
    assert payout_audit(payout) == ["payout.request"]
    assert payout_entries(payout) == 0


@pytest.mark.parametrize("attempt", range(3))
def test_hold_racing_an_approval_either_pays_once_or_holds(attempt):
    payment = succeeded_payment()
    payout = reservation(payment)
    payout.request(actor=payout.vendor.user)
    admin_a, admin_b = AdminFactory(), AdminFactory()

    hold, approve = run_together(
        lambda: fresh(payout).hold(actor=admin_a, reason="checking the invoice"),
        lambda: fresh(payout).approve(actor=admin_b),
    )

    payout.refresh_from_db()
    if payout.status == Payout.Status.PAID:  # the approval won; a paid payout is not held
        assert isinstance(approve, Payout), approve
        assert_refused(hold)
        assert payout_entries(payout) == 1
        assert payout.held_at is None and payout.hold_reason == ""
        assert payout_audit(payout)[1:] == ["payout.approve"]
    else:  # the hold won; a held payout is not approved
        assert payout.status == Payout.Status.HELD
        assert isinstance(hold, Payout), hold
        assert_refused(approve)
        assert payout_entries(payout) == 0 and payout.paid_at is None
        assert payout_audit(payout)[1:] == ["payout.hold"]
    call_command("check_ledger")


@pytest.mark.parametrize("attempt", range(3))
def test_reverse_racing_an_approval_either_pays_once_or_reverses(attempt):
    payment = succeeded_payment()
    payout = reservation(payment)
    payout.request(actor=payout.vendor.user)
    admin_a, admin_b = AdminFactory(), AdminFactory()

    reverse, approve = run_together(
        lambda: fresh(payout).reverse(actor=admin_a, reason="refund agreed"),
        lambda: fresh(payout).approve(actor=admin_b),
    )

    payout.refresh_from_db()
    if payout.status == Payout.Status.PAID:  # a paid payout cannot be reversed here
        assert isinstance(approve, Payout), approve
        assert_refused(reverse)
        assert payout_entries(payout) == 1 and payout.reversed_at is None
        assert payout_audit(payout)[1:] == ["payout.approve"]
    else:
        assert payout.status == Payout.Status.REVERSED
        assert isinstance(reverse, Payout), reverse
        assert_refused(approve)
        assert payout_entries(payout) == 0 and payout.paid_at is None
        assert payout_audit(payout)[1:] == ["payout.reverse"]
    call_command("check_ledger")
