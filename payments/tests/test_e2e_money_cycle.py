"""The whole money cycle end to end, over HTTP: the app under `live_server`, Stripe played by
localstripe, every payment learned only from localstripe's signed webhooks.

1. deposit → vendor approvals → paid → balance → paid in full → start → complete → payouts
   eligible → paid out;
2. a second booking canceled by its organizer 40 days out: everything refunded;
3. a third canceled 10 days out: the vendors keep their reservation payouts;
4. a disputed one decided `refunded`: what the dispute held goes back.

Each refund is present at Stripe; the payouts are reversed or kept as specified; a signed
`charge.refunded` (localstripe sends none: the test signs it) changes nothing more; and at the
end `check_ledger` and `reconcile_stripe` are clean.
"""

import datetime
import json
import time

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import AdminFactory, OrganizerFactory
from accounts.tokens import issue_tokens
from payments.models import Payment, Payout, Refund
from payments.tests.factories import event_body, sign
from strathwell.testing.servers import (
    LOCALSTRIPE_API_KEY,
    disable_localstripe_webhook,
    register_localstripe_webhook,
    reset_localstripe,
)
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEBHOOK_SECRET = "whsec_e2e_money_cycle"
WEBHOOK_ID = "strathwell-money-cycle-e2e"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


@pytest.fixture
def app(settings, live_server, localstripe_server):
    # A clean Stripe account: reconciliation compares everything Stripe lists.
    reset_localstripe(localstripe_server)
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    register_localstripe_webhook(
        localstripe_server,
        f"{live_server.url}/api/v1/webhooks/stripe",
        WEBHOOK_SECRET,
        webhook_id=WEBHOOK_ID,
    )
    try:
        yield live_server
    finally:
        disable_localstripe_webhook(localstripe_server, webhook_id=WEBHOOK_ID)


