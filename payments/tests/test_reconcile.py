"""`manage.py reconcile_stripe`: our payments and refunds against what localstripe lists (real
HTTP, the official library's pagination); every kind of difference is reported and fails."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from payments import services as money
from payments import stripe_client
from payments.models import Payment, Refund
from payments.tests.factories import PaymentFactory, charge_on_localstripe, succeeded_payment
from strathwell.testing.servers import reset_localstripe

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]


@pytest.fixture
def clean_stripe(stripe_local):
    reset_localstripe(stripe_local)  # reconciliation compares everything Stripe lists
    return stripe_local


def reconcile(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("reconcile_stripe", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


def test_matching_records_reconcile_clean(clean_stripe):
    payment = succeeded_payment()
    money.refund_payment(payment, actor=AdminFactory(), reason="x", amount_cents=1_000)
    # Pages of 100: more objects than one page are followed.
    ok, out, err = reconcile()
    assert ok, err
    assert "1 PaymentIntents and 1 Refunds checked" in out


def test_every_difference_is_reported_and_fails(clean_stripe):
    client = stripe_client.get_client()
    paid = succeeded_payment()
    # 1. a refund made at Stripe (its dashboard, say) that we never recorded
    stray = client.v1.refunds.create(
        params={"payment_intent": paid.stripe_payment_intent_id, "amount": 500}
    )
    # 2. a refund we recorded as succeeded that Stripe does not have
    ghost = Refund.objects.create(
        payment=paid,
        booking=paid.booking,
        amount_cents=700,
        net_cents=700,
        fee_cents=0,
        origin="admin",
        reason="ghost",
        status="succeeded",
        stripe_refund_id="re_ghost_0001",
    )
    # 3. a PaymentIntent paid at Stripe whose payment we still think is pending
    unpaid = charge_on_localstripe(PaymentFactory(stripe_payment_intent_id=None))
    # 4. a payment whose amount disagrees with what Stripe received
    other = succeeded_payment()
    Payment.objects.filter(pk=other.pk).update(amount_cents=other.amount_cents + 1)

    ok, _out, err = reconcile()

    assert not ok
    assert f"missing: refund {stray.id}" in err
    assert f"extra: refund re_ghost_0001 (ours: {ghost.pk})" in err
    assert f"status: payment_intent {unpaid.stripe_payment_intent_id} (ours: {unpaid.pk})" in err
    assert f"amount: payment_intent {other.stripe_payment_intent_id}" in err
    assert "4 difference(s)" in err


def test_since_limits_the_comparison(clean_stripe):
    paid = succeeded_payment()
    Refund.objects.create(
        payment=paid,
        booking=paid.booking,
        amount_cents=700,
        net_cents=700,
        fee_cents=0,
        origin="admin",
        reason="ghost",
        status="succeeded",
        stripe_refund_id="re_ghost_0002",
    )
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    ok, out, err = reconcile("--since", tomorrow)
    assert ok, err
    assert "0 PaymentIntents and 0 Refunds checked" in out
    ok, _out, err = reconcile("--since", timezone.localdate().isoformat())
    assert not ok and "extra: refund re_ghost_0002" in err
    with pytest.raises(CommandError, match="--since must be a date"):
        call_command("reconcile_stripe", "--since", "yesterday")


def test_the_periodic_job_reports_differences_to_staff_in_the_audit_log(clean_stripe):
    from payments import tasks
    from strathwell.audit.models import AuditLog

    succeeded_payment()
    assert tasks.reconcile_stripe() == 0  # clean: no alert
    assert not AuditLog.objects.filter(action="stripe.reconcile_differences").exists()

    paid = succeeded_payment()
    stray = stripe_client.get_client().v1.refunds.create(
        params={"payment_intent": paid.stripe_payment_intent_id, "amount": 500}
    )
    assert tasks.reconcile_stripe() == 1
    alert = AuditLog.objects.get(action="stripe.reconcile_differences")
    assert alert.actor_email == "system"
    [difference] = alert.after["differences"]
    assert difference.startswith(f"missing: refund {stray.id}")
