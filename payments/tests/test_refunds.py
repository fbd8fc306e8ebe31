"""Refunds through Stripe's Refund API (localstripe over HTTP): what is refundable, how payouts
are reversed or split, the cancellation policy, dispute money, failures and retries, the
refund webhooks, and the races that must never refund more than refundable."""

import datetime
from fractions import Fraction

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking
from conftest import client_for
from notifications.models import Notification
from payments import ledger, stripe_client
from payments import services as money
from payments.management.commands.check_ledger import find_discrepancies
from payments.models import LedgerEntry, Payment, Payout, Refund, WebhookEvent
from payments.tests.factories import event_body, pay_balance, post_event, succeeded_payment
from strathwell.exceptions import InvalidTransition, NothingToRefund, PaymentProviderError
from strathwell.money import round_half_up
from strathwell.testing.threads import run_together

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]
CONFIRM = {"HTTP_X_CONFIRM_ACTION": "true"}
DEAD_STRIPE = "http://127.0.0.1:9"  # nothing listens there: Stripe "unreachable"


def fees_of(payment) -> int:
    return sum(a.fee_cents for a in payment.allocations.all())


def stripe_refund(refund_id):
    return stripe_client.get_client().v1.refunds.retrieve(refund_id)


def ledger_ok():
    assert find_discrepancies()[1] == []


def payouts(payment, **filters):
    return Payout.objects.filter(payment=payment, **filters).select_related("booking_vendor")


def refund_url(payment):
    return f"/api/v1/admin/payments/{payment.pk}/refund"


# --- the admin refund ------------------------------------------------------------------------


def test_admin_refund_of_everything_returns_all_unpaid_money_with_its_fee(
    stripe_local, admin_client_api, admin_user
):
    payment = succeeded_payment(prices=(600_000, 400_000))
    venue_reservation = payouts(payment, kind="reservation", booking_vendor__position=0).get()
    venue_reservation.request(actor=venue_reservation.vendor.user)
    venue_reservation.approve(actor=admin_user)  # paid out: stays with the vendor

    assert admin_client_api.post(refund_url(payment), {"reason": "x"}).status_code == 428
    no_reason = admin_client_api.post(refund_url(payment), {}, **CONFIRM)
    assert no_reason.status_code == 400

    response = admin_client_api.post(refund_url(payment), {"reason": "goodwill"}, **CONFIRM)

    assert response.status_code == 201, response.json()
    body = response.json()
    fees, paid_out = fees_of(payment), venue_reservation.amount_cents
    net = payment.amount_cents - fees
    fee_kept = round_half_up(Fraction(paid_out * fees, net))  # the fee on the paid-out part
    assert body["status"] == "succeeded"
    assert body["amount_cents"] == payment.amount_cents - paid_out - fee_kept
    assert (body["net_cents"], body["fee_cents"]) == (net - paid_out, fees - fee_kept)
    at_stripe = stripe_refund(body["stripe_refund_id"])
    assert (at_stripe.amount, at_stripe.status) == (body["amount_cents"], "succeeded")
    assert at_stripe.payment_intent == payment.stripe_payment_intent_id
    assert at_stripe.metadata.to_dict()["refund_id"] == body["id"]
    statuses = {p.pk: p.status for p in payouts(payment)}
    assert statuses.pop(venue_reservation.pk) == "paid"
    assert set(statuses.values()) == {"reversed"}
    # Nothing more: a second refund has nothing to take.
    again = admin_client_api.post(refund_url(payment), {"reason": "again"}, **CONFIRM)
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_refund"
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.amount_refunded_cents == body["amount_cents"]
    assert booking.amount_paid_cents == payment.amount_cents - body["amount_cents"]
    ledger_ok()


