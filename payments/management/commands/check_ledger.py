"""Verify the double-entry ledger against the records it summarises (exit status 1 on any
discrepancy). A fixed number of set-based queries, whatever the data size.

* every journal transaction's legs sum to zero (the database refuses anything else at commit;
  checked again here) and its headline amount matches its legs;
* every account: stripe clearing = Σ succeeded payments; organizer refunds = Σ succeeded
  refunds; vendor payouts = Σ paid payouts; each vendor's payable = Σ its unpaid, unreversed
  payouts; platform revenue = Σ fees − Σ fees returned; no booking's escrow is negative;
* every payment: one `held_funds` of its amount; its `platform_fee` transactions take exactly
  its amount out of escrow; Σ allocation shares = its amount; `held = fees + Σ payouts`
  (every payout, whatever its status); Σ refunded ≤ its amount − Σ paid out;
* every paid payout has one `payout` transaction of its amount, and no other payout has one;
* every booking's `amount_paid_cents` / `amount_refunded_cents` match its payments and refunds.
"""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q, Sum

from bookings.models import Booking
from payments.models import (
    Allocation,
    LedgerAccount,
    LedgerEntry,
    LedgerLeg,
    Payment,
    Payout,
    Refund,
)

T = LedgerAccount.Type
K = LedgerEntry.EntryType
UNPAID = [Payout.Status.LOCKED, Payout.Status.ELIGIBLE, Payout.Status.HELD]

# The leg that carries each kind's headline amount: (account type, sign of the leg).
HEADLINE = {
    K.HELD_FUNDS: (T.STRIPE_CLEARING, 1),
    K.PLATFORM_FEE: (T.PLATFORM_REVENUE, -1),
    K.PAYOUT: (T.VENDOR_PAYOUTS, -1),
    K.PAYOUT_REVERSAL: (T.BOOKING_ESCROW, -1),
    K.REFUND: (T.ORGANIZER_REFUNDS, -1),
    K.FEE_REFUND: (T.PLATFORM_REVENUE, 1),
}


def _sum_by(queryset, key, field="amount_cents"):
    return {
        row[key]: int(row["total"] or 0)
        for row in queryset.values(key).annotate(total=Sum(field)).order_by()
    }


