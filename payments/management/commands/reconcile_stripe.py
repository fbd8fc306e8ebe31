"""`manage.py reconcile_stripe [--since YYYY-MM-DD]`: compare our succeeded payments and
refunds with the PaymentIntents and Refunds Stripe lists; print every difference (missing,
extra, amount or status mismatch) and exit non-zero on any (see `payments.reconcile`)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from payments.reconcile import reconcile
from strathwell.exceptions import PaymentProviderError


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since must be a date (YYYY-MM-DD), got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Compare succeeded payments and refunds with Stripe's PaymentIntents and Refunds; "
        "exit non-zero on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=_date,
            default=None,
            help="Only objects created on or after this date (UTC), e.g. 2026-01-31.",
        )

    def handle(self, *args, since=None, **options):
        try:
            report = reconcile(since)
        except PaymentProviderError as exc:
            raise CommandError(f"Stripe could not be listed: {exc.message}") from exc
        for difference in report.differences:
            self.stderr.write(str(difference))
        summary = (
            f"{report.intents_checked} PaymentIntents and {report.refunds_checked} Refunds "
            f"checked ({report.skipped} Stripe objects not ours skipped)"
        )
        if report.differences:
            raise CommandError(
                f"Stripe reconciliation failed: {len(report.differences)} difference(s); " + summary
            )
        self.stdout.write(f"Stripe reconciliation OK: {summary}")