def test_partial_refund_splits_the_payout_it_only_partly_draws(stripe_local, admin_user):
    payment = succeeded_payment(prices=(500_000, 500_000))  # fee 10% of each 150 000 share
    # Fees 30 000 on a net of 270 000: the fee returned is 1/9 of the net returned, so 33 000
    # is 29 700 net (from the first completion payout) + 3 300 fee.
    refund = money.refund_payment(payment, actor=admin_user, reason="late", amount_cents=33_000)

    assert (refund.status, refund.net_cents, refund.fee_cents) == ("succeeded", 29_700, 3_300)
    [drawn] = refund.lines.all()
    original = Payout.objects.get(pk=drawn.payout_id)
    assert original.kind == "completion" and original.status == "locked"
    assert original.amount_cents == 67_500 - 29_700  # the kept part stays, in its status
    [part] = original.splits.all()
    assert (part.amount_cents, part.status, part.refund_id) == (29_700, "reversed", refund.pk)
    # Still one held = fees + payouts: the split parts add up to the payout as allocated.
    ledger_ok()
    owed = ledger.vendor_balances([original.vendor_id])[original.vendor_id]["owed_cents"]
    assert owed == 135_000 - 29_700

    too_much = payment.amount_cents  # more than what is left
    with pytest.raises(Exception) as exc:
        money.refund_payment(payment, actor=admin_user, reason="x", amount_cents=too_much)
    assert getattr(exc.value, "code", "") == "validation_error"


def test_partial_refunds_add_up_to_what_one_refund_would_return(stripe_local, admin_user):
    one = succeeded_payment(prices=(333_333, 111_111, 99_999))
    whole = money.refund_payment(one, actor=admin_user, reason="all at once")
    other = succeeded_payment(prices=(333_333, 111_111, 99_999))
    parts = [
        money.refund_payment(other, actor=admin_user, reason="part", amount_cents=amount)
        for amount in (10_001, 7, 33_333)
    ]
    rest = money.refund_payment(other, actor=admin_user, reason="rest")
    total = sum(r.amount_cents for r in [*parts, rest])
    assert total == whole.amount_cents == one.amount_cents
    assert sum(r.fee_cents for r in [*parts, rest]) == whole.fee_cents == fees_of(one)
    ledger_ok()


def test_stripe_failure_keeps_the_refund_failed_and_the_payouts_untouched(
    stripe_local, settings, admin_client_api
):
    payment = succeeded_payment()
    before = {p.pk: (p.status, p.amount_cents) for p in payouts(payment)}
    settings.STRIPE_API_BASE = DEAD_STRIPE

    response = admin_client_api.post(refund_url(payment), {"reason": "refund"}, **CONFIRM)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "failed" and refund.failure_message
    assert {p.pk: (p.status, p.amount_cents) for p in payouts(payment)} == before
    assert not LedgerEntry.objects.filter(refund=refund).exists()
    # A failed refund reserves nothing: a payout can be approved meanwhile...
    assert money.refund_plan(payment).refundable_cents == payment.amount_cents
    ledger_ok()

    # ... and once Stripe is back, staff retry it (same refund, same draws).
    settings.STRIPE_API_BASE = stripe_local.url
    retried = admin_client_api.post(f"/api/v1/admin/refunds/{refund.pk}/retry", **CONFIRM)
    assert retried.status_code == 200, retried.json()
    assert retried.json()["status"] == "succeeded" and retried.json()["id"] == str(refund.pk)
    assert stripe_refund(retried.json()["stripe_refund_id"]).amount == refund.amount_cents
    assert set(payouts(payment).values_list("status", flat=True)) == {"reversed"}
    ledger_ok()


def test_a_retry_after_its_payouts_were_paid_is_refused(stripe_local, settings, admin_user):
    payment = succeeded_payment()
    settings.STRIPE_API_BASE = DEAD_STRIPE
    with pytest.raises(PaymentProviderError):
        money.refund_payment(payment, actor=admin_user, reason="x")
    settings.STRIPE_API_BASE = stripe_local.url
    reservation = payouts(payment, kind="reservation").first()
    reservation.request(actor=reservation.vendor.user)
    reservation.approve(actor=admin_user)  # allowed: the failed refund reserves nothing

    with pytest.raises(NothingToRefund):
        money.retry_refund(Refund.objects.get(payment=payment), actor=admin_user)
    ledger_ok()


