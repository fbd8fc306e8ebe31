"""GET /admin/overview: counts by status and ledger totals, in a pinned number of queries."""

import io

import pytest
from django.core.management import call_command

from accounts.tests.factories import AdminFactory
from backoffice.services import overview
from bookings.tests.factories import booking_with_vendors
from payments import services as money
from payments.models import Payout
from payments.tests.factories import succeeded_payment
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/overview"
OVERVIEW_QUERIES = 7  # one GROUP BY per model (6) + one GROUP BY of the ledger accounts


def small_world():
    """A world whose numbers are worked out by hand (deposit 30%, commission 10%,
    reservation 50%, the settings' defaults).

    Paid booking: venue 500,000 + service 150,000 → deposit P = 195,000; shares 150,000 and
    45,000 → fees 15,000 + 4,500 = 19,500; nets 135,000 / 40,500 → reservations 67,500 /
    20,250. The venue's reservation is paid out (67,500); then a dispute holds the service's
    eligible reservation."""
    admin = AdminFactory()
    VendorFactory(verification_status="pending")
    VendorFactory(service=True, verification_status="needs_changes")
    booking_with_vendors(status="draft")  # + 2 approved vendors
    booking_with_vendors(status="canceled")  # + 2 approved vendors
    booking = succeeded_payment(prices=(500_000, 150_000)).booking  # + 2 approved vendors
    venue_res, service_res = sorted(
        Payout.objects.filter(booking=booking, kind="reservation"),
        key=lambda p: -p.amount_cents,
    )
    venue_res.request(actor=venue_res.vendor.user)
    venue_res.approve(actor=admin)
    service_res.request(actor=service_res.vendor.user)
    money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late", description="x")
    return admin


def test_overview_numbers_of_a_hand_computed_world(make_client, django_assert_num_queries):
    admin = small_world()
    client = make_client(admin)
    with django_assert_num_queries(OVERVIEW_QUERIES + 1):  # + the request's user
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["vendors"] == {"pending": 1, "approved": 6, "needs_changes": 1, "total": 8}
    assert body["bookings"] == {
        "draft": 1,
        "awaiting_vendor_approval": 0,
        "ready_for_payment": 0,
        "paid": 1,
        "in_progress": 0,
        "completed": 0,
        "canceled": 1,
        "expired": 0,
        "total": 3,
    }
    assert body["payments"] == {
        "pending": 0,
        "succeeded": 1,
        "failed": 0,
        "canceled": 0,
        "total": 1,
    }
    assert body["payouts"] == {
        "locked": 2,
        "eligible": 0,
        "paid": 1,
        "held": 1,
        "reversed": 0,
        "total": 4,
    }
    assert body["disputes"]["open"] == 1 and body["disputes"]["total"] == 1
    expected_money = {
        "currency": "usd",
        "held_cents": 195_000,
        "fees_cents": 19_500,
        "paid_out_cents": 67_500,
        "refunded_cents": 0,
        "owed_to_vendors_cents": 195_000 - 19_500 - 67_500,
        "escrow_cents": 0,
        "outstanding_cents": 195_000 - 19_500 - 67_500,
        "platform_holds_cents": 195_000 - 67_500,
    }
    assert body["money"] == expected_money
    assert body["money_by_currency"] == [expected_money]


def test_overview_numbers_of_the_demo_world(settings):
    settings.ENABLE_DEMO_OPS = True
    call_command("seed_demo", stdout=io.StringIO())
    data = overview()
    assert data["vendors"] == {"pending": 2, "approved": 6, "needs_changes": 1, "total": 9}
    assert {k: v for k, v in data["bookings"].items() if k != "total"} == {
        "draft": 1,
        "awaiting_vendor_approval": 1,
        "ready_for_payment": 2,
        "paid": 2,
        "in_progress": 1,
        "completed": 1,
        "canceled": 1,
        "expired": 1,
    }
    # Four deposits, and the balances of the started and the completed booking.
    assert data["payments"]["succeeded"] == 6
    assert data["payouts"] == {
        "locked": 12,
        "eligible": 10,
        "paid": 1,
        "held": 2,
        "reversed": 0,
        "total": 25,
    }
    assert data["disputes"]["open"] == 1
    # Deposits (30%) of 1,470,000 + 610,000 + 1,550,000 + 950,000 and the balances (70%) of
    # 1,550,000 + 610,000; 10% fees; the Summer wedding venue's reservation (share 195,000 −
    # fee 19,500 = 175,500, half) paid out.
    held = 1_374_000 + 1_512_000
    assert data["money"] == {
        "currency": "usd",
        "held_cents": held,
        "fees_cents": 288_600,
        "paid_out_cents": 87_750,
        "refunded_cents": 0,
        "owed_to_vendors_cents": held - 288_600 - 87_750,
        "escrow_cents": 0,
        "outstanding_cents": held - 288_600 - 87_750,
        "platform_holds_cents": held - 87_750,
    }


def test_empty_world_has_zeros_and_the_same_query_count(
    admin_client_api, django_assert_num_queries
):
    with django_assert_num_queries(OVERVIEW_QUERIES + 1):
        body = admin_client_api.get(URL).json()
    assert body["bookings"]["total"] == 0 and body["payouts"]["held"] == 0
    assert body["money"]["held_cents"] == 0 and body["money_by_currency"] == []


def test_service_query_count_is_constant_across_sizes(django_assert_num_queries):
    with django_assert_num_queries(OVERVIEW_QUERIES):
        overview()
    small_world()
    for _ in range(3):
        succeeded_payment()
    with django_assert_num_queries(OVERVIEW_QUERIES):
        overview()


def test_overview_is_admin_only(organizer_client, api_client):
    assert organizer_client.get(URL).status_code == 403
    assert api_client.get(URL).status_code == 401