def wait_for(predicate, *, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Api:
    def __init__(self, base):
        self.base = f"{base}/api/v1"
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only

    def call(self, user, method, path, body=None, *, expect=200, **headers):
        headers = {"Authorization": f"Bearer {issue_tokens(user)['access']}", **headers}
        response = self.http.request(
            method, self.base + path, json=body, headers=headers, timeout=60
        )
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


def pay_on_stripe(client, intent_id):
    method = client.v1.payment_methods.create(params={"type": "card", "card": CARD})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    assert client.v1.payment_intents.confirm(intent_id).status == "succeeded"


def pay(api, stripe, organizer, booking_id, kind, key):
    body = api.call(
        organizer,
        "POST",
        f"/bookings/{booking_id}/payments",
        {"kind": kind},
        expect=201,
        **{"Idempotency-Key": key},
    )
    pay_on_stripe(stripe, body["stripe_payment_intent_id"])
    wait_for(
        lambda: Payment.objects.get(pk=body["id"]).status == "succeeded",
        what=f"{kind} webhook from localstripe",
    )
    return Payment.objects.get(pk=body["id"])


def paid_booking(api, stripe, organizer, *, days_out, tag):
    """Booking requested through the API, approved by its three vendors, deposit paid."""
    venue, dj, florist = VenueFactory(), ServiceVendorFactory(), ServiceVendorFactory()
    event_date = timezone.localdate() + datetime.timedelta(days=days_out)
    booking = api.call(
        organizer,
        "POST",
        "/bookings",
        {
            "title": f"Money cycle {tag}",
            "event_date": event_date.isoformat(),
            "guest_count": 80,
            "vendors": [
                {"vendor_id": str(venue.pk), "proposed_price_cents": 700_000},
                {"vendor_id": str(dj.pk), "proposed_price_cents": 210_001},
                {"vendor_id": str(florist.pk), "proposed_price_cents": 90_000},
            ],
        },
        expect=201,
    )
    api.call(organizer, "POST", f"/bookings/{booking['id']}/submit")
    for line, vendor in zip(booking["vendors"], (venue, dj, florist), strict=True):
        api.call(vendor.user, "POST", f"/bookings/{booking['id']}/vendors/{line['id']}/approve")
    ready = api.call(organizer, "GET", f"/bookings/{booking['id']}")
    assert ready["status"] == "ready_for_payment" and ready["balance_cents"] == 1_000_001
    pay(api, stripe, organizer, booking["id"], "deposit", f"{tag}-deposit")
    return api.call(organizer, "GET", f"/bookings/{booking['id']}")


def signed_charge_refunded(api, stripe, refund):
    """The `charge.refunded` Stripe would send (from localstripe's own refund), signed."""
    at_stripe = stripe.v1.refunds.retrieve(refund.stripe_refund_id)
    obj = {
        "id": f"ch_for_{refund.payment.stripe_payment_intent_id}",
        "object": "charge",
        "payment_intent": refund.payment.stripe_payment_intent_id,
        "amount_refunded": at_stripe.amount,
        "refunds": {"object": "list", "data": [json.loads(str(at_stripe))]},
    }
    payload = event_body("charge.refunded", obj)
    response = api.http.post(
        api.base + "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["outcome"]


def statuses(booking_id, **filters):
    return sorted(
        Payout.objects.filter(booking_id=booking_id, **filters).values_list("status", flat=True)
    )


def test_the_whole_money_cycle_on_localstripe(app, localstripe_client):
    api, stripe = Api(app.url), localstripe_client
    organizer, admin = OrganizerFactory(subscribed=True), AdminFactory()
    confirm = {"X-Confirm-Action": "true"}

    # --- 1. deposit → balance → paid in full → start → complete → payouts paid ---------
    booking = paid_booking(api, stripe, organizer, days_out=60, tag="full")
    bid = booking["id"]
    assert (booking["status"], booking["amount_paid_cents"]) == ("paid", 300_000)
    assert booking["balance_cents"] == 700_001
    refused = api.call(organizer, "POST", f"/bookings/{bid}/start", expect=409)
    assert refused["error"]["code"] == "balance_due"
    balance = pay(api, stripe, organizer, bid, "balance", "full-balance")
    assert balance.amount_cents == 700_001
    booking = api.call(organizer, "GET", f"/bookings/{bid}")
    assert (booking["balance_cents"], booking["amount_paid_cents"]) == (0, 1_000_001)
    assert api.call(organizer, "POST", f"/bookings/{bid}/start")["status"] == "in_progress"
    assert api.call(organizer, "POST", f"/bookings/{bid}/complete")["status"] == "completed"
    assert statuses(bid, kind="completion") == ["eligible"] * 6  # deposit's and balance's
    for payout in Payout.objects.filter(booking_id=bid, kind="reservation"):
        api.call(payout.vendor.user, "POST", f"/vendor/payouts/{payout.pk}/request")
    for payout in Payout.objects.filter(booking_id=bid):
        api.call(admin, "POST", f"/admin/payouts/{payout.pk}/approve", {}, **confirm)
    assert statuses(bid) == ["paid"] * 9
    call_command("check_ledger")

    # --- 2. canceled 40 days out: everything back ------------------------------------------
    early = paid_booking(api, stripe, organizer, days_out=40, tag="early")
    canceled = api.call(organizer, "POST", f"/bookings/{early['id']}/cancel", {"reason": "moved"})
    assert canceled["status"] == "canceled"
    [refund] = Refund.objects.filter(booking_id=early["id"])
    assert (refund.status, refund.amount_cents) == ("succeeded", 300_000)
    assert stripe.v1.refunds.retrieve(refund.stripe_refund_id).amount == 300_000
    assert statuses(early["id"]) == ["reversed"] * 6
    assert signed_charge_refunded(api, stripe, refund) == "stale"  # already applied
    listed = api.call(organizer, "GET", f"/bookings/{early['id']}/refunds")["results"]
    assert [r["id"] for r in listed] == [str(refund.pk)]

    # --- 3. canceled 10 days out: the reservations are kept ----------------------------------
    late = paid_booking(api, stripe, organizer, days_out=10, tag="late")
    api.call(organizer, "POST", f"/bookings/{late['id']}/cancel", {"reason": "too late"})
    [late_refund] = Refund.objects.filter(booking_id=late["id"])
    kept = Payout.objects.filter(booking_id=late["id"], kind="reservation")
    assert set(kept.values_list("status", flat=True)) == {"eligible"}
    assert statuses(late["id"], kind="completion") == ["reversed"] * 3
    kept_total = sum(p.amount_cents for p in kept)
    assert late_refund.amount_cents < 300_000 - kept_total  # the fee on the kept part stays
    assert stripe.v1.refunds.retrieve(late_refund.stripe_refund_id).amount == (
        late_refund.amount_cents
    )
    assert signed_charge_refunded(api, stripe, late_refund) == "stale"
    for payout in kept:  # the vendors keep them: staff pay them out
        api.call(admin, "POST", f"/admin/payouts/{payout.pk}/approve", {}, **confirm)

    # --- 4. a dispute decided `refunded`: what it held goes back ------------------------------
    disputed = paid_booking(api, stripe, organizer, days_out=50, tag="dispute")
    venue_reservation = Payout.objects.get(
        booking_id=disputed["id"], kind="reservation", booking_vendor__position=0
    )
    api.call(
        venue_reservation.vendor.user, "POST", f"/vendor/payouts/{venue_reservation.pk}/request"
    )
    opened = api.call(
        organizer,
        "POST",
        "/disputes",
        {"booking_id": disputed["id"], "reason": "no show", "description": "Nobody came."},
        expect=201,
    )
    api.call(admin, "PATCH", f"/admin/disputes/{opened['id']}", {"status": "under_review"})
    decided = api.call(
        admin,
        "PATCH",
        f"/admin/disputes/{opened['id']}",
        {"status": "refunded", "resolution_note": "the event did not happen"},
    )
    assert decided["status"] == "refunded"
    [dispute_refund] = Refund.objects.filter(booking_id=disputed["id"])
    assert (dispute_refund.status, dispute_refund.origin) == ("succeeded", "dispute")
    assert dispute_refund.amount_cents == 300_000  # nothing had been paid out
    assert statuses(disputed["id"]) == ["reversed"] * 6
    assert stripe.v1.refunds.retrieve(dispute_refund.stripe_refund_id).amount == 300_000

    # --- the books: every account, every payment, and Stripe agree ---------------------------
    call_command("check_ledger")
    call_command("reconcile_stripe")
    overview = api.call(admin, "GET", "/admin/overview")["money"]
    assert overview["held_cents"] == 1_000_001 + 3 * 300_000
    assert overview["refunded_cents"] == 300_000 + late_refund.amount_cents + 300_000
    assert overview["platform_holds_cents"] == (
        overview["outstanding_cents"] + overview["fees_cents"]
    )
