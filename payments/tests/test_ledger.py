"""The ledger is append-only in the database, and check_ledger proves its sums."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from payments.models import Allocation, LedgerEntry, Payout
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
    with pytest.raises(CommandError, match="1 discrepancy"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"payment {payment.pk}: held_funds = platform fees + payouts" in err


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
