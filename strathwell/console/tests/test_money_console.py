"""The staff console's money views: refunds inline on payments and bookings, the refund action
(confirmation page, reason, optional amount; through localstripe), the retry of a failed
refund, and a vendor's balance (owed, paid out) from the ledger on the vendor page."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from payments.models import Payment, Payout, Refund
from payments.tests.factories import PaymentFactory, succeeded_payment
from strathwell.audit.models import AuditLog
from strathwell.console import display
from strathwell.console.tests.test_product import visible_text

pytestmark = pytest.mark.django_db
DEAD_STRIPE = "http://127.0.0.1:9"


def changelist(model):
    return reverse(f"admin:payments_{model._meta.model_name}_changelist")


def run_action(client, model, action, objs, **data):
    return client.post(
        changelist(model),
        {"action": action, "_selected_action": [str(o.pk) for o in objs], "post": "yes", **data},
        follow=True,
    )


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_refund_action_confirms_then_refunds_through_stripe(stripe_local, staff, staff_client):
    payment = succeeded_payment()
    page = staff_client.post(
        changelist(Payment),
        {"action": "refund_payments", "_selected_action": [str(payment.pk)], "index": 0},
    )
    assert page.status_code == 200
    assert b"Amount (cents)" in page.content and b"everything refundable" in page.content
    assert not Refund.objects.exists()  # the confirmation page changes nothing

    response = run_action(
        staff_client, Payment, "refund_payments", [payment], reason="goodwill", amount_cents=5000
    )

    assert response.status_code == 200
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.amount_cents, refund.requested_by) == ("succeeded", 5000, staff)
    assert AuditLog.objects.filter(action="refund.succeed", actor=staff).exists()
    assert any(level == "success" for level, _ in messages_of(response)), messages_of(response)
    # Inline on the payment's and the booking's pages.
    for url in (
        reverse("admin:payments_payment_change", args=[payment.pk]),
        reverse("admin:bookings_booking_change", args=[payment.booking_id]),
    ):
        body = staff_client.get(url).content.decode()
        assert refund.stripe_refund_id in body, url
    booking_page = staff_client.get(
        reverse("admin:bookings_booking_change", args=[payment.booking_id])
    )
    assert b"Amount refunded" in booking_page.content
    text = visible_text(booking_page)
    assert "cents" not in text.lower() and " USD" in text
    assert b"Balance due on" in booking_page.content


def test_refund_action_reports_nothing_to_refund(stripe_local, staff_client):
    pending = PaymentFactory()
    response = run_action(staff_client, Payment, "refund_payments", [pending], reason="x")
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert not Refund.objects.exists()


def test_failed_refund_is_retried_from_the_console(stripe_local, settings, staff, staff_client):
    payment = succeeded_payment()
    settings.STRIPE_API_BASE = DEAD_STRIPE
    run_action(staff_client, Payment, "refund_payments", [payment], reason="goodwill")
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "failed"
    assert set(Payout.objects.filter(payment=payment).values_list("status", flat=True)) == {
        "locked"
    }

    settings.STRIPE_API_BASE = stripe_local.url
    run_action(staff_client, Refund, "retry_refunds", [refund], reason="Stripe is back")

    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.attempts == 2
    assert AuditLog.objects.filter(action="refund.retry", actor=staff).exists()


def test_vendor_page_shows_its_ledger_balance(staff, staff_client):
    payment = succeeded_payment()
    payout = Payout.objects.filter(payment=payment, kind="reservation").first()
    payout.request(actor=payout.vendor.user)
    payout.approve(actor=staff)
    owed = sum(
        p.amount_cents
        for p in Payout.objects.filter(vendor=payout.vendor, status__in=["locked", "eligible"])
    )

    page = staff_client.get(reverse("admin:vendors_vendor_change", args=[payout.vendor_id]))

    text = page.content.decode()
    assert f"owed {display.format_cents(owed, 'usd')}" in text
    assert f"paid out {display.format_cents(payout.amount_cents, 'usd')}" in text


def test_payout_refund_action_refunds_one_payout(stripe_local, staff, staff_client):
    payment = succeeded_payment()
    payout = Payout.objects.filter(payment=payment, kind="completion").first()

    response = run_action(staff_client, Payout, "refund_payouts", [payout], reason="adjusted")

    assert any(level == "success" for level, _ in messages_of(response)), messages_of(response)
    payout.refresh_from_db()
    assert payout.status == "reversed"
    refund = Refund.objects.get(payment=payment)
    assert (refund.origin, refund.status, refund.net_cents) == (
        "payout",
        "succeeded",
        payout.amount_cents,
    )
    assert Payout.objects.filter(payment=payment, status="locked").count() == 3