def test_staff_reversal_then_refund_takes_the_money_from_escrow(stripe_local, admin_user):
    payment = succeeded_payment()
    completion = payouts(payment, kind="completion").first()
    completion.reverse(actor=admin_user, reason="no show")
    assert ledger.payment_escrow_cents(payment.pk) == completion.amount_cents
    ledger_ok()

    fees, net = fees_of(payment), payment.amount_cents - fees_of(payment)
    fee = round_half_up(Fraction(completion.amount_cents * fees, net))
    refund = money.refund_payment(
        payment, actor=admin_user, reason="no show", amount_cents=completion.amount_cents + fee
    )

    assert refund.lines.get().payout_id is None  # from escrow, the payouts stay as they are
    assert ledger.payment_escrow_cents(payment.pk) == 0
    assert (refund.net_cents, refund.fee_cents) == (completion.amount_cents, fee)
    assert payouts(payment, status="locked").count() == 3
    ledger_ok()


# --- organizer cancel: the policy ----------------------------------------------------------------


def paid_in_full(days_out: int):
    payment = succeeded_payment()
    Booking.objects.filter(pk=payment.booking_id).update(
        event_date=timezone.localdate() + datetime.timedelta(days=days_out)
    )
    pay_balance(payment.booking)
    return Booking.objects.get(pk=payment.booking_id)