def find_discrepancies() -> tuple[int, list[str]]:
    """(payments checked, one line per discrepancy)."""
    problems: list[str] = []

    # --- transactions ---
    for row in (
        LedgerLeg.objects.values("entry_id")
        .annotate(total=Sum("amount_cents"), currencies=Count("account__currency", distinct=True))
        .filter(~Q(total=0) | Q(currencies__gt=1))
        .order_by("entry_id")
    ):
        problems.append(f"transaction {row['entry_id']}: legs sum to {row['total']}, not 0")
    headline = defaultdict(int)
    for row in (
        LedgerLeg.objects.values("entry_id", "entry__entry_type", "account__type")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    ):
        account_type, sign = HEADLINE[row["entry__entry_type"]]
        if row["account__type"] == account_type:
            headline[row["entry_id"]] += sign * int(row["total"])
    for entry_id, entry_type, amount in LedgerEntry.objects.values_list(
        "id", "entry_type", "amount_cents"
    ).order_by("id"):
        if headline.get(entry_id, 0) != amount:
            problems.append(
                f"transaction {entry_id} ({entry_type}): amount {amount} but its legs move "
                f"{headline.get(entry_id, 0)}"
            )

    # --- accounts ---
    balances = defaultdict(int)  # (type, currency, owner) -> normal-side balance
    for row in (
        LedgerLeg.objects.values(
            "account__type", "account__currency", "account__booking_id", "account__vendor_id"
        )
        .annotate(total=Sum("amount_cents"))
        .order_by()
    ):
        kind = row["account__type"]
        sign = 1 if kind in LedgerAccount.DEBIT_NORMAL else -1
        owner = row["account__booking_id"] or row["account__vendor_id"]
        balances[(kind, row["account__currency"], owner)] += sign * int(row["total"])

    def expect(kind, currency, owner, expected, label):
        actual = balances.pop((kind, currency, owner), 0)
        if actual != expected:
            problems.append(f"account {label}: expected {expected}, actual {actual}")

    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED)
    refunds = Refund.objects.filter(status=Refund.Status.SUCCEEDED)
    currencies = {c for (_k, c, _o) in balances} | set(
        succeeded.values_list("currency", flat=True).distinct()
    )
    received = _sum_by(succeeded, "currency")
    refunded = _sum_by(refunds, "currency")
    refunded_fees = _sum_by(refunds, "currency", "fee_cents")
    paid_out = _sum_by(Payout.objects.filter(status=Payout.Status.PAID), "currency")
    fees = _sum_by(
        Allocation.objects.filter(payment__status="succeeded"), "payment__currency", "fee_cents"
    )
    for c in sorted(currencies):
        expect(T.STRIPE_CLEARING, c, None, received.get(c, 0), f"stripe_clearing:{c}")
        expect(T.ORGANIZER_REFUNDS, c, None, refunded.get(c, 0), f"organizer_refunds:{c}")
        expect(T.VENDOR_PAYOUTS, c, None, paid_out.get(c, 0), f"vendor_payouts:{c}")
        expect(
            T.PLATFORM_REVENUE,
            c,
            None,
            fees.get(c, 0) - refunded_fees.get(c, 0),
            f"platform_revenue:{c}",
        )
    owed = defaultdict(int)
    for row in (
        Payout.objects.filter(status__in=UNPAID)
        .values("vendor_id", "currency")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    ):
        owed[(row["vendor_id"], row["currency"])] += int(row["total"])
    for (vendor_id, c), amount in sorted(owed.items(), key=str):
        expect(T.VENDOR_PAYABLE, c, vendor_id, amount, f"vendor_payable:{c}:vendor:{vendor_id}")
    for (kind, c, owner), balance in sorted(balances.items(), key=str):
        if kind == T.BOOKING_ESCROW:
            if balance < 0:
                problems.append(f"account booking_escrow:{c}:booking:{owner}: negative ({balance})")
        elif balance != 0:
            problems.append(f"account {kind}:{c}:{owner}: unexpected balance {balance}")

    # --- payments ---
    payments = dict(succeeded.values_list("id", "amount_cents"))
    held = defaultdict(lambda: (0, 0))
    for row in (
        LedgerEntry.objects.filter(entry_type=K.HELD_FUNDS)
        .values("payment_id")
        .annotate(total=Sum("amount_cents"), n=Count("id"))
        .order_by()
    ):
        held[row["payment_id"]] = (int(row["total"]), row["n"])
    allocated = _sum_by(
        LedgerLeg.objects.filter(entry__entry_type=K.PLATFORM_FEE, account__type=T.BOOKING_ESCROW),
        "entry__payment_id",
    )
    fee_entries = _sum_by(LedgerEntry.objects.filter(entry_type=K.PLATFORM_FEE), "payment_id")
    shares = _sum_by(Allocation.objects.all(), "payment_id", "share_cents")
    all_payouts = _sum_by(Payout.objects.all(), "payment_id")
    paid_payouts = _sum_by(Payout.objects.filter(status=Payout.Status.PAID), "payment_id")
    refunded_by_payment = _sum_by(refunds, "payment_id")
    ledger_payments = set(LedgerEntry.objects.values_list("payment_id", flat=True).distinct())

    def problem(payment_id, what, expected, actual):
        problems.append(f"payment {payment_id}: {what}: expected {expected}, actual {actual}")

    for payment_id in sorted(ledger_payments - set(payments), key=str):
        problem(payment_id, "ledger entries for a payment that did not succeed", 0, "entries")
    for payment_id, paid in sorted(payments.items(), key=lambda item: str(item[0])):
        held_amount, held_count = held[payment_id]
        if held_count != 1:
            problem(payment_id, "held_funds entries", 1, held_count)
        if held_amount != paid:
            problem(payment_id, "held_funds amount", paid, held_amount)
        if allocated.get(payment_id, 0) != paid:
            problem(payment_id, "allocated out of escrow", paid, allocated.get(payment_id, 0))
        fee_total, payout_total = fee_entries.get(payment_id, 0), all_payouts.get(payment_id, 0)
        if fee_total + payout_total != held_amount:
            problem(
                payment_id,
                "held_funds = platform fees + payouts",
                held_amount,
                f"{fee_total + payout_total} (fees {fee_total} + payouts {payout_total})",
            )
        if shares.get(payment_id, 0) != paid:
            problem(payment_id, "sum of allocation shares", paid, shares.get(payment_id, 0))
        limit = paid - paid_payouts.get(payment_id, 0)
        if refunded_by_payment.get(payment_id, 0) > limit:
            problem(
                payment_id,
                "refunded ≤ paid − paid out",
                f"≤ {limit}",
                refunded_by_payment.get(payment_id, 0),
            )

    # --- payouts ---
    paid_map = dict(
        Payout.objects.filter(status=Payout.Status.PAID).values_list("id", "amount_cents")
    )
    payout_entries = dict(
        LedgerEntry.objects.filter(entry_type=K.PAYOUT).values_list("payout_id", "amount_cents")
    )
    for payout_id, amount in sorted(paid_map.items(), key=lambda item: str(item[0])):
        if payout_entries.get(payout_id) != amount:
            problems.append(
                f"payout {payout_id}: payout ledger entry: expected {amount}, "
                f"actual {payout_entries.get(payout_id)}"
            )
    for payout_id, amount in sorted(payout_entries.items(), key=lambda item: str(item[0])):
        if payout_id not in paid_map:
            problems.append(
                f"payout {payout_id}: payout ledger entry of {amount} for a payout that is not paid"
            )

    # --- bookings ---
    received_by_booking = _sum_by(succeeded, "booking_id")
    refunded_by_booking = _sum_by(refunds, "booking_id")
    for pk, paid, refunded_amount in (
        Booking.objects.filter(
            Q(pk__in=list(received_by_booking))
            | ~Q(amount_paid_cents=0)
            | ~Q(amount_refunded_cents=0)
        )
        .values_list("pk", "amount_paid_cents", "amount_refunded_cents")
        .order_by("pk")
    ):
        expected_refunded = refunded_by_booking.get(pk, 0)
        expected_paid = received_by_booking.get(pk, 0) - expected_refunded
        if (paid, refunded_amount) != (expected_paid, expected_refunded):
            problems.append(
                f"booking {pk}: amount paid/refunded: expected {expected_paid}/"
                f"{expected_refunded}, actual {paid}/{refunded_amount}"
            )
    return len(payments), problems


class Command(BaseCommand):
    help = (
        "Verify the double-entry ledger: balanced transactions, every account against the "
        "payments, payouts and refunds it sums, every payment's legs, no negative escrow."
    )

    def handle(self, *args, **options):
        checked, problems = find_discrepancies()
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(
                f"ledger check failed: {len(problems)} discrepancy(ies) in {checked} payments"
            )
        self.stdout.write(f"ledger OK: {checked} payments checked")
