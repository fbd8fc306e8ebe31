"""Hypothesis: whatever sequence of payments, refunds, payout approvals and reversals happens
to a booking, every ledger transaction balances, no escrow goes negative, and
Σ refunded ≤ Σ paid − Σ paid out.

Stripe's Refund API is replaced here by a stand-in that answers "succeeded" (a unit test of
the money rules, hundreds of sequences per run): the flows themselves are proven against
localstripe over HTTP in test_refunds.py and test_e2e_localstripe.py.
"""

import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminFactory
from bookings.models import Booking
from payments import services as money
from payments import stripe_client
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import Payment, Payout, Refund
from payments.tests.factories import pay_balance, succeeded_payment
from strathwell.exceptions import DomainError

pytestmark = pytest.mark.django_db

OPS = st.one_of(
    st.tuples(st.just("pay_balance")),
    st.tuples(st.just("complete")),
    st.tuples(st.just("approve"), st.integers(0, 11)),
    st.tuples(st.just("reverse"), st.integers(0, 11)),
    st.tuples(st.just("refund"), st.integers(0, 1), st.integers(1, 100)),
    st.tuples(st.just("refund_all"), st.integers(0, 1)),
    st.tuples(st.just("refund_payout"), st.integers(0, 11)),
)


class _Rollback(Exception):
    pass


def _unpaid(booking, index):
    payouts = list(
        Payout.objects.filter(booking=booking, status__in=["locked", "eligible", "held"]).order_by(
            "created_at", "id"
        )
    )
    return payouts[index % len(payouts)] if payouts else None


def _apply(op, booking, admin):
    kind = op[0]
    booking = Booking.objects.get(pk=booking.pk)
    payments = list(Payment.objects.filter(booking=booking, status="succeeded").order_by("kind"))
    if kind == "pay_balance":
        if booking.status in ("paid", "in_progress") and booking.balance_cents > 0:
            pay_balance(booking)
    elif kind == "complete":
        if booking.status == "paid" and booking.balance_cents == 0:
            booking = booking.start(actor=booking.organizer)
        if booking.status == "in_progress":
            money.complete_booking(booking, actor=booking.organizer)
    elif kind == "approve":
        payout = _unpaid(booking, op[1])
        if payout is not None:
            if payout.status == "locked" and payout.kind == "reservation":
                payout = payout.request(actor=payout.vendor.user)
            if payout.status == "held":
                payout = payout.release(actor=admin, reason="p")
            if payout.status == "eligible":
                payout.approve(actor=admin)
    elif kind == "reverse":
        payout = _unpaid(booking, op[1])
        if payout is not None:
            payout.reverse(actor=admin, reason="p")
    elif kind == "refund":
        payment = payments[op[1] % len(payments)]
        refundable = money.refund_plan(payment).refundable_cents
        if refundable:
            amount = max(1, refundable * op[2] // 100)
            money.refund_payment(payment, actor=admin, reason="p", amount_cents=amount)
    elif kind == "refund_all":
        money.refund_payment(payments[op[1] % len(payments)], actor=admin, reason="p")
    elif kind == "refund_payout":
        payout = _unpaid(booking, op[1])
        if payout is not None:
            money.refund_payout(payout, actor=admin, reason="p")


def _assert_invariants(booking):
    _checked, problems = find_discrepancies()
    assert problems == []  # balanced transactions, every account, escrow >= 0, per payment
    paid = sum(
        Payment.objects.filter(booking=booking, status="succeeded").values_list(
            "amount_cents", flat=True
        )
    )
    paid_out = sum(
        Payout.objects.filter(booking=booking, status="paid").values_list("amount_cents", flat=True)
    )
    refunded = sum(
        Refund.objects.filter(booking=booking, status="succeeded").values_list(
            "amount_cents", flat=True
        )
    )
    assert refunded <= paid - paid_out


@pytest.fixture
def fake_stripe_refunds(monkeypatch):
    def create_refund(*, amount_cents, **_ignored):
        return stripe_client.CreatedRefund(
            id=f"re_{uuid.uuid4().hex[:20]}", status="succeeded", amount=amount_cents
        )

    monkeypatch.setattr(stripe_client, "create_refund", create_refund)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prices=st.lists(st.integers(10, 2_000_000), min_size=1, max_size=3),
    ops=st.lists(OPS, min_size=1, max_size=10),
)
def test_any_sequence_keeps_the_ledger_balanced_and_refunds_bounded(
    fake_stripe_refunds, prices, ops
):
    try:
        with transaction.atomic():
            admin = AdminFactory()
            booking = succeeded_payment(prices=tuple(prices)).booking
            _assert_invariants(booking)
            for op in ops:
                try:
                    with transaction.atomic():
                        _apply(op, booking, admin)
                except DomainError:
                    pass  # a refused step (409/400) changes nothing
                _assert_invariants(booking)
            raise _Rollback
    except _Rollback:
        pass