def test_organizer_cancel_40_days_out_refunds_everything(stripe_local):
    booking = paid_in_full(40)
    client = client_for(booking.organizer)

    response = client.post(f"/api/v1/bookings/{booking.pk}/cancel", {"reason": "moved"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "canceled" and response.json()["balance_cents"] == 0
    refunds = client.get(f"/api/v1/bookings/{booking.pk}/refunds").json()["results"]
    assert sorted(r["amount_cents"] for r in refunds) == sorted(
        p.amount_cents for p in Payment.objects.filter(booking=booking)
    )
    assert {r["status"] for r in refunds} == {"succeeded"}
    for r in refunds:
        assert stripe_refund(r["stripe_refund_id"]).amount == r["amount_cents"]
    assert set(Payout.objects.filter(booking=booking).values_list("status", flat=True)) == {
        "reversed"
    }
    booking.refresh_from_db()
    assert booking.amount_paid_cents == 0 and booking.amount_refunded_cents == booking.total_cents
    ledger_ok()
    # The organizer is told of each refund.
    told = Notification.objects.filter(recipient=booking.organizer, kind="refund_made")
    assert told.count() == len(refunds)


def test_organizer_cancel_10_days_out_keeps_the_reservations(stripe_local):
    booking = paid_in_full(10)
    reservations = list(Payout.objects.filter(booking=booking, kind="reservation"))

    money.cancel_booking(booking, actor=booking.organizer, reason="too late")

    for payout in reservations:
        payout.refresh_from_db()
        assert payout.status == "eligible"  # the vendor keeps it; staff pay it out
    completions = Payout.objects.filter(booking=booking, kind="completion")
    assert set(completions.values_list("status", flat=True)) == {"reversed"}
    deposit = Payment.objects.get(booking=booking, kind="deposit")
    balance = Payment.objects.get(booking=booking, kind="balance")
    kept = sum(p.amount_cents for p in reservations)
    fees, net = fees_of(deposit), deposit.amount_cents - fees_of(deposit)
    # Everything refundable but the reservations: the deposit's completions with their fee,
    # and all of the balance (only completions).
    assert deposit.refunds.get().amount_cents == (net - kept) + round_half_up(
        Fraction((net - kept) * fees, net)
    )
    assert balance.refunds.get().amount_cents == balance.amount_cents
    ledger_ok()
    reservations[0].refresh_from_db()
    reservations[0].approve(actor=AdminFactory())  # and it can be paid out
    ledger_ok()


def test_other_organizers_cannot_see_the_refunds(stripe_local):
    booking = paid_in_full(40)
    stranger = client_for(OrganizerFactory(subscribed=True))
    assert stranger.get(f"/api/v1/bookings/{booking.pk}/refunds").status_code == 404


def test_organizer_cannot_cancel_during_an_open_dispute(stripe_local):
    booking = paid_in_full(40)
    money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late")
    with pytest.raises(InvalidTransition):
        money.cancel_booking(booking, actor=booking.organizer, reason="")


# --- disputes -------------------------------------------------------------------------------------


def test_adjusted_dispute_lets_staff_refund_one_payout(stripe_local, admin_client_api):
    payment = succeeded_payment()
    booking = payment.booking
    first = payouts(payment, kind="reservation").first()
    first.request(actor=first.vendor.user)
    dispute = money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late")
    admin = AdminFactory()
    money.start_dispute_review(dispute, actor=admin)
    money.resolve_dispute(dispute, actor=admin, status="adjusted", resolution_note="half")

    url = f"/api/v1/admin/payouts/{first.pk}/refund"
    assert admin_client_api.post(url, {"reason": "x"}).status_code == 428
    response = admin_client_api.post(url, {"reason": "vendor was late"}, **CONFIRM)

    assert response.status_code == 201, response.json()
    first.refresh_from_db()
    assert first.status == "reversed"
    fees, net = fees_of(payment), payment.amount_cents - fees_of(payment)
    expected_fee = round_half_up(Fraction(first.amount_cents * fees, net))
    assert response.json()["amount_cents"] == first.amount_cents + expected_fee
    again = admin_client_api.post(url, {"reason": "again"}, **CONFIRM)
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_refund"
    ledger_ok()


# --- refund webhooks (localstripe sends none: signed by the test) ------------------------------


def refund_event(refund, *, status, event_type="refund.updated", event_id=None, amount=None):
    obj = {
        "id": refund.stripe_refund_id,
        "object": "refund",
        "amount": refund.amount_cents if amount is None else amount,
        "currency": refund.currency,
        "status": status,
        "payment_intent": refund.payment.stripe_payment_intent_id,
        "metadata": {"refund_id": str(refund.pk)},
    }
    if event_type == "charge.refunded":
        obj = {
            "id": "ch_x",
            "object": "charge",
            "payment_intent": obj["payment_intent"],
            "refunds": {"object": "list", "data": [obj]},
        }
    return event_body(event_type, obj, event_id=event_id)


def test_refund_webhooks_confirm_a_pending_refund_once(stripe_local, admin_user):
    payment = succeeded_payment()
    # A refund Stripe has not decided yet (as for some payment methods): pending, reserved.
    plan = money.refund_plan(payment)
    refund = money._create_refund(
        plan, plan.refundable_cents, actor=admin_user, origin="admin", reason="test"
    )
    created = stripe_client.create_refund(
        payment_intent_id=payment.stripe_payment_intent_id,
        amount_cents=refund.amount_cents,
        refund_id=refund.pk,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
    )
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id=created.id)
    refund.refresh_from_db()
    reservation = payouts(payment, kind="reservation").first()
    reservation.request(actor=reservation.vendor.user)
    with pytest.raises(InvalidTransition, match="refund that draws from it is pending"):
        reservation.approve(actor=admin_user)

    body = refund_event(refund, status="succeeded", event_type="charge.refunded", event_id="evt_r1")
    first = post_event(Client(), body)
    again = post_event(Client(), body)
    updated = post_event(Client(), refund_event(refund, status="succeeded", event_id="evt_r2"))

    assert first.json()["outcome"] == "processed"
    assert again.json()["duplicate"] is True
    assert updated.json()["outcome"] == "stale"
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert LedgerEntry.objects.filter(refund=refund, entry_type="refund").count() == 1
    assert set(payouts(payment).values_list("status", flat=True)) == {"reversed"}
    ledger_ok()

    # Stripe later says it failed: that is for staff (mismatch), nothing is undone.
    failed = post_event(Client(), refund_event(refund, status="failed", event_id="evt_r3"))
    assert failed.json()["outcome"] == "mismatch"
    assert WebhookEvent.objects.get(stripe_event_id="evt_r3").error.startswith("mismatch")
    refund.refresh_from_db()
    assert refund.status == "succeeded"


def test_refund_webhook_for_a_failed_refund_marks_it_failed(stripe_local, admin_user):
    payment = succeeded_payment()
    plan = money.refund_plan(payment)
    refund = money._create_refund(plan, 1_000, actor=admin_user, origin="admin", reason="t")
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id="re_pending_x")
    refund.refresh_from_db()

    response = post_event(Client(), refund_event(refund, status="failed"))

    assert response.json()["outcome"] == "processed"
    refund.refresh_from_db()
    assert refund.status == "failed"
    assert not LedgerEntry.objects.filter(refund=refund).exists()
    assert money.refund_plan(payment).refundable_cents == payment.amount_cents
    ledger_ok()


