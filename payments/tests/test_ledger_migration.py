"""Migration 0004 moves the single-entry ledger of before into the double-entry form: rows
written in the old shape (migrations applied up to payments 0002) get their legs, reversed
payouts their `payout_reversal`, bookings their `amount_paid_cents` — and `check_ledger`
passes on the result."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("payments", "0002_ledger_append_only"), ("bookings", "0002_line_and_status_constraints")]


def _old_world(apps):
    """One paid booking of two vendors, as the old code wrote it: allocation, held_funds, one
    platform_fee per vendor, four payouts (one paid with its payout entry, one reversed)."""
    User = apps.get_model("accounts", "User")
    Vendor = apps.get_model("vendors", "Vendor")
    Booking = apps.get_model("bookings", "Booking")
    Line = apps.get_model("bookings", "BookingVendor")
    Payment = apps.get_model("payments", "Payment")
    Allocation = apps.get_model("payments", "Allocation")
    Entry = apps.get_model("payments", "LedgerEntry")
    Payout = apps.get_model("payments", "Payout")

    organizer = User.objects.create(email="old@example.com", full_name="Old", role="organizer")
    booking = Booking.objects.create(
        organizer=organizer, title="Old", event_date="2031-01-01", guest_count=10, status="paid"
    )
    payment = Payment.objects.create(
        booking=booking, organizer=organizer, amount_cents=195_000, status="succeeded"
    )
    Entry.objects.create(
        entry_type="held_funds", payment=payment, booking=booking, amount_cents=195_000,
        currency="usd",
    )  # fmt: skip
    splits = [(500_000, 150_000, 15_000, 67_500, 67_500), (150_000, 45_000, 4_500, 20_250, 20_250)]
    payouts = []
    for position, (price, share, fee, reservation, completion) in enumerate(splits):
        user = User.objects.create(email=f"v{position}@example.com", full_name="V", role="vendor")
        vendor = Vendor.objects.create(
            user=user,
            vendor_type="venue" if position == 0 else "service",
            business_name=f"V{position}",
            city="Austin",
            verification_status="approved",
        )
        line = Line.objects.create(
            booking=booking, vendor=vendor, role=vendor.vendor_type, status="approved",
            proposed_price_cents=price, agreed_price_cents=price, position=position,
        )  # fmt: skip
        Allocation.objects.create(
            payment=payment, booking_vendor=line, agreed_price_cents=price, share_cents=share,
            fee_cents=fee, reservation_cents=reservation, completion_cents=completion,
        )  # fmt: skip
        Entry.objects.create(
            entry_type="platform_fee", payment=payment, booking=booking, booking_vendor=line,
            amount_cents=fee, currency="usd",
        )  # fmt: skip
        for kind, amount in (("reservation", reservation), ("completion", completion)):
            payouts.append(
                Payout.objects.create(
                    vendor=vendor,
                    booking=booking,
                    booking_vendor=line,
                    payment=payment,
                    kind=kind,
                    amount_cents=amount,
                    status="locked",
                )
            )
    paid, reversed_ = payouts[0], payouts[3]
    Payout.objects.filter(pk=paid.pk).update(status="paid")
    Entry.objects.create(
        entry_type="payout", payment=payment, booking=booking, booking_vendor=paid.booking_vendor,
        payout=paid, amount_cents=paid.amount_cents, currency="usd",
    )  # fmt: skip
    Payout.objects.filter(pk=reversed_.pk).update(status="reversed")
    return booking.pk, reversed_.pk


def test_old_entries_are_moved_into_balanced_legs_and_check_ledger_passes():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    # The models as the database now has them: payments and bookings rolled back, every app
    # that does not depend on them (accounts, vendors, …) still at its latest migration.
    applied = list(executor.loader.applied_migrations)
    booking_id, reversed_id = _old_world(executor.loader.project_state(applied).apps)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    from bookings.models import Booking
    from payments import ledger
    from payments.models import LedgerEntry, LedgerLeg

    assert LedgerLeg.objects.count() == 2 + 3 + 3 + 2 + 2  # held, 2 fees, payout, reversal
    reversal = LedgerEntry.objects.get(entry_type="payout_reversal")
    assert reversal.payout_id == reversed_id and reversal.amount_cents == 20_250
    assert Booking.objects.get(pk=booking_id).amount_paid_cents == 195_000
    balances = {a["type"]: a["balance_cents"] for a in ledger.account_balances(vendor=None)}
    assert balances["stripe_clearing"] == 195_000
    assert balances["platform_revenue"] == 19_500
    assert balances["vendor_payouts"] == 67_500
    assert balances["booking_escrow"] == 20_250  # the reversed payout, waiting for a refund
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger OK: 1 payments checked" in out.getvalue()
