"""Verify the ledger's invariants for every succeeded payment (exit status 1 if any fails):

* exactly one `held_funds` entry, equal to the paid amount P;
* `held_funds = Σ platform_fee + Σ payouts` (reservation + completion, whatever their status);
* `Σ allocation shares = P`;
* every `payout` ledger entry matches a paid payout of the same amount, and every paid payout
  has one.
"""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum

from payments.models import Allocation, LedgerEntry, Payment, Payout


def _sums(queryset, key):
    return {
        row[key]: (row["total"] or 0, row["n"])
        for row in queryset.values(key).annotate(total=Sum("amount_cents"), n=Count("id"))
    }


def find_discrepancies() -> tuple[int, list[str]]:
    """(payments checked, one line per discrepancy). Set-based: a fixed number of queries."""
    payments = {
        p["id"]: p
        for p in Payment.objects.filter(status=Payment.Status.SUCCEEDED).values(
            "id", "amount_cents"
        )
    }
    ledger = defaultdict(dict)
    for row in (
        LedgerEntry.objects.values("payment_id", "entry_type")
        .annotate(total=Sum("amount_cents"), n=Count("id"))
        .order_by()
    ):
        ledger[row["payment_id"]][row["entry_type"]] = (row["total"] or 0, row["n"])
    payouts = _sums(Payout.objects.order_by(), "payment_id")
    shares = {
        row["payment_id"]: row["total"] or 0
        for row in Allocation.objects.values("payment_id")
        .annotate(total=Sum("share_cents"))
        .order_by()
    }
    paid_payouts = dict(
        Payout.objects.filter(status=Payout.Status.PAID).values_list("id", "amount_cents")
    )
    payout_entries = dict(
        LedgerEntry.objects.filter(entry_type=LedgerEntry.EntryType.PAYOUT).values_list(
            "payout_id", "amount_cents"
        )
    )

    problems = []

    def problem(payment_id, what, expected, actual):
        problems.append(f"payment {payment_id}: {what}: expected {expected}, actual {actual}")

    for payment_id in sorted(set(ledger) - set(payments), key=str):
        problem(payment_id, "ledger entries for a payment that did not succeed", 0, "entries")
    for payment_id, payment in sorted(payments.items(), key=lambda item: str(item[0])):
        paid = payment["amount_cents"]
        entries = ledger.get(payment_id, {})
        held, held_count = entries.get(LedgerEntry.EntryType.HELD_FUNDS, (0, 0))
        fees, _ = entries.get(LedgerEntry.EntryType.PLATFORM_FEE, (0, 0))
        payout_total, _ = payouts.get(payment_id, (0, 0))
        if held_count != 1:
            problem(payment_id, "held_funds entries", 1, held_count)
        if held != paid:
            problem(payment_id, "held_funds amount", paid, held)
        if fees + payout_total != held:
            problem(
                payment_id,
                "held_funds = platform fees + payouts",
                held,
                f"{fees + payout_total} (fees {fees} + payouts {payout_total})",
            )
        if shares.get(payment_id, 0) != paid:
            problem(payment_id, "sum of allocation shares", paid, shares.get(payment_id, 0))
    for payout_id, amount in sorted(paid_payouts.items(), key=lambda item: str(item[0])):
        if payout_entries.get(payout_id) != amount:
            problems.append(
                f"payout {payout_id}: payout ledger entry: expected {amount}, "
                f"actual {payout_entries.get(payout_id)}"
            )
    for payout_id, amount in sorted(payout_entries.items(), key=lambda item: str(item[0])):
        if payout_id not in paid_payouts:
            problems.append(
                f"payout {payout_id}: payout ledger entry of {amount} for a payout that is not paid"
            )
    return len(payments), problems


class Command(BaseCommand):
    help = "Verify the ledger: held = fees + payouts and Σ shares = paid, for every payment."

    def handle(self, *args, **options):
        checked, problems = find_discrepancies()
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(
                f"ledger check failed: {len(problems)} discrepancy(ies) in {checked} payments"
            )
        self.stdout.write(f"ledger OK: {checked} payments checked")