def test_refund_webhook_of_an_unknown_refund_is_ignored():
    body = event_body(
        "refund.updated",
        {"id": "re_unknown", "object": "refund", "amount": 5, "status": "succeeded"},
    )
    assert post_event(Client(), body).json()["outcome"] == "ignored"


# --- races (real threads) -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_two_refunds_of_one_payment_at_once_never_exceed_refundable(attempt, stripe_local):
    payment = succeeded_payment()
    admin_a, admin_b = AdminFactory(), AdminFactory()
    fresh = lambda: Payment.objects.get(pk=payment.pk)  # noqa: E731

    outcomes = run_together(
        lambda: money.refund_payment(fresh(), actor=admin_a, reason="a"),
        lambda: money.refund_payment(fresh(), actor=admin_b, reason="b"),
    )

    won = [o for o in outcomes if isinstance(o, Refund)]
    lost = [o for o in outcomes if not isinstance(o, Refund)]
    assert len(won) == 1 and won[0].amount_cents == payment.amount_cents, outcomes
    assert isinstance(lost[0], NothingToRefund), lost
    assert Refund.objects.filter(payment=payment).count() == 1
    assert (
        sum(
            r.amount
            for r in stripe_client.get_client()
            .v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id})
            .auto_paging_iter()
        )
        == payment.amount_cents
    )
    ledger_ok()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_refund_racing_a_payout_approval_never_pays_what_it_refunds(attempt, stripe_local):
    payment = succeeded_payment()
    reservation = payouts(payment, kind="reservation").first()
    reservation.request(actor=reservation.vendor.user)
    admin_a, admin_b = AdminFactory(), AdminFactory()

    refund, approved = run_together(
        lambda: money.refund_payment(
            Payment.objects.get(pk=payment.pk), actor=admin_a, reason="refund"
        ),
        lambda: Payout.objects.get(pk=reservation.pk).approve(actor=admin_b),
    )

    assert isinstance(refund, Refund), refund
    reservation.refresh_from_db()
    if isinstance(approved, Payout):  # approved first: the refund leaves the paid part
        assert reservation.status == "paid"
        assert reservation.pk not in [line.payout_id for line in refund.lines.all()]
    else:  # refund first: the approval is refused while the refund draws from it
        assert isinstance(approved, InvalidTransition), approved
        assert reservation.status == "reversed"
    paid_out = sum(p.amount_cents for p in payouts(payment, status="paid"))
    assert refund.amount_cents + paid_out <= payment.amount_cents
    ledger_ok()
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_a_payout_cannot_be_approved_while_a_refund_drawing_from_it_is_at_stripe(
    stripe_local, monkeypatch
):
    """The window that matters, made certain: the refund is reserved and waiting on Stripe
    (no lock held) when staff approve a payout it draws from."""
    import threading

    payment = succeeded_payment()
    reservation = payouts(payment, kind="reservation").first()
    reservation.request(actor=reservation.vendor.user)
    admin_a, admin_b = AdminFactory(), AdminFactory()
    at_stripe, approved = threading.Event(), threading.Event()
    real_create = stripe_client.create_refund

    def slow_create(**kwargs):
        at_stripe.set()
        approved.wait(timeout=10)  # Stripe answers only after the approval attempt
        return real_create(**kwargs)

    monkeypatch.setattr(stripe_client, "create_refund", slow_create)

    def approve():
        at_stripe.wait(timeout=10)
        try:
            return Payout.objects.get(pk=reservation.pk).approve(actor=admin_b)
        finally:
            approved.set()

    refund, approval = run_together(
        lambda: money.refund_payment(
            Payment.objects.get(pk=payment.pk), actor=admin_a, reason="refund"
        ),
        approve,
    )

    assert isinstance(approval, InvalidTransition), approval
    assert isinstance(refund, Refund) and refund.amount_cents == payment.amount_cents, refund
    reservation.refresh_from_db()
    assert reservation.status == "reversed"
    assert not payouts(payment, status="paid").exists()
    ledger_ok()
