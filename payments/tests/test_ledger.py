"""The ledger is double-entry and append-only in the database, and check_ledger proves its
sums."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from payments.models import Allocation, LedgerAccount, LedgerEntry, LedgerLeg, Payout
from payments.tests.factories import succeeded_payment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payments_ledgerentry SET amount_cents = amount_cents + 1 WHERE id = %s",
        "DELETE FROM payments_ledgerentry WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_database_trigger_rejects_raw_update_and_delete(sql):
    payment = succeeded_payment()
    entry = LedgerEntry.objects.filter(payment=payment).first()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    entry_after = LedgerEntry.objects.get(pk=entry.pk)
    assert entry_after.amount_cents == entry.amount_cents


def test_allocations_are_append_only_in_the_database_too():
    payment = succeeded_payment()
    allocation = Allocation.objects.filter(payment=payment).first()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE payments_allocation SET share_cents = 0 WHERE id = %s", [allocation.pk]
            )


def test_orm_refuses_to_change_ledger_entries():
    payment = succeeded_payment()
    entry = LedgerEntry.objects.filter(payment=payment).first()
    entry.amount_cents = 1
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_cents=1)
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_check_ledger_passes_on_a_consistent_ledger(capsys):
    succeeded_payment()
    payment = succeeded_payment(prices=(999, 1, 1))
    payout = Payout.objects.filter(payment=payment, kind="reservation").first()
    payout.request(actor=payout.vendor.user)
    from accounts.tests.factories import AdminFactory

    payout.approve(actor=AdminFactory())

    call_command("check_ledger")

    assert "ledger OK: 2 payments checked" in capsys.readouterr().out


def test_check_ledger_reports_an_extra_fee_entry(capsys):
    payment = succeeded_payment(prices=(1_000, 2_000))
    other_line = succeeded_payment().booking.vendors.first()
    LedgerEntry.objects.create(
        entry_type="platform_fee",
        payment=payment,
        booking=payment.booking,
        booking_vendor=other_line,
        amount_cents=5,
        currency="usd",
    )
    with pytest.raises(CommandError, match="2 discrepancy"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"payment {payment.pk}: held_funds = platform fees + payouts" in err
    assert "(platform_fee): amount 5 but its legs move 0" in err


def test_check_ledger_reports_a_doctored_payout_and_share(capsys):
    payment = succeeded_payment()
    Payout.objects.filter(payment=payment, kind="completion").update(amount_cents=1)
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert "held_funds = platform fees + payouts" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_check_ledger_command_exits_non_zero_on_a_doctored_database():
    payment = succeeded_payment()
    with connection.cursor() as cursor:
        # Doctor behind the app's back: the trigger only allows it with triggers disabled.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE payments_ledgerentry SET amount_cents = amount_cents - 1 "
            "WHERE payment_id = %s AND entry_type = 'held_funds'",
            [payment.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "strathwell.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert f"payment {payment.pk}: held_funds amount: expected" in result.stderr
    assert f"payment {payment.pk}: held_funds = platform fees + payouts" in result.stderr


# --- double entry, enforced by PostgreSQL ---------------------------------------------------------


def _legs_sql(entry_id, account_ids, amounts):
    values = ", ".join(f"({entry_id}, {a}, {n})" for a, n in zip(account_ids, amounts, strict=True))
    return f"INSERT INTO payments_ledgerleg (entry_id, account_id, amount_cents) VALUES {values}"


@pytest.mark.django_db(transaction=True)
def test_database_refuses_a_raw_insert_of_unbalanced_legs_at_commit():
    payment = succeeded_payment()
    entry = LedgerEntry.objects.get(payment=payment, entry_type="held_funds")
    stripe, escrow = (leg.account_id for leg in entry.legs.order_by("-amount_cents"))
    with pytest.raises(IntegrityError, match="unbalanced: its legs sum to 1"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_legs_sql(entry.pk, [stripe, escrow], [101, -100]))
    assert entry.legs.count() == 2  # nothing was kept
    # A balanced pair on the same transaction commits (the trigger judges the whole).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_legs_sql(entry.pk, [stripe, escrow], [7, -7]))
    assert entry.legs.count() == 4


def test_database_refuses_unbalanced_legs_even_inside_one_transaction():
    # The tests make the deferred trigger fire per statement (root conftest), so a lone leg
    # fails at once; in production it fails at COMMIT (test above).
    payment = succeeded_payment()
    entry = LedgerEntry.objects.get(payment=payment, entry_type="held_funds")
    account = entry.legs.first().account_id
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_legs_sql(entry.pk, [account], [5]))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payments_ledgerleg SET amount_cents = amount_cents + 1 WHERE id = %s",
        "DELETE FROM payments_ledgerleg WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_database_refuses_to_update_or_delete_a_leg(sql):
    payment = succeeded_payment()
    leg = LedgerLeg.objects.filter(entry__payment=payment).first()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [leg.pk])
    assert LedgerLeg.objects.get(pk=leg.pk).amount_cents == leg.amount_cents


def test_every_figure_is_an_account_balance():
    payment = succeeded_payment(prices=(600_000, 400_000))
    from payments import ledger

    balances = {
        (a["type"], a["booking_id"] or a["vendor_id"]): a["balance_cents"]
        for a in ledger.account_balances()
    }
    fees = sum(a.fee_cents for a in payment.allocations.all())
    assert balances[("stripe_clearing", None)] == payment.amount_cents
    assert balances[("platform_revenue", None)] == fees
    assert balances[("booking_escrow", payment.booking_id)] == 0  # all allocated
    for line in payment.booking.vendors.all():
        owed = sum(p.amount_cents for p in Payout.objects.filter(booking_vendor=line))
        assert balances[("vendor_payable", line.vendor_id)] == owed
    assert LedgerAccount.objects.filter(type="vendor_payable").count() == 2
