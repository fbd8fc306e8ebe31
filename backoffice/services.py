"""Operations read models: the admin overview (also shown on the Django admin index) and the
detailed health report. Read-only; no locks."""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count

from bookings.models import Booking
from disputes.models import Dispute
from payments import ledger
from payments.models import LedgerAccount, Payment, Payout, Refund
from strathwell.jobs.health import check_broker, check_jobs
from vendors.models import Vendor

# --- admin overview -------------------------------------------------------------------------


def _status_counts(queryset, field: str, choices) -> dict:
    """{status: n} for every status (0 when absent) plus `total`: one GROUP BY query."""
    counts = dict.fromkeys(choices, 0)
    for row in queryset.order_by().values(field).annotate(n=Count("pk")):
        counts[row[field]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


MONEY_FIELDS = (
    "held_cents",
    "fees_cents",
    "paid_out_cents",
    "refunded_cents",
    "owed_to_vendors_cents",
    "escrow_cents",
    "outstanding_cents",
    "platform_holds_cents",
)


def _money_totals() -> list[dict]:
    """The ledger's account balances per currency (one aggregate query), each figure an
    account balance or a sum of one type's accounts:

    held = stripe clearing (Σ received); fees = platform revenue (net of fees returned);
    paid out = vendor payouts; refunded = organizer refunds; owed to vendors = Σ vendor
    payables; escrow = Σ booking escrows; outstanding = owed + escrow (what the platform still
    holds for others); platform holds = held − refunded − paid out (= outstanding + fees)."""
    T = LedgerAccount.Type
    totals = ledger.totals_by_type()
    result = []
    for currency in sorted({c for (_t, c) in totals}):

        def of(kind, currency=currency):
            return totals.get((kind, currency), 0)

        owed, escrow = of(T.VENDOR_PAYABLE), of(T.BOOKING_ESCROW)
        held, refunded, paid_out = (
            of(T.STRIPE_CLEARING),
            of(T.ORGANIZER_REFUNDS),
            of(T.VENDOR_PAYOUTS),
        )
        result.append(
            {
                "currency": currency,
                "held_cents": held,
                "fees_cents": of(T.PLATFORM_REVENUE),
                "paid_out_cents": paid_out,
                "refunded_cents": refunded,
                "owed_to_vendors_cents": owed,
                "escrow_cents": escrow,
                "outstanding_cents": owed + escrow,
                "platform_holds_cents": held - refunded - paid_out,
            }
        )
    return result


def overview() -> dict:
    """Counts by status of vendors, bookings, payments, payouts and disputes, and the money
    totals from the ledger's accounts. A constant seven aggregate queries, whatever the data
    size."""
    money = _money_totals()
    default = next(
        (m for m in money if m["currency"] == settings.DEFAULT_CURRENCY),
        {"currency": settings.DEFAULT_CURRENCY, **dict.fromkeys(MONEY_FIELDS, 0)},
    )
    return {
        "vendors": _status_counts(
            Vendor.objects.all(), "verification_status", Vendor.VerificationStatus.values
        ),
        "bookings": _status_counts(Booking.objects.all(), "status", Booking.Status.values),
        "payments": _status_counts(Payment.objects.all(), "status", Payment.Status.values),
        "payouts": _status_counts(Payout.objects.all(), "status", Payout.Status.values),
        "refunds": _status_counts(Refund.objects.all(), "status", Refund.Status.values),
        "disputes": _status_counts(Dispute.objects.all(), "status", Dispute.Status.values),
        "money": default,
        "money_by_currency": money,
    }


# --- health ---------------------------------------------------------------------------------


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down", reported, not raised
        return {"ok": False, "latency_ms": None, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_migrations() -> dict:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"ok": False, "unapplied": [], "error": type(exc).__name__}
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    return {"ok": not unapplied, "unapplied": unapplied}


def check_storage() -> dict:
    """Local: MEDIA_ROOT exists (or can be created) and is writable. S3: a HeadBucket call with
    short timeouts and no retries. Never raises."""
    provider = settings.STORAGE_PROVIDER
    if provider == "s3":
        return _check_s3()
    root = Path(settings.MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".health-", delete=True) as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError as exc:
        return {"ok": False, "provider": provider, "detail": f"{root} is not writable: {exc}"}
    return {"ok": True, "provider": provider, "detail": f"{root} is writable"}


def _check_s3() -> dict:
    if not settings.S3_BUCKET:
        return {"ok": False, "provider": "s3", "detail": "S3_BUCKET is not set"}
    try:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=settings.S3_ENDPOINT_URL or None,
            region_name=settings.S3_REGION,
            aws_access_key_id=settings.S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY or None,
            config=Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 1}),
        )
        client.head_bucket(Bucket=settings.S3_BUCKET)
    except Exception as exc:  # botocore errors, timeouts, bad credentials: all "unreachable"
        return {
            "ok": False,
            "provider": "s3",
            "detail": f"bucket {settings.S3_BUCKET!r} unreachable: {type(exc).__name__}",
        }
    return {"ok": True, "provider": "s3", "detail": f"bucket {settings.S3_BUCKET!r} reachable"}


def check_stripe() -> dict:
    key = settings.STRIPE_SECRET_KEY or ""
    mode = "live" if key.startswith(("sk_live_", "rk_live_")) else "test" if key else None
    return {
        "configured": bool(key),
        "webhook_secret_configured": bool(settings.STRIPE_WEBHOOK_SECRET),
        "api_base": settings.STRIPE_API_BASE or "https://api.stripe.com",
        "mode": mode,
    }


def app_version() -> str:
    """settings.VERSION (APP_VERSION), else the git commit, else pyproject's version."""
    return getattr(settings, "VERSION", "") or _detected_version()


@functools.lru_cache(maxsize=1)
def _detected_version() -> str:
    base = Path(settings.BASE_DIR)
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=base,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        if result.stdout.strip():
            return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open(base / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def health_report() -> dict:
    database = check_database()
    migrations = check_migrations() if database["ok"] else {"ok": False, "unapplied": []}
    storage = check_storage()
    stripe = check_stripe()
    broker = check_broker()
    jobs = check_jobs() if database["ok"] and migrations["ok"] else {"ok": False}
    healthy = (
        database["ok"]
        and migrations["ok"]
        and storage["ok"]
        and stripe["configured"]
        and broker["ok"]
        and jobs["ok"]
    )
    return {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "migrations": migrations,
        "storage": storage,
        "stripe": stripe,
        "broker": broker,
        "jobs": jobs,
        "read_only_mode": bool(settings.READ_ONLY_MODE),
        "version": app_version(),
    }
