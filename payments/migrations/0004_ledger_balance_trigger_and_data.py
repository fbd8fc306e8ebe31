"""The double-entry ledger in the database, and the old single-entry rows moved into it.

1. A deferred constraint trigger (as django-hordak's `check_leg`) refuses, at commit, any
   journal transaction whose legs do not sum to zero or that mixes currencies; the new ledger
   tables and refund draws are append-only (UPDATE/DELETE refused), like the old ledger.
2. Data: every existing `LedgerEntry` gets its legs (held_funds: stripe clearing → escrow;
   platform_fee: escrow → revenue + vendor payable, from its allocation; payout: vendor
   payable → vendor payouts); every payout staff reversed gets its `payout_reversal`; every
   booking's `amount_paid_cents` is its succeeded payments. `check_ledger` passes after it.
"""

from collections import defaultdict

from django.db import migrations

from strathwell.db import append_only_trigger

BALANCE_FUNCTION = """
CREATE OR REPLACE FUNCTION payments_ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    total bigint;
    currencies integer;
BEGIN
    SELECT COALESCE(SUM(leg.amount_cents), 0), COUNT(DISTINCT acc.currency)
      INTO total, currencies
      FROM payments_ledgerleg leg
      JOIN payments_ledgeraccount acc ON acc.id = leg.account_id
     WHERE leg.entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: its legs sum to %',
            NEW.entry_id, total USING ERRCODE = 'check_violation';
    END IF;
    IF currencies > 1 THEN
        RAISE EXCEPTION 'ledger transaction % mixes currencies', NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

BALANCE_TRIGGER = """
CREATE CONSTRAINT TRIGGER payments_ledgerleg_balanced
AFTER INSERT ON payments_ledgerleg
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION payments_ledger_check_balanced();
"""


def create_balance_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BALANCE_FUNCTION, params=None)
    schema_editor.execute(BALANCE_TRIGGER, params=None)


def drop_balance_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS payments_ledgerleg_balanced ON payments_ledgerleg;")
    schema_editor.execute("DROP FUNCTION IF EXISTS payments_ledger_check_balanced();")


def _code(type_, currency, booking_id=None, vendor_id=None):
    parts = [type_, currency.lower()]
    if booking_id is not None:
        parts.append(f"booking:{booking_id}")
    if vendor_id is not None:
        parts.append(f"vendor:{vendor_id}")
    return ":".join(parts)


def migrate_entries(apps, schema_editor):
    LedgerEntry = apps.get_model("payments", "LedgerEntry")
    LedgerLeg = apps.get_model("payments", "LedgerLeg")
    LedgerAccount = apps.get_model("payments", "LedgerAccount")
    Allocation = apps.get_model("payments", "Allocation")
    Payout = apps.get_model("payments", "Payout")
    Payment = apps.get_model("payments", "Payment")
    Booking = apps.get_model("bookings", "Booking")

    accounts = {}

    def account(type_, currency, booking_id=None, vendor_id=None):
        code = _code(type_, currency, booking_id, vendor_id)
        if code not in accounts:
            accounts[code], _ = LedgerAccount.objects.get_or_create(
                code=code,
                defaults={
                    "type": type_,
                    "currency": currency.lower(),
                    "booking_id": booking_id,
                    "vendor_id": vendor_id,
                },
            )
        return accounts[code]

    allocations = {
        (a.payment_id, a.booking_vendor_id): a
        for a in Allocation.objects.select_related("booking_vendor")
    }
    legs = []
    for entry in LedgerEntry.objects.select_related("payout", "booking_vendor").order_by("id"):
        c = entry.currency
        if entry.entry_type == "held_funds":
            pairs = [
                (account("stripe_clearing", c), entry.amount_cents),
                (account("booking_escrow", c, booking_id=entry.booking_id), -entry.amount_cents),
            ]
        elif entry.entry_type == "platform_fee":
            allocation = allocations[(entry.payment_id, entry.booking_vendor_id)]
            share, fee = allocation.share_cents, entry.amount_cents
            pairs = [
                (account("booking_escrow", c, booking_id=entry.booking_id), share),
                (account("platform_revenue", c), -fee),
                (
                    account("vendor_payable", c, vendor_id=entry.booking_vendor.vendor_id),
                    -(share - fee),
                ),
            ]
        elif entry.entry_type == "payout":
            pairs = [
                (account("vendor_payable", c, vendor_id=entry.payout.vendor_id), entry.amount_cents),
                (account("vendor_payouts", c), -entry.amount_cents),
            ]
        else:  # no other kind existed before this migration
            raise RuntimeError(f"unexpected ledger entry type {entry.entry_type!r}")
        legs += [LedgerLeg(entry=entry, account=a, amount_cents=n) for a, n in pairs if n]

    for payout in Payout.objects.filter(status="reversed").order_by("id"):
        entry = LedgerEntry.objects.create(
            entry_type="payout_reversal",
            payment_id=payout.payment_id,
            booking_id=payout.booking_id,
            booking_vendor_id=payout.booking_vendor_id,
            payout=payout,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
            memo=f"{payout.kind} payout of vendor {payout.vendor_id} reversed (migrated)",
        )
        c = payout.currency
        pairs = [
            (account("vendor_payable", c, vendor_id=payout.vendor_id), payout.amount_cents),
            (account("booking_escrow", c, booking_id=payout.booking_id), -payout.amount_cents),
        ]
        legs += [LedgerLeg(entry=entry, account=a, amount_cents=n) for a, n in pairs if n]
    LedgerLeg.objects.bulk_create(legs)

    paid = defaultdict(int)
    for payment in Payment.objects.filter(status="succeeded"):
        paid[payment.booking_id] += payment.amount_cents
    for booking_id, cents in paid.items():
        Booking.objects.filter(pk=booking_id).update(amount_paid_cents=cents)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_double_entry_ledger_and_refunds"),
        ("bookings", "0004_booking_money_columns"),
    ]

    operations = [
        migrations.RunPython(create_balance_trigger, drop_balance_trigger, elidable=False),
        append_only_trigger("payments_ledgerleg"),
        append_only_trigger("payments_ledgeraccount"),
        append_only_trigger("payments_refundline"),
        migrations.RunPython(migrate_entries, migrations.RunPython.noop, elidable=False),
    ]
